//! Basic PubSub (Autobahn's `pubsub/basic`): the backend publishes a
//! counter to `com.myapp.topic1` every interval (1 s); the frontend
//! subscribes and leaves after six events.
//!
//! The topic is defined once, as a trait service: publishers use the
//! generated `Topic1Client::publish_topic1`, subscribers implement the trait
//! and attach it.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wamp::Session;

use crate::{expect, spawn_periodic, Backend, BoxError, Transcript};

/// The topic `com.myapp.topic1`, shared by the PubSub examples.
#[wamp::service]
pub trait Topic1 {
    /// One event: the publisher's counter.
    #[wamp::topic("com.myapp.topic1")]
    async fn topic1(&self, counter: u64);
}

/// A subscriber that prints each event and hands the counter on.
pub struct Printer {
    /// Where it prints.
    pub log: Transcript,
    /// Where the counters go.
    pub seen: mpsc::UnboundedSender<u64>,
}

impl Topic1 for Printer {
    async fn topic1(&self, counter: u64) {
        self.log.say(format!("Got event: {counter}"));
        let _ = self.seen.send(counter);
    }
}

/// Publishes 0, 1, 2, ... to `com.myapp.topic1` every `interval`, printing
/// each publication to `log` if given.
pub fn spawn_counter(session: Session, interval: Duration, log: Option<Transcript>) -> JoinHandle<()> {
    spawn_periodic(interval, move |counter| {
        if let Some(log) = &log {
            log.say(format!("publish: com.myapp.topic1 {counter}"));
        }
        let topic1 = Topic1Client::new(session.clone());
        async move { topic1.publish_topic1(counter).await }
    })
}

/// Publishes the counter every `interval`.
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let task = spawn_counter(session, interval, Some(log.clone()));
    Ok(Backend::new(log).with_task(task))
}

/// Receives six events (each within a bound of a few intervals), then stops.
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let (seen, mut counters) = mpsc::unbounded_channel();
    let printer = Printer {
        log: out.clone(),
        seen,
    };
    let attached = session.attach(Topic1Service::new(printer)).await?;
    let bound = interval * 5 + Duration::from_secs(5);
    for received in 0..6 {
        match tokio::time::timeout(bound, counters.recv()).await {
            Ok(Some(_)) => {}
            _ => return Err(format!("only {received} events within {bound:?} each").into()),
        }
    }
    attached.detach().await?;
    Ok(out.lines())
}

/// Checks the frontend's output: six consecutive counters.
pub fn check(lines: &[String]) -> Result<(), String> {
    let n = expect::trailing_numbers(lines, "Got event: ");
    expect::that(
        lines.len() == 6 && n.len() == 6 && expect::consecutive(&n),
        || format!("expected six consecutive counters: {lines:#?}"),
    )
}
