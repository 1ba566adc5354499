#![allow(unused)]

#[wamp::service(prefix = "com.myapp")]
trait Api {
    #[wamp::procedure("get")]
    async fn get(&self) -> u32 {
        1
    }
}

fn main() {}
