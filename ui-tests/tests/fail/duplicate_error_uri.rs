#![allow(unused)]

/// Two variants with one URI: a received error could not be mapped back.
#[derive(Debug, wamp::WampError)]
enum E {
    #[wamp(uri = "com.myapp.error.missing")]
    NotFound,
    #[wamp(uri = "com.myapp.error.missing")]
    Gone(String),
}

fn main() {}
