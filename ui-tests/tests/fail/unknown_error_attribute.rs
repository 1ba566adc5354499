#![allow(unused)]

#[derive(Debug, wamp::WampError)]
enum E {
    #[wamp(url = "com.myapp.error.bad")]
    Bad,
}

fn main() {}
