#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.echo")]
    async fn echo<T>(&self, value: u32) -> u32 {
        value
    }
}

fn main() {}
