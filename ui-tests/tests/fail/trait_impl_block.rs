#![allow(unused)]

trait Api {
    async fn get(&self);
}

struct S;

#[wamp::service]
impl Api for S {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) {}
}

fn main() {}
