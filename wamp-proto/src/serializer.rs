//! Serializers: how a [`Message`] becomes bytes on a transport.
//!
//! Each serializer has a WebSocket subprotocol name (`wamp.2.json`) and a
//! RawSocket serializer code, and says whether its frames are text or binary.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use crate::json;
use crate::json_check;
use crate::message::{Kept, Message, WithoutPayload};
use crate::payload::Payload;
use crate::span;
use crate::value::{Dict, List};

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
        let mut buf = Vec::new();
        self.encode_into(msg, &mut buf)?;
        // The estimate counts values in memory, more than many small ones
        // take encoded; what a shared frame would hold for nothing is given
        // back (shrinking in place, no copy).
        if buf.capacity() - buf.len() > 4096 {
            buf.shrink_to_fit();
        }
        Ok(buf)
    }

    /// The room [`Serializer::encode_into`] makes for a message up front:
    /// a buffer grown by doubling copied a 1 MiB payload twice over and
    /// faulted in fresh pages each time.
    pub(crate) fn room_for(msg: &Message) -> usize {
        128 + msg.payload().map_or(0, Payload::approx_size)
    }

    /// Appends the encoding of a message to `buf`, so a writer can reuse one buffer.
    ///
    /// A payload kept encoded ([`Payload::encoded`](crate::Payload::encoded))
    /// in this serializer is copied into the frame as it is; in another one
    /// it is decoded and encoded again.
    pub fn encode_into(self, msg: &Message, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        buf.reserve(Self::room_for(msg));
        if let Some(apart) = self.encode_apart(msg, buf)? {
            buf.extend_from_slice(apart.payload);
            buf.extend_from_slice(apart.tail);
            return Ok(());
        }
        let error = |reason| EncodeError {
            serializer: self,
            message_type: msg.message_type(),
            reason,
        };
        let splice = match msg.payload() {
            Some(p) => match (p.encoded(), p.values()) {
                // Only an empty one here (a kept one with bytes went
                // through `encode_apart` above): left out.
                (Some(e), _) if e.serializer() == self => Some(Splice::Encoded(e.bytes())),
                // JSON payloads, values or transcoded, are written by `json`
                // (faster with strings than serde_json).
                (_, Some((args, kwargs))) if self == Serializer::Json => {
                    Some(Splice::JsonValues(Cow::Borrowed(args), Cow::Borrowed(kwargs)))
                }
                (Some(_), None) if self == Serializer::Json => {
                    let (args, kwargs) = p.to_values().map_err(|e| error(e.to_string()))?;
                    Some(Splice::JsonValues(Cow::Owned(args), Cow::Owned(kwargs)))
                }
                _ => None,
            },
            None => None,
        };
        let res = match splice {
            None => self.encode_serde(msg, buf),
            Some(splice) => {
                let start = buf.len();
                self.encode_serde(&WithoutPayload(msg), buf).map(|()| match self {
                    // `[...]` gets `,payload]`: the list's other elements
                    // end before the `]`.
                    Serializer::Json => {
                        let before = reopen_json_list(buf, start);
                        let at = buf.len();
                        match splice {
                            Splice::Encoded(bytes) => buf.extend_from_slice(bytes),
                            Splice::JsonValues(args, kwargs) => json::write_payload(buf, &args, &kwargs),
                        }
                        // A payload of empty parts is omitted, with its comma.
                        if buf.len() == at {
                            buf.truncate(before);
                        }
                        buf.push(b']');
                    }
                    // The list's header already counts the payload's
                    // elements (only encoded ones are spliced here).
                    Serializer::MsgPack | Serializer::Cbor => {
                        if let Splice::Encoded(bytes) = splice {
                            buf.extend_from_slice(bytes);
                        }
                    }
                })
            }
        };
        res.map_err(error)
    }

    /// The bytes of `msg`'s payload if it is kept as this serializer
    /// encoded it, and not empty: what [`Serializer::encode_apart`] leaves
    /// out.
    pub(crate) fn kept_payload(self, msg: &Message) -> Option<&[u8]> {
        msg.payload()
            .and_then(Payload::encoded)
            .filter(|e| e.serializer() == self && !e.bytes().is_empty())
            .map(|e| &e.bytes()[..])
    }

    /// [`Serializer::encode_into`] for a message whose payload is kept as
    /// this serializer encoded it, without copying the payload: the message
    /// up to the payload goes into `buf`, and the payload's bytes and what
    /// follows them (`]` in JSON, nothing in the binary serializers) are
    /// returned, to be written after it. `None`, with nothing written, for
    /// any other message (or an empty payload, which is left out).
    pub(crate) fn encode_apart<'m>(
        self,
        msg: &'m Message,
        buf: &mut Vec<u8>,
    ) -> Result<Option<Apart<'m>>, EncodeError> {
        let Some(payload) = self.kept_payload(msg) else {
            return Ok(None);
        };
        let start = buf.len();
        self.encode_serde(&WithoutPayload(msg), buf)
            .map_err(|reason| EncodeError {
                serializer: self,
                message_type: msg.message_type(),
                reason,
            })?;
        let tail: &'static [u8] = match self {
            // `[...]` gets `,payload]`: the list's other elements end
            // before the `]`.
            Serializer::Json => {
                reopen_json_list(buf, start);
                b"]"
            }
            // The list's header already counts the payload's elements.
            Serializer::MsgPack | Serializer::Cbor => b"",
        };
        Ok(Some(Apart { payload, tail }))
    }

    fn encode_serde<T: serde::Serialize>(self, value: &T, buf: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Serializer::Json => serde_json::to_writer(&mut *buf, value).map_err(|e| e.to_string()),
            Serializer::MsgPack => {
                // Struct-map and string enum encodings are irrelevant here: Message
                // serializes as a plain array of plain values.
                let mut ser = rmp_serde::Serializer::new(&mut *buf);
                value.serialize(&mut ser).map_err(|e| e.to_string())
            }
            Serializer::Cbor => ciborium::into_writer(value, &mut *buf).map_err(|e| e.to_string()),
        }
    }

    /// Decodes one message, its payload as values. The bytes must hold
    /// exactly one message: any bytes after it are an error, in every
    /// serializer (serde_json refuses trailing characters itself;
    /// MessagePack and CBOR are checked here).
    pub fn decode(self, bytes: &[u8]) -> Result<Message, DecodeError> {
        self.decode_input(Input::Bytes(bytes))
    }

    fn decode_input(self, input: Input<'_>) -> Result<Message, DecodeError> {
        if self == Serializer::Json {
            if let Some(msg) = self.decode_json_split(input, split_json) {
                return Ok(msg);
            }
        }
        self.decode_whole(input)
    }

    /// [`Serializer::decode_input`] with the whole frame decoded by serde.
    fn decode_whole(self, input: Input<'_>) -> Result<Message, DecodeError> {
        self.decode_serde(input).map_err(|reason| DecodeError {
            serializer: self,
            reason,
        })
    }

    /// Decodes one message, keeping its payload as values or as the
    /// frame's bytes ([`PayloadMode`]). The payload is checked either way:
    /// a frame decodes in both modes or in neither.
    pub fn decode_with(self, bytes: &[u8], mode: PayloadMode) -> Result<Message, DecodeError> {
        self.decode_copying(Input::Bytes(bytes), mode)
    }

    /// Like [`Serializer::decode_with`], on a frame held as [`Bytes`]: an
    /// encoded payload of [`SHARE_FRAME_FROM`] bytes or more is a slice of
    /// the frame, not a copy. Smaller ones are copied, so that a small
    /// message waiting in a queue does not keep alive a whole read buffer
    /// that its frame may share with others.
    pub fn decode_frame(self, frame: &Bytes, mode: PayloadMode) -> Result<Message, DecodeError> {
        self.decode_shared(Input::Bytes(frame), frame, mode)
    }

    /// [`Serializer::decode_frame`] on a frame its transport has already
    /// checked to be UTF-8 (a WebSocket text frame): `text` and `frame` are
    /// the same bytes. JSON's strings are then not checked for UTF-8 a
    /// second time.
    pub(crate) fn decode_text_frame(
        self,
        text: &str,
        frame: &Bytes,
        mode: PayloadMode,
    ) -> Result<Message, DecodeError> {
        debug_assert_eq!(text.as_ptr(), frame.as_ptr());
        self.decode_shared(Input::Text(text), frame, mode)
    }

    /// [`Serializer::decode_with`] on text its transport has already
    /// checked to be UTF-8, held nowhere else (a small WebSocket text frame
    /// read in place): a kept payload is copied. JSON's strings are not
    /// checked for UTF-8 a second time.
    pub(crate) fn decode_text(self, text: &str, mode: PayloadMode) -> Result<Message, DecodeError> {
        self.decode_copying(Input::Text(text), mode)
    }

    /// Decodes `input` in `mode`, a kept payload copied out of it.
    fn decode_copying(self, input: Input<'_>, mode: PayloadMode) -> Result<Message, DecodeError> {
        match mode {
            PayloadMode::Values => self.decode_input(input),
            PayloadMode::Encoded => self.keep_encoded(input, Bytes::copy_from_slice),
        }
    }

    fn decode_shared(
        self,
        input: Input<'_>,
        frame: &Bytes,
        mode: PayloadMode,
    ) -> Result<Message, DecodeError> {
        match mode {
            PayloadMode::Values => self.decode_input(input),
            PayloadMode::Encoded => self.keep_encoded(input, |b| {
                if b.len() >= SHARE_FRAME_FROM {
                    frame.slice_ref(b) // `b` is a subslice of `frame`
                } else {
                    Bytes::copy_from_slice(b)
                }
            }),
        }
    }

    /// Decodes `frame` with its payload checked, not built, then attaches
    /// the payload's bytes, as `keep` keeps them.
    fn keep_encoded(self, input: Input<'_>, keep: impl Fn(&[u8]) -> Bytes) -> Result<Message, DecodeError> {
        if self == Serializer::Json {
            if let Some(msg) = self.keep_json_split(input, split_json, &keep) {
                return Ok(msg);
            }
        }
        self.keep_encoded_whole(input, keep)
    }

    /// [`Serializer::keep_encoded`] with the whole frame decoded by serde.
    fn keep_encoded_whole(
        self,
        input: Input<'_>,
        keep: impl Fn(&[u8]) -> Bytes,
    ) -> Result<Message, DecodeError> {
        let frame = input.bytes();
        let Kept(mut msg) = self.decode_serde(input).map_err(|reason| DecodeError {
            serializer: self,
            reason,
        })?;
        let ty = msg.message_type();
        let Some(payload) = msg.payload_mut() else {
            return Ok(msg);
        };
        let Some((reach, elements)) = payload.checked_parts() else {
            return Ok(msg); // empty: kept as (no) values
        };
        let skip = Message::payload_position(ty).expect("a message with a payload");
        match span::tail(self, frame, skip, usize::from(elements)) {
            Some(range) => {
                *payload = Payload::encoded_by(self, keep(&frame[range]), elements, reach);
                Ok(msg)
            }
            // A frame that decoded always has its payload where the walker
            // looks; should they ever disagree, the values do (slower).
            _ => self.decode_input(input),
        }
    }

    /// A JSON frame decoded in two parts ([`json_check`]): the payload
    /// checked by the walk and kept as `keep` keeps its bytes, the elements
    /// before it read by the walk too or, in a large frame, decoded from a
    /// copy of them. `None` where the walk gives up or the copy does not
    /// decode: the frame is then decoded whole.
    fn keep_json_split(
        self,
        input: Input<'_>,
        splitter: Splitter<json_check::Check>,
        keep: impl Fn(&[u8]) -> Bytes,
    ) -> Option<Message> {
        let text = input.text()?;
        let split = splitter(text)?;
        // Empty or `null` `Arguments` and `ArgumentsKw`: kept as no values.
        let payload = split.reach().map_or_else(Payload::default, |reach| {
            Payload::encoded_by(
                Serializer::Json,
                keep(&text.as_bytes()[split.payload.clone()]),
                split.elements,
                reach,
            )
        });
        self.with_header(text, split.header, split.header_end, payload)
    }

    /// A JSON frame decoded in two parts ([`json_check`]), its payload as
    /// values: the walk builds them, the elements before it are read by
    /// the walk too or, in a large frame, decoded from a copy of them.
    /// `None` where the walk gives up or the copy does not decode: the
    /// frame is then decoded whole.
    fn decode_json_split(self, input: Input<'_>, splitter: Splitter<json_check::Build>) -> Option<Message> {
        let text = input.text()?;
        let split = splitter(text)?;
        let payload = Payload::new(split.args.unwrap_or_default(), split.kwargs.unwrap_or_default());
        self.with_header(text, split.header, split.header_end, payload)
    }

    /// The message a split JSON frame holds, with its `payload`: made from
    /// the elements the walk read before the payload (`header`), or else
    /// decoded from a copy of the frame that ends after them
    /// (`text[..header_end]`), the payload put in its place.
    fn with_header(
        self,
        text: &str,
        header: Option<json_check::Header>,
        header_end: usize,
        payload: Payload,
    ) -> Option<Message> {
        if let Some(header) = header {
            return Some(header.into_message(text, payload));
        }
        let mut copy = String::with_capacity(header_end + 1);
        copy.push_str(&text[..header_end]);
        copy.push(']');
        // The copy has no payload: decoded as kept or as values, it makes
        // the same message, so one decode serves both modes.
        let Kept(mut msg) = self.decode_serde(Input::Text(&copy)).ok()?;
        *msg.payload_mut()? = payload;
        Some(msg)
    }

    fn decode_serde<T: serde::de::DeserializeOwned>(self, input: Input<'_>) -> Result<T, String> {
        let bytes = input.bytes();
        match self {
            Serializer::Json => match input {
                Input::Text(text) => serde_json::from_str(text),
                Input::Bytes(bytes) => serde_json::from_slice(bytes),
            }
            .map_err(|e| e.to_string()),
            Serializer::MsgPack => {
                // Read from the slice itself: strings and binaries are borrowed
                // from it and copied once, into the values, where a reader would
                // first copy each into a buffer of its own.
                let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
                // rmp-serde allows 1024 levels of nesting by default, which overflows
                // a 2 MiB thread stack (and aborts the process) through the Value
                // visitor; serde_json stops at 128, so MessagePack does too
                // (counted the same way).
                de.set_max_depth(MAX_NESTING);
                let msg: T = serde::Deserialize::deserialize(&mut de).map_err(|e| e.to_string())?;
                // That reader does not tell where it stopped: the message's end
                // is found by skipping over it (lengths only, no copies).
                let end = span::msgpack_end(bytes).ok_or("the message's end could not be found")?;
                no_trailing_bytes(msg, &bytes[end..])
            }
            Serializer::Cbor => {
                let mut rest = bytes;
                // ciborium counts levels entered (256 by default), the others
                // the levels that fail: one less lets the same messages pass.
                ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_NESTING - 1)
                    .map_err(|e| e.to_string())
                    .and_then(|msg| no_trailing_bytes(msg, rest))
            }
        }
    }
}

