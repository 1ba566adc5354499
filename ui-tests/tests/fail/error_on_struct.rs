#![allow(unused)]

#[derive(Debug, wamp::WampError)]
struct NotAnEnum {
    reason: String,
}

fn main() {}
