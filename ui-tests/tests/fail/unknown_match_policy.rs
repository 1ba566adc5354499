#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::topic("com.myapp", match = "regex")]
    async fn any(&self) {}
}

fn main() {}
