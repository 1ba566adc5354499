#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure = "com.myapp.get"]
    async fn get(&self) {}
}

fn main() {}
