#![allow(unused)]

use wamp::service::Streaming;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.sum")]
    async fn sum(&self, numbers: Streaming) -> i64 {
        0
    }
}

fn main() {}
