//! Unsubscribe (Autobahn's `pubsub/unsubscribe`): the backend publishes a
//! counter to `com.myapp.topic1` every interval; the frontend takes six
//! events, unsubscribes, pauses five intervals, subscribes again for six
//! more, and stops. The counters it misses during the pause show that the
//! router stopped sending.
//!
//! The frontend reads a typed subscription (`Topic1Client::subscribe_topic1`):
//! a stream of bound events that can be unsubscribed.

use std::time::Duration;

use wamp::Session;

use crate::pubsub_basic::{spawn_counter, Topic1Client};
use crate::{expect, Backend, BoxError, Transcript};

/// Publishes the counter every `interval` (quietly, as Autobahn's does).
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let task = spawn_counter(session, interval, None);
    log.say("Publishing to com.myapp.topic1");
    Ok(Backend::new(log).with_task(task))
}

/// Two runs of six events with a pause of five intervals, unsubscribed, in
/// between.
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let topic1 = Topic1Client::new(session);
    let bound = interval * 5 + Duration::from_secs(5);
    for run in 1..=2 {
        let mut events = topic1.subscribe_topic1().await?;
        out.say(format!("Subscribed (run {run})"));
        for received in 0..6 {
            match tokio::time::timeout(bound, events.next()).await {
                Ok(Some(Ok(event))) => out.say(format!("Got event: {}", event.counter)),
                Ok(Some(Err(e))) => out.say(format!("Got an event that is not a counter: {e}")),
                _ => return Err(format!("run {run}: only {received} events within {bound:?} each").into()),
            }
        }
        events.unsubscribe().await?;
        if run == 1 {
            out.say("Unsubscribed .. continue in 5 intervals ..");
            tokio::time::sleep(interval * 5).await;
        }
    }
    Ok(out.lines())
}

/// Checks the frontend's output: two runs of six consecutive counters, and
/// the counters published while unsubscribed missing.
pub fn check(lines: &[String]) -> Result<(), String> {
    let runs: Vec<&[String]> = lines.split(|l| l.starts_with("Unsubscribed")).collect();
    let [run1, run2] = runs[..] else {
        return Err(format!("expected two runs: {lines:#?}"));
    };
    let a = expect::trailing_numbers(run1, "Got event: ");
    let b = expect::trailing_numbers(run2, "Got event: ");
    expect::that(
        a.len() == 6 && b.len() == 6 && expect::consecutive(&a) && expect::consecutive(&b),
        || format!("expected two runs of six consecutive counters: {lines:#?}"),
    )?;
    // Five intervals without a subscription: about five counters missed.
    expect::that(b[0] - a[5] >= 3, || {
        format!("events arrived while unsubscribed: {lines:#?}")
    })
}
