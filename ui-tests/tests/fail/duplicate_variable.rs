#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.<id>.<int:id>.get")]
    async fn get(&self, id: u32) {}
}

fn main() {}
