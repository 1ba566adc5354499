//! The concert topics of the programming guide: wildcard and prefix
//! subscriptions whose topic components become typed parameters.
//!
//! The backend publishes every topic of the guide's match tables each
//! interval ([`CONCERTS`]); the frontend subscribes four handlers and waits
//! until each has received what it should ([`EXPECTED`]):
//!
//! - `com.myapp.<country>.<state>.<city>.on_concert` (wildcard)
//! - `com.myapp.us.montana.<city>.on_concert` (wildcard)
//! - `com.myapp.us.<state>.<city>.on_concert` (wildcard)
//! - `com.myapp.us.<suffix:path>` (prefix; `path` is the rest of the topic)
//!
//! One line of the guide's tables is wrong: it says the first pattern does
//! not match `com.myapp.de.bavaria.munich.on_concert`, but it does (five
//! components, the last `on_concert`), and routers deliver it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use wamp::Session;

use crate::{expect, spawn_periodic, Backend, BoxError, Transcript};

/// What the backend publishes each round: topic (after `com.myapp.`), title, date.
pub const CONCERTS: [(&str, &str, &str); 7] = [
    ("us.montana.billings.on_concert", "Big Sky Blues", "2014-02-01"),
    ("us.montana.helena.on_concert", "Helena Hoedown", "2014-02-02"),
    (
        "us.newmexico.albuquerque.on_concert",
        "Powerhour with Ali Spagnola",
        "2014-02-04",
    ),
    ("de.bavaria.munich.on_concert", "Oktoberfest Brass", "2014-09-20"),
    ("us.montana.billings", "Billings Day", "2014-03-01"),
    (
        "us.montana.billings.on_challenge",
        "Rodeo Challenge",
        "2014-03-02",
    ),
    (
        "us.newmexico.albuquerque.citycenter.on_concert",
        "Downtown Jazz",
        "2014-03-03",
    ),
];

/// Which handler receives which topic (after `com.myapp.`), by WAMP's
/// matching rules; nothing else may arrive.
pub const EXPECTED: [(&str, &str); 15] = [
    ("on_concert_pulse", "de.bavaria.munich.on_concert"),
    ("on_concert_pulse", "us.montana.billings.on_concert"),
    ("on_concert_pulse", "us.montana.helena.on_concert"),
    ("on_concert_pulse", "us.newmexico.albuquerque.on_concert"),
    ("on_concert_us_montana_pulse", "us.montana.billings.on_concert"),
    ("on_concert_us_montana_pulse", "us.montana.helena.on_concert"),
    ("on_concert_us_pulse", "us.montana.billings.on_concert"),
    ("on_concert_us_pulse", "us.montana.helena.on_concert"),
    ("on_concert_us_pulse", "us.newmexico.albuquerque.on_concert"),
    ("on_us_event", "us.montana.billings"),
    ("on_us_event", "us.montana.billings.on_challenge"),
    ("on_us_event", "us.montana.billings.on_concert"),
    ("on_us_event", "us.montana.helena.on_concert"),
    ("on_us_event", "us.newmexico.albuquerque.citycenter.on_concert"),
    ("on_us_event", "us.newmexico.albuquerque.on_concert"),
];

/// The subscriber: four pattern handlers, each printing an event the first
/// time its topic arrives.
#[derive(Default)]
pub struct Concerts {
    log: Transcript,
    seen: Mutex<BTreeSet<(String, String)>>,
    changed: Notify,
}

impl Concerts {
    fn record(&self, handler: &str, topic: String, line: String) {
        let new = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((handler.into(), topic));
        if new {
            self.log.say(format!("{handler}: {line}"));
            self.changed.notify_one();
        }
    }

    /// The `(handler, topic)` pairs of [`EXPECTED`] not received yet.
    pub fn missing(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        EXPECTED
            .iter()
            .filter(|(h, t)| !seen.contains(&((*h).into(), (*t).into())))
            .map(|(h, t)| format!("{h} <- com.myapp.{t}"))
            .collect()
    }
}