/// Not public API: for the fuzz targets and tests. A JSON message decoded
/// in `mode` two ways: split where its payload starts, whatever its size
/// (`None` where that gives up), and whole. The split is the one frames of
/// 4 KiB or more take, or with `small` the one smaller frames take (only
/// where the walk reads the elements before the payload itself). Where
/// the first decodes, the second must decode to the same message.
#[doc(hidden)]
pub fn __json_split_and_whole(
    bytes: &[u8],
    mode: PayloadMode,
    small: bool,
) -> (Option<Message>, Result<Message, DecodeError>) {
    let input = Input::Bytes(bytes);
    let json = Serializer::Json;
    match mode {
        PayloadMode::Values => {
            let splitter = if small {
                json_check::split_small
            } else {
                json_check::split
            };
            (json.decode_json_split(input, splitter), json.decode_whole(input))
        }
        PayloadMode::Encoded => {
            let splitter = if small {
                json_check::split_small
            } else {
                json_check::split
            };
            (
                json.keep_json_split(input, splitter, Bytes::copy_from_slice),
                json.keep_encoded_whole(input, Bytes::copy_from_slice),
            )
        }
    }
}

/// How a JSON message is split ([`split_json`], or for tests one of the
/// two ways it chooses from).
type Splitter<M> = fn(&str) -> Option<json_check::Split<M>>;

