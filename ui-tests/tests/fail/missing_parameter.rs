#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.item.<int:id>.get_name")]
    async fn get_name(&self, item: u64) -> String {
        item.to_string()
    }
}

fn main() {}
