#[wamp::procedure("com.arguments.add2")]
async fn add2(a: i64, b: i64) -> i64 {
    a + b
}

/// Synchronous handlers are supported too.
#[wamp::procedure("com.arguments.ping")]
fn ping() {}

#[wamp::topic("com.myapp.hello")]
async fn hello(message: String) {
    let _ = message;
}

async fn use_them(session: wamp::Session) -> Result<(), wamp::Error> {
    session.attach(add2::Handler).await?;
    session.attach(ping::Handler).await?;
    session.attach(hello::Handler).await?;
    let _: Result<i64, _> = add2::call(&session, 1, 2).await;
    hello::publish(&session, "hi".into()).await?;
    Ok(())
}

fn main() {
    let _ = use_them;
}
