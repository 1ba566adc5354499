#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure]
    async fn get(&self) {}
}

fn main() {}
