//! The application payload of a message (`Arguments|list`,
//! `ArgumentsKw|dict`): decoded values, or the bytes a peer encoded them
//! into, kept as they came so that a router forwards them untouched.
//!
//! A client builds payloads from values ([`Payload::new`]) and reads them
//! as values ([`Payload::to_values`]). A router decodes incoming frames
//! with [`PayloadMode::Encoded`](crate::serializer::PayloadMode): the
//! payload stays the sender's bytes ([`EncodedPayload`]), checked on
//! arrival (it decodes, within [`repr`]'s rules) and with the
//! set of serializers that can carry it noted. Writing it to a peer that
//! uses the sender's serializer copies those bytes into the frame as they
//! are; writing it in another serializer decodes it once and encodes the
//! values (transcoding).
//!
//! ```
//! use wamp_proto::serializer::PayloadMode;
//! use wamp_proto::{msg, Message, Serializer, Value};
//!
//! let frame = br#"[48,7,{},"com.example.add",[2,3]]"#;
//! let msg = Serializer::Json.decode_with(frame, PayloadMode::Encoded).unwrap();
//! let Message::Call(call) = &msg else { unreachable!() };
//! assert_eq!(call.payload.encoded().unwrap().bytes().as_ref(), b"[2,3]");
//! let (args, _) = call.payload.to_values().unwrap();
//! assert_eq!(args, vec![Value::UInt(2), Value::UInt(3)]);
//! // Same serializer: the bytes go out as they came.
//! assert_eq!(Serializer::Json.encode(&msg).unwrap(), frame.to_vec());
//! // Another one: transcoded.
//! let mp = Serializer::MsgPack.encode(&msg).unwrap();
//! assert_eq!(Serializer::MsgPack.decode(&mp).unwrap(), Serializer::Json.decode(frame).unwrap());
//! ```

use std::fmt;

use bytes::Bytes;

use crate::repr::{self, SerializerSet};
use crate::serializer::{DecodeError, Serializer};
use crate::value::{Dict, List, Value};

/// The payload of a PUBLISH, EVENT, CALL, INVOCATION, YIELD, RESULT or
/// ERROR: its arguments and keyword arguments, as values or as the bytes
/// a peer encoded them into (see the [module docs](self)).
#[derive(Clone, PartialEq, Default)]
pub struct Payload(Repr);

#[derive(Clone, PartialEq)]
enum Repr {
    Values {
        args: List,
        kwargs: Dict,
    },
    Encoded(EncodedPayload),
    /// Checked by a decoder, which attaches its bytes next: never seen
    /// outside [`Serializer::decode_with`](crate::Serializer::decode_with).
    /// With how many elements (1 or 2) the list holds it.
    Checked(SerializerSet, u8),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Values {
            args: List::new(),
            kwargs: Dict::new(),
        }
    }
}

/// A payload as a peer encoded it: the message's trailing `Arguments` and,
/// if present, `ArgumentsKw` elements, in the sender's serializer.
#[derive(Clone, PartialEq)]
pub struct EncodedPayload {
    serializer: Serializer,
    /// The elements' bytes: MessagePack and CBOR items one after the
    /// other; JSON texts separated by a comma.
    bytes: Bytes,
    /// How many elements: 1 (`Arguments`) or 2 (and `ArgumentsKw`).
    elements: u8,
    /// The serializers that carry it unchanged.
    reach: SerializerSet,
}

impl Payload {
    /// A payload of values.
    pub fn new(args: List, kwargs: Dict) -> Payload {
        Payload(Repr::Values { args, kwargs })
    }

    /// A payload kept as a peer encoded it. Only the decoders make these:
    /// they check the bytes and say which serializers can carry them.
    pub(crate) fn encoded_by(
        serializer: Serializer,
        bytes: Bytes,
        elements: u8,
        reach: SerializerSet,
    ) -> Payload {
        Payload(Repr::Encoded(EncodedPayload {
            serializer,
            bytes,
            elements,
            reach,
        }))
    }

    /// A non-empty payload a decoder checked, whose bytes it attaches next.
    pub(crate) fn checked(reach: SerializerSet, elements: u8) -> Payload {
        Payload(Repr::Checked(reach, elements))
    }

