//! Malformed input: every decoder error is an `Err(DecodeError)` whose reason
//! says what is wrong, and no input makes a decoder panic.

mod common;

use common::{hex, sample_messages};
use std::sync::OnceLock;

use proptest::prelude::*;
use wamp_proto::{DecodeError, Serializer};

/// Decodes input that must be rejected, returning the error's text.
fn reject(ser: Serializer, bytes: &[u8]) -> String {
    match ser.decode(bytes) {
        Ok(msg) => panic!("{ser} accepted {bytes:?} as {msg:?}"),
        Err(e) => {
            assert_eq!(e.serializer, ser);
            assert!(!e.reason.is_empty(), "empty reason for {bytes:?}");
            let text = e.to_string();
            assert!(text.starts_with(&format!("malformed {ser} message: ")), "{text}");
            text
        }
    }
}

/// Asserts that JSON input is rejected with an error containing `needle`.
fn json_err(json: &str, needle: &str) {
    let e = reject(Serializer::Json, json.as_bytes());
    assert!(
        e.contains(needle),
        "error for {json} should mention {needle:?}: {e}"
    );
}

/// Asserts that MessagePack input (hex) is rejected with an error containing `needle`.
fn msgpack_err(hex_bytes: &str, needle: &str) {
    let e = reject(Serializer::MsgPack, &hex(hex_bytes));
    assert!(
        e.contains(needle),
        "error for {hex_bytes} should mention {needle:?}: {e}"
    );
}

#[test]
fn every_prefix_of_every_message_is_rejected() {
    let samples = sample_messages();
    assert_eq!(samples.len(), 26);
    let mut prefixes = 0;
    for msg in &samples {
        for ser in Serializer::ALL {
            let bytes = ser.encode(msg).unwrap();
            assert_eq!(&ser.decode(&bytes).unwrap(), msg);
            for len in 0..bytes.len() {
                let e = reject(ser, &bytes[..len]);
                // (Shorter prefixes may instead end in a number that reads as a
                // wrong code or ID: "[4" is code 4.)
                if ser == Serializer::Json && len == bytes.len() - 1 {
                    assert!(e.contains("EOF while parsing a list"), "{msg:?}: {e}");
                }
                prefixes += 1;
            }
        }
    }
    assert!(prefixes > 4_000, "only {prefixes} prefixes");
}

