//! The WAMP v2 messages of the Basic and Advanced profiles, and their
//! encoding as a list `[Code, ...]` through serde, so that any serde format
//! (JSON, MessagePack, ...) carries them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::id::{Id, MAX_ID};
use crate::msg;
use crate::options::*;
use crate::payload::Payload;
use crate::serializer::DecodeError;

use crate::repr::SerializerSet;
use crate::value::{Dict, Key, List, Reach};

macro_rules! message_types {
    ($($variant:ident = $code:literal, $name:literal;)*) => {
        /// The type code of a message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum MessageType { $($variant = $code,)* }

        impl MessageType {
            /// The type for a code, if the code is one of the spec's.
            pub fn from_code(code: u64) -> Option<Self> {
                match code { $($code => Some(MessageType::$variant),)* _ => None }
            }
            /// The numeric code.
            pub fn code(self) -> u64 { self as u64 }
            /// The upper-case name used by the specification.
            pub fn name(self) -> &'static str {
                match self { $(MessageType::$variant => $name,)* }
            }
        }
    };
}

message_types! {
    Hello = 1, "HELLO";
    Welcome = 2, "WELCOME";
    Abort = 3, "ABORT";
    Challenge = 4, "CHALLENGE";
    Authenticate = 5, "AUTHENTICATE";
    Goodbye = 6, "GOODBYE";
    Error = 8, "ERROR";
    Publish = 16, "PUBLISH";
    Published = 17, "PUBLISHED";
    Subscribe = 32, "SUBSCRIBE";
    Subscribed = 33, "SUBSCRIBED";
    Unsubscribe = 34, "UNSUBSCRIBE";
    Unsubscribed = 35, "UNSUBSCRIBED";
    Event = 36, "EVENT";
    Call = 48, "CALL";
    Cancel = 49, "CANCEL";
    Result = 50, "RESULT";
    Register = 64, "REGISTER";
    Registered = 65, "REGISTERED";
    Unregister = 66, "UNREGISTER";
    Unregistered = 67, "UNREGISTERED";
    Invocation = 68, "INVOCATION";
    Interrupt = 69, "INTERRUPT";
    Yield = 70, "YIELD";
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A WAMP message: one variant per message type, each holding the struct
/// of the same name in [`msg`]. Non-exhaustive: later versions
/// of the specification add message types.
///
/// The structs larger than about a hundred bytes (HELLO, WELCOME, PUBLISH,
/// EVENT, CALL, INVOCATION: their options and details have many fields)
/// are boxed, so that a `Message` is at most 128 bytes: it moves between
/// decoder, queues and handlers in a few register copies rather than a
/// call to `memcpy` (moves of the 256-byte unboxed enum were a tenth of a
/// router's CPU per routed call). Build one with `From`
/// (`Message::from(msg::Call { .. })`, or `.into()`), which boxes where
/// the variant does.
///
/// ```
/// use wamp_proto::{msg, CallOptions, Message, Payload};
/// let call = Message::from(msg::Call {
///     request: 1,
///     options: CallOptions::default(),
///     procedure: "com.example.add".into(),
///     payload: Payload::default(),
/// });
/// let Message::Call(c) = &call else { unreachable!() };
/// assert_eq!(c.procedure, "com.example.add");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Message {
    Hello(Box<msg::Hello>),
    Welcome(Box<msg::Welcome>),
    Abort(msg::Abort),
    Challenge(msg::Challenge),
    Authenticate(msg::Authenticate),
    Goodbye(msg::Goodbye),
    Error(msg::Error),
    Publish(Box<msg::Publish>),
    Published(msg::Published),
    Subscribe(msg::Subscribe),
    Subscribed(msg::Subscribed),
    Unsubscribe(msg::Unsubscribe),
    Unsubscribed(msg::Unsubscribed),
    Event(Box<msg::Event>),
    Call(Box<msg::Call>),
    Cancel(msg::Cancel),
    Result(msg::Result),
    Register(msg::Register),
    Registered(msg::Registered),
    Unregister(msg::Unregister),
    Unregistered(msg::Unregistered),
    Invocation(Box<msg::Invocation>),
    Interrupt(msg::Interrupt),
    Yield(msg::Yield),
}

