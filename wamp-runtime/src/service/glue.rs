//! The runtime half of `#[wamp::service]`: what every generated handler
//! needs (sharing the service, boxing the future, option tables, result and
//! error mapping, streaming results) lives here once, so the expansion of a
//! method is a few lines that bind its parameters and call it.

use std::future::Future;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use wamp_proto::uri::MatchPolicy;
use wamp_proto::{error_uri, InvokePolicy, RegisterOptions, SubscribeOptions, Value};

use super::args::{Bound, Extractor};
use super::stream::{Progress, Progressive};
use super::{Bindings, EventFuture, IntoCallResult, ProcedureBinding, TopicBinding, WampError};
use crate::error::ApplicationError;
use crate::payload::CallResult;
use crate::session::{HandlerFuture, ProgressSender};

/// The outcome of a procedure handler.
pub type Outcome = Result<CallResult, ApplicationError>;

/// Register or subscribe options as the macros write them: `(key, value)`
/// pairs checked at compile time (`match`, `invoke`, `concurrency`,
/// `disclose_caller`; `match`, `get_retained`).
pub type OptionTable = &'static [(&'static str, &'static str)];

fn parse_bool(key: &str, v: &str) -> bool {
    match v {
        "true" => true,
        "false" => false,
        _ => panic!("option `{key}` = {v:?}: the macros only write true or false"),
    }
}

/// REGISTER options from a table the macros checked.
pub fn register_options(table: OptionTable) -> RegisterOptions {
    let mut o = RegisterOptions::default();
    for &(k, v) in table {
        match k {
            "match" => o.match_policy = MatchPolicy::parse(v),
            "invoke" => o.invoke = InvokePolicy::parse(v),
            "concurrency" => o.concurrency = v.parse().ok(),
            "disclose_caller" => o.disclose_caller = Some(parse_bool(k, v)),
            _ => panic!("unknown register option `{k}`: the macros check option names"),
        }
    }
    o
}

/// SUBSCRIBE options from a table the macros checked.
pub fn subscribe_options(table: OptionTable) -> SubscribeOptions {
    let mut o = SubscribeOptions::default();
    for &(k, v) in table {
        match k {
            "match" => o.match_policy = MatchPolicy::parse(v),
            "get_retained" => o.get_retained = Some(parse_bool(k, v)),
            _ => panic!("unknown subscribe option `{k}`: the macros check option names"),
        }
    }
    o
}

impl Bindings {
    /// Adds a procedure: `f` binds an invocation's parameters from the
    /// [`Extractor`], calls the handler on the shared `service` and maps
    /// its result (with [`ok`], `IntoCallResult`, [`result`] or a streaming helper).
    pub fn procedure<S, F, Fut>(&mut self, service: &Arc<S>, uri: &str, options: OptionTable, f: F)
    where
        S: ?Sized + Send + Sync + 'static,
        F: Fn(Arc<S>, Extractor) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let service = Arc::clone(service);
        self.procedures.push(ProcedureBinding {
            uri: uri.to_owned(),
            options: register_options(options),
            handler: Arc::new(move |inv| -> HandlerFuture {
                Box::pin(f(Arc::clone(&service), Extractor::from_invocation(inv)))
            }),
        });
    }

    /// Adds a topic: `f` binds an event's parameters and calls the handler.
    pub fn topic<S, F, Fut>(&mut self, service: &Arc<S>, uri: &str, options: OptionTable, f: F)
    where
        S: ?Sized + Send + Sync + 'static,
        F: Fn(Arc<S>, Extractor) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ApplicationError>> + Send + 'static,
    {
        let service = Arc::clone(service);
        self.topics.push(TopicBinding {
            uri: uri.to_owned(),
            options: subscribe_options(options),
            handler: Arc::new(move |ev, session| -> EventFuture {
                Box::pin(f(Arc::clone(&service), Extractor::from_event(ev, session)))
            }),
        });
    }
}

/// A handler that returned `()`: no results.
pub fn ok(_: ()) -> Outcome {
    Ok(CallResult::new())
}

/// A handler that returned `Result<T, E>`.
pub fn result<T: IntoCallResult, E: WampError>(r: Result<T, E>) -> Outcome {
    match r {
        Ok(v) => v.into_call_result(),
        Err(e) => Err(e.to_application_error()),
    }
}

