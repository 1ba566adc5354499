//! Arguments (Autobahn's `rpc/arguments`): procedures taking no arguments,
//! positional ones, keyword ones with defaults, both, and any number of
//! either, under `com.arguments`.

use std::time::Duration;

use wamp::{CallResult, Invocation, Payload, RegisterOptions, Session};

use crate::{expect, Backend, BoxError, Number, Transcript};

/// The procedures with typed parameters.
pub struct Arguments;

#[wamp::service(prefix = "com.arguments")]
impl Arguments {
    /// No arguments, no result.
    #[wamp::procedure("ping")]
    async fn ping(&self) {}

    /// Two positional arguments.
    #[wamp::procedure("add2")]
    async fn add2(&self, a: Number, b: Number) -> Number {
        a + b
    }

    /// Keyword arguments with defaults: `stars(nick="somebody", stars=0)`.
    #[wamp::procedure("stars")]
    async fn stars(&self, #[wamp(kwarg)] nick: Option<String>, #[wamp(kwarg)] stars: Option<i64>) -> String {
        format!(
            "{} starred {}x",
            nick.as_deref().unwrap_or("somebody"),
            stars.unwrap_or(0)
        )
    }

    /// A positional and a keyword argument: `orders(product, limit=5)`.
    #[wamp::procedure("orders")]
    async fn orders(&self, product: String, #[wamp(kwarg)] limit: Option<i64>) -> Vec<String> {
        let _ = product; // Autobahn's example ignores it too.
        let all: Vec<String> = (0..50).map(|i| format!("Product {i}")).collect();
        // Python's `all[:limit]`, negative limits included.
        let n = all.len() as i64;
        let end = match limit.unwrap_or(5) {
            l if l < 0 => (n + l).max(0),
            l => l.min(n),
        };
        all[..end as usize].to_vec()
    }
}

/// `arglen(*args, **kwargs)`: how many positional and keyword arguments
/// came. Any number of positional arguments has no typed parameter form, so
/// this one is registered with the untyped API and reads the invocation.
async fn arglen(inv: Invocation) -> Result<CallResult, wamp::ApplicationError> {
    Ok(CallResult::new().with_arg([inv.args().len(), inv.kwargs().len()]))
}

/// Registers all five procedures.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(Arguments).await?;
    let arglen = session
        .register("com.arguments.arglen", RegisterOptions::default(), arglen)
        .await?;
    log.say("Registered methods; ready for frontend.");
    Ok(Backend::new(log)
        .with_attached(attached)
        .with_registration(arglen))
}

/// Calls every procedure with every variant of arguments.
///
/// The typed stub sends every parameter, `None` as `null`; Autobahn's
/// `stars(nick=None)` would then print "None starred 0x", and
/// `orders(limit=None)` return all 50 products. Calls that leave out
/// arguments therefore use the untyped builder, which sends only what is given.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let client = ArgumentsClient::new(session.clone());

    client.ping().await?;
    out.say("Pinged!");

    out.say(format!(
        "Add2: {}",
        client.add2(Number::Int(2), Number::Int(3)).await?
    ));

    let stars = |nick: Option<&str>, stars: Option<i64>| {
        let mut call = session.call("com.arguments.stars");
        if let Some(n) = nick {
            call = call.kwarg("nick", n);
        }
        if let Some(s) = stars {
            call = call.kwarg("stars", s);
        }
        call
    };
    for (i, (nick, n)) in [
        (None, None),
        (Some("Homer"), None),
        (None, Some(5)),
        (Some("Homer"), Some(5)),
    ]
    .into_iter()
    .enumerate()
    {
        let starred: String = stars(nick, n).await?.arg(0)?;
        out.say(format!("Starred {}: {starred}", i + 1));
    }

    let orders: Vec<String> = session.call("com.arguments.orders").arg("coffee").await?.arg(0)?;
    out.say(format!("Orders 1: {orders:?}"));
    let orders = client.orders("coffee".into(), Some(10)).await?;
    out.say(format!("Orders 2: {orders:?}"));

    let arglen = |args: usize, kwargs: &[&str]| {
        let mut call = session.call("com.arguments.arglen");
        for i in 1..=args {
            call = call.arg(i);
        }
        for (i, k) in kwargs.iter().enumerate() {
            call = call.kwarg(*k, i + 1);
        }
        call
    };
    for (i, (args, kwargs)) in [
        (0, &[][..]),
        (3, &[][..]),
        (0, &["a", "b", "c"][..]),
        (3, &["a", "b", "c"][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let lengths: Vec<u64> = arglen(args, kwargs).await?.arg(0)?;
        out.say(format!("Arglen {}: {lengths:?}", i + 1));
    }
    Ok(out.lines())
}

/// Checks the frontend's output, line by line.
pub fn check(lines: &[String]) -> Result<(), String> {
    let products = |n: usize| format!("{:?}", (0..n).map(|i| format!("Product {i}")).collect::<Vec<_>>());
    let (orders1, orders2) = (
        format!("Orders 1: {}", products(5)),
        format!("Orders 2: {}", products(10)),
    );
    expect::lines(
        lines,
        &[
            "Pinged!",
            "Add2: 5",
            "Starred 1: somebody starred 0x",
            "Starred 2: Homer starred 0x",
            "Starred 3: somebody starred 5x",
            "Starred 4: Homer starred 5x",
            &orders1,
            &orders2,
            "Arglen 1: [0, 0]",
            "Arglen 2: [3, 0]",
            "Arglen 3: [0, 3]",
            "Arglen 4: [3, 3]",
        ],
    )
}
