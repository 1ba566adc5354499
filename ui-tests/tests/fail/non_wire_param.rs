#![allow(unused)]

/// Neither serializable nor described: each missing trait is named, at the type.
struct Opaque;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.take")]
    async fn take(&self, value: Opaque) {}
}

fn main() {}