#[test]
fn ids_of_the_wrong_type_are_rejected() {
    json_err(r#"[48,"7",{},"p"]"#, r#"invalid type: string "7", expected u64"#);
    json_err(r#"[48,7.5,{},"p"]"#, "invalid type: floating point `7.5`");
    json_err(r#"[48,-1,{},"p"]"#, "invalid value: integer `-1`, expected u64");
    json_err(r#"[48,null,{},"p"]"#, "invalid type: null");
    json_err("[2,[1],{}]", "invalid type: sequence, expected u64");
    // MessagePack: a str "7", a negative fixint -1, an int8 -128.
    msgpack_err("9430a13780a170", "wrong msgpack marker FixStr(1)");
    msgpack_err("9430ff80a170", "invalid value: integer `-1`, expected u64");
    msgpack_err("9430d08080a170", "invalid value: integer `-128`, expected u64");
}

#[test]
fn ids_above_2_pow_53_are_rejected() {
    json_err(
        r#"[48,9007199254740993,{},"p"]"#,
        "ID 9007199254740993 is larger than 2^53",
    );
    json_err("[17,1,18446744073709551615]", "larger than 2^53");
    // Beyond u64: serde_json reads it as a float.
    json_err("[17,1,18446744073709551616]", "invalid type: floating point");
    json_err(r#"[36,1,9007199254740993,{}]"#, "larger than 2^53");
    json_err("[2,9007199254740993,{}]", "larger than 2^53");
    // uint64 2^53 + 1 as WELCOME.Session.
    msgpack_err(
        "9302cf002000000000000180",
        "ID 9007199254740993 is larger than 2^53",
    );
    // 2^53 itself is the largest valid ID.
    assert!(Serializer::MsgPack
        .decode(&hex("9302cf002000000000000080"))
        .is_ok());
    assert!(Serializer::Json.decode(b"[2,9007199254740992,{}]").is_ok());
}

#[test]
fn dicts_where_lists_are_expected_are_rejected() {
    json_err(r#"{"0":48}"#, "invalid type: map, expected a WAMP message");
    json_err(
        r#"[48,1,{},"p",{"a":1}]"#,
        "invalid type: map, expected a sequence",
    );
    json_err(r#"[48,1,{},"p",[],[]]"#, "invalid type: sequence, expected a map");
    json_err(r#"[48,1,[],"p"]"#, "invalid type: sequence, expected a map");
    json_err(r#"[48,1,"opts","p"]"#, "expected a map");
    json_err(r#"[1,{"realm":"r"},{}]"#, "invalid type: map, expected a string");
    msgpack_err("81a13030", "expected a WAMP message");
    msgpack_err("953001 80 a170 81a16101", "expected a sequence");
}

#[test]
fn unknown_message_codes_are_rejected() {
    for code in [0u64, 7, 9, 99, 1 << 60] {
        json_err(
            &format!("[{code},1,2]"),
            &format!("unknown message type code {code}"),
        );
    }
    msgpack_err("930001 02", "unknown message type code 0");
    msgpack_err("930701 02", "unknown message type code 7");
    msgpack_err(
        "93cf1000000000000000 01 02",
        "unknown message type code 1152921504606846976",
    );
    json_err("[-1,1]", "invalid value: integer `-1`");
    json_err(r#"["CALL",1]"#, "invalid type: string");
    json_err(r#"[8,99,1,{},"e"]"#, "ERROR for unknown request type 99");
}

#[test]
fn empty_and_short_lists_are_rejected() {
    json_err("[]", "empty message list");
    msgpack_err("90", "empty message list");
    json_err("[48]", "CALL message is missing its Request");
    json_err("[48,1,{}]", "CALL message is missing its Procedure");
    json_err("[1]", "HELLO message is missing its Realm");
    json_err("[8,48,1,{}]", "ERROR message is missing its Error");
    json_err("[17,1]", "PUBLISHED message is missing its Publication");
    json_err("[68,1,2]", "INVOCATION message is missing its Details");
    msgpack_err("923001", "CALL message is missing its Options");
}

#[test]
fn too_many_elements_are_rejected() {
    json_err(
        r#"[48,1,{},"p",[],{},"x"]"#,
        "CALL message has more elements than the spec allows",
    );
    json_err("[17,1,2,3]", "PUBLISHED message has more elements");
    json_err("[35,1,{},{}]", "UNSUBSCRIBED message has more elements");
    json_err(r#"[6,{},"r",null]"#, "GOODBYE message has more elements");
    json_err(r#"[70,1,{},[],{},[]]"#, "YIELD message has more elements");
    msgpack_err("94 11 01 02 03", "PUBLISHED message has more elements");
}

#[test]
fn non_list_top_level_values_are_rejected() {
    for json in [r#""hello""#, "42", "null", "true", "1.5", ""] {
        reject(Serializer::Json, json.as_bytes());
    }
    json_err(r#""hello""#, "expected a WAMP message");
    json_err(r#"[48,1,{},"p"] [17,1,2]"#, "trailing characters");
    // nil, a positive fixint, a fixstr, a reserved byte, bin8.
    for mp in ["c0", "05", "a3616263", "c1", "c40130"] {
        reject(Serializer::MsgPack, &hex(mp));
    }
    msgpack_err("05", "expected a WAMP message");
    reject(Serializer::MsgPack, &[]);
}

#[test]
fn trailing_bytes_after_a_message_are_rejected_in_every_serializer() {
    let second = wamp_proto::Message::goodbye("wamp.close.normal");
    for msg in sample_messages() {
        for ser in [Serializer::MsgPack, Serializer::Cbor] {
            let bytes = ser.encode(&msg).unwrap();
            // One stray byte: a nil (MessagePack) or a zero (CBOR), each a
            // complete value of its own.
            let mut one = bytes.clone();
            one.push(if ser == Serializer::MsgPack { 0xc0 } else { 0x00 });
            let e = reject(ser, &one);
            assert!(e.ends_with(": 1 trailing byte after the message"), "{msg:?}: {e}");
            // A whole second message in the same frame.
            let extra = ser.encode(&second).unwrap();
            let mut two = bytes.clone();
            two.extend_from_slice(&extra);
            let e = reject(ser, &two);
            let expected = format!(": {} trailing bytes after the message", extra.len());
            assert!(e.ends_with(&expected), "{msg:?}: {e}");
            // Bytes that are no value at all are counted just the same.
            let mut junk = bytes;
            junk.extend_from_slice(&[0xff, 0xff, 0xff]);
            let e = reject(ser, &junk);
            assert!(
                e.ends_with(": 3 trailing bytes after the message"),
                "{msg:?}: {e}"
            );
        }
    }
    json_err(r#"[48,1,{},"p"] [17,1,2]"#, "trailing characters");
    json_err(r#"[48,1,{},"p"]x"#, "trailing characters");
    // Concrete vectors: PUBLISHED [17, 1, 2] followed by one nil.
    msgpack_err("93 11 01 02 c0", "1 trailing byte after the message");
    let e = reject(Serializer::Cbor, &hex("83 11 01 02 f6 f6"));
    assert!(e.ends_with("2 trailing bytes after the message"), "{e}");
    // The message alone still decodes.
    assert!(Serializer::MsgPack.decode(&hex("93 11 01 02")).is_ok());
    assert!(Serializer::Cbor.decode(&hex("83 11 01 02")).is_ok());
}

#[test]
fn wrong_typed_known_options_name_the_key() {
    json_err(
        r#"[48,1,{"timeout":"soon"},"p"]"#,
        r#"option "timeout" must be a non-negative integer, got string"#,
    );
    json_err(r#"[48,1,{"timeout":-5},"p"]"#, r#""timeout""#);
    json_err(r#"[48,1,{"timeout":1.5},"p"]"#, r#""timeout""#);
    json_err(
        r#"[48,1,{"receive_progress":1},"p"]"#,
        r#"option "receive_progress" must be a boolean"#,
    );
    json_err(
        r#"[32,1,{"match":"fuzzy"},"t"]"#,
        r#"option "match" must be one of"#,
    );
    json_err(
        r#"[16,1,{"exclude":["a"]},"t"]"#,
        r#"option "exclude" must be a list"#,
    );
    json_err(r#"[16,1,{"exclude":5},"t"]"#, r#""exclude""#);
    json_err(
        r#"[1,"r",{"roles":"all"}]"#,
        r#"option "roles" must be a dictionary, got string"#,
    );
    json_err(
        r#"[49,1,{"mode":"nuke"}]"#,
        r#"option "mode" must be one of "skip" "kill" "killnowait""#,
    );
    json_err(r#"[64,1,{"invoke":7},"p"]"#, r#""invoke""#);
    json_err(r#"[67,0,{"registration":"x"}]"#, r#""registration""#);
    // CALL with Options {"timeout": "soon"} in MessagePack.
    msgpack_err("9430 01 81 a774696d656f7574 a4736f6f6e a170", "\"timeout\"");
    // null means absent rather than wrong.
    assert!(Serializer::Json.decode(br#"[48,1,{"timeout":null},"p"]"#).is_ok());
}

#[test]
fn invalid_base64_after_nul_is_rejected() {
    json_err(r#"[36,1,2,{},["\u0000!!!"]]"#, "invalid base64 in binary string");
    json_err(r#"[36,1,2,{},[],{"k":"\u0000AAA"}]"#, "invalid base64");
    json_err(r#"[48,1,{"x_extra":"\u0000%"},"p"]"#, "invalid base64");
    json_err(r#"[48,1,{},"p",[{"deep":["\u0000@@"]}]]"#, "invalid base64");
    // Valid binary where a typed option wants a string is the wrong type.
    json_err(
        r#"[1,"r",{"authid":"\u0000AA=="}]"#,
        r#"option "authid" must be a string, got bytes"#,
    );
}

#[test]
fn other_malformed_msgpack_is_rejected() {
    // Invalid UTF-8 in a str (the procedure URI).
    reject(Serializer::MsgPack, &hex("9430 01 80 a2c328"));
    // An ext type as an argument.
    reject(Serializer::MsgPack, &hex("9530 01 80 a170 91 d40100"));
    // A map with an integer key as Options.
    reject(Serializer::MsgPack, &hex("9430 01 81 0101 a170"));
    // Claimed lengths far beyond the input: array32, str32, bin32, map32.
    for mp in [
        "ddffffffff",
        "9430 01 80 dbffffffff",
        "9530 01 80 a170 91 c6ffffffff",
        "9430 01 dfffffffff",
    ] {
        reject(Serializer::MsgPack, &hex(mp));
    }
}

#[test]
fn deep_nesting_is_rejected_without_overflowing_the_stack() {
    let depth = 100_000;
    let json = format!("[48,1,{{}},\"p\",{}{}]", "[".repeat(depth), "]".repeat(depth));
    reject(Serializer::Json, json.as_bytes());
    let mut mp = hex("9530 01 80 a170");
    mp.extend(vec![0x91u8; depth]);
    mp.push(0xc0);
    let e = reject(Serializer::MsgPack, &mp);
    assert!(e.contains("nested more than 100 deep"), "{e}");
    // 100 levels inside the arguments are fine for both.
    let json = format!("[48,1,{{}},\"p\",[{}{}]]", "[".repeat(100), "]".repeat(100));
    assert!(Serializer::Json.decode(json.as_bytes()).is_ok());
    let mut mp = hex("9530 01 80 a170 91");
    mp.extend(vec![0x91u8; 99]);
    mp.push(0x90);
    assert!(Serializer::MsgPack.decode(&mp).is_ok());
}

fn valid_encodings() -> &'static [(Serializer, Vec<u8>)] {
    static ENCODINGS: OnceLock<Vec<(Serializer, Vec<u8>)>> = OnceLock::new();
    ENCODINGS.get_or_init(|| {
        let mut out = Vec::new();
        for msg in sample_messages() {
            for ser in Serializer::ALL {
                out.push((ser, ser.encode(&msg).unwrap()));
            }
        }
        out
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len();
    match *m {
        Mutation::Flip(i, x) => bytes[i % n] ^= x,
        Mutation::Insert(i, b) => bytes.insert(i % (n + 1), b),
        Mutation::Remove(i) => {
            if n > 1 {
                bytes.remove(i % n);
            }
        }
        Mutation::Truncate(i) => bytes.truncate(i % n),
    }
}

fn decode_both(bytes: &[u8]) {
    for ser in Serializer::ALL {
        if let Err(DecodeError { serializer, reason }) = ser.decode(bytes) {
            assert_eq!(serializer, ser);
            assert!(!reason.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_both(&bytes);
    }

    #[test]
    fn arbitrary_json_like_text_never_panics(text in r#"[\[\]{}",:0-9a-z\\ .\-]{0,64}"#) {
        decode_both(text.as_bytes());
    }

    #[test]
    fn mutated_valid_encodings_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let encodings = valid_encodings();
        let (ser, mut bytes) = encodings[which.index(encodings.len())].clone();
        for m in &mutations {
            if bytes.is_empty() {
                break;
            }
            apply(&mut bytes, m);
        }
        decode_both(&bytes);
        // Whatever still decodes re-encodes to bytes that are a fixed point.
        // (Bytes, not messages, are compared: a mutated float may be NaN.)
        if let Ok(msg) = ser.decode(&bytes) {
            if let Ok(again) = ser.encode(&msg) {
                let msg2 = ser.decode(&again).expect("re-encoding decodes");
                prop_assert_eq!(ser.encode(&msg2).unwrap(), again);
            }
        }
    }
}

/// A CALL whose first argument nests `depth` lists.
fn call_nested(depth: usize) -> wamp_proto::Message {
    let mut v = wamp_proto::Value::UInt(1);
    for _ in 0..depth {
        v = wamp_proto::Value::List(vec![v]);
    }
    wamp_proto::Message::from(wamp_proto::msg::Call {
        request: 1,
        options: Default::default(),
        procedure: "p".into(),
        payload: wamp_proto::Payload::new(vec![v], Default::default()),
    })
}

#[test]
fn one_depth_limit_in_every_serializer() {
    use wamp_proto::repr::MAX_DEPTH;
    for ser in Serializer::ALL {
        let ok = ser.encode(&call_nested(MAX_DEPTH)).unwrap();
        assert_eq!(ser.decode(&ok).unwrap(), call_nested(MAX_DEPTH), "{ser}");
        for depth in [MAX_DEPTH + 1, 126, 200] {
            let deep = ser.encode(&call_nested(depth)).unwrap();
            let e = reject(ser, &deep);
            assert!(
                e.contains(&format!("nested more than {MAX_DEPTH} deep")),
                "{ser} {depth}: {e}"
            );
        }
    }
}

#[test]
fn deep_cbor_is_rejected_without_overflowing_the_stack() {
    // [48, 1, {}, "p", [[[[...]]]]]
    let mut cbor = hex("85 1830 01 a0 6170");
    cbor.extend(vec![0x81u8; 100_000]);
    cbor.push(0xf6);
    reject(Serializer::Cbor, &cbor);
}
