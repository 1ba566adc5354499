#![allow(unused)]

use wamp::InputStream;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.sum")]
    async fn sum(&self, numbers: InputStream) -> i64 {
        0
    }
}

fn main() {}
