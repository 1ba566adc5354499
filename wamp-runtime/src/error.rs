//! Errors of the client: application errors carried by WAMP ERROR messages,
//! and the client's own failures (timeout, cancel, transport loss, ...).

use std::time::Duration;

use wamp_proto::transport::TransportError;
use wamp_proto::{error_uri, from_value, Dict, List, Value};

/// An error a peer sent: an error URI with positional and keyword arguments.
///
/// Handlers return it to send an ERROR; callers receive it when a call fails
/// at the callee or the router.
///
/// ```
/// use wamp::ApplicationError;
/// let e = ApplicationError::new("com.myapp.error.reserved").with_arg("foo is reserved");
/// assert_eq!(e.error, "com.myapp.error.reserved");
/// assert_eq!(e.to_string(), r#"com.myapp.error.reserved ["foo is reserved"]"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplicationError {
    /// The error URI.
    pub error: String,
    /// Positional arguments.
    pub args: List,
    /// Keyword arguments.
    pub kwargs: Dict,
}

impl ApplicationError {
    /// An error with a URI and no arguments.
    pub fn new(error: impl Into<String>) -> Self {
        ApplicationError {
            error: error.into(),
            ..Default::default()
        }
    }

    /// Adds a positional argument. Values that cannot be represented are
    /// replaced by their error message, so building an error never fails.
    pub fn with_arg(mut self, v: impl serde::Serialize) -> Self {
        self.args
            .push(wamp_proto::to_value(&v).unwrap_or_else(|e| Value::Str(e.to_string())));
        self
    }

    /// Adds a keyword argument.
    pub fn with_kwarg(mut self, key: impl Into<String>, v: impl serde::Serialize) -> Self {
        let v = wamp_proto::to_value(&v).unwrap_or_else(|e| Value::Str(e.to_string()));
        self.kwargs.insert(key.into(), v);
        self
    }

    /// `wamp.error.invalid_argument` with a message.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(error_uri::INVALID_ARGUMENT).with_arg(message.into())
    }

    /// The first positional argument as a string, which by convention is a
    /// human-readable message.
    pub fn message(&self) -> Option<&str> {
        self.args.first().and_then(Value::as_str)
    }

    /// Positional argument `i`, deserialized.
    pub fn arg<T: serde::de::DeserializeOwned>(&self, i: usize) -> Option<T> {
        self.args.get(i).cloned().and_then(|v| from_value(v).ok())
    }
}

impl std::fmt::Display for ApplicationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)?;
        if !self.args.is_empty() {
            write!(f, " {}", Value::List(self.args.clone()))?;
        }
        if !self.kwargs.is_empty() {
            write!(f, " {}", Value::Dict(self.kwargs.clone()))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplicationError {}

/// Everything that can go wrong in a client session.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The peer answered with an ERROR.
    #[error("{0}")]
    Application(ApplicationError),
    /// The call did not finish in time (client-side, or `wamp.error.timeout`
    /// from the router for a call with a timeout).
    #[error("call timed out after {0:?}")]
    Timeout(Duration),
    /// The call was canceled by this client.
    #[error("call canceled")]
    Canceled,
    /// The connection broke; the session is gone.
    #[error("transport lost: {0}")]
    TransportLost(String),
    /// The peer broke the protocol; the session was aborted.
    #[error("protocol violation: {0}")]
    ProtocolViolation(String),
    /// The session was closed (GOODBYE or ABORT); no more requests can be made.
    #[error("session closed: {reason}{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    SessionClosed {
        /// The close reason URI.
        reason: String,
        /// The human-readable message, if any.
        message: Option<String>,
    },
    /// The router refused to open the session (ABORT in reply to HELLO).
    #[error("router refused to join: {reason}{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    JoinRefused {
        /// The ABORT reason URI.
        reason: String,
        /// The human-readable message, if any.
        message: Option<String>,
    },
    /// Connecting failed.
    #[error("could not connect: {0}")]
    Connect(#[from] TransportError),
    /// A value could not be converted to or from WAMP data.
    #[error("cannot convert value: {0}")]
    Value(String),
    /// A URI broke the URI rules.
    #[error(transparent)]
    InvalidUri(#[from] wamp_proto::uri::InvalidUri),
    /// A component has no joined session at the moment (it is connecting or
    /// reconnecting); try again after it is ready.
    #[error("not connected: the component is (re)connecting")]
    NotConnected,
    /// A value this session's serializer cannot carry unchanged (a text
    /// string starting with NUL or a NaN in JSON, lists nested too deep);
    /// the message was not sent. The cause names the value's position.
    #[error("invalid argument: {0}")]
    InvalidArgument(#[source] wamp_proto::repr::ReprError),
    /// A bound was reached (too many pending requests).
    #[error("limit reached: {0}")]
    Overloaded(String),
    /// Something the request needs is not available: the router did not
    /// announce a feature (the message names it), or the request cannot be
    /// made this way. Nothing was sent.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A call's input cannot take another chunk: it was not started with
    /// [`Call::stream_input`](crate::Call::stream_input), its last chunk
    /// was sent, or the call has ended (its outcome is the handle's
    /// result). Nothing was sent.
    #[error("the call's input is closed")]
    InputClosed,
}

impl Error {
    /// The error URI, for application errors.
    pub fn uri(&self) -> Option<&str> {
        match self {
            Error::Application(e) => Some(&e.error),
            _ => None,
        }
    }

    /// The application error, if this is one.
    pub fn application(&self) -> Option<&ApplicationError> {
        match self {
            Error::Application(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the session is gone (transport lost, closed, protocol
    /// violation): a reconnect is needed before new requests.
    pub fn is_session_gone(&self) -> bool {
        matches!(
            self,
            Error::TransportLost(_) | Error::SessionClosed { .. } | Error::ProtocolViolation(_)
        )
    }
}

impl From<ApplicationError> for Error {
    fn from(e: ApplicationError) -> Self {
        Error::Application(e)
    }
}

impl From<wamp_proto::repr::ReprError> for Error {
    fn from(e: wamp_proto::repr::ReprError) -> Self {
        Error::InvalidArgument(e)
    }
}

impl From<wamp_proto::ValueError> for Error {
    fn from(e: wamp_proto::ValueError) -> Self {
        Error::Value(e.0)
    }
}
