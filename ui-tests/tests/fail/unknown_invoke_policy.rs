#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get", invoke = "fastest")]
    async fn get(&self) {}
}

fn main() {}