#[wamp::service(prefix = "com.myapp")]
impl Concerts {
    /// Any concert: country, state and city come from the topic.
    #[wamp::topic("<country>.<state>.<city>.on_concert")]
    async fn on_concert_pulse(
        &self,
        country: String,
        state: String,
        city: String,
        title: String,
        date: String,
    ) {
        let line = format!("Concert {title} in {city}, {state}/{country} on {date}");
        self.record(
            "on_concert_pulse",
            format!("{country}.{state}.{city}.on_concert"),
            line,
        );
    }

    /// Concerts in Montana, US.
    #[wamp::topic("us.montana.<city>.on_concert")]
    async fn on_concert_us_montana_pulse(&self, city: String, title: String, date: String) {
        let line = format!("Concert {title} in {city}, montana/us on {date}");
        self.record(
            "on_concert_us_montana_pulse",
            format!("us.montana.{city}.on_concert"),
            line,
        );
    }

    /// Concerts in the US.
    #[wamp::topic("us.<state>.<city>.on_concert")]
    async fn on_concert_us_pulse(&self, state: String, city: String, title: String, date: String) {
        let line = format!("Concert {title} in {city}, {state}/us on {date}");
        self.record(
            "on_concert_us_pulse",
            format!("us.{state}.{city}.on_concert"),
            line,
        );
    }

    /// Any US event; `path` is the topic after `com.myapp.us.`.
    #[wamp::topic("us.<suffix:path>")]
    async fn on_us_event(&self, path: String, title: String, date: String) {
        let line = format!("US event {path}: {title} on {date}");
        self.record("on_us_event", format!("us.{path}"), line);
    }
}

/// The lines the frontend prints when every handler gets exactly what
/// [`EXPECTED`] says, sorted (built from the tables, not from events).
pub fn expected_lines() -> Vec<String> {
    let mut lines: Vec<String> = EXPECTED
        .iter()
        .map(|(handler, topic)| {
            let (_, title, date) = CONCERTS
                .iter()
                .find(|(t, _, _)| t == topic)
                .expect("a published topic");
            let parts: Vec<&str> = topic.split('.').collect();
            let line = match *handler {
                "on_us_event" => format!("US event {}: {title} on {date}", &topic["us.".len()..]),
                _ => format!(
                    "Concert {title} in {}, {}/{} on {date}",
                    parts[2], parts[1], parts[0]
                ),
            };
            format!("{handler}: {line}")
        })
        .collect();
    lines.sort();
    lines
}

/// Publishes every topic of [`CONCERTS`] each `interval`.
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let printer = log.clone();
    let task = spawn_periodic(interval, move |round| {
        let session = session.clone();
        let printer = printer.clone();
        async move {
            for (topic, title, date) in CONCERTS {
                session
                    .publish(format!("com.myapp.{topic}"))
                    .arg(title)
                    .arg(date)
                    .await?;
            }
            printer.say(format!(
                "round {round}: published {} concert topics",
                CONCERTS.len()
            ));
            Ok(())
        }
    });
    Ok(Backend::new(log).with_task(task))
}

/// Subscribes the four handlers and waits (bounded) until each has
/// received all its topics, then one more round, so that a topic that must
/// not arrive would have; returns what it printed, in arrival order.
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let concerts = Arc::new(Concerts::default());
    let attached = session.attach(concerts.clone()).await?;
    let bound = interval * 10 + Duration::from_secs(5);
    let waited = tokio::time::timeout(bound, async {
        while !concerts.missing().is_empty() {
            concerts.changed.notified().await;
        }
    })
    .await;
    if waited.is_err() {
        attached.detach().await?;
        return Err(format!(
            "within {bound:?}, not received: {}",
            concerts.missing().join(", ")
        )
        .into());
    }
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    attached.detach().await?;
    Ok(concerts.log.lines())
}

/// Checks the frontend's output: in any order, exactly [`expected_lines`].
pub fn check(lines: &[String]) -> Result<(), String> {
    let mut sorted = lines.to_vec();
    sorted.sort();
    let expected = expected_lines();
    expect::that(sorted == expected, || {
        format!("expected {expected:#?}\ngot {sorted:#?}")
    })
}
