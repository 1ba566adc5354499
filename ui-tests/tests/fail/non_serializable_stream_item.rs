#![allow(unused)]

use wamp::service::Progressive;

struct Opaque;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.count")]
    fn count(&self) -> Progressive<Opaque, u32> {
        Progressive::new(|_progress| async { 0 })
    }
}

fn main() {}
