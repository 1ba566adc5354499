#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("<suffix:path>")]
    async fn any(&self, path: String) {}
}

fn main() {}
