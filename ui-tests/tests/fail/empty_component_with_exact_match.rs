#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    /// Empty components are "any component": they need a pattern policy.
    #[wamp::procedure("com.myapp..get", match = "exact")]
    async fn get(&self) {}
}

fn main() {}
