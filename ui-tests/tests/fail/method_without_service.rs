#![allow(unused)]

struct S;

impl S {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) {}
}

fn main() {}
