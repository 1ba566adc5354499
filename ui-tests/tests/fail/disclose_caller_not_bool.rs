#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get", disclose_caller = "yes")]
    async fn get(&self) {}
}

fn main() {}
