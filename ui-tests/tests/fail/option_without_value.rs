#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get", 5)]
    async fn get(&self) {}
}

fn main() {}
