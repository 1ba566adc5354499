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
mod json;
mod json_check;
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

/// The router's meta API: procedure and topic URIs of the session,
/// registration and subscription meta APIs (the spec's
/// `meta_api_*.md`), and the features that announce them.
pub mod meta_uri {
    /// The number of sessions joined (optional list of authroles to count).
    pub const SESSION_COUNT: &str = "wamp.session.count";
    /// The IDs of the sessions joined (optional list of authroles).
    pub const SESSION_LIST: &str = "wamp.session.list";
    /// The details of one session.
    pub const SESSION_GET: &str = "wamp.session.get";
    /// Closes another session with GOODBYE.
    pub const SESSION_KILL: &str = "wamp.session.kill";
    /// Closes every other session of an authid.
    pub const SESSION_KILL_BY_AUTHID: &str = "wamp.session.kill_by_authid";
    /// Closes every other session of an authrole.
    pub const SESSION_KILL_BY_AUTHROLE: &str = "wamp.session.kill_by_authrole";
    /// Closes every other session of the realm.
    pub const SESSION_KILL_ALL: &str = "wamp.session.kill_all";
    /// Event: a session joined (its details).
    pub const SESSION_ON_JOIN: &str = "wamp.session.on_join";
    /// Event: a session left (session, authid, authrole).
    pub const SESSION_ON_LEAVE: &str = "wamp.session.on_leave";

    /// Registration IDs by match policy.
    pub const REGISTRATION_LIST: &str = "wamp.registration.list";
    /// The registration of a procedure under a match policy, or null.
    pub const REGISTRATION_LOOKUP: &str = "wamp.registration.lookup";
    /// The registration a call of a procedure would reach, or null.
    pub const REGISTRATION_MATCH: &str = "wamp.registration.match";
    /// The details of one registration.
    pub const REGISTRATION_GET: &str = "wamp.registration.get";
    /// The callees of a registration.
    pub const REGISTRATION_LIST_CALLEES: &str = "wamp.registration.list_callees";
    /// How many callees a registration has.
    pub const REGISTRATION_COUNT_CALLEES: &str = "wamp.registration.count_callees";
    /// Event: a registration was created (session, details).
    pub const REGISTRATION_ON_CREATE: &str = "wamp.registration.on_create";
    /// Event: a callee was added to a registration (session, registration).
    pub const REGISTRATION_ON_REGISTER: &str = "wamp.registration.on_register";
    /// Event: a callee was removed from a registration (session, registration).
    pub const REGISTRATION_ON_UNREGISTER: &str = "wamp.registration.on_unregister";
    /// Event: a registration was deleted (last session, registration).
    pub const REGISTRATION_ON_DELETE: &str = "wamp.registration.on_delete";

    /// Subscription IDs by match policy.
    pub const SUBSCRIPTION_LIST: &str = "wamp.subscription.list";
    /// The subscription of a topic under a match policy, or null.
    pub const SUBSCRIPTION_LOOKUP: &str = "wamp.subscription.lookup";
    /// Every subscription an event on a topic reaches, or null.
    pub const SUBSCRIPTION_MATCH: &str = "wamp.subscription.match";
    /// The details of one subscription.
    pub const SUBSCRIPTION_GET: &str = "wamp.subscription.get";
    /// The subscribers of a subscription.
    pub const SUBSCRIPTION_LIST_SUBSCRIBERS: &str = "wamp.subscription.list_subscribers";
    /// How many subscribers a subscription has.
    pub const SUBSCRIPTION_COUNT_SUBSCRIBERS: &str = "wamp.subscription.count_subscribers";
    /// Event: a subscription was created (session, details).
    pub const SUBSCRIPTION_ON_CREATE: &str = "wamp.subscription.on_create";
    /// Event: a subscriber was added (session, subscription).
    pub const SUBSCRIPTION_ON_SUBSCRIBE: &str = "wamp.subscription.on_subscribe";
    /// Event: a subscriber was removed (session, subscription).
    pub const SUBSCRIPTION_ON_UNSUBSCRIBE: &str = "wamp.subscription.on_unsubscribe";
    /// Event: a subscription was deleted (last session, subscription).
    pub const SUBSCRIPTION_ON_DELETE: &str = "wamp.subscription.on_delete";

