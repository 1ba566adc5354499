#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.<name>", match = "prefix")]
    async fn get(&self, name: String) {}
}

fn main() {}