/// A topic handler that returned `()`.
pub fn event_ok(_: ()) -> Result<(), ApplicationError> {
    Ok(())
}

/// A topic handler that returned `Result<(), E>`.
pub fn event_result<E: WampError>(r: Result<(), E>) -> Result<(), ApplicationError> {
    r.map_err(|e| e.to_application_error())
}

/// How a stream's items are encoded: `<Item as Wire>::encode`, named by
/// the generated code so that an item type that cannot travel is reported
/// once, at its type.
pub type Encode<T> = fn(&T) -> Result<Value, crate::Error>;

fn encode<T>(encode: Encode<T>, v: &T) -> Result<Value, ApplicationError> {
    encode(v).map_err(|e| {
        ApplicationError::new(error_uri::RUNTIME_ERROR).with_arg(format!("cannot serialize a result: {e}"))
    })
}

/// Sends one item as a progressive result. A caller that went away ends
/// the stream early: the invocation is interrupted by the router anyway.
async fn emit(progress: &ProgressSender, item: Value) -> Result<(), ApplicationError> {
    progress
        .send(CallResult {
            args: vec![item],
            kwargs: Default::default(),
        })
        .await
        .map_err(|e| ApplicationError::new(error_uri::CANCELED).with_arg(e.to_string()))
}

/// A handler that returned a stream of items: each is a progressive result
/// when the caller asked for them, and the final result has no arguments;
/// otherwise the items are collected into one list, the only positional
/// result.
pub async fn stream<S>(items: S, bound: Bound, enc: Encode<S::Item>) -> Outcome
where
    S: Stream + Send,
{
    let mut items = std::pin::pin!(items);
    match bound.progress {
        Some(p) => {
            while let Some(item) = items.next().await {
                emit(&p, encode(enc, &item)?).await?;
            }
            Ok(CallResult::new())
        }
        None => {
            let mut all = Vec::new();
            while let Some(item) = items.next().await {
                all.push(encode(enc, &item)?);
            }
            Ok(CallResult {
                args: vec![Value::List(all)],
                kwargs: Default::default(),
            })
        }
    }
}

/// A handler that returned a stream of `Result<T, E>`: like [`stream`], and
/// the first `Err` ends the call with `E`'s error URI.
pub async fn try_stream<S, T, E>(items: S, bound: Bound, enc: Encode<T>) -> Outcome
where
    S: Stream<Item = Result<T, E>> + Send,
    E: WampError,
{
    let mut items = std::pin::pin!(items);
    let mut all = Vec::new();
    while let Some(item) = items.next().await {
        let item = encode(enc, &item.map_err(|e| e.to_application_error())?)?;
        match &bound.progress {
            Some(p) => emit(p, item).await?,
            None => all.push(item),
        }
    }
    Ok(match bound.progress {
        Some(_) => CallResult::new(),
        None => CallResult {
            args: vec![Value::List(all)],
            kwargs: Default::default(),
        },
    })
}

/// A handler that returned a [`Progressive`]: items as progressive results
/// (dropped when the caller did not ask for them), then the final value.
pub async fn progressive<T, F, E>(p: Progressive<T, F, E>, bound: Bound, enc: Encode<T>) -> Outcome
where
    F: IntoCallResult,
    E: WampError,
{
    result(p.run(Progress::new(bound.progress, enc)).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_tables_become_options() {
        let o = register_options(&[
            ("match", "wildcard"),
            ("invoke", "roundrobin"),
            ("concurrency", "4"),
            ("disclose_caller", "true"),
        ]);
        assert_eq!(o.match_policy, Some(MatchPolicy::Wildcard));
        assert_eq!(o.invoke, Some(InvokePolicy::RoundRobin));
        assert_eq!((o.concurrency, o.disclose_caller), (Some(4), Some(true)));
        assert_eq!(register_options(&[]), RegisterOptions::default());
        let s = subscribe_options(&[("match", "prefix"), ("get_retained", "false")]);
        assert_eq!(
            (s.match_policy, s.get_retained),
            (Some(MatchPolicy::Prefix), Some(false))
        );
    }

    #[test]
    #[should_panic(expected = "unknown register option")]
    fn an_unchecked_option_is_a_bug() {
        register_options(&[("get_retained", "true")]);
    }
}
