#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.bump")]
    async fn bump(&mut self) {}
}

fn main() {}
