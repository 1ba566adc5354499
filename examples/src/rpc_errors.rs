//! Errors (Autobahn's `rpc/errors`): procedures failing with error URIs,
//! positional and keyword error arguments, and typed error enums on both
//! sides (`#[derive(wamp::WampError)]`).
//!
//! The error URIs and payloads are Autobahn's, quirks included: its
//! `checkname` tests `name.lower() != name.upper()`, which holds for any
//! name with a letter, so `"a"` is `mixed_case` rather than `invalid_length`.

use std::time::Duration;

use wamp::Session;

use crate::{describe_call_error, expect, Backend, BoxError, Number, Transcript};

/// Errors of `com.myapp.sqrt`. Autobahn sends a plain Python exception as
/// `wamp.error.runtime_error` with its message; this backend sends the same.
#[derive(Debug, Clone, PartialEq, wamp::WampError)]
pub enum SqrtError {
    /// An error at run time, with its message.
    #[wamp(uri = "wamp.error.runtime_error")]
    Runtime(String),
}

/// Errors of `com.myapp.checkname`.
#[derive(Debug, Clone, PartialEq, wamp::WampError)]
pub enum NameError {
    /// The name is taken (no payload).
    #[wamp(uri = "com.myapp.error.reserved")]
    Reserved,
    /// Letters in the name: positional args, the name in lower and upper case.
    #[wamp(uri = "com.myapp.error.mixed_case")]
    MixedCase(String, String),
    /// Too short or too long: keyword args with the bounds.
    #[wamp(uri = "com.myapp.error.invalid_length")]
    InvalidLength {
        /// The shortest name allowed.
        min: u32,
        /// The longest name allowed.
        max: u32,
    },
}

/// Errors of `com.myapp.compare`: Autobahn's `@wamp.error("com.myapp.error1")`
/// exception class, mapped both ways.
#[derive(Debug, Clone, PartialEq, wamp::WampError)]
pub enum CompareError {
    /// `a < b`, with `b - a` as the positional argument.
    #[wamp(uri = "com.myapp.error1")]
    AppError1(Number),
}

/// The procedures.
pub struct Errors;

#[wamp::service(prefix = "com.myapp")]
impl Errors {
    /// The square root; fails for 0 (a foolish question) and negative numbers.
    #[wamp::procedure("sqrt")]
    async fn sqrt(&self, x: f64) -> Result<f64, SqrtError> {
        if x == 0.0 {
            Err(SqrtError::Runtime("don't ask foolish questions;)".into()))
        } else if x < 0.0 {
            // Python's math.sqrt(-2) raises ValueError("math domain error").
            Err(SqrtError::Runtime("math domain error".into()))
        } else {
            Ok(x.sqrt())
        }
    }

    /// Checks a new name; no result when it is acceptable.
    #[wamp::procedure("checkname")]
    async fn checkname(&self, name: String) -> Result<(), NameError> {
        if name == "foo" || name == "bar" {
            return Err(NameError::Reserved);
        }
        let (lower, upper) = (name.to_lowercase(), name.to_uppercase());
        if lower != upper {
            return Err(NameError::MixedCase(lower, upper));
        }
        let len = name.chars().count();
        if !(3..=10).contains(&len) {
            return Err(NameError::InvalidLength { min: 3, max: 10 });
        }
        Ok(())
    }

    /// Fails with `com.myapp.error1` when `a < b`.
    #[wamp::procedure("compare")]
    async fn compare(&self, a: Number, b: Number) -> Result<(), CompareError> {
        if a < b {
            return Err(CompareError::AppError1(b - a));
        }
        Ok(())
    }
}

/// Registers the procedures.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(Errors).await?;
    log.say("Registered com.myapp.sqrt, com.myapp.checkname and com.myapp.compare");
    Ok(Backend::new(log).with_attached(attached))
}

/// Calls each procedure so that it fails in every way, and prints the
/// typed errors that come back.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let client = ErrorsClient::new(session);
    for x in [2.0, 0.0, -2.0] {
        match client.sqrt(x).await {
            Ok(r) => out.say(format!("Result: {r}")),
            Err(e) => out.say(format!("Error: {}", describe_call_error(&e))),
        }
    }
    for name in ["foo", "a", &"*".repeat(11), "Hello"] {
        match client.checkname(name.to_owned()).await {
            Ok(()) => out.say("Result: None"),
            Err(e) => out.say(format!("Error: {}", describe_call_error(&e))),
        }
    }
    match client.compare(Number::Int(3), Number::Int(17)).await {
        Ok(()) => out.say("Compare: no error"),
        Err(e) => out.say(format!("Compare Error: {}", describe_call_error(&e))),
    }
    Ok(out.lines())
}

/// Checks the frontend's output: every error URI with its payload.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(
        lines,
        &[
            "Result: 1.4142135623730951",
            r#"Error: wamp.error.runtime_error Runtime("don't ask foolish questions;)")"#,
            r#"Error: wamp.error.runtime_error Runtime("math domain error")"#,
            "Error: com.myapp.error.reserved Reserved",
            r#"Error: com.myapp.error.mixed_case MixedCase("a", "A")"#,
            "Error: com.myapp.error.invalid_length InvalidLength { min: 3, max: 10 }",
            r#"Error: com.myapp.error.mixed_case MixedCase("hello", "HELLO")"#,
            "Compare Error: com.myapp.error1 AppError1(14)",
        ],
    )
}
