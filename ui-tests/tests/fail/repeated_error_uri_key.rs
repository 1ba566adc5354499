#![allow(unused)]

#[derive(Debug, wamp::WampError)]
enum E {
    #[wamp(uri = "com.myapp.error.a", uri = "com.myapp.error.b")]
    A,
}

fn main() {}
