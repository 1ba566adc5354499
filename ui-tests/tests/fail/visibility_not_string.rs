#![allow(unused)]

struct S;

#[wamp::service(vis = 1)]
impl S {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) {}
}

fn main() {}
