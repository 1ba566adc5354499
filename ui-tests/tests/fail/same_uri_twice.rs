#![allow(unused)]

struct S;

#[wamp::service(prefix = "com.myapp")]
impl S {
    #[wamp::procedure("item.<int:id>.get")]
    async fn get(&self, id: u64) {}

    /// Same wire URI and match policy as `get`: the router would refuse it.
    #[wamp::procedure("item.<name>.get")]
    async fn get_by_name(&self, name: String) {}
}

fn main() {}
