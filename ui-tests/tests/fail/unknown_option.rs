#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get", color = "red")]
    async fn get(&self) {}
}

fn main() {}
