//! Binding a typed handler's parameters from one invocation or event: URI
//! components, positional and keyword arguments. Every failure is a
//! `wamp.error.invalid_argument` whose message names the parameter and what
//! was expected, and the handler is not run.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wamp_proto::uri::Uri;
use wamp_proto::{from_value, Dict, EventDetails, InvocationDetails, List, Value};

use crate::error::ApplicationError;
use crate::session::{Event, InputStream, Invocation, ProgressSender, Session};

/// Integer types a `<int:name>` URI component binds to; parsing checks the
/// type's range.
#[diagnostic::on_unimplemented(
    message = "`<int:...>` binds to an integer type, not `{Self}`",
    label = "use i8..i128, u8..u128, isize or usize here, or `<string:...>` for other types"
)]
pub trait UriInt: FromStr {}

macro_rules! uri_ints {
    ($($t:ty),*) => { $(impl UriInt for $t {})* };
}
uri_ints!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

/// A value that travels as a WAMP argument or result: serializable,
/// deserializable and described by a JSON Schema. Implemented for every type
/// with those three traits; generated code goes through it, so a type
/// missing one is reported once, at the parameter's type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel as a WAMP argument",
    label = "a WAMP argument needs serde's `Serialize` and `Deserialize` and schemars' `JsonSchema`",
    note = "derive them: `#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]`"
)]
pub trait Wire: Sized {
    /// The next positional argument, for parameter `name`.
    fn positional(x: &mut Extractor, name: &str) -> Result<Self, ApplicationError>;

    /// The keyword argument `key`, for parameter `name`.
    fn keyword(x: &mut Extractor, name: &str, key: &str) -> Result<Self, ApplicationError>;

    /// All keyword arguments as one value, for parameter `name`.
    fn kwargs(x: &mut Extractor, name: &str) -> Result<Self, ApplicationError>;

    /// The JSON Schema of the type.
    fn schema() -> serde_json::Value;

    /// The value to send; a value that cannot be serialized fails the call
    /// or publication before anything is sent.
    fn encode(&self) -> Result<Value, crate::Error>;

    /// A received value (an item of an input stream); the error says what
    /// was expected.
    fn decode(v: Value) -> Result<Self, String>;
}

// Not looked through in diagnostics: a type that is not a `Wire` gets the
// one message above, once, rather than one error per missing trait and use.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + schemars::JsonSchema> Wire for T {
    fn positional(x: &mut Extractor, name: &str) -> Result<Self, ApplicationError> {
        x.positional(name)
    }

    fn keyword(x: &mut Extractor, name: &str, key: &str) -> Result<Self, ApplicationError> {
        x.keyword(name, key)
    }

    fn kwargs(x: &mut Extractor, name: &str) -> Result<Self, ApplicationError> {
        x.all_kwargs(name)
    }

    fn schema() -> serde_json::Value {
        super::description::schema_of::<Self>()
    }

    fn encode(&self) -> Result<Value, crate::Error> {
        wamp_proto::to_value(self)
            .map_err(|e| crate::Error::Value(format!("cannot serialize an argument: {e}")))
    }

    fn decode(v: Value) -> Result<Self, String> {
        from_value(v).map_err(|e| format!("expected {}: {e}", short_type_name::<T>()))
    }
}

/// A value a procedure handler is given by the session rather than by the
/// caller: [`InvocationDetails`], [`Session`], [`ProgressSender`] (the call
/// fails with `wamp.error.invalid_argument` when the caller did not ask for
/// progressive results) or `Option<ProgressSender>`.
#[diagnostic::on_unimplemented(
    message = "a procedure handler cannot be given `{Self}` by the session",
    label = "not injected into procedures",
    note = "procedures are given `wamp::InvocationDetails`, `wamp::Session`, `wamp::ProgressSender` or `Option<wamp::ProgressSender>`",
    note = "a type of your own named like one of these is an argument when the parameter is marked #[wamp(arg)]"
)]
pub trait FromInvocation: Sized {
    /// Takes the value from the invocation being bound.
    fn from_invocation(x: &Extractor) -> Result<Self, ApplicationError>;
}

