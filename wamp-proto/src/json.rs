//! Payload values written as JSON text without going through serde: the
//! same bytes `serde_json` writes, with strings scanned 32 bytes at a
//! time rather than one. A payload's strings are most of its bytes, and
//! `serde_json` looks each byte up in a table (a 64 KiB argument spent
//! more time there than anywhere else in a call).
//!
//! Scalars other than strings are handed to `serde_json` (one rule for
//! numbers), and binaries follow the spec's JSON convention through
//! [`crate::value::to_json_binary`], the one copy of it.

use crate::message::payload_len;
use crate::value::{Dict, List, Value};

/// Appends the payload's elements as in a message's list, separated by a
/// comma: as many as [`payload_len`] says the spec wants.
pub(crate) fn write_payload(buf: &mut Vec<u8>, args: &List, kwargs: &Dict) {
    let elements = payload_len(args, kwargs);
    if elements > 0 {
        write_list(buf, args);
    }
    if elements > 1 {
        buf.push(b',');
        write_dict(buf, kwargs);
    }
}

/// Appends one value.
pub(crate) fn write_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => write_str(buf, s),
        Value::Bytes(b) => write_str(buf, &crate::value::to_json_binary(b)),
        Value::List(l) => write_list(buf, l),
        Value::Dict(d) => write_dict(buf, d),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_) => {
            // Writing numbers to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *buf, v);
        }
    }
}

fn write_list(buf: &mut Vec<u8>, l: &List) {
    buf.push(b'[');
    for (i, v) in l.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_value(buf, v);
    }
    buf.push(b']');
}

