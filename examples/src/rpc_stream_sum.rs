//! Streaming input and two-way streams (progressive call invocations, no
//! Autobahn counterpart: Autobahn|Python and Crossbar.io do not have them):
//!
//! - `com.myapp.sum(start)` takes a stream of numbers and returns `start`
//!   plus their sum, once the stream has ended;
//! - `com.myapp.running_sum()` takes a stream of numbers and answers each
//!   with the running total (a progressive result) while the numbers still
//!   come in, then the total.
//!
//! A procedure's input stream is a parameter of type [`Streaming<T>`]; the
//! typed stub takes any `Stream<Item = T>` for it and sends each item as
//! it comes, waiting while the session's queue is full. The call's first
//! message carries the ordinary parameters (`start`); each item follows as
//! one more CALL chunk. Dropping the stub's future or stream cancels the call.

use std::time::Duration;

use futures_util::stream::{self, Stream, StreamExt};
use wamp::service::{Progressive, Streaming};
use wamp::{ApplicationError, Session};

use crate::{expect, Backend, BoxError, Transcript};

/// Adds up numbers as they are streamed in.
pub struct Adder {
    log: Transcript,
}

#[wamp::service(prefix = "com.myapp")]
impl Adder {
    /// `start` plus every number streamed in. A number that does not
    /// decode fails the call (`wamp.error.invalid_argument`).
    #[wamp::procedure("sum")]
    async fn sum(&self, start: i64, mut numbers: Streaming<i64>) -> Result<i64, ApplicationError> {
        let mut total = start;
        while let Some(n) = numbers.next().await {
            total += n?;
        }
        self.log.say(format!("sum: {total}"));
        Ok(total)
    }

    /// The running total after each number, as it comes in, then the total.
    #[wamp::procedure("running_sum")]
    fn running_sum(&self, mut numbers: Streaming<i64>) -> Progressive<i64, i64, ApplicationError> {
        Progressive::try_new(move |progress| async move {
            let mut total = 0;
            while let Some(n) = numbers.next().await {
                total += n?;
                progress.send(total).await;
            }
            Ok(total)
        })
    }
}

/// Registers `com.myapp.sum` and `com.myapp.running_sum`.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(Adder { log: log.clone() }).await?;
    log.say("Registered com.myapp.sum and com.myapp.running_sum");
    Ok(Backend::new(log).with_attached(attached))
}

/// The numbers 1..=5, one every `pause`: an input that takes its time.
fn numbers(pause: Duration) -> impl Stream<Item = i64> + Send + 'static {
    stream::iter(1..=5).then(move |n| async move {
        tokio::time::sleep(pause).await;
        n
    })
}

/// Streams 1..=5 into `running_sum`, printing each running total as it
/// arrives (before the next number is sent), then into `sum` from 100.
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let adder = AdderClient::new(session);
    let mut totals = adder.running_sum(numbers(interval / 10));
    while let Some(total) = totals.next().await {
        out.say(format!("Running total: {}", total?));
    }
    out.say(format!("Final: {}", totals.finish().await?));
    let sum = adder.sum(100, numbers(Duration::ZERO)).await?;
    out.say(format!("Sum from 100: {sum}"));
    Ok(out.lines())
}

/// Checks the frontend's output, line by line.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(
        lines,
        &[
            "Running total: 1",
            "Running total: 3",
            "Running total: 6",
            "Running total: 10",
            "Running total: 15",
            "Final: 15",
            "Sum from 100: 115",
        ],
    )
}
