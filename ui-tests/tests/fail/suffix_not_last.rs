#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.<suffix:path>.get")]
    async fn get(&self, path: String) {}
}

fn main() {}
