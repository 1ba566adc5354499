//! RPC options (Autobahn's `rpc/options`): `com.myapp.square(val)` learns
//! who called it (when the caller discloses itself) and, for non-positive
//! values, publishes `com.myapp.square_on_nonpositive`: for `val < 0` to
//! everyone, for `val == 0` to everyone but the caller (`exclude`).
//!
//! So a frontend that squares 2, 0 and -2 while subscribed to the topic
//! gets the event for -2 only.

use std::time::Duration;

use wamp::{InvocationDetails, Payload, Session, SubscribeOptions};

use crate::{expect, Backend, BoxError, Number, Transcript};

/// The topic the backend publishes to.
pub const TOPIC: &str = "com.myapp.square_on_nonpositive";

/// The square service; it publishes on `session`, the one it is attached to.
pub struct Square {
    /// The session to publish on.
    pub session: Session,
    /// Where it prints.
    pub log: Transcript,
}

#[wamp::service(prefix = "com.myapp")]
impl Square {
    /// `val * val`, telling the others about non-positive values.
    #[wamp::procedure("square")]
    async fn square(&self, val: Number, details: InvocationDetails) -> Number {
        let caller = details.caller;
        self.log.say(format!(
            "square called from: {}",
            caller.map_or("None".into(), |c| c.to_string())
        ));
        // Not acknowledged, as in Autobahn: PUBLISH goes out before the
        // YIELD on the same connection, so the event is routed first.
        let publish = self.session.publish(TOPIC).arg(val);
        let publish = match (val.is_zero(), caller) {
            (true, Some(caller)) => Some(publish.exclude(vec![caller])),
            (true, None) => Some(publish),
            (false, _) if val < Number::Int(0) => Some(publish),
            (false, _) => None,
        };
        if let Some(publish) = publish {
            if let Err(e) = publish.await {
                self.log.say(format!("publish failed: {e}"));
            }
        }
        val * val
    }
}

/// Registers `com.myapp.square`.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let square = Square {
        session: session.clone(),
        log: log.clone(),
    };
    let attached = session.attach(square).await?;
    log.say("Registered com.myapp.square");
    Ok(Backend::new(log).with_attached(attached))
}

/// Subscribes to the topic, squares 2, 0 and -2 disclosing itself, then
/// waits (bounded) for the event about -2 and prints every event that came.
///
/// The untyped call builder is used for `disclose_me` (typed stubs take no
/// call options).
pub async fn frontend(session: Session, interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let mut events = session.subscribe(TOPIC, SubscribeOptions::default()).await?;
    for val in [2, 0, -2] {
        let res: Number = session
            .call("com.myapp.square")
            .arg(val)
            .disclose_me()
            .await?
            .arg(0)?;
        out.say(format!("Squared {val} = {res}"));
    }
    // Events from one publisher arrive in order: once -2 is here, the
    // event for 0 would have come before it, had it not been excluded.
    let bound = interval * 5 + Duration::from_secs(5);
    loop {
        match tokio::time::timeout(bound, events.next()).await {
            Ok(Some(event)) => {
                let val: Number = event.arg(0)?;
                out.say(format!("Someone requested to square non-positive: {val}"));
                if val == Number::Int(-2) {
                    break;
                }
            }
            Ok(None) => return Err("session ended while waiting for events".into()),
            Err(_) => {
                out.say(format!("No event for -2 within {bound:?}"));
                break;
            }
        }
    }
    events.unsubscribe().await?;
    Ok(out.lines())
}

/// Checks the frontend's output: three squares, and the event for -2 only
/// (the one for 0 excluded the disclosed caller).
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(
        lines,
        &[
            "Squared 2 = 4",
            "Squared 0 = 0",
            "Squared -2 = 4",
            "Someone requested to square non-positive: -2",
        ],
    )
}
