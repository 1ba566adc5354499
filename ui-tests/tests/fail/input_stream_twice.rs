#![allow(unused)]

use wamp::service::Streaming;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.zip")]
    async fn zip(&self, left: Streaming<i64>, right: Streaming<String>) -> u32 {
        0
    }
}

fn main() {}
