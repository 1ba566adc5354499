#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.item.<int:id>")]
    async fn get(&self, #[wamp(kwarg)] id: u64) {}
}

fn main() {}
