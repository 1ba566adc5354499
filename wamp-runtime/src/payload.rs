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

/// Converts builder values, remembering the first failure for later.
pub(crate) fn push_value(slot: &mut Result<List, Error>, v: impl Serialize) {
    if let Ok(list) = slot {
        match to_value(&v) {
            Ok(v) => list.push(v),
            Err(e) => *slot = Err(e.into()),
        }
    }
}

pub(crate) fn insert_value(slot: &mut Result<Dict, Error>, key: String, v: impl Serialize) {
    if let Ok(dict) = slot {
        match to_value(&v) {
            Ok(v) => {
                dict.insert(key, v);
            }
            Err(e) => *slot = Err(e.into()),
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
