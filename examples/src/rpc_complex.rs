//! Complex results (Autobahn's `rpc/complex`): procedures answering more
//! than one value, as keyword results (`com.myapp.add_complex`) or several
//! positional results (`com.myapp.split_name`), with [`CallResult`].

use std::time::Duration;

use wamp::{ApplicationError, CallResult, Payload, Session};

use crate::{expect, Backend, BoxError, Number, Transcript};

/// The procedures.
pub struct ComplexResults;

#[wamp::service(prefix = "com.myapp")]
impl ComplexResults {
    /// `(a + ai i) + (b + bi i)` as keyword results `c` (real) and `ci` (imaginary).
    #[wamp::procedure("add_complex")]
    async fn add_complex(&self, a: Number, ai: Number, b: Number, bi: Number) -> CallResult {
        CallResult::new().with_kwarg("c", a + b).with_kwarg("ci", ai + bi)
    }

    /// `"Homer Simpson"` -> positional results `"Homer"`, `"Simpson"`.
    #[wamp::procedure("split_name")]
    async fn split_name(&self, fullname: String) -> Result<CallResult, ApplicationError> {
        match fullname.split_whitespace().collect::<Vec<_>>()[..] {
            [forename, surname] => Ok(CallResult::new().with_arg(forename).with_arg(surname)),
            // What Python's `forename, surname = fullname.split()` raises,
            // which Autobahn sends as wamp.error.runtime_error.
            ref parts => Err(ApplicationError::new(wamp::error_uri::RUNTIME_ERROR).with_arg(
                if parts.len() > 2 {
                    "too many values to unpack (expected 2)".to_owned()
                } else {
                    format!("not enough values to unpack (expected 2, got {})", parts.len())
                },
            )),
        }
    }
}

/// Registers the procedures.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(ComplexResults).await?;
    log.say("Registered com.myapp.add_complex and com.myapp.split_name");
    Ok(Backend::new(log).with_attached(attached))
}

/// Calls both and reads their keyword and positional results.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let client = ComplexResultsClient::new(session);
    let n = Number::Int;
    let res = client.add_complex(n(2), n(3), n(4), n(5)).await?;
    let (c, ci): (Number, Number) = (res.kwarg("c")?, res.kwarg("ci")?);
    out.say(format!("Result: {c} + {ci}i"));
    let res = client.split_name("Homer Simpson".into()).await?;
    let (forename, surname): (String, String) = (res.arg(0)?, res.arg(1)?);
    out.say(format!("Forname: {forename}, Surname: {surname}"));
    Ok(out.lines())
}

/// Checks the frontend's output, line by line.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(lines, &["Result: 6 + 8i", "Forname: Homer, Surname: Simpson"])
}
