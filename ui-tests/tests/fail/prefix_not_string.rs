#![allow(unused)]

struct S;

#[wamp::service(prefix = com.myapp)]
impl S {
    #[wamp::procedure("get")]
    async fn get(&self) {}
}

fn main() {}