/// A JSON message split by [`json_check`], as its size asks: a large one
/// whatever its elements before the payload, a small one only where the
/// walk reads those itself.
fn split_json<M: json_check::Make>(text: &str) -> Option<json_check::Split<M>> {
    if text.len() >= json_check::FAST_CHECK_FROM {
        json_check::split(text)
    } else {
        json_check::split_small(text)
    }
}

/// The bytes of one message, as its transport delivered them.
#[derive(Clone, Copy)]
enum Input<'a> {
    /// Bytes not known to be UTF-8: a JSON decoder checks every string.
    Bytes(&'a [u8]),
    /// Text its transport has checked to be UTF-8 (a WebSocket text
    /// frame), which a JSON decoder need not check again.
    Text(&'a str),
}

impl<'a> Input<'a> {
    fn bytes(self) -> &'a [u8] {
        match self {
            Input::Bytes(b) => b,
            Input::Text(t) => t.as_bytes(),
        }
    }

    /// The input as text, if it is UTF-8 (checked here unless the
    /// transport has checked it).
    fn text(self) -> Option<&'a str> {
        match self {
            Input::Bytes(b) => std::str::from_utf8(b).ok(),
            Input::Text(t) => Some(t),
        }
    }
}

/// What [`Serializer::encode_into`] appends after a message's other
/// elements.
/// What [`Serializer::encode_apart`] leaves out of the buffer: a kept
/// payload's bytes, and the bytes that follow them.
pub(crate) struct Apart<'m> {
    pub payload: &'m [u8],
    pub tail: &'static [u8],
}

