#![allow(unused)]

#[wamp::procedure(invoke = "roundrobin")]
async fn add2(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
