#![allow(unused)]

/// Serializable and described, but it cannot be read back from the wire.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct WriteOnly {
    n: u32,
}

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.take")]
    async fn take(&self, value: WriteOnly) {}
}

fn main() {}
