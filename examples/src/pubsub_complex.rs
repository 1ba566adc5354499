//! Complex events (Autobahn's `pubsub/complex`): every interval the backend
//! publishes `com.myapp.heartbeat` with no payload and `com.myapp.topic2`
//! with positional args (a random number 0..=100, then 23) and keyword args
//! (`c = "Hello"`, `d = {"counter": n, "foo": [1, 2, 3]}`); the frontend
//! prints what arrives for five intervals.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wamp::Session;

use crate::{expect, spawn_periodic, Backend, BoxError, Transcript};

/// The object in `topic2`'s keyword argument `d`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Obj {
    /// The publisher's counter.
    pub counter: u64,
    /// Always `[1, 2, 3]`.
    pub foo: Vec<i64>,
}

/// The two topics, and a subscriber printing what it gets.
pub struct ComplexEvents {
    /// Where it prints.
    pub log: Transcript,
}

#[wamp::service(prefix = "com.myapp")]
impl ComplexEvents {
    /// An event without payload.
    #[wamp::topic("heartbeat")]
    async fn heartbeat(&self) {
        self.log.say("Got heartbeat");
    }

    /// An event with positional and keyword arguments.
    #[wamp::topic("topic2")]
    async fn topic2(&self, a: i64, b: i64, #[wamp(kwarg)] c: Option<String>, #[wamp(kwarg)] d: Option<Obj>) {
        let c = c.unwrap_or_else(|| "None".into());
        let d = d.map_or("None".into(), |d| format!("{d:?}"));
        self.log.say(format!("Got event: {a} {b} {c} {d}"));
    }
}

/// A small random number generator (xorshift), so the example needs no
/// dependency for Autobahn's `random.randint(0, 100)`.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Random(nanos | 1)
    }

    fn up_to_100(&mut self) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 101) as i64
    }
}

/// Publishes both topics every `interval`.
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let printer = log.clone();
    let mut random = Random::seeded();
    let task = spawn_periodic(interval, move |counter| {
        let events = ComplexEventsClient::new(session.clone());
        let a = random.up_to_100();
        let d = Obj {
            counter,
            foo: vec![1, 2, 3],
        };
        let printer = printer.clone();
        async move {
            printer.say("publish: com.myapp.heartbeat");
            events.publish_heartbeat().await?;
            printer.say("publish: com.myapp.topic2");
            events.publish_topic2(a, 23, Some("Hello".into()), Some(d)).await
        }
    });
    Ok(Backend::new(log).with_task(task))
}

/// Prints the events of five intervals, then stops.
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let attached = session.attach(ComplexEvents { log: out.clone() }).await?;
    tokio::time::sleep(interval * 5).await;
    attached.detach().await?;
    Ok(out.lines())
}

/// Checks the frontend's output: at least three heartbeats and three
/// `topic2` events in five intervals, with Autobahn's payloads.
pub fn check(lines: &[String]) -> Result<(), String> {
    let heartbeats = lines.iter().filter(|l| *l == "Got heartbeat").count();
    let mut counters = Vec::new();
    for l in lines.iter().filter(|l| l.starts_with("Got event: ")) {
        // "Got event: A 23 Hello Obj { counter: N, foo: [1, 2, 3] }"
        let parts: Vec<&str> = l.splitn(6, ' ').collect();
        let a = parts.get(2).and_then(|a| a.parse::<i64>().ok());
        let counter = parts.get(5).and_then(|rest| {
            let n = rest
                .strip_prefix("Obj { counter: ")?
                .strip_suffix(", foo: [1, 2, 3] }")?;
            n.parse::<i64>().ok()
        });
        let ok = a.is_some_and(|a| (0..=100).contains(&a)) && parts.get(3..5) == Some(&["23", "Hello"][..]);
        expect::that(ok && counter.is_some(), || {
            format!("unexpected topic2 event {l:?}")
        })?;
        counters.extend(counter);
    }
    expect::that(
        heartbeats >= 3 && counters.len() >= 3 && expect::consecutive(&counters),
        || format!("expected >= 3 heartbeats and topic2 events in 5 intervals: {lines:#?}"),
    )
}