/// Takes the `]` off the JSON list encoded at `start` and adds the comma a
/// further element needs (none after `[`); returns where the comma went.
fn reopen_json_list(buf: &mut Vec<u8>, start: usize) -> usize {
    debug_assert_eq!(buf.last(), Some(&b']'));
    buf.pop();
    let before = buf.len();
    if before > start + 1 {
        buf.push(b',');
    }
    before
}

enum Splice<'a> {
    /// A payload encoded by the same serializer, as it came.
    Encoded(&'a [u8]),
    /// A payload's values (or those of a payload another serializer
    /// encoded), written as JSON by [`json`].
    JsonValues(Cow<'a, List>, Cow<'a, Dict>),
}

/// From this many bytes on, [`Serializer::decode_frame`] keeps an encoded
/// payload as a slice of its frame rather than a copy.
pub const SHARE_FRAME_FROM: usize = 64 * 1024;

/// How [`Serializer::decode_with`] keeps a message's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PayloadMode {
    /// As values: what a client reads.
    #[default]
    Values,
    /// As the frame's bytes (checked, with the serializers that can carry
    /// them noted): what a router forwards.
    Encoded,
}

/// Decodes the elements of an [`EncodedPayload`](crate::payload::EncodedPayload).
pub(crate) fn decode_payload(
    serializer: Serializer,
    bytes: &[u8],
    elements: usize,
) -> Result<(List, Dict), DecodeError> {
    let mut list = Vec::with_capacity(bytes.len() + 2);
    match serializer {
        Serializer::Json => list.push(b'['),
        // A list of 1 or 2 elements: one header byte.
        Serializer::MsgPack => list.push(0x90 | elements as u8),
        Serializer::Cbor => list.push(0x80 | elements as u8),
    }
    list.extend_from_slice(bytes);
    if serializer == Serializer::Json {
        list.push(b']');
    }
    serializer
        .decode_serde::<PayloadList>(Input::Bytes(&list))
        .map(|p| p.0)
        .map_err(|reason| DecodeError { serializer, reason })
}

