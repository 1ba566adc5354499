//! A prefix procedure from the programming guide: `com.myapp.<suffix:path>`
//! (registered as the prefix `com.myapp.`) handles every procedure under
//! `com.myapp` that has no registration of its own, with `path` bound to the
//! rest of the URI.
//!
//! This is its own example, apart from [`rpc_patterns`](crate::rpc_patterns):
//! routers prefer a prefix registration to any wildcard one, so with both
//! registered the `get_name` patterns would never be called.

use std::time::Duration;

use serde_json::Value;
use wamp::Session;

use crate::{describe_call_error, expect, Backend, BoxError, Transcript};

/// Errors of the generic procedure.
#[derive(Debug, Clone, PartialEq, wamp::WampError)]
pub enum GenericError {
    /// Nothing is served at this path; the message names it.
    #[wamp(uri = "wamp.error.no_such_procedure")]
    NoSuchProcedure(String),
}

/// The generic procedure.
pub struct Generic;

#[wamp::service(prefix = "com.myapp")]
impl Generic {
    /// `proc.echo` answers its argument; `proc.upper` its argument in upper
    /// case; other paths are not served.
    #[wamp::procedure("<suffix:path>")]
    async fn generic_proc(&self, path: String, value: Option<Value>) -> Result<Value, GenericError> {
        match path.as_str() {
            "proc.echo" => Ok(value.unwrap_or(Value::Null)),
            "proc.upper" => match value {
                Some(Value::String(s)) => Ok(Value::String(s.to_uppercase())),
                _ => Err(GenericError::NoSuchProcedure(format!(
                    "com.myapp.{path} takes one string"
                ))),
            },
            _ => Err(GenericError::NoSuchProcedure(format!(
                "no procedure com.myapp.{path}"
            ))),
        }
    }
}

/// Registers the prefix `com.myapp.`.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(Generic).await?;
    log.say("Registered com.myapp. (prefix)");
    Ok(Backend::new(log).with_attached(attached))
}

/// Calls a few paths under `com.myapp`.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let generic = GenericClient::new(session);
    for (path, value) in [
        ("proc.echo", Some(Value::String("hello".into()))),
        ("proc.echo", Some(Value::from(-7))),
        ("proc.upper", Some(Value::String("shout".into()))),
        ("proc.upper", None),
        ("other.path", None),
    ] {
        let shown = value.as_ref().map_or("()".into(), |v| format!("({v})"));
        match generic.generic_proc(path.into(), value).await {
            Ok(v) => out.say(format!("com.myapp.{path}{shown} -> {v}")),
            Err(e) => out.say(format!(
                "com.myapp.{path}{shown} -> error {}",
                describe_call_error(&e)
            )),
        }
    }
    Ok(out.lines())
}

/// Checks the frontend's output, line by line.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(
        lines,
        &[
            r#"com.myapp.proc.echo("hello") -> "hello""#,
            "com.myapp.proc.echo(-7) -> -7",
            r#"com.myapp.proc.upper("shout") -> "SHOUT""#,
            r#"com.myapp.proc.upper() -> error wamp.error.no_such_procedure NoSuchProcedure("com.myapp.proc.upper takes one string")"#,
            r#"com.myapp.other.path() -> error wamp.error.no_such_procedure NoSuchProcedure("no procedure com.myapp.other.path")"#,
        ],
    )
}