fn write_dict(buf: &mut Vec<u8>, d: &Dict) {
    buf.push(b'{');
    for (i, (k, v)) in d.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_str(buf, k);
        buf.push(b':');
        write_value(buf, v);
    }
    buf.push(b'}');
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Nonzero if any of the eight bytes of `w` is zero (exact as to
/// whether, not as to which).
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Nonzero if any byte of `w` needs escaping in a JSON string: a control
/// character (below 0x20), `"` or `\`.
fn escapes_in(w: u64) -> u64 {
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    below_space | zero_bytes(w ^ (ONES * u64::from(b'"'))) | zero_bytes(w ^ (ONES * u64::from(b'\\')))
}

/// Whether the 32 bytes at `i` hold nothing to escape (`false` past the
/// end): nothing a JSON string may not hold as it is, either, which is
/// how [`crate::json_check`] skips through strings.
pub(crate) fn clean_block(bytes: &[u8], i: usize) -> bool {
    let Some(block) = bytes.get(i..i + 32) else {
        return false;
    };
    let word = |k: usize| u64::from_le_bytes(block[k..k + 8].try_into().expect("eight bytes"));
    escapes_in(word(0)) | escapes_in(word(8)) | escapes_in(word(16)) | escapes_in(word(24)) == 0
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it.
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    buf.reserve(bytes.len() + 2);
    buf.push(b'"');
    let mut run = 0; // the first byte not yet copied
    let mut i = 0;
    while i < bytes.len() {
        if clean_block(bytes, i) {
            i += 32;
            continue;
        }
        // A block with something to escape (or the last, shorter one):
        // byte by byte.
        let end = bytes.len().min(i + 32);
        for (j, &b) in bytes.iter().enumerate().take(end).skip(i) {
            if needs_escape(b) {
                buf.extend_from_slice(&bytes[run..j]);
                escape(buf, b);
                run = j + 1;
            }
        }
        i = end;
    }
    buf.extend_from_slice(&bytes[run..]);
    buf.push(b'"');
}

fn escape(buf: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => buf.extend_from_slice(b"\\\""),
        b'\\' => buf.extend_from_slice(b"\\\\"),
        0x08 => buf.extend_from_slice(b"\\b"),
        0x0c => buf.extend_from_slice(b"\\f"),
        b'\n' => buf.extend_from_slice(b"\\n"),
        b'\r' => buf.extend_from_slice(b"\\r"),
        b'\t' => buf.extend_from_slice(b"\\t"),
        _ => buf.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0x0f)],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(v: &Value) -> String {
        serde_json::to_string(v).unwrap()
    }

    fn ours(v: &Value) -> String {
        let mut buf = Vec::new();
        write_value(&mut buf, v);
        String::from_utf8(buf).expect("UTF-8")
    }

    /// Every string of three characters drawn from the characters that
    /// escape, their neighbours and multi-byte ones, at every offset within
    /// an eight-byte word and around the 32-byte blocks scanned at once:
    /// the same text as serde_json.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let alphabet = [
            'a', '"', '\\', '\0', '\u{1f}', ' ', '\u{7f}', '\n', '\t', '\u{8}', '\u{c}', '\r', 'é', '€',
            '😀', '/',
        ];
        let mut n = 0;
        for pad in (0..9).chain(28..41) {
            let prefix = "p".repeat(pad);
            for a in alphabet {
                for b in alphabet {
                    for c in alphabet {
                        let s = format!("{prefix}{a}{b}{c}{prefix}");
                        let v = Value::Str(s);
                        assert_eq!(ours(&v), serde(&v));
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, 22 * 16 * 16 * 16);
        // Every byte value below 0x80 alone, and in a long run.
        for b in 0u8..0x80 {
            let s = char::from(b).to_string();
            let v = Value::Str(s.repeat(77));
            assert_eq!(ours(&v), serde(&v), "{b:#x}");
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let mut dict = Dict::new();
        dict.insert("plain".into(), Value::Int(-7));
        dict.insert("quote\"key\n".into(), Value::Float(0.1));
        dict.insert("".into(), Value::List(vec![]));
        dict.insert("nested".into(), Value::Dict(Dict::new()));
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(i64::MIN),
            Value::UInt(u64::MAX),
            Value::Float(1.5e300),
            Value::Float(-0.0),
            Value::Float(f64::NAN),
            Value::Bytes(vec![]),
            Value::Bytes((0..=255).collect()),
            Value::Str("x".repeat(100_000)),
            Value::List(vec![Value::Int(1), Value::Str("two".into()), Value::Null]),
            Value::Dict(dict),
        ];
        for v in &values {
            assert_eq!(ours(v), serde(v), "{v:?}");
        }
        let all = Value::List(values.to_vec());
        assert_eq!(ours(&all), serde(&all));
    }

    #[test]
    fn a_payload_is_its_elements() {
        let mut out = Vec::new();
        write_payload(&mut out, &vec![], &Dict::new());
        assert!(out.is_empty());
        write_payload(&mut out, &vec![Value::Int(1)], &Dict::new());
        assert_eq!(out, b"[1]");
        out.clear();
        let kwargs = Dict::from([("k".to_owned(), Value::Bool(true))]);
        write_payload(&mut out, &vec![], &kwargs);
        assert_eq!(out, br#"[],{"k":true}"#);
    }

    /// A message's JSON, payload written here and spliced in, is the
    /// message as serde_json writes it, whichever parts the payload has.
    #[test]
    fn messages_with_payloads_encode_as_through_serde() {
        use crate::{msg, Message, Serializer};
        let kwargs = Dict::from([("k\u{1}".to_owned(), Value::Str("v\"".into()))]);
        for (args, kwargs) in [
            (vec![], Dict::new()),
            (vec![Value::Str("a\nb".into())], Dict::new()),
            (vec![], kwargs.clone()),
            (vec![Value::Bytes(vec![0, 1, 2]), Value::Float(2.5)], kwargs),
        ] {
            let m = Message::from(msg::Event {
                subscription: 1,
                publication: 2,
                details: Default::default(),
                payload: crate::Payload::new(args, kwargs),
            });
            let encoded = Serializer::Json.encode(&m).unwrap();
            assert_eq!(
                String::from_utf8(encoded).unwrap(),
                serde_json::to_string(&m).unwrap()
            );
        }
    }

    /// A payload that another serializer encoded (kept by a router) goes
    /// to a JSON peer through the same writer: the same text as serde_json
    /// writes for its values.
    #[test]
    fn transcoded_payloads_encode_as_through_serde() {
        use crate::serializer::PayloadMode;
        use crate::{msg, Message, Serializer};
        let kwargs = Dict::from([("k".to_owned(), Value::Bytes(vec![1, 2, 3]))]);
        for (args, kwargs) in [
            (vec![Value::Str("a\"b\u{1}".into()), Value::UInt(7)], Dict::new()),
            (vec![], kwargs),
        ] {
            let publish = Message::from(msg::Publish {
                request: 1,
                options: Default::default(),
                topic: "com.t".into(),
                payload: crate::Payload::new(args, kwargs),
            });
            for from in [Serializer::MsgPack, Serializer::Cbor] {
                let frame = from.encode(&publish).unwrap();
                let kept = from.decode_with(&frame, PayloadMode::Encoded).unwrap();
                assert!(
                    kept.payload().unwrap().encoded().is_some(),
                    "{from}: kept encoded"
                );
                let json = String::from_utf8(Serializer::Json.encode(&kept).unwrap()).unwrap();
                assert_eq!(json, serde_json::to_string(&publish).unwrap(), "{from}");
            }
        }
        // `[16,1,{},"com.t",[]]` in MessagePack: an empty args list (a
        // router keeps nothing of it) is omitted in JSON, as serde does.
        let frame = [0x95, 0x10, 0x01, 0x80, 0xa5, b'c', b'o', b'm', b'.', b't', 0x90];
        let kept = Serializer::MsgPack
            .decode_with(&frame, PayloadMode::Encoded)
            .unwrap();
        let json = String::from_utf8(Serializer::Json.encode(&kept).unwrap()).unwrap();
        assert_eq!(json, r#"[16,1,{},"com.t"]"#);
    }
}
