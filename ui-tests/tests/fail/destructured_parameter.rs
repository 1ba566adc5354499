#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.add")]
    async fn add(&self, (a, b): (i64, i64)) -> i64 {
        a + b
    }
}

fn main() {}
