/// A definition shared by servers and clients: the client needs nothing else.
#[wamp::service(prefix = "com.example")]
pub trait Greeter {
    #[wamp::procedure("greet")]
    async fn greet(&self, name: String) -> String;

    #[wamp::topic("greeted")]
    async fn greeted(&self, name: String);
}

struct Impl;

impl Greeter for Impl {
    async fn greet(&self, name: String) -> String {
        name
    }

    async fn greeted(&self, _name: String) {}
}

async fn use_it(session: wamp::Session) -> Result<(), wamp::Error> {
    session.attach(Impl.into_service()).await?;
    let client = GreeterClient::new(session);
    let _: Result<String, wamp::CallError> = client.greet("x".into()).await;
    client.publish_greeted("x".into()).await?;
    Ok(())
}

fn main() {
    let _ = use_it;
}
