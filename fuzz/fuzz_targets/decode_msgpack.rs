//! `Serializer::decode` on arbitrary bytes, and a round trip of whatever decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp_proto::Serializer;

fuzz_target!(|data: &[u8]| wamp_fuzz::decode_round_trip(Serializer::MsgPack, data));
