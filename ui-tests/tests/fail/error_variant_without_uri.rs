#![allow(unused)]

#[derive(Debug, wamp::WampError)]
enum E {
    #[wamp(uri = "com.myapp.error.a")]
    A,
    B(String),
}

fn main() {}
