use wamp::service::{Progressive, Stream};

/// A definition shared by servers and clients: the client needs nothing else.
#[wamp::service(prefix = "com.example")]
pub trait Greeter {
    #[wamp::procedure("greet")]
    async fn greet(&self, name: String) -> String;

    /// Streaming results in a trait: a `Progressive` is a concrete type...
    #[wamp::procedure("count")]
    fn count(&self, n: u32) -> Progressive<u32, u32>;

    /// ... and an `impl Stream` says `Send`, since a trait's opaque types
    /// do not leak it.
    #[wamp::procedure("letters")]
    fn letters(&self, word: String) -> impl Stream<Item = char> + Send;

    #[wamp::topic("greeted")]
    async fn greeted(&self, name: String);
}

struct Impl;

impl Greeter for Impl {
    async fn greet(&self, name: String) -> String {
        name
    }

    fn count(&self, n: u32) -> Progressive<u32, u32> {
        Progressive::new(move |p| async move {
            for i in 0..n {
                p.send(i).await;
            }
            n
        })
    }

    fn letters(&self, word: String) -> impl Stream<Item = char> + Send {
        futures_util::stream::iter(word.chars().collect::<Vec<_>>())
    }

    async fn greeted(&self, _name: String) {}
}

async fn use_it(session: wamp::Session) -> Result<(), Box<dyn std::error::Error>> {
    session.attach(Impl.into_service()).await?;
    let client = GreeterClient::new(session);
    let _: Result<String, wamp::CallError> = client.greet("x".into()).await;
    let _: u32 = client.count(2).finish().await?;
    let mut letters = client.letters("ab".into());
    while let Some(c) = letters.next().await {
        let _: char = c?;
    }
    client.publish_greeted("x".into()).await?;
    Ok(())
}

fn main() {
    let _ = use_it;
}
