#![allow(unused)]

use wamp::service::Streaming;

struct S;

#[wamp::service]
impl S {
    #[wamp::topic("com.myapp.readings")]
    async fn readings(&self, values: Streaming<f64>) {}
}

fn main() {}
