#![allow(unused)]

use wamp::service::Progressive;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.count")]
    fn count(&self) -> Progressive<u32> {
        todo!()
    }
}

fn main() {}
