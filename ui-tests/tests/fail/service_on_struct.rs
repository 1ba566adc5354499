#![allow(unused)]

#[wamp::service]
struct S;

fn main() {}
