#![allow(unused)]

#[wamp::service(vis = "pub(crate)")]
trait Api {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) -> u32;
}

fn main() {}
