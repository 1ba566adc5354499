//! The WAMP v2 wire protocol: messages, URIs, IDs, serializers and transports.
//!
//! This crate is the layer both the client (`wamp`, crate `wamp-runtime`) and
//! the embedded router (`wamp-router`) stand on. It knows nothing of sessions,
//! realms or handlers: it turns bytes into [`Message`]s and back, validates
//! URIs and IDs, and moves messages over WebSocket, RawSocket, or in-process
//! channels as a [`Connection`](transport::Connection).
//!
//! ```
//! use wamp_proto::{msg, Message, Serializer};
//!
//! let msg = Message::Subscribe(msg::Subscribe {
//!     request: 1,
//!     options: Default::default(),
//!     topic: "com.myapp.topic1".into(),
//! });
//! let bytes = Serializer::Json.encode(&msg).unwrap();
//! assert_eq!(bytes, br#"[32,1,{},"com.myapp.topic1"]"#);
//! assert_eq!(Serializer::Json.decode(&bytes).unwrap(), msg);
//! ```

#![warn(missing_docs)]

pub mod id;
pub mod message;
pub mod msg;
pub mod options;
pub mod payload;
pub mod repr;
pub mod serializer;
mod span;
pub mod transport;
pub mod uri;
pub mod value;
mod value_de;
mod value_ser;

pub use id::{BuildIdHasher, Id, IdHasher, IdMap, IdSequence};
pub use message::{Message, MessageType};
pub use options::*;
pub use payload::Payload;
pub use serializer::{DecodeError, Serializer};
pub use value::{from_value, to_value, Dict, List, Value, ValueError};

#[doc(hidden)]
pub use serde_json as __serde_json;

/// Well-known error and close reason URIs of the WAMP specification.
pub mod error_uri {
    /// Peer provided an incorrect URI.
    pub const INVALID_URI: &str = "wamp.error.invalid_uri";
    /// No procedure registered under the given URI.
    pub const NO_SUCH_PROCEDURE: &str = "wamp.error.no_such_procedure";
    /// A procedure could not be registered: already registered.
    pub const PROCEDURE_ALREADY_EXISTS: &str = "wamp.error.procedure_already_exists";
    /// A shared registration exists with another invoke policy.
    pub const PROCEDURE_EXISTS_WITH_DIFFERENT_INVOCATION_POLICY: &str =
        "wamp.error.procedure_exists_with_different_invocation_policy";
    /// A registration was not found for unregister.
    pub const NO_SUCH_REGISTRATION: &str = "wamp.error.no_such_registration";
    /// A subscription was not found for unsubscribe.
    pub const NO_SUCH_SUBSCRIPTION: &str = "wamp.error.no_such_subscription";
    /// Invalid argument given to a call or in an event.
    pub const INVALID_ARGUMENT: &str = "wamp.error.invalid_argument";
    /// A call was canceled.
    pub const CANCELED: &str = "wamp.error.canceled";
    /// A call timed out (router-side or callee-side timeout).
    pub const TIMEOUT: &str = "wamp.error.timeout";
    /// Not authorized to perform the action.
    pub const NOT_AUTHORIZED: &str = "wamp.error.not_authorized";
    /// Authorization failed.
    pub const AUTHORIZATION_FAILED: &str = "wamp.error.authorization_failed";
    /// The realm does not exist.
    pub const NO_SUCH_REALM: &str = "wamp.error.no_such_realm";
    /// The role does not exist.
    pub const NO_SUCH_ROLE: &str = "wamp.error.no_such_role";
    /// A session was not found (e.g. for exclusion lists).
    pub const NO_SUCH_SESSION: &str = "wamp.error.no_such_session";
    /// The peer violated the protocol.
    pub const PROTOCOL_VIOLATION: &str = "wamp.error.protocol_violation";
    /// The callee that was handling the call is gone.
    pub const CALLEE_LOST: &str = "wamp.error.callee_lost";
    /// A registration was revoked or is unavailable; also used when a callee is over capacity.
    pub const UNAVAILABLE: &str = "wamp.error.unavailable";
    /// The option is not allowed (for example an unsupported cancel mode).
    pub const OPTION_NOT_ALLOWED: &str = "wamp.error.option_not_allowed";
    /// Authentication failed.
    pub const AUTHENTICATION_FAILED: &str = "wamp.error.authentication_failed";
    /// A handler failed in an unexpected way (panicked).
    pub const RUNTIME_ERROR: &str = "wamp.error.runtime_error";
    /// Normal session close.
    pub const CLOSE_NORMAL: &str = "wamp.close.normal";
    /// Reply to a GOODBYE.
    pub const GOODBYE_AND_OUT: &str = "wamp.close.goodbye_and_out";
    /// The router shuts down.
    pub const SYSTEM_SHUTDOWN: &str = "wamp.close.system_shutdown";
    /// The session was killed or closed because it could not keep up.
    pub const CLOSE_REALM: &str = "wamp.close.close_realm";
    /// This SDK's router, not the spec: the session stopped reading (its
    /// outgoing queue stayed over high water with no progress for the
    /// router's stall timeout) and was closed.
    pub const CLOSE_STALLED: &str = "wamp.close.stalled";
    /// This SDK's router, not the spec: the session's outgoing queue
    /// reached its hard limit (see `transport::QueueLimits`) and was closed.
    pub const CLOSE_OVERFLOW: &str = "wamp.close.overflow";
    /// A message exceeded the negotiated maximum size.
    pub const PAYLOAD_SIZE_EXCEEDED: &str = "wamp.error.payload_size_exceeded";
}
