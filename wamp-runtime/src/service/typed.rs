//! Typed results and errors: what a handler's return value becomes on the
//! wire, and what a typed caller stub turns an answer back into.

use std::convert::Infallible;
use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wamp_proto::{error_uri, from_value, to_value, Value};

use crate::error::{ApplicationError, Error};
use crate::payload::CallResult;
use crate::service::ErrorDescription;

/// A handler's successful return value as WAMP results: `CallResult` as is,
/// any other `Serialize` type as one positional result.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a WAMP result",
    label = "implement serde::Serialize for it, or return wamp::CallResult"
)]
pub trait IntoCallResult {
    /// Converts to results.
    fn into_call_result(self) -> Result<CallResult, ApplicationError>;
}

impl IntoCallResult for CallResult {
    fn into_call_result(self) -> Result<CallResult, ApplicationError> {
        Ok(self)
    }
}

impl<T: Serialize> IntoCallResult for T {
    fn into_call_result(self) -> Result<CallResult, ApplicationError> {
        let v = to_value(&self).map_err(|e| {
            ApplicationError::new(error_uri::RUNTIME_ERROR)
                .with_arg(format!("cannot serialize the result: {e}"))
        })?;
        Ok(CallResult {
            args: vec![v],
            kwargs: Default::default(),
        })
    }
}

/// What a typed stub makes of a call's results: `CallResult` as is, any
/// other `Deserialize` type from the single positional result.
pub trait FromCallResult: Sized {
    /// Converts from results.
    fn from_call_result(r: CallResult) -> Result<Self, String>;
}

impl FromCallResult for CallResult {
    fn from_call_result(r: CallResult) -> Result<Self, String> {
        Ok(r)
    }
}

impl<T: DeserializeOwned> FromCallResult for T {
    fn from_call_result(r: CallResult) -> Result<Self, String> {
        let v = r.args.into_iter().next().unwrap_or(Value::Null);
        from_value(v).map_err(|e| e.to_string())
    }
}

/// An error type that maps to and from WAMP error URIs. Derive it with
/// `#[derive(wamp::WampError)]`.
pub trait WampError: Sized {
    /// The ERROR to send for this error.
    fn to_application_error(&self) -> ApplicationError;
    /// This error from a received ERROR, if the URI is one of this type's.
    fn from_application_error(e: &ApplicationError) -> Option<Self>;
    /// The URIs and payload schemas of every variant.
    fn describe_errors() -> Vec<ErrorDescription> {
        Vec::new()
    }
}

impl WampError for ApplicationError {
    fn to_application_error(&self) -> ApplicationError {
        self.clone()
    }
    fn from_application_error(e: &ApplicationError) -> Option<Self> {
        Some(e.clone())
    }
}

impl WampError for Infallible {
    fn to_application_error(&self) -> ApplicationError {
        match *self {}
    }
    fn from_application_error(_: &ApplicationError) -> Option<Self> {
        None
    }
}

/// A failed typed call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError<E = Infallible> {
    /// The procedure answered with one of its declared errors.
    #[error("service error")]
    Service(E),
    /// The procedure or router answered with another error URI.
    #[error("{0}")]
    Application(ApplicationError),
    /// The call failed in the session: timeout, cancel, transport lost, ...
    #[error(transparent)]
    Session(Error),
    /// The result did not have the declared type.
    #[error("unexpected result: {0}")]
    InvalidResult(String),
}

impl<E> CallError<E> {
    /// The declared service error, if that is what came back.
    pub fn service(&self) -> Option<&E> {
        match self {
            CallError::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The error URI, for service and application errors.
    pub fn uri(&self) -> Option<String>
    where
        E: WampError,
    {
        match self {
            CallError::Service(e) => Some(e.to_application_error().error),
            CallError::Application(a) => Some(a.error.clone()),
            CallError::Session(e) => e.uri().map(str::to_owned),
            CallError::InvalidResult(_) => None,
        }
    }
}

/// Runs a call and decodes its answer.
pub async fn typed_call<T: FromCallResult, E: WampError>(
    call: impl Future<Output = Result<CallResult, Error>>,
) -> Result<T, CallError<E>> {
    match call.await {
        Ok(r) => T::from_call_result(r).map_err(CallError::InvalidResult),
        Err(e) => Err(decode_error(e)),
    }
}

/// A failed call as a typed error: one of `E`'s URIs becomes `E`.
pub(crate) fn decode_error<E: WampError>(e: Error) -> CallError<E> {
    match e {
        Error::Application(app) => match E::from_application_error(&app) {
            Some(e) => CallError::Service(e),
            None => CallError::Application(app),
        },
        e => CallError::Session(e),
    }
}