    /// The reach and element count of a payload a decoder checked and has
    /// yet to attach.
    pub(crate) fn checked_parts(&self) -> Option<(SerializerSet, u8)> {
        match self.0 {
            Repr::Checked(reach, elements) => Some((reach, elements)),
            _ => None,
        }
    }

    /// Whether there are no arguments and no keyword arguments (an encoded
    /// payload is never empty: the decoders keep empty ones as values).
    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Repr::Values { args, kwargs } => args.is_empty() && kwargs.is_empty(),
            Repr::Encoded(_) | Repr::Checked(..) => false,
        }
    }

    /// The values, if the payload holds values rather than bytes.
    pub fn values(&self) -> Option<(&List, &Dict)> {
        match &self.0 {
            Repr::Values { args, kwargs } => Some((args, kwargs)),
            Repr::Encoded(_) | Repr::Checked(..) => None,
        }
    }

    /// The bytes, if the payload is kept as a peer encoded it.
    pub fn encoded(&self) -> Option<&EncodedPayload> {
        match &self.0 {
            Repr::Encoded(e) => Some(e),
            Repr::Values { .. } | Repr::Checked(..) => None,
        }
    }

    /// The arguments and keyword arguments, decoding them if the payload
    /// holds bytes.
    pub fn into_values(self) -> Result<(List, Dict), DecodeError> {
        match self.0 {
            Repr::Values { args, kwargs } => Ok((args, kwargs)),
            Repr::Encoded(e) => e.decode(),
            Repr::Checked(..) => Err(DecodeError {
                serializer: Serializer::Json,
                reason: "a payload checked but kept without its bytes".into(),
            }),
        }
    }

    /// Like [`Payload::into_values`], leaving the payload as it is.
    pub fn to_values(&self) -> Result<(List, Dict), DecodeError> {
        self.clone().into_values()
    }

    /// The serializers that carry this payload unchanged (see
    /// [`repr`]): computed for values, noted on arrival for
    /// bytes.
    pub fn reach(&self) -> SerializerSet {
        match &self.0 {
            Repr::Values { args, kwargs } => repr::payload_serializers(args, kwargs),
            Repr::Encoded(e) => e.reach,
            Repr::Checked(reach, _) => *reach,
        }
    }

    /// About how many bytes the payload takes in memory (what queues
    /// count): its encoded length, or an estimate over its values.
    pub fn approx_size(&self) -> usize {
        match &self.0 {
            Repr::Values { args, kwargs } => {
                args.iter().map(Value::approx_size).sum::<usize>() + crate::value::dict_size(kwargs)
            }
            Repr::Encoded(e) => e.bytes.len(),
            Repr::Checked(..) => 0,
        }
    }
}

impl From<(List, Dict)> for Payload {
    fn from((args, kwargs): (List, Dict)) -> Self {
        Payload::new(args, kwargs)
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Values { args, kwargs } => f
                .debug_struct("Payload")
                .field("args", args)
                .field("kwargs", kwargs)
                .finish(),
            Repr::Encoded(e) => e.fmt(f),
            Repr::Checked(reach, _) => f.debug_tuple("Checked").field(reach).finish(),
        }
    }
}

impl EncodedPayload {
    /// The serializer that encoded it.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The encoded elements: `Arguments` and, if present, `ArgumentsKw`,
    /// as they appeared in the frame (for JSON, with the comma between).
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// How many elements the bytes hold: 1 or 2.
    pub fn elements(&self) -> usize {
        usize::from(self.elements)
    }

    /// Decodes the elements into values.
    pub fn decode(&self) -> Result<(List, Dict), DecodeError> {
        crate::serializer::decode_payload(self.serializer, &self.bytes, self.elements())
    }
}

impl fmt::Debug for EncodedPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("EncodedPayload");
        d.field("serializer", &self.serializer);
        match self.serializer {
            Serializer::Json => d.field("bytes", &String::from_utf8_lossy(&self.bytes)),
            _ => d.field("bytes", &format_args!("{} bytes", self.bytes.len())),
        };
        d.field("reach", &self.reach).finish()
    }
}
