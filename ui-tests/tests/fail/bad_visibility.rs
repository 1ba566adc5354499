#![allow(unused)]

struct S;

#[wamp::service(vis = "public")]
impl S {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) {}
}

fn main() {}
