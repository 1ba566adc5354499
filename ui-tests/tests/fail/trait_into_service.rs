#![allow(unused)]

#[wamp::service(prefix = "com.myapp")]
trait Api {
    #[wamp::procedure("into_service")]
    async fn into_service(&self) -> u32;
}

fn main() {}