// The bound the boxing above keeps: a struct that grows past it is boxed
// too (or made smaller) rather than making every message larger.
const _: () = assert!(std::mem::size_of::<Message>() <= 128);

impl Message {
    /// The message's type.
    pub fn message_type(&self) -> MessageType {
        use MessageType as T;
        match self {
            Message::Hello(_) => T::Hello,
            Message::Welcome(_) => T::Welcome,
            Message::Abort(_) => T::Abort,
            Message::Challenge(_) => T::Challenge,
            Message::Authenticate(_) => T::Authenticate,
            Message::Goodbye(_) => T::Goodbye,
            Message::Error(_) => T::Error,
            Message::Publish(_) => T::Publish,
            Message::Published(_) => T::Published,
            Message::Subscribe(_) => T::Subscribe,
            Message::Subscribed(_) => T::Subscribed,
            Message::Unsubscribe(_) => T::Unsubscribe,
            Message::Unsubscribed(_) => T::Unsubscribed,
            Message::Event(_) => T::Event,
            Message::Call(_) => T::Call,
            Message::Cancel(_) => T::Cancel,
            Message::Result(_) => T::Result,
            Message::Register(_) => T::Register,
            Message::Registered(_) => T::Registered,
            Message::Unregister(_) => T::Unregister,
            Message::Unregistered(_) => T::Unregistered,
            Message::Invocation(_) => T::Invocation,
            Message::Interrupt(_) => T::Interrupt,
            Message::Yield(_) => T::Yield,
        }
    }

    /// The application payload of the message types that carry one:
    /// PUBLISH, EVENT, CALL, RESULT, INVOCATION, YIELD and ERROR.
    pub fn payload(&self) -> Option<&Payload> {
        match self {
            Message::Publish(m) => Some(&m.payload),
            Message::Event(m) => Some(&m.payload),
            Message::Call(m) => Some(&m.payload),
            Message::Invocation(m) => Some(&m.payload),
            Message::Result(msg::Result { payload, .. })
            | Message::Yield(msg::Yield { payload, .. })
            | Message::Error(msg::Error { payload, .. }) => Some(payload),
            _ => None,
        }
    }

    /// The payload, mutably (see [`Message::payload`]).
    pub fn payload_mut(&mut self) -> Option<&mut Payload> {
        match self {
            Message::Publish(m) => Some(&mut m.payload),
            Message::Event(m) => Some(&mut m.payload),
            Message::Call(m) => Some(&mut m.payload),
            Message::Invocation(m) => Some(&mut m.payload),
            Message::Result(msg::Result { payload, .. })
            | Message::Yield(msg::Yield { payload, .. })
            | Message::Error(msg::Error { payload, .. }) => Some(payload),
            _ => None,
        }
    }

    /// How many elements come before the payload in the message's list
    /// (its type code included), for the types that carry one.
    pub(crate) fn payload_position(ty: MessageType) -> Option<usize> {
        use MessageType as T;
        match ty {
            T::Error => Some(5),
            T::Publish | T::Event | T::Call | T::Invocation => Some(4),
            T::Result | T::Yield => Some(3),
            _ => None,
        }
    }

    /// About how many bytes the message takes in memory: a fixed share
    /// for its fields plus its payload (its encoded length, or its values'
    /// strings, byte strings and containers). What queues count against
    /// their byte limits; cheap for small payloads, linear in the number
    /// of values for large ones.
    pub fn approx_size(&self) -> usize {
        const BASE: usize = 64;
        BASE + self.payload().map_or(0, Payload::approx_size)
    }

    /// An ABORT with a reason URI and a human-readable message.
    pub fn abort(reason: &str, message: impl Into<String>) -> Message {
        Message::Abort(msg::Abort {
            details: CloseDetails {
                message: Some(message.into()),
                ..Default::default()
            },
            reason: reason.to_owned(),
        })
    }

