#![allow(unused)]

#[wamp::service]
trait Api<T> {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) -> u32;
}

fn main() {}
