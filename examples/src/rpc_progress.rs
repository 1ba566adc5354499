//! Progressive results (Autobahn's `rpc/progress`): `com.myapp.longop(n)`
//! sends `0, 1, ..., n-1` as progressive results, one per step, then `n`
//! as the final result; a caller that did not ask for progress just waits
//! `n` steps for the final result.

use std::time::Duration;

use wamp::{CallResult, Payload, ProgressSender, Session};

use crate::{expect, Backend, BoxError, Transcript};

/// The long operation; `step` is how long each item takes (Autobahn: 1 s).
pub struct LongOp {
    /// How long one item takes.
    pub step: Duration,
}

#[wamp::service(prefix = "com.myapp")]
impl LongOp {
    /// Processes `n` items, reporting each one when the caller wants progress.
    #[wamp::procedure("longop")]
    async fn longop(&self, n: u32, progress: Option<ProgressSender>) -> u32 {
        match progress {
            Some(progress) => {
                for i in 0..n {
                    // A caller that went away ends the invocation anyway.
                    let _ = progress.send(CallResult::new().with_arg(i)).await;
                    tokio::time::sleep(self.step).await;
                }
            }
            None => tokio::time::sleep(self.step * n).await,
        }
        n
    }
}

/// Registers `com.myapp.longop` with one `interval` per item.
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(LongOp { step: interval }).await?;
    log.say("Registered com.myapp.longop");
    Ok(Backend::new(log).with_attached(attached))
}

/// Calls `longop(3)` asking for progressive results, printing each.
///
/// The typed stub has no way to ask for progress, so this uses the untyped
/// call builder's `on_progress`.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let progress_out = out.clone();
    let result = session
        .call("com.myapp.longop")
        .arg(3)
        .on_progress(move |p| match p.arg::<u64>(0) {
            Ok(i) => progress_out.say(format!("Progress: {i}")),
            Err(e) => progress_out.say(format!("Progress (unexpected payload): {e}")),
        })
        .await?;
    out.say(format!("Final: {}", result.arg::<u64>(0)?));
    Ok(out.lines())
}

/// Checks the frontend's output, line by line.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(lines, &["Progress: 0", "Progress: 1", "Progress: 2", "Final: 3"])
}
