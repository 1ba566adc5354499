#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.<float:x>.get")]
    async fn get(&self, x: f64) {}
}

fn main() {}
