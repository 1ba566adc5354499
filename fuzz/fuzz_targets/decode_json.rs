//! `Serializer::decode` on arbitrary bytes, and a round trip of whatever
//! decodes; and the router's split check of large JSON frames against the
//! whole decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp_proto::Serializer;

fuzz_target!(|data: &[u8]| {
    wamp_fuzz::decode_round_trip(Serializer::Json, data);
    wamp_fuzz::json_split_agrees(data);
});
