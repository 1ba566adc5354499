#![allow(unused)]

trait Api {}

#[wamp::service]
impl dyn Api {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) {}
}

fn main() {}
