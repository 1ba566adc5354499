#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self, #[wamp(kwarg, kwargs)] name: String) {}
}

fn main() {}
