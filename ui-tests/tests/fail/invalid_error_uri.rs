#![allow(unused)]

#[derive(Debug, wamp::WampError)]
enum E {
    #[wamp(uri = "com.myapp.error.not found")]
    NotFound,
}

fn main() {}
