#![allow(unused)]

use wamp::service::Stream;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.ticks")]
    fn ticks(&self) -> impl Stream {
        futures_util::stream::iter([1u32])
    }
}

fn main() {}
