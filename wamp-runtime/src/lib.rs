//! A typed WAMP v2 SDK: client sessions over WebSocket, RawSocket or
//! in-process, and an embedded router.
//!
//! WAMP (Web Application Messaging Protocol) gives application components
//! routed RPC (register/call) and PubSub (subscribe/publish) through a
//! router. This crate is the client side; with the default `router` feature
//! it also re-exports the embedded router as [`router`], so a program needs no
//! other software.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), wamp::Error> {
//! use wamp::router::{Router, RouterConfig};
//! use wamp::{CallResult, Payload, RegisterOptions, Session};
//!
//! let router = Router::new(RouterConfig::default().realm("realm1"));
//! let callee = Session::join_local(&router, "realm1").await?;
//! callee
//!     .register("com.arguments.add2", RegisterOptions::default(), |inv| async move {
//!         Ok(CallResult::new().with_arg(inv.arg::<i64>(0)? + inv.arg::<i64>(1)?))
//!     })
//!     .await?;
//!
//! let caller = Session::join_local(&router, "realm1").await?;
//! let sum = caller.call("com.arguments.add2").arg(2).arg(3).await?;
//! assert_eq!(sum.arg::<i64>(0)?, 5);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod payload;
pub mod service;
pub mod session;

pub use error::{ApplicationError, Error};
pub use payload::{CallResult, Payload};
pub use session::{
    Call, CallHandle, Event, Handler, Invocation, ProgressSender, Publish, Registration, Session,
    SessionConfig, SessionDetails, Subscription,
};

/// The wire protocol layer: messages, serializers, transports, URIs, IDs.
pub use wamp_proto as proto;
pub use wamp_proto::uri::MatchPolicy;
pub use wamp_proto::{
    error_uri, CallOptions, CancelMode, Dict, EventDetails, Id, InvocationDetails, InvokePolicy, List,
    PublishOptions, RegisterOptions, Serializer, SubscribeOptions, Value,
};

pub use service::{Attached, CallError, Service, ServiceDescription, WampError};
pub use wamp_macros::{procedure, service, topic, WampError};

/// Support for generated code. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::service::description::schema_of;
    pub use crate::service::EventFuture;
    pub use crate::service::{
        typed_call, Bindings, EventHandler, Extractor, FromCallResult, IntoCallResult, ProcedureBinding,
        TopicBinding, UriInt, WampError,
    };
    pub use crate::session::HandlerFuture;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use std;
    pub use wamp_proto;

    /// Result of a handler returning `Result<T, E>`.
    pub fn handler_result<T: IntoCallResult, E: WampError>(
        r: Result<T, E>,
    ) -> Result<crate::CallResult, crate::ApplicationError> {
        match r {
            Ok(v) => v.into_call_result(),
            Err(e) => Err(e.to_application_error()),
        }
    }

    /// Result of an event handler returning `Result<(), E>`.
    pub fn event_result<E: WampError>(r: Result<(), E>) -> Result<(), crate::ApplicationError> {
        r.map_err(|e| e.to_application_error())
    }
}

/// The embedded router (feature `router`, on by default).
#[cfg(feature = "router")]
pub use wamp_router as router;
