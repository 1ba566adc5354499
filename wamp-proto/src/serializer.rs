//! Serializers: how a [`Message`] becomes bytes on a transport.
//!
//! Each serializer has a WebSocket subprotocol name (`wamp.2.json`) and a
//! RawSocket serializer code, and says whether its frames are text or binary.

use std::fmt;

use crate::message::Message;

/// A WAMP serializer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Serializer {
    /// JSON, `wamp.2.json`, text frames; binary values as `"\0" + base64`.
    #[default]
    Json,
    /// MessagePack, `wamp.2.msgpack`, binary frames.
    MsgPack,
    /// CBOR, `wamp.2.cbor`, binary frames.
    Cbor,
}

/// How deeply lists and dictionaries may nest in a whole decoded message,
/// as serde_json counts for JSON: 127 levels pass, 128 do not. MessagePack
/// and CBOR are set to agree. Values in a message are held to the tighter
/// [`repr::MAX_DEPTH`](crate::repr::MAX_DEPTH) by the value decoder itself,
/// the same in every serializer; this limit guards the rest of a message
/// (ignored elements) and the stack.
const MAX_NESTING: usize = 128;

/// Bytes that are not a valid WAMP message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed {serializer} message: {reason}")]
pub struct DecodeError {
    /// The serializer that failed.
    pub serializer: Serializer,
    /// What was wrong, as the parser reported it.
    pub reason: String,
}

/// A message that could not be encoded (for example a float NaN in JSON).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot encode {message_type} as {serializer}: {reason}")]
pub struct EncodeError {
    /// The serializer that failed.
    pub serializer: Serializer,
    /// The type of message.
    pub message_type: crate::MessageType,
    /// Why.
    pub reason: String,
}

impl Serializer {
    /// All serializers, in the order of preference when offering them.
    pub const ALL: [Serializer; 3] = [Serializer::Json, Serializer::MsgPack, Serializer::Cbor];

    /// The position in [`Serializer::ALL`], for per-serializer tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The WebSocket subprotocol name.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Serializer::Json => "wamp.2.json",
            Serializer::MsgPack => "wamp.2.msgpack",
            Serializer::Cbor => "wamp.2.cbor",
        }
    }

    /// The serializer for a WebSocket subprotocol name.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.subprotocol() == name)
    }

    /// The RawSocket handshake code (1 = JSON, 2 = MessagePack, 3 = CBOR).
    pub fn rawsocket_code(self) -> u8 {
        match self {
            Serializer::Json => 1,
            Serializer::MsgPack => 2,
            Serializer::Cbor => 3,
        }
    }

    /// The serializer for a RawSocket handshake code.
    pub fn from_rawsocket_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.rawsocket_code() == code)
    }

    /// Whether frames are binary (WebSocket binary messages) rather than text.
    pub fn is_binary(self) -> bool {
        !matches!(self, Serializer::Json)
    }

    /// Encodes a message into a new buffer.
    pub fn encode(self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        let mut buf = Vec::with_capacity(128);
        self.encode_into(msg, &mut buf)?;
        Ok(buf)
    }

    /// Appends the encoding of a message to `buf`, so a writer can reuse one buffer.
    pub fn encode_into(self, msg: &Message, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        let res = match self {
            Serializer::Json => serde_json::to_writer(&mut *buf, msg).map_err(|e| e.to_string()),
            Serializer::MsgPack => {
                // Struct-map and string enum encodings are irrelevant here: Message
                // serializes as a plain array of plain values.
                let mut ser = rmp_serde::Serializer::new(&mut *buf);
                serde::Serialize::serialize(msg, &mut ser).map_err(|e| e.to_string())
            }
            Serializer::Cbor => ciborium::into_writer(msg, &mut *buf).map_err(|e| e.to_string()),
        };
        res.map_err(|reason| EncodeError {
            serializer: self,
            message_type: msg.message_type(),
            reason,
        })
    }

    /// Decodes one message. The bytes must hold exactly one message: any
    /// bytes after it are an error, in every serializer (serde_json refuses
    /// trailing characters itself; MessagePack and CBOR are checked here).
    pub fn decode(self, bytes: &[u8]) -> Result<Message, DecodeError> {
        let res = match self {
            Serializer::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Serializer::MsgPack => {
                // Read through a `&[u8]` that the reader advances, so what is left
                // of it afterwards is what follows the message.
                let mut rest = bytes;
                let mut de = rmp_serde::Deserializer::new(&mut rest);
                // rmp-serde allows 1024 levels of nesting by default, which overflows
                // a 2 MiB thread stack (and aborts the process) through the Value
                // visitor; serde_json stops at 128, so MessagePack does too
                // (counted the same way).
                de.set_max_depth(MAX_NESTING);
                let msg = serde::Deserialize::deserialize(&mut de).map_err(|e| e.to_string());
                drop(de);
                msg.and_then(|msg| no_trailing_bytes(msg, rest))
            }
            Serializer::Cbor => {
                let mut rest = bytes;
                // ciborium counts levels entered (256 by default), the others
                // the levels that fail: one less lets the same messages pass.
                ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_NESTING - 1)
                    .map_err(|e| e.to_string())
                    .and_then(|msg| no_trailing_bytes(msg, rest))
            }
        };
        res.map_err(|reason| DecodeError {
            serializer: self,
            reason,
        })
    }
}

/// `msg`, if nothing follows it in the frame.
fn no_trailing_bytes(msg: Message, rest: &[u8]) -> Result<Message, String> {
    match rest.len() {
        0 => Ok(msg),
        1 => Err("1 trailing byte after the message".into()),
        n => Err(format!("{n} trailing bytes after the message")),
    }
}

impl fmt::Display for Serializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.subprotocol())
    }
}