    /// A GOODBYE with a reason URI.
    pub fn goodbye(reason: &str) -> Message {
        Message::Goodbye(msg::Goodbye {
            details: CloseDetails::default(),
            reason: reason.to_owned(),
        })
    }

    /// An ERROR answering the request `request` of type `request_type`.
    pub fn error(request_type: MessageType, request: Id, error: &str, args: List, kwargs: Dict) -> Message {
        Message::Error(msg::Error {
            request_type,
            request,
            details: Dict::new(),
            error: error.to_owned(),
            payload: Payload::new(args, kwargs),
        })
    }
}

/// Serializes the trailing `Arguments, ArgumentsKw` as the spec wants: both
/// omitted when empty, `Arguments` present (maybe empty) when `ArgumentsKw` is.
pub(crate) fn payload_len(args: &List, kwargs: &Dict) -> usize {
    if !kwargs.is_empty() {
        2
    } else if !args.is_empty() {
        1
    } else {
        0
    }
}

fn serialize_payload<S: SerializeSeq>(seq: &mut S, args: &List, kwargs: &Dict) -> Result<(), S::Error> {
    match payload_len(args, kwargs) {
        2 => {
            seq.serialize_element(args)?;
            seq.serialize_element(kwargs)
        }
        1 => seq.serialize_element(args),
        _ => Ok(()),
    }
}

/// How a payload goes out: as values, or (when the caller splices the
/// encoded bytes in after the list's other elements) only counted.
enum PayloadOut<'a> {
    Values(Cow<'a, List>, Cow<'a, Dict>),
    Spliced(usize),
}

impl<'a> PayloadOut<'a> {
    fn of(payload: &'a Payload, splice: bool) -> Result<Self, DecodeError> {
        if let Some((args, kwargs)) = payload.values() {
            if splice {
                return Ok(PayloadOut::Spliced(payload_len(args, kwargs)));
            }
            return Ok(PayloadOut::Values(Cow::Borrowed(args), Cow::Borrowed(kwargs)));
        }
        match payload.encoded() {
            Some(e) if splice => Ok(PayloadOut::Spliced(e.elements())),
            _ => {
                let (args, kwargs) = payload.to_values()?;
                Ok(PayloadOut::Values(Cow::Owned(args), Cow::Owned(kwargs)))
            }
        }
    }
}

/// A message whose payload is kept encoded, serialized without it but
/// with the list's length counting it: the serializer then appends the
/// payload's bytes (see `Serializer::encode_into`).
pub(crate) struct WithoutPayload<'a>(pub &'a Message);

impl Serialize for WithoutPayload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_message(self.0, s, true)
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_message(self, s, false)
    }
}