/// A value a topic handler is given by the session rather than by the
/// publisher: [`EventDetails`], [`Publication`] or [`Session`].
#[diagnostic::on_unimplemented(
    message = "a topic handler cannot be given `{Self}` by the session",
    label = "not injected into topic handlers",
    note = "topic handlers are given `wamp::EventDetails`, `wamp::service::Publication` or `wamp::Session`",
    note = "a type of your own named like one of these is an argument when the parameter is marked #[wamp(arg)]"
)]
pub trait FromEvent: Sized {
    /// Takes the value from the event being bound.
    fn from_event(x: &Extractor) -> Result<Self, ApplicationError>;
}

fn missing(what: &str) -> ApplicationError {
    ApplicationError::new(wamp_proto::error_uri::RUNTIME_ERROR).with_arg(format!("no {what} here"))
}

impl FromInvocation for InvocationDetails {
    fn from_invocation(x: &Extractor) -> Result<Self, ApplicationError> {
        match &x.ctx {
            Context::Invocation { details, .. } => Ok(details.clone()),
            _ => Err(missing("invocation")),
        }
    }
}

impl FromInvocation for Option<ProgressSender> {
    fn from_invocation(x: &Extractor) -> Result<Self, ApplicationError> {
        match &x.ctx {
            Context::Invocation { progress, .. } => Ok(progress.clone()),
            _ => Err(missing("invocation")),
        }
    }
}

impl FromInvocation for ProgressSender {
    fn from_invocation(x: &Extractor) -> Result<Self, ApplicationError> {
        Option::<ProgressSender>::from_invocation(x)?.ok_or_else(|| {
            ApplicationError::invalid_argument(format!(
                "{} sends progressive results: call it with receive_progress (progressive results)",
                x.uri
            ))
        })
    }
}

impl FromInvocation for Session {
    fn from_invocation(x: &Extractor) -> Result<Self, ApplicationError> {
        match &x.ctx {
            Context::Invocation { session, .. } => Ok(session.clone()),
            _ => Err(missing("session")),
        }
    }
}

impl FromEvent for EventDetails {
    fn from_event(x: &Extractor) -> Result<Self, ApplicationError> {
        match &x.ctx {
            Context::Event { details, .. } => Ok(details.clone()),
            _ => Err(missing("event")),
        }
    }
}

impl FromEvent for Session {
    fn from_event(x: &Extractor) -> Result<Self, ApplicationError> {
        match &x.ctx {
            Context::Event { session, .. } => Ok(session.clone()),
            _ => Err(missing("session")),
        }
    }
}

/// What a topic handler can know of the event besides its payload: the
/// publication ID, the concrete topic and the details (the publisher, when
/// disclosed). Injected into a topic handler that takes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Publication {
    /// The publication ID.
    pub id: wamp_proto::Id,
    /// The concrete topic (for pattern subscriptions, the topic published to).
    pub topic: Uri,
    /// The EVENT details.
    pub details: EventDetails,
}

impl FromEvent for Publication {
    fn from_event(x: &Extractor) -> Result<Self, ApplicationError> {
        match &x.ctx {
            Context::Event {
                details, publication, ..
            } => Ok(Publication {
                id: *publication,
                topic: x.uri.clone(),
                details: details.clone(),
            }),
            _ => Err(missing("event")),
        }
    }
}

/// What the payload arrived with, for injected parameters.
#[derive(Debug, Default)]
enum Context {
    #[default]
    Payload,
    Invocation {
        details: InvocationDetails,
        progress: Option<ProgressSender>,
        input: Option<InputStream>,
        session: Session,
    },
    Event {
        details: EventDetails,
        publication: wamp_proto::Id,
        session: Session,
    },
}

/// The payload of one invocation or event, consumed parameter by parameter.
#[derive(Debug)]
pub struct Extractor {
    uri: Uri,
    args: List,
    kwargs: Dict,
    next: usize,
    ctx: Context,
}

/// What is left of an invocation once its parameters are bound: the
/// progress channel, which a streaming result needs.
#[derive(Debug, Default)]
pub struct Bound {
    /// Where progressive results go, if the caller asked for them.
    pub progress: Option<ProgressSender>,
}

/// `alloc::string::String` -> `String`, `core::option::Option<i64>` -> `Option<i64>`.
fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(""));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(""));
    out
}

impl Extractor {
    /// Starts binding a payload received for the concrete `uri`.
    pub fn new(uri: impl Into<Uri>, args: List, kwargs: Dict) -> Self {
        Extractor {
            uri: uri.into(),
            args,
            kwargs,
            next: 0,
            ctx: Context::Payload,
        }
    }

