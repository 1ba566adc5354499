#![allow(unused)]

struct S<T>(T);

#[wamp::service]
impl<T> S<T> {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self) {}
}

fn main() {}