/// `[Arguments, ArgumentsKw]`, both optional, as at the end of a message.
struct PayloadList((List, Dict));

impl<'de> serde::Deserialize<'de> for PayloadList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PayloadList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a payload: Arguments and ArgumentsKw")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<PayloadList, A::Error> {
                let payload = crate::message::read_payload(&mut seq)?;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(serde::de::Error::custom("a payload has at most two elements"));
                }
                Ok(PayloadList(payload))
            }
        }
        d.deserialize_seq(V)
    }
}

/// `msg`, if nothing follows it in the frame.
fn no_trailing_bytes<T>(msg: T, rest: &[u8]) -> Result<T, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A WebSocket text frame is decoded from its checked text; the result
    /// and every error must be those of the same bytes decoded unchecked.
    #[test]
    fn text_frames_decode_as_their_bytes() {
        let big = format!(r#"[70,1,{{}},["{}"]]"#, "x".repeat(SHARE_FRAME_FROM));
        let frames = [
            r#"[36,1,2,{},["plain"],{"k":1}]"#,
            // Escapes, characters outside ASCII raw and escaped, a surrogate pair.
            r#"[36,1,2,{},["\u00e9\n\"\\","é€😀","\ud83d\ude00"]]"#,
            r#"[36,1,2,{"topic":"com.é"},[]]"#,
            big.as_str(),
            // Errors: a lone surrogate, a raw control character, bytes
            // after the message, a wrong element, an unknown type.
            r#"[36,1,2,{},["\ud800"]]"#,
            "[36,1,2,{},[\"a\u{1}b\"]]",
            r#"[36,1,2,{},[]] x"#,
            r#"[36,"1",2,{},[]]"#,
            r#"[999,1]"#,
            r#"[36,1,2,{},["unterminated]]"#,
        ];
        for (i, text) in frames.into_iter().enumerate() {
            let frame = Bytes::copy_from_slice(text.as_bytes());
            let text = std::str::from_utf8(&frame).unwrap();
            for mode in [PayloadMode::Values, PayloadMode::Encoded] {
                let checked = Serializer::Json.decode_text_frame(text, &frame, mode);
                let unchecked = Serializer::Json.decode_frame(&frame, mode);
                assert_eq!(checked.is_ok(), i < 4, "{mode:?}: {text:.60}");
                assert_eq!(checked, unchecked, "{mode:?}: {text:.60}");
            }
        }
    }
}
