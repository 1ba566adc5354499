#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get", concurrency = 0)]
    async fn get(&self) {}
}

fn main() {}
