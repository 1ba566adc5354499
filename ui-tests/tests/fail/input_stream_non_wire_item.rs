#![allow(unused)]

use wamp::service::Streaming;

struct Opaque;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.sink")]
    async fn sink(&self, items: Streaming<Opaque>) -> u32 {
        0
    }
}

fn main() {}
