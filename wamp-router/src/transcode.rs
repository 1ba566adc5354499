//! Where the router transcodes: a payload decoded from one serializer is
//! sent to a receiver using another. The router never sends a value the
//! receiver's decoder would read back differently (the rules are
//! [`wamp_proto::repr`]'s); the sender is told instead, and nobody's
//! connection is closed for somebody else's payload.
//!
//! A receiver with the sender's own serializer needs no check (the router
//! decoded the payload in it), nor does an in-process receiver (it takes
//! the values as they are).

use wamp_proto::repr::{self, ReprError, SerializerSet};
use wamp_proto::{Dict, List, Serializer};

/// The serializer to check a payload against, if the router transcodes
/// from `sender` to `receiver`.
pub(crate) fn transcoded(sender: Option<Serializer>, receiver: Option<Serializer>) -> Option<Serializer> {
    receiver.filter(|r| sender != Some(*r))
}

/// An incoming payload, and what the router forwards with it: details
/// dictionaries, strings (a URI in the receiver's details).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Payload<'a> {
    /// The arguments and keyword arguments, as values or as encoded.
    pub body: &'a wamp_proto::Payload,
    /// `(name, dict)` pairs: `("details", details)`.
    pub dicts: &'a [(&'a str, &'a Dict)],
    /// `(name, string)` pairs: `("topic", topic)`.
    pub strs: &'a [(&'a str, &'a str)],
}

impl Payload<'_> {
    /// The serializers that can carry it all: the body's reach (noted when
    /// it arrived encoded), narrowed by the rest.
    pub fn reach(&self) -> SerializerSet {
        let mut set = self.body.reach();
        for (_, s) in self.strs {
            set = set.intersection(repr::str_serializers(s));
        }
        for (_, d) in self.dicts {
            set = set.intersection(repr::payload_serializers(&List::new(), d));
        }
        set
    }

    /// The first value that `serializer` cannot carry, by position. An
    /// encoded body is decoded for it (only ever on a refusal).
    pub fn explain(&self, serializer: Serializer) -> Option<ReprError> {
        let empty_list = List::new();
        let body = match self.body.values() {
            Some((args, kwargs)) => repr::check_payload(serializer, args, kwargs).err(),
            None => self
                .body
                .to_values()
                .ok()
                .and_then(|(args, kwargs)| repr::check_payload(serializer, &args, &kwargs).err()),
        };
        body.or_else(|| {
            self.dicts
                .iter()
                .find_map(|(name, d)| repr::check_parts(serializer, "", &empty_list, name, d).err())
        })
        .or_else(|| {
            self.strs
                .iter()
                .find_map(|(name, s)| repr::check_str(serializer, name, s).err())
        })
    }

    pub fn refusal(&self, sender: Option<Serializer>, receiver: Option<Serializer>) -> Option<ReprError> {
        let r = transcoded(sender, receiver)?;
        if self.reach().contains(r) {
            None
        } else {
            self.explain(r)
        }
    }
}
