//! Quickstart: an embedded router in this process, a callee, a caller, a
//! subscriber and a publisher. Set `WAMP_URL` (e.g. `ws://127.0.0.1:8080/ws`)
//! to use an external router such as `wamp router` or Crossbar.io instead.
//!
//! Run: `cargo run -p wamp-examples --example quickstart`

use wamp::{ApplicationError, CallResult, Payload, RegisterOptions, SubscribeOptions};
use wamp_examples::{init_logging, Target};

#[tokio::main]
async fn main() -> Result<(), wamp::Error> {
    init_logging();
    let target = Target::from_env();
    println!("using the {}", target.describe());

    // A callee: com.arguments.add2 adds two integers.
    let backend = target.join().await?;
    backend
        .register(
            "com.arguments.add2",
            RegisterOptions::default(),
            |inv| async move {
                let (a, b): (i64, i64) = (inv.arg(0)?, inv.arg(1)?);
                a.checked_add(b)
                    .map(|sum| CallResult::new().with_arg(sum))
                    .ok_or_else(|| {
                        ApplicationError::new("com.myapp.error.overflow").with_arg("sum overflows i64")
                    })
            },
        )
        .await?;
    println!("backend (session {}) registered com.arguments.add2", backend.id());

    // A subscriber to com.myapp.hello.
    let mut hello = backend
        .subscribe("com.myapp.hello", SubscribeOptions::default())
        .await?;

    // A frontend that calls and publishes.
    let frontend = target.join().await?;
    let sum = frontend.call("com.arguments.add2").arg(2).arg(3).await?;
    println!("call com.arguments.add2(2, 3) -> {}", sum.arg::<i64>(0)?);

    match frontend.call("com.arguments.add2").arg(2).arg("three").await {
        Err(e) => println!("call com.arguments.add2(2, \"three\") -> error {e}"),
        Ok(r) => println!("unexpected result {r:?}"),
    }

    let publication = frontend
        .publish("com.myapp.hello")
        .arg("Hello, world!")
        .acknowledge(true)
        .await?;
    println!(
        "published to com.myapp.hello (publication {})",
        publication.unwrap_or_default()
    );
    if let Some(event) = hello.next().await {
        println!("event on {}: {}", event.topic, event.arg::<String>(0)?);
    }

    frontend.leave().await?;
    backend.leave().await?;
    println!("done");
    Ok(())
}
