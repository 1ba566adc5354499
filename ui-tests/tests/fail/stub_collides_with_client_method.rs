#![allow(unused)]

struct S;

#[wamp::service(prefix = "com.myapp")]
impl S {
    /// `SClient::new` makes the stub: a procedure cannot have that name.
    #[wamp::procedure("new")]
    async fn new(&self) {}
}

fn main() {}
