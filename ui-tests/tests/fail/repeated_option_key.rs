#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get", invoke = "roundrobin", invoke = "random")]
    async fn get(&self) {}
}

fn main() {}
