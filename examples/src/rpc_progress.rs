//! Progressive results (Autobahn's `rpc/progress`): `com.myapp.longop(n)`
//! sends `0, 1, ..., n-1` as progressive results, one per step, then `n`
//! as the final result; a caller that did not ask for progress just waits
//! `n` steps for the final result.
//!
//! The procedure returns a [`Progressive`]: its body sends each item and
//! returns the final value; the typed stub hands back a stream of the
//! items, then the final value. Dropping that stream cancels the call.

use std::time::Duration;

use wamp::service::Progressive;
use wamp::Session;

use crate::{expect, Backend, BoxError, Transcript};

/// The long operation; `step` is how long each item takes (Autobahn: 1 s).
pub struct LongOp {
    /// How long one item takes.
    pub step: Duration,
}

#[wamp::service(prefix = "com.myapp")]
impl LongOp {
    /// Processes `n` items, reporting each one as it is done.
    ///
    /// A caller that did not ask for progress gets only the final value:
    /// `send` drops the items, and the call takes as long either way.
    #[wamp::procedure("longop")]
    fn longop(&self, n: u32) -> Progressive<u32, u32> {
        let step = self.step;
        Progressive::new(move |progress| async move {
            for i in 0..n {
                progress.send(i).await;
                tokio::time::sleep(step).await;
            }
            n
        })
    }
}

/// Registers `com.myapp.longop` with one `interval` per item.
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(LongOp { step: interval }).await?;
    log.say("Registered com.myapp.longop");
    Ok(Backend::new(log).with_attached(attached))
}

/// Calls `longop(3)` through the typed stub, printing each progressive
/// result as it arrives, then the final one.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let mut results = LongOpClient::new(session).longop(3);
    while let Some(i) = results.next().await {
        out.say(format!("Progress: {}", i?));
    }
    out.say(format!("Final: {}", results.finish().await?));
    Ok(out.lines())
}

/// Checks the frontend's output, line by line.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(lines, &["Progress: 0", "Progress: 1", "Progress: 2", "Final: 3"])
}