    /// Starts binding an invocation (its details, progress channel and
    /// session can be injected).
    pub fn from_invocation(inv: Invocation) -> Self {
        Extractor {
            uri: inv.procedure,
            args: inv.args,
            kwargs: inv.kwargs,
            next: 0,
            ctx: Context::Invocation {
                details: inv.details,
                progress: inv.progress,
                input: inv.input,
                session: inv.session,
            },
        }
    }

    /// Starts binding an event (its details and the session can be injected).
    pub fn from_event(ev: Event, session: Session) -> Self {
        Extractor {
            uri: ev.topic,
            args: ev.args,
            kwargs: ev.kwargs,
            next: 0,
            ctx: Context::Event {
                details: ev.details,
                publication: ev.publication,
                session,
            },
        }
    }

    /// A value injected into a procedure handler.
    pub fn inject<T: FromInvocation>(&self) -> Result<T, ApplicationError> {
        T::from_invocation(self)
    }

    /// The procedure's input stream (the parameter `name`), items decoded
    /// by `decode` (generated code names `<T as Wire>::decode`): empty when
    /// the caller did not stream its input. Taken once.
    pub fn input<T>(
        &mut self,
        name: &'static str,
        decode: fn(Value) -> Result<T, String>,
    ) -> Result<super::Streaming<T>, ApplicationError> {
        match &mut self.ctx {
            Context::Invocation { input, .. } => Ok(super::Streaming::new(input.take(), name, decode)),
            _ => Err(missing("invocation")),
        }
    }

    /// A value injected into a topic handler.
    pub fn inject_event<T: FromEvent>(&self) -> Result<T, ApplicationError> {
        T::from_event(self)
    }

    fn component(&self, index: usize, name: &str) -> Result<&str, ApplicationError> {
        self.uri.split('.').nth(index).ok_or_else(|| {
            ApplicationError::invalid_argument(format!(
                "URI {:?} has no component {index} for `{name}`",
                self.uri
            ))
        })
    }

