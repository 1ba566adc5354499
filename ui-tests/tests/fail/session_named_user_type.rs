#![allow(unused)]

/// The application's own `Session`: named like the injected one, so the
/// macro cannot tell from the tokens; the compiler says it is not
/// injectable, and #[wamp(arg)] makes it an argument.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Session {
    token: String,
}

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.resume")]
    async fn resume(&self, session: Session) {}
}

fn main() {}
