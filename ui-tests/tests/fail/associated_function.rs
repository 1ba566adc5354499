#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.make")]
    async fn make() -> u32 {
        1
    }
}

fn main() {}
