#![allow(unused)]

use wamp::service::Stream;

#[derive(Debug, wamp::WampError)]
enum E {
    #[wamp(uri = "com.myapp.error.busy")]
    Busy,
}

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.ticks")]
    fn ticks(&self) -> Result<impl Stream<Item = u32>, E> {
        Ok(futures_util::stream::iter([1u32]))
    }
}

fn main() {}
