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

/// An incoming payload: its lists and dictionaries, and the strings the
/// router forwards with it (a URI in the receiver's details).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Payload<'a> {
    /// `(name, list)` pairs: `("args", args)`.
    pub lists: &'a [(&'a str, &'a List)],
    /// `(name, dict)` pairs: `("kwargs", kwargs)`, `("details", details)`.
    pub dicts: &'a [(&'a str, &'a Dict)],
    /// `(name, string)` pairs: `("topic", topic)`.
    pub strs: &'a [(&'a str, &'a str)],
}

impl Payload<'_> {
    /// The serializers that can carry it all, in one walk.
    pub fn reach(&self) -> SerializerSet {
        let mut set = SerializerSet::ALL;
        for (_, s) in self.strs {
            set = set.intersection(repr::str_serializers(s));
        }
        for (_, l) in self.lists {
            set = set.intersection(repr::payload_serializers(l, &Dict::new()));
        }
        for (_, d) in self.dicts {
            set = set.intersection(repr::payload_serializers(&List::new(), d));
        }
        set
    }

    /// Why `serializer` cannot carry it (the first value it cannot), when
    /// [`reach`](Self::reach) said so.
    pub fn explain(&self, serializer: Serializer) -> Option<ReprError> {
        let empty_list = List::new();
        let empty_dict = Dict::new();
        // The payload first: a URI is named only when it is the cause.
        self.lists
            .iter()
            .find_map(|(name, l)| repr::check_parts(serializer, name, l, "", &empty_dict).err())
            .or_else(|| {
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

    /// Why the router cannot send it from `sender` to `receiver`, if it
    /// cannot; walks the payload only where the router transcodes.
    pub fn refusal(&self, sender: Option<Serializer>, receiver: Option<Serializer>) -> Option<ReprError> {
        let r = transcoded(sender, receiver)?;
        if self.reach().contains(r) {
            None
        } else {
            self.explain(r)
        }
    }
}
