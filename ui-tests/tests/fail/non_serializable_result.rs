#![allow(unused)]

/// Readable and described, but it cannot be written to the wire.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ReadOnly {
    n: u32,
}

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.make")]
    async fn make(&self) -> ReadOnly {
        ReadOnly { n: 1 }
    }
}

fn main() {}
