#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    /// The same rule as on the wire: no control characters.
    #[wamp::procedure("com.myapp.g\u{7}et")]
    async fn get(&self) {}
}

fn main() {}
