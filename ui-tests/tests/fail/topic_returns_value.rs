#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::topic("com.myapp.on_event")]
    async fn on_event(&self, n: u32) -> u32 {
        n
    }
}

fn main() {}