fn serialize_message<S: Serializer>(msg: &Message, s: S, splice: bool) -> Result<S::Ok, S::Error> {
    {
        let code = msg.message_type().code();
        // Encodes `[code, fields..., payload...]` with the exact length known up front,
        // which MessagePack needs for its array header.
        macro_rules! seq {
            ($extra:expr; $($field:expr),*) => {{
                let mut seq = s.serialize_seq(Some(1 + [$(stringify!($field)),*].len() + $extra))?;
                seq.serialize_element(&code)?;
                $(seq.serialize_element($field)?;)*
                seq
            }};
        }
        // A payload-carrying message: the fields, then the payload (or,
        // when splicing, room for it).
        macro_rules! with_payload {
            ($payload:expr; $($field:expr),*) => {{
                match PayloadOut::of($payload, splice).map_err(serde::ser::Error::custom)? {
                    PayloadOut::Spliced(n) => seq!(n; $($field),*).end(),
                    PayloadOut::Values(args, kwargs) => {
                        let mut seq = seq!(payload_len(&args, &kwargs); $($field),*);
                        serialize_payload(&mut seq, &args, &kwargs)?;
                        seq.end()
                    }
                }
            }};
        }
        match msg {
            Message::Hello(m) => {
                let msg::Hello { realm, details } = &**m;
                seq!(0; realm, details).end()
            }
            Message::Welcome(m) => {
                let msg::Welcome { session, details } = &**m;
                seq!(0; session, details).end()
            }
            Message::Abort(msg::Abort { details, reason }) => seq!(0; details, reason).end(),
            Message::Challenge(msg::Challenge { authmethod, extra }) => seq!(0; authmethod, extra).end(),
            Message::Authenticate(msg::Authenticate { signature, extra }) => seq!(0; signature, extra).end(),
            Message::Goodbye(msg::Goodbye { details, reason }) => seq!(0; details, reason).end(),
            Message::Error(msg::Error {
                request_type,
                request,
                details,
                error,
                payload,
            }) => {
                let rt = request_type.code();
                with_payload!(payload; &rt, request, details, error)
            }
            Message::Publish(m) => {
                let msg::Publish {
                    request,
                    options,
                    topic,
                    payload,
                } = &**m;
                with_payload!(payload; request, options, topic)
            }

            Message::Published(msg::Published { request, publication }) => {
                seq!(0; request, publication).end()
            }
            Message::Subscribe(msg::Subscribe {
                request,
                options,
                topic,
            }) => seq!(0; request, options, topic).end(),
            Message::Subscribed(msg::Subscribed {
                request,
                subscription,
            }) => seq!(0; request, subscription).end(),
            Message::Unsubscribe(msg::Unsubscribe {
                request,
                subscription,
            }) => seq!(0; request, subscription).end(),
            Message::Unsubscribed(msg::Unsubscribed {
                request,
                details: None,
            }) => seq!(0; request).end(),
            Message::Unsubscribed(msg::Unsubscribed {
                request,
                details: Some(d),
            }) => seq!(0; request, d).end(),
            Message::Event(m) => {
                let msg::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                } = &**m;
                with_payload!(payload; subscription, publication, details)
            }

            Message::Call(m) => {
                let msg::Call {
                    request,
                    options,
                    procedure,
                    payload,
                } = &**m;
                with_payload!(payload; request, options, procedure)
            }

            Message::Cancel(msg::Cancel { request, options }) => seq!(0; request, options).end(),
            Message::Result(msg::Result {
                request,
                details,
                payload,
            }) => {
                with_payload!(payload; request, details)
            }
            Message::Register(msg::Register {
                request,
                options,
                procedure,
            }) => seq!(0; request, options, procedure).end(),
            Message::Registered(msg::Registered {
                request,
                registration,
            }) => seq!(0; request, registration).end(),
            Message::Unregister(msg::Unregister {
                request,
                registration,
            }) => seq!(0; request, registration).end(),
            Message::Unregistered(msg::Unregistered {
                request,
                details: None,
            }) => seq!(0; request).end(),
            Message::Unregistered(msg::Unregistered {
                request,
                details: Some(d),
            }) => seq!(0; request, d).end(),
            Message::Invocation(m) => {
                let msg::Invocation {
                    request,
                    registration,
                    details,
                    payload,
                } = &**m;
                with_payload!(payload; request, registration, details)
            }

            Message::Interrupt(msg::Interrupt { request, options }) => seq!(0; request, options).end(),
            Message::Yield(msg::Yield {
                request,
                options,
                payload,
            }) => {
                with_payload!(payload; request, options)
            }
        }
    }
}

/// An ID on the wire: an integer in `0..=2^53` (0 only where the spec uses it
/// as "none", e.g. a router-initiated UNREGISTERED).
struct WireId(Id);

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = u64::deserialize(d)?;
        if id > MAX_ID {
            return Err(de::Error::custom(format!("ID {id} is larger than 2^53")));
        }
        Ok(WireId(id))
    }
}

/// Reads the optional trailing `Arguments` and `ArgumentsKw` of a list.
/// `null` counts as absent: Autobahn|Python sends `null` Arguments when a
/// message has only ArgumentsKw, and its own parser accepts it.
pub(crate) fn read_payload<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(List, Dict), A::Error> {
    let args: List = seq.next_element::<Option<List>>()?.flatten().unwrap_or_default();
    let kwargs: Dict = seq.next_element::<Option<Dict>>()?.flatten().unwrap_or_default();
    Ok((args, kwargs))
}

