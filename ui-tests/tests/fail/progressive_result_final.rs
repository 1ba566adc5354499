#![allow(unused)]

use wamp::service::Progressive;

#[derive(Debug, wamp::WampError)]
enum E {
    #[wamp(uri = "com.myapp.error.busy")]
    Busy,
}

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.count")]
    fn count(&self) -> Progressive<u32, Result<u32, E>> {
        todo!()
    }
}

fn main() {}
