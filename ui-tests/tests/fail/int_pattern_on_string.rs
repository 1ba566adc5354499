#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.item.<int:id>")]
    async fn get(&self, id: String) {}
}

fn main() {}
