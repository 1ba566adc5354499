#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.<int:1st>.get")]
    async fn get(&self) {}
}

fn main() {}