/// Checks the optional trailing `Arguments` and `ArgumentsKw` of a list as
/// [`read_payload`] reads them, building nothing: an empty payload, or a
/// [checked](Payload::checked) one whose bytes the decoder attaches.
fn check_payload<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Payload, A::Error> {
    // Outer `Option`: whether the element is there (`null` counts).
    let args = seq.next_element::<Option<CheckedList>>()?;
    let kwargs = seq.next_element::<Option<CheckedDict>>()?;
    let elements = u8::from(args.is_some()) + u8::from(kwargs.is_some());
    let (args, kwargs) = (args.flatten(), kwargs.flatten());
    let mut reach = SerializerSet::ALL;
    let mut empty = true;
    for (len, r) in [args.map(|l| (l.0, l.1)), kwargs.map(|d| (d.0, d.1))]
        .into_iter()
        .flatten()
    {
        empty &= len == 0;
        reach = reach.intersection(r);
    }
    Ok(if empty {
        Payload::default()
    } else {
        Payload::checked(reach, elements)
    })
}

/// A list of values, checked as `Vec<Value>` would decode: its length and
/// the serializers that carry it.
struct CheckedList(usize, SerializerSet);

impl<'de> Deserialize<'de> for CheckedList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CheckedList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CheckedList, A::Error> {
                let (mut len, mut set) = (0, SerializerSet::ALL);
                while let Some(Reach(r)) = seq.next_element()? {
                    len += 1;
                    set = set.intersection(r);
                }
                Ok(CheckedList(len, set))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A dictionary of values, checked as a [`Dict`] would decode.
struct CheckedDict(usize, SerializerSet);

impl<'de> Deserialize<'de> for CheckedDict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CheckedDict;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<CheckedDict, A::Error> {
                let (mut len, mut set) = (0, SerializerSet::ALL);
                while map.next_key::<Key>()?.is_some() {
                    let Reach(r) = map.next_value()?;
                    len += 1;
                    set = set.intersection(r);
                }
                Ok(CheckedDict(len, set))
            }
        }
        d.deserialize_map(V)
    }
}

/// A message decoded with its payload checked rather than built
/// ([`Payload::checked`]): what the decoders keep encoded.
pub(crate) struct Kept(pub Message);

impl<'de> Deserialize<'de> for Kept {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kept, D::Error> {
        d.deserialize_seq(MessageVisitor { keep: true }).map(Kept)
    }
}

