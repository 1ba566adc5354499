//! Slow square (Autobahn's `rpc/slowsquare`): `com.math.square` answers at
//! once, `com.math.slowsquare(x, delay=1)` after `delay` seconds. The
//! frontend calls both concurrently, the slow one first, and prints each
//! result as it arrives: the quick one comes back first, because each
//! invocation runs as its own task on the backend.

use std::time::{Duration, Instant};

use wamp::{ApplicationError, Session};

use crate::{describe_call_error, expect, Backend, BoxError, Number, Transcript};

/// The math service.
pub struct MathService;

#[wamp::service(prefix = "com.math")]
impl MathService {
    /// `x * x`.
    #[wamp::procedure("square")]
    async fn square(&self, x: Number) -> Number {
        x * x
    }

    /// `x * x`, after `delay` seconds (default 1, as in Autobahn).
    #[wamp::procedure("slowsquare")]
    async fn slowsquare(&self, x: Number, delay: Option<f64>) -> Result<Number, ApplicationError> {
        let delay = delay.unwrap_or(1.0);
        let pause = Duration::try_from_secs_f64(delay)
            .map_err(|e| ApplicationError::invalid_argument(format!("delay {delay}: {e}")))?;
        tokio::time::sleep(pause).await;
        Ok(x * x)
    }
}

/// Registers the math service.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(MathService).await?;
    log.say("Registered com.math.square and com.math.slowsquare");
    Ok(Backend::new(log).with_attached(attached))
}

/// Calls `slowsquare(3, 2)` and `square(3)` at the same time (the delay is
/// two `interval`s: 2 s like Autobahn's by default) and prints each result
/// as it comes.
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let math = MathServiceClient::new(session);
    let report = |label: &str, started: Instant, r: Result<Number, String>| match r {
        Ok(v) => out.say(format!("{label}: {v} in {} ms", started.elapsed().as_millis())),
        Err(e) => out.say(format!("{label}: error {e}")),
    };
    let slow = async {
        let started = Instant::now();
        let r = math
            .slowsquare(Number::Int(3), Some(2.0 * interval.as_secs_f64()))
            .await;
        report("Slow Square", started, r.map_err(|e| describe_call_error(&e)));
    };
    let quick = async {
        let started = Instant::now();
        let r = math.square(Number::Int(3)).await;
        report("Quick Square", started, r.map_err(|e| describe_call_error(&e)));
    };
    tokio::join!(slow, quick);
    out.say("All finished.");
    Ok(out.lines())
}

/// Checks the frontend's output: both squares are 9, the quick one first.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::that(
        lines.len() == 3
            && lines[0].starts_with("Quick Square: 9 in ")
            && lines[1].starts_with("Slow Square: 9 in ")
            && lines[2] == "All finished.",
        || format!("expected the quick square first, both 9: {lines:#?}"),
    )
}
