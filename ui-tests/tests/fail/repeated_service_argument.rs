#![allow(unused)]

struct S;

#[wamp::service(prefix = "com.a", prefix = "com.b")]
impl S {
    #[wamp::procedure("get")]
    async fn get(&self) {}
}

fn main() {}