    /// The URI component at `index` (`<name>`, `<string:name>`), parsed.
    pub fn uri_component<T: FromStr>(&self, index: usize, name: &str) -> Result<T, ApplicationError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.component(index, name)?;
        raw.parse().map_err(|e: T::Err| {
            ApplicationError::invalid_argument(format!(
                "URI component `{name}` = {raw:?} of {:?} is not a valid {}: {e}",
                self.uri,
                short_type_name::<T>()
            ))
        })
    }

    /// The URI component at `index` as an integer (`<int:name>`), range-checked.
    pub fn uri_int<T: UriInt>(&self, index: usize, name: &str) -> Result<T, ApplicationError>
    where
        T::Err: std::fmt::Display,
    {
        self.uri_component(index, name)
    }

    /// The rest of the URI from component `index` on (`<suffix:name>`).
    pub fn uri_suffix<T: FromStr>(&self, index: usize, name: &str) -> Result<T, ApplicationError>
    where
        T::Err: std::fmt::Display,
    {
        let rest: Vec<&str> = self.uri.split('.').skip(index).collect();
        if rest.is_empty() || rest.iter().all(|c| c.is_empty()) {
            return Err(ApplicationError::invalid_argument(format!(
                "URI {:?} has no suffix for `{name}`",
                self.uri
            )));
        }
        let raw = rest.join(".");
        raw.parse().map_err(|e: T::Err| {
            ApplicationError::invalid_argument(format!("URI suffix `{name}` = {raw:?} is not valid: {e}"))
        })
    }

    /// The next positional argument. An absent argument binds only to types
    /// that accept null (`Option<T>` becomes `None`).
    pub fn positional<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, ApplicationError> {
        let position = self.next;
        self.next += 1;
        match self.args.get_mut(position) {
            Some(v) => from_value(std::mem::take(v)).map_err(|e| {
                ApplicationError::invalid_argument(format!(
                    "argument `{name}` (position {position}): expected {}: {e}",
                    short_type_name::<T>()
                ))
            }),
            None => from_value(Value::Null).map_err(|_| {
                ApplicationError::invalid_argument(format!(
                    "missing argument `{name}` (position {position}, {}): got {} positional argument(s)",
                    short_type_name::<T>(),
                    self.args.len()
                ))
            }),
        }
    }

    /// The keyword argument `key`; absent binds only to types that accept null.
    pub fn keyword<T: DeserializeOwned>(&mut self, name: &str, key: &str) -> Result<T, ApplicationError> {
        match self.kwargs.remove(key) {
            Some(v) => from_value(v).map_err(|e| {
                ApplicationError::invalid_argument(format!(
                    "keyword argument `{key}` (parameter `{name}`): expected {}: {e}",
                    short_type_name::<T>()
                ))
            }),
            None => from_value(Value::Null).map_err(|_| {
                ApplicationError::invalid_argument(format!(
                    "missing keyword argument `{key}` (parameter `{name}`, {})",
                    short_type_name::<T>()
                ))
            }),
        }
    }

    /// All (remaining) keyword arguments as one value, e.g. a struct.
    pub fn all_kwargs<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, ApplicationError> {
        from_value(Value::Dict(std::mem::take(&mut self.kwargs))).map_err(|e| {
            ApplicationError::invalid_argument(format!(
                "keyword arguments (parameter `{name}`): expected {}: {e}",
                short_type_name::<T>()
            ))
        })
    }

    /// Checks that no positional argument was left over, and that the
    /// caller did not stream an input the procedure does not take (its
    /// items would be lost); returns what a streaming result still needs.
    pub fn finish(self) -> Result<Bound, ApplicationError> {
        if self.args.len() > self.next {
            return Err(ApplicationError::invalid_argument(format!(
                "expected at most {} positional argument(s), got {}",
                self.next,
                self.args.len()
            )));
        }
        if let Context::Invocation { input: Some(_), .. } = &self.ctx {
            return Err(ApplicationError::invalid_argument(format!(
                "{} takes no input stream: call it without streaming its input",
                self.uri
            )));
        }
        Ok(Bound {
            progress: match self.ctx {
                Context::Invocation { progress, .. } => progress,
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(uri: &str, args: List) -> Extractor {
        Extractor::new(uri, args, Dict::new())
    }

    #[test]
    fn uri_ints_are_range_checked() {
        let e = ex("com.myapp.item.300.get_name", vec![]);
        assert_eq!(e.uri_int::<u16>(3, "id").unwrap(), 300);
        let err = e.uri_int::<u8>(3, "id").unwrap_err();
        assert_eq!(err.error, "wamp.error.invalid_argument");
        let msg = err.message().unwrap();
        assert!(msg.contains("`id`") && msg.contains("u8"), "{msg}");
        let err = ex("com.myapp.item.abc.get_name", vec![])
            .uri_int::<i64>(3, "id")
            .unwrap_err();
        assert!(err.message().unwrap().contains("\"abc\""));
    }

    #[test]
    fn suffix_takes_the_rest() {
        let e = ex("com.myapp.a.b.c", vec![]);
        assert_eq!(e.uri_suffix::<String>(2, "path").unwrap(), "a.b.c");
    }

    #[test]
    fn positional_arity_and_types() {
        let mut e = ex("x", vec![Value::UInt(2), Value::Str("three".into())]);
        assert_eq!(e.positional::<i64>("a").unwrap(), 2);
        let err = e.positional::<i64>("b").unwrap_err();
        let msg = err.message().unwrap();
        assert!(
            msg.contains("`b`") && msg.contains("position 1") && msg.contains("i64"),
            "{msg}"
        );
        let mut e = ex("x", vec![Value::UInt(1)]);
        let _: i64 = e.positional("a").unwrap();
        assert_eq!(e.positional::<Option<String>>("b").unwrap(), None);
        let err = e.positional::<String>("c").unwrap_err();
        assert!(
            err.message().unwrap().starts_with("missing argument `c`"),
            "{err}"
        );
        let mut e = ex("x", vec![Value::UInt(1), Value::UInt(2)]);
        let _: i64 = e.positional("a").unwrap();
        let err = e.finish().unwrap_err();
        assert!(err.message().unwrap().contains("at most 1"), "{err}");
    }

    #[test]
    fn type_names_are_short() {
        assert_eq!(short_type_name::<Option<String>>(), "Option<String>");
        assert_eq!(
            short_type_name::<Vec<std::collections::BTreeMap<String, i64>>>(),
            "Vec<BTreeMap<String, i64>>"
        );
    }
}
