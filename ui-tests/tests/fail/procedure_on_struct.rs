#![allow(unused)]

#[wamp::procedure("com.myapp.get")]
struct Get;

fn main() {}
