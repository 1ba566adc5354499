//! Application payloads: positional and keyword arguments, and typed access
//! to them.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wamp_proto::{from_value, to_value, Dict, List, Value};

use crate::error::{ApplicationError, Error};

/// Read access to `Arguments` and `ArgumentsKw`, typed on demand.
///
/// A wrong or missing argument is a `wamp.error.invalid_argument` error that
/// names the argument, ready to return from a handler.
pub trait Payload {
    /// Positional arguments.
    fn args(&self) -> &List;
    /// Keyword arguments.
    fn kwargs(&self) -> &Dict;

    /// Positional argument `i` as `T`.
    fn arg<T: DeserializeOwned>(&self, i: usize) -> Result<T, ApplicationError> {
        let v = self.args().get(i).cloned().ok_or_else(|| {
            ApplicationError::invalid_argument(format!(
                "missing positional argument {i} (got {} arguments)",
                self.args().len()
            ))
        })?;
        from_value(v).map_err(|e| ApplicationError::invalid_argument(format!("positional argument {i}: {e}")))
    }

    /// Keyword argument `name` as `T`.
    fn kwarg<T: DeserializeOwned>(&self, name: &str) -> Result<T, ApplicationError> {
        let v = self.kwargs().get(name).cloned().ok_or_else(|| {
            ApplicationError::invalid_argument(format!("missing keyword argument {name:?}"))
        })?;
        from_value(v)
            .map_err(|e| ApplicationError::invalid_argument(format!("keyword argument {name:?}: {e}")))
    }
}

/// The result of a call, and what a handler returns: several positional and
/// keyword results (Autobahn's `CallResult`, WAMP's `YIELD`/`RESULT` payload).
///
/// ```
/// use wamp::{CallResult, Payload};
/// let r = CallResult::new().with_arg(3).with_kwarg("real", 1.5);
/// assert_eq!(r.arg::<i32>(0).unwrap(), 3);
/// assert_eq!(r.kwarg::<f64>("real").unwrap(), 1.5);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallResult {
    /// Positional results.
    pub args: List,
    /// Keyword results.
    pub kwargs: Dict,
}

impl CallResult {
    /// No results.
    pub fn new() -> Self {
        Self::default()
    }

    /// Positional and keyword results as given.
    pub fn from_parts(args: List, kwargs: Dict) -> Self {
        CallResult { args, kwargs }
    }

    /// One positional result.
    pub fn single(v: impl Serialize) -> Result<Self, Error> {
        Ok(CallResult {
            args: vec![to_value(&v)?],
            kwargs: Dict::new(),
        })
    }

    /// Adds a positional result. Panics-free: an unrepresentable value
    /// becomes its error message (use [`try_with_arg`](Self::try_with_arg) to see the error).
    pub fn with_arg(mut self, v: impl Serialize) -> Self {
        self.args
            .push(to_value(&v).unwrap_or_else(|e| Value::Str(e.to_string())));
        self
    }

    /// Adds a positional result, failing on unrepresentable values.
    pub fn try_with_arg(mut self, v: impl Serialize) -> Result<Self, Error> {
        self.args.push(to_value(&v)?);
        Ok(self)
    }

    /// Adds a keyword result.
    pub fn with_kwarg(mut self, key: impl Into<String>, v: impl Serialize) -> Self {
        self.kwargs.insert(
            key.into(),
            to_value(&v).unwrap_or_else(|e| Value::Str(e.to_string())),
        );
        self
    }

    /// The single positional result, like Autobahn returns a lone result.
    pub fn into_single(self) -> Option<Value> {
        if self.args.len() == 1 && self.kwargs.is_empty() {
            self.args.into_iter().next()
        } else {
            None
        }
    }
}

impl Payload for CallResult {
    fn args(&self) -> &List {
        &self.args
    }
    fn kwargs(&self) -> &Dict {
        &self.kwargs
    }
}

/// The arguments a [`Call`](crate::Call) or [`Publish`](crate::Publish)
/// builder collects. A value that does not serialize is remembered (the
/// first one) and reported when the call or publication is sent. Small on
/// purpose: builders move it at every step.
#[derive(Debug, Default)]
pub(crate) struct Arguments {
    args: List,
    kwargs: Dict,
    error: Option<Box<Error>>,
}

impl Arguments {
    fn fail(&mut self, e: impl Into<Error>) {
        if self.error.is_none() {
            self.error = Some(Box::new(e.into()));
        }
    }

    /// Appends a positional argument.
    pub fn push(&mut self, v: impl Serialize) {
        match to_value(&v) {
            Ok(v) => self.args.push(v),
            Err(e) => self.fail(e),
        }
    }

    /// Appends an already encoded positional argument (or its encoding error).
    pub fn push_value(&mut self, v: Result<Value, Error>) {
        match v {
            Ok(v) => self.args.push(v),
            Err(e) => self.fail(e),
        }
    }

    /// Adds an already encoded keyword argument (or its encoding error).
    pub fn insert_value(&mut self, key: &str, v: Result<Value, Error>) {
        match v {
            Ok(v) => {
                self.kwargs.insert(key.to_owned(), v);
            }
            Err(e) => self.fail(e),
        }
    }

    /// Sets all keyword arguments from an encoded map (null sets none).
    pub fn kwargs_value(&mut self, v: Result<Value, Error>) {
        match v {
            Ok(Value::Dict(d)) => self.kwargs = d,
            Ok(Value::Null) => self.kwargs = Dict::new(),
            Ok(other) => self.fail(Error::Value(format!(
                "keyword arguments must serialize to a map, not {}",
                other.kind()
            ))),
            Err(e) => self.fail(e),
        }
    }

    /// Sets all positional arguments.
    pub fn set_args(&mut self, args: List) {
        self.args = args;
    }

    /// Adds a keyword argument; with `skip_null`, a value that serializes
    /// to null is left out.
    pub fn insert(&mut self, key: String, v: impl Serialize, skip_null: bool) {
        match to_value(&v) {
            Ok(Value::Null) if skip_null => {}
            Ok(v) => {
                self.kwargs.insert(key, v);
            }
            Err(e) => self.fail(e),
        }
    }

    /// Sets all keyword arguments.
    pub fn set_kwargs(&mut self, kwargs: Dict) {
        self.kwargs = kwargs;
    }

    /// Sets all keyword arguments from a value that serializes to a map;
    /// null sets none.
    pub fn kwargs_from(&mut self, v: &impl Serialize) {
        self.kwargs_value(to_value(v).map_err(Error::from));
    }

    /// Drops trailing null positional arguments.
    pub fn trim_trailing_nulls(&mut self) {
        while matches!(self.args.last(), Some(Value::Null)) {
            self.args.pop();
        }
    }

    /// The arguments, or the first value that did not serialize.
    pub fn into_parts(self) -> Result<(List, Dict), Error> {
        match self.error {
            Some(e) => Err(*e),
            None => Ok((self.args, self.kwargs)),
        }
    }
}

impl schemars::JsonSchema for CallResult {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CallResult".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Several results: positional (`args`) and keyword (`kwargs`).",
            "type": "object",
            "properties": {
                "args": { "type": "array" },
                "kwargs": { "type": "object" }
            }
        })
    }
}
