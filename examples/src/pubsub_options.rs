//! PubSub options (Autobahn's `pubsub/options`): the backend subscribes to
//! `com.myapp.topic1` itself and publishes its counter there every interval
//! with `acknowledge` (it gets the publication ID) and `exclude_me = false`
//! (it receives its own events). The frontend prints each event with its
//! details (publication ID, publisher when disclosed) and leaves after six.

use std::time::Duration;

use wamp::{Payload, Session, SubscribeOptions};

use crate::pubsub_basic::{Topic1, Topic1Service};
use crate::{expect, spawn_periodic, Backend, BoxError, Transcript};

/// The backend's own subscriber: prints what it receives.
struct Echo {
    log: Transcript,
}

impl Topic1 for Echo {
    async fn topic1(&self, counter: u64) {
        self.log.say(format!("Got event: {counter}"));
    }
}

/// Subscribes to `com.myapp.topic1` and publishes to it every `interval`,
/// acknowledged and without excluding itself. Publish options are not part
/// of the typed stubs, so this publishes with the untyped builder.
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session
        .attach(Topic1Service::new(Echo { log: log.clone() }))
        .await?;
    let printer = log.clone();
    let task = spawn_periodic(interval, move |counter| {
        let publish = session
            .publish("com.myapp.topic1")
            .arg(counter)
            .acknowledge(true)
            .exclude_me(false);
        let printer = printer.clone();
        async move {
            let publication = publish.await?;
            printer.say(format!(
                "Event published with publication ID {}",
                publication.unwrap_or_default()
            ));
            Ok(())
        }
    });
    Ok(Backend::new(log).with_attached(attached).with_task(task))
}

/// Receives six events with their details, then unsubscribes. The untyped
/// subscription is used because it carries the publication ID.
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let mut events = session
        .subscribe("com.myapp.topic1", SubscribeOptions::default())
        .await?;
    let bound = interval * 5 + Duration::from_secs(5);
    for received in 0..6 {
        let event = match tokio::time::timeout(bound, events.next()).await {
            Ok(Some(event)) => event,
            _ => return Err(format!("only {received} events within {bound:?} each").into()),
        };
        let publisher = event.details.publisher.map_or("None".into(), |p| p.to_string());
        out.say(format!(
            "Got event, publication ID {}, publisher {publisher}: {}",
            event.publication,
            event.arg::<u64>(0)?
        ));
    }
    events.unsubscribe().await?;
    Ok(out.lines())
}

/// Checks the frontend's output: six consecutive counters with details.
pub fn check(lines: &[String]) -> Result<(), String> {
    let n = expect::trailing_numbers(lines, "Got event, publication ID ");
    expect::that(
        lines.len() == 6 && n.len() == 6 && expect::consecutive(&n),
        || format!("expected six consecutive counters with details: {lines:#?}"),
    )
}
