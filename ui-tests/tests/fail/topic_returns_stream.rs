#![allow(unused)]

use wamp::service::Stream;

struct S;

#[wamp::service]
impl S {
    #[wamp::topic("com.myapp.on_tick")]
    fn on_tick(&self, n: u32) -> impl Stream<Item = u32> {
        futures_util::stream::iter([n])
    }
}

fn main() {}
