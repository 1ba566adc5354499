#![allow(unused)]

#[derive(Debug, wamp::WampError)]
enum E<T> {
    #[wamp(uri = "com.myapp.error.bad")]
    Bad(T),
}

fn main() {}