    /// Adds a testament: an event the router publishes when the caller's
    /// session goes (topic, args, kwargs; `publish_options`, `scope`).
    pub const SESSION_ADD_TESTAMENT: &str = "wamp.session.add_testament";
    /// Removes the caller's testaments of a scope.
    pub const SESSION_FLUSH_TESTAMENTS: &str = "wamp.session.flush_testaments";

    /// The event history of a subscription (`subscription`; `reverse`,
    /// `limit`, `topic`, `*_publication` and `*_time` filters).
    pub const SUBSCRIPTION_GET_EVENTS: &str = "wamp.subscription.get_events";
    /// Removes a callee from a registration (Crossbar.io's name; the
    /// spec's registration revocation).
    pub const REGISTRATION_REMOVE_CALLEE: &str = "wamp.registration.remove_callee";
    /// Removes a subscriber from a subscription (Crossbar.io's name; the
    /// spec's subscription revocation).
    pub const SUBSCRIPTION_REMOVE_SUBSCRIBER: &str = "wamp.subscription.remove_subscriber";

    /// Feature (broker and dealer): the session meta API.
    pub const FEATURE_SESSION: &str = "session_meta_api";
    /// Feature (dealer): the registration meta API.
    pub const FEATURE_REGISTRATION: &str = "registration_meta_api";
    /// Feature (broker): the subscription meta API.
    pub const FEATURE_SUBSCRIPTION: &str = "subscription_meta_api";
    /// Feature (dealer and callee): registration revocation.
    pub const FEATURE_REGISTRATION_REVOCATION: &str = "registration_revocation";
    /// Feature (broker and subscriber): subscription revocation.
    pub const FEATURE_SUBSCRIPTION_REVOCATION: &str = "subscription_revocation";
    /// Feature (caller, callee, dealer): progressive call invocations.
    pub const FEATURE_PROGRESSIVE_CALL_INVOCATIONS: &str = "progressive_call_invocations";
    /// Feature (broker): event history.
    pub const FEATURE_EVENT_HISTORY: &str = "event_history";
    /// Feature (dealer): testaments.
    pub const FEATURE_TESTAMENT: &str = "testament_meta_api";
}

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
    /// None of the authentication methods a client offered is enabled.
    pub const NO_AUTH_METHOD: &str = "wamp.error.no_auth_method";
    /// The authid is unknown (or none could be assigned).
    pub const NO_SUCH_PRINCIPAL: &str = "wamp.error.no_such_principal";
    /// A client cannot answer the router's CHALLENGE.
    pub const CANNOT_AUTHENTICATE: &str = "wamp.error.cannot_authenticate";
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
    /// The session was killed through the meta API (`wamp.session.kill`
    /// and friends) without another reason.
    pub const CLOSE_KILLED: &str = "wamp.close.killed";
    /// This SDK's router, not the spec: the session stopped reading (its
    /// outgoing queue stayed over high water with no progress for the
    /// router's stall timeout) and was closed.
    pub const CLOSE_STALLED: &str = "wamp.close.stalled";
    /// This SDK's router, not the spec: the session's outgoing queue
    /// reached its hard limit (see `transport::QueueLimits`) and was closed.
    pub const CLOSE_OVERFLOW: &str = "wamp.close.overflow";
    /// A peer does not support a feature the request needs.
    pub const FEATURE_NOT_SUPPORTED: &str = "wamp.error.feature_not_supported";
    /// No event history is kept for the subscription (Crossbar.io's URI).
    pub const HISTORY_UNAVAILABLE: &str = "wamp.error.history_unavailable";
    /// A message exceeded the negotiated maximum size.
    pub const PAYLOAD_SIZE_EXCEEDED: &str = "wamp.error.payload_size_exceeded";
}
