#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get")]
    #[wamp::topic("com.myapp.on_get")]
    async fn get(&self) {}
}

fn main() {}