struct MessageVisitor {
    /// Check payloads instead of building them.
    keep: bool,
}

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = Message;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a WAMP message: a list starting with a message type code")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Message, A::Error> {
        let code: u64 = seq
            .next_element()?
            .ok_or_else(|| de::Error::custom("empty message list"))?;
        let ty = MessageType::from_code(code)
            .ok_or_else(|| de::Error::custom(format!("unknown message type code {code}")))?;

        // Reads a required field, naming message and field when it is missing.
        macro_rules! field {
            ($name:literal) => {
                seq.next_element()?
                    .ok_or_else(|| de::Error::custom(format!("{ty} message is missing its {}", $name)))?
            };
        }
        macro_rules! id {
            ($name:literal) => {{
                let WireId(id) = field!($name);
                id
            }};
        }
        macro_rules! payload {
            () => {{
                if self.keep {
                    check_payload(&mut seq)?
                } else {
                    let (args, kwargs) = read_payload(&mut seq)?;
                    Payload::new(args, kwargs)
                }
            }};
        }

        let msg = match ty {
            MessageType::Hello => Message::from(msg::Hello {
                realm: field!("Realm"),
                details: field!("Details"),
            }),
            MessageType::Welcome => Message::from(msg::Welcome {
                session: id!("Session"),
                details: field!("Details"),
            }),
            MessageType::Abort => Message::Abort(msg::Abort {
                details: field!("Details"),
                reason: field!("Reason"),
            }),
            MessageType::Challenge => Message::Challenge(msg::Challenge {
                authmethod: field!("AuthMethod"),
                extra: field!("Extra"),
            }),
            MessageType::Authenticate => Message::Authenticate(msg::Authenticate {
                signature: field!("Signature"),
                extra: field!("Extra"),
            }),
            MessageType::Goodbye => Message::Goodbye(msg::Goodbye {
                details: field!("Details"),
                reason: field!("Reason"),
            }),
            MessageType::Error => {
                let rt: u64 = field!("REQUEST.Type");
                let request_type = MessageType::from_code(rt)
                    .ok_or_else(|| de::Error::custom(format!("ERROR for unknown request type {rt}")))?;
                let request = id!("REQUEST.Request");
                let details = field!("Details");
                let error = field!("Error");
                let payload = payload!();
                Message::Error(msg::Error {
                    request_type,
                    request,
                    details,
                    error,
                    payload,
                })
            }
            MessageType::Publish => {
                let (request, options, topic) = (id!("Request"), field!("Options"), field!("Topic"));
                let payload = payload!();
                Message::from(msg::Publish {
                    request,
                    options,
                    topic,
                    payload,
                })
            }
            MessageType::Published => Message::Published(msg::Published {
                request: id!("PUBLISH.Request"),
                publication: id!("Publication"),
            }),
            MessageType::Subscribe => Message::Subscribe(msg::Subscribe {
                request: id!("Request"),
                options: field!("Options"),
                topic: field!("Topic"),
            }),
            MessageType::Subscribed => Message::Subscribed(msg::Subscribed {
                request: id!("SUBSCRIBE.Request"),
                subscription: id!("Subscription"),
            }),
            MessageType::Unsubscribe => Message::Unsubscribe(msg::Unsubscribe {
                request: id!("Request"),
                subscription: id!("Subscription"),
            }),
            MessageType::Unsubscribed => Message::Unsubscribed(msg::Unsubscribed {
                request: id!("UNSUBSCRIBE.Request"),
                details: seq.next_element()?,
            }),
            MessageType::Event => {
                let (subscription, publication, details) =
                    (id!("Subscription"), id!("Publication"), field!("Details"));
                let payload = payload!();
                Message::from(msg::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                })
            }
            MessageType::Call => {
                let (request, options, procedure) = (id!("Request"), field!("Options"), field!("Procedure"));
                let payload = payload!();
                Message::from(msg::Call {
                    request,
                    options,
                    procedure,
                    payload,
                })
            }
            MessageType::Cancel => Message::Cancel(msg::Cancel {
                request: id!("CALL.Request"),
                options: field!("Options"),
            }),
            MessageType::Result => {
                let (request, details) = (id!("CALL.Request"), field!("Details"));
                let payload = payload!();
                Message::Result(msg::Result {
                    request,
                    details,
                    payload,
                })
            }
            MessageType::Register => Message::Register(msg::Register {
                request: id!("Request"),
                options: field!("Options"),
                procedure: field!("Procedure"),
            }),
            MessageType::Registered => Message::Registered(msg::Registered {
                request: id!("REGISTER.Request"),
                registration: id!("Registration"),
            }),
            MessageType::Unregister => Message::Unregister(msg::Unregister {
                request: id!("Request"),
                registration: id!("Registration"),
            }),
            MessageType::Unregistered => Message::Unregistered(msg::Unregistered {
                request: id!("UNREGISTER.Request"),
                details: seq.next_element()?,
            }),
            MessageType::Invocation => {
                let (request, registration, details) =
                    (id!("Request"), id!("Registration"), field!("Details"));
                let payload = payload!();
                Message::from(msg::Invocation {
                    request,
                    registration,
                    details,
                    payload,
                })
            }
            MessageType::Interrupt => Message::Interrupt(msg::Interrupt {
                request: id!("INVOCATION.Request"),
                options: field!("Options"),
            }),
            MessageType::Yield => {
                let (request, options) = (id!("INVOCATION.Request"), field!("Options"));
                let payload = payload!();
                Message::Yield(msg::Yield {
                    request,
                    options,
                    payload,
                })
            }
        };
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!(
                "{ty} message has more elements than the spec allows"
            )));
        }
        Ok(msg)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Message, D::Error> {
        d.deserialize_seq(MessageVisitor { keep: false })
    }
}
