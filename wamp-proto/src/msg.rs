//! One struct per WAMP message type, each named as the specification names
//! the message (`msg::Call` is CALL). [`Message`] wraps them, one variant
//! each, so that code which handles one kind of message takes that struct:
//! a dealer's `call(session, msg::Call)` rather than a list of fields.
//!
//! Fields follow the specification's names, but for `payload`: the
//! `Arguments|list` and `ArgumentsKw|dict` together, as values or as the
//! bytes a peer sent ([`Payload`]).
//! [`Message`] holds the larger ones (HELLO, WELCOME, PUBLISH, EVENT,
//! CALL, INVOCATION) in a `Box` (see there why); `From` boxes them.
//!
//! The structs are exhaustive on purpose: their fields are fixed by the
//! spec's message layouts, and what grows (options, details) grows inside
//! the option and detail types, which are open.

use crate::id::Id;
use crate::message::{Message, MessageType};
use crate::options::*;
use crate::payload::Payload;
use crate::value::Dict;

macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident $([$boxed:ident])? { $($(#[$fdoc:meta])* $field:ident : $ty:ty,)* })*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq)]
            pub struct $name {
                $($(#[$fdoc])* pub $field: $ty,)*
            }

            impl From<$name> for Message {
                fn from(m: $name) -> Message {
                    Message::$name(messages!(@wrap m $($boxed)?))
                }
            }
        )*
    };
    (@wrap $m:ident) => { $m };
    (@wrap $m:ident boxed) => { Box::new($m) };
}

messages! {
    /// HELLO: a client asks to join a realm.
    Hello [boxed] {
        /// The realm's URI.
        realm: String,
        /// Roles, authentication and other details.
        details: HelloDetails,
    }
    /// WELCOME: the router admits a session.
    Welcome [boxed] {
        /// The session's ID.
        session: Id,
        /// Roles the router supports, authentication outcome.
        details: WelcomeDetails,
    }
    /// ABORT: a session is refused or ends at once.
    Abort {
        /// A human-readable message, if any.
        details: CloseDetails,
        /// The reason URI.
        reason: String,
    }
    /// CHALLENGE: the router asks for proof of identity.
    Challenge {
        /// The authentication method (`wampcra`, `cryptosign`, ...).
        authmethod: String,
        /// The method's challenge data.
        extra: Dict,
    }
    /// AUTHENTICATE: the client's answer to a CHALLENGE.
    Authenticate {
        /// The signature or secret.
        signature: String,
        /// Method-specific extras.
        extra: Dict,
    }
    /// GOODBYE: an orderly end of a session, sent and answered.
    Goodbye {
        /// A human-readable message, if any.
        details: CloseDetails,
        /// The reason URI.
        reason: String,
    }
    /// ERROR: a request failed.
    Error {
        /// The type of the request that failed.
        request_type: MessageType,
        /// The ID of the request that failed.
        request: Id,
        /// Details (rarely used).
        details: Dict,
        /// The error URI.
        error: String,
        /// Arguments and keyword arguments.
        payload: Payload,
    }
    /// PUBLISH: a client publishes an event to a topic.
    Publish [boxed] {
        /// The request's ID.
        request: Id,
        /// Publication options (acknowledge, exclusion, retain, ...).
        options: PublishOptions,
        /// The topic's URI.
        topic: String,
        /// Arguments and keyword arguments.
        payload: Payload,
    }
    /// PUBLISHED: the acknowledgement of a PUBLISH.
    Published {
        /// The PUBLISH's request ID.
        request: Id,
        /// The publication's ID.
        publication: Id,
    }
    /// SUBSCRIBE: a client subscribes to a topic or pattern.
    Subscribe {
        /// The request's ID.
        request: Id,
        /// Subscription options (match policy, ...).
        options: SubscribeOptions,
        /// The topic or pattern.
        topic: String,
    }
    /// SUBSCRIBED: the answer to a SUBSCRIBE.
    Subscribed {
        /// The SUBSCRIBE's request ID.
        request: Id,
        /// The subscription's ID.
        subscription: Id,
    }
    /// UNSUBSCRIBE: a client ends a subscription.
    Unsubscribe {
        /// The request's ID.
        request: Id,
        /// The subscription's ID.
        subscription: Id,
    }
    /// UNSUBSCRIBED: the answer to an UNSUBSCRIBE, or (with request 0 and
    /// details) the router revoking a subscription.
    Unsubscribed {
        /// The UNSUBSCRIBE's request ID, or 0 for a revocation.
        request: Id,
        /// The revocation's details.
        details: Option<RevokeDetails>,
    }
    /// EVENT: an event delivered to a subscriber.
    Event [boxed] {
        /// The subscription it matched.
        subscription: Id,
        /// The publication's ID.
        publication: Id,
        /// Publisher, concrete topic, ...
        details: EventDetails,
        /// Arguments and keyword arguments.
        payload: Payload,
    }
    /// CALL: a client calls a procedure.
    Call [boxed] {
        /// The request's ID.
        request: Id,
        /// Call options (timeout, receive_progress, ...).
        options: CallOptions,
        /// The procedure's URI.
        procedure: String,
        /// Arguments and keyword arguments.
        payload: Payload,
    }
    /// CANCEL: a caller cancels a pending call.
    Cancel {
        /// The CALL's request ID.
        request: Id,
        /// The cancel mode.
        options: CancelOptions,
    }
    /// RESULT: the (maybe progressive) result of a call.
    Result {
        /// The CALL's request ID.
        request: Id,
        /// Details (progress).
        details: ResultDetails,
        /// Arguments and keyword arguments.
        payload: Payload,
    }
    /// REGISTER: a client offers a procedure.
    Register {
        /// The request's ID.
        request: Id,
        /// Registration options (match, invoke, ...).
        options: RegisterOptions,
        /// The procedure's URI or pattern.
        procedure: String,
    }
    /// REGISTERED: the answer to a REGISTER.
    Registered {
        /// The REGISTER's request ID.
        request: Id,
        /// The registration's ID.
        registration: Id,
    }
    /// UNREGISTER: a callee withdraws a registration.
    Unregister {
        /// The request's ID.
        request: Id,
        /// The registration's ID.
        registration: Id,
    }
    /// UNREGISTERED: the answer to an UNREGISTER, or (with request 0 and
    /// details) the router revoking a registration.
    Unregistered {
        /// The UNREGISTER's request ID, or 0 for a revocation.
        request: Id,
        /// The revocation's details.
        details: Option<RevokeDetails>,
    }
    /// INVOCATION: the router asks a callee to run a procedure.
    Invocation [boxed] {
        /// The invocation's request ID (the router's, not the caller's).
        request: Id,
        /// The registration it matched.
        registration: Id,
        /// Caller, concrete procedure, progress, timeout, ...
        details: InvocationDetails,
        /// Arguments and keyword arguments.
        payload: Payload,
    }
    /// INTERRUPT: the router asks a callee to stop an invocation.
    Interrupt {
        /// The INVOCATION's request ID.
        request: Id,
        /// The interrupt mode and reason.
        options: InterruptOptions,
    }
    /// YIELD: a callee's (maybe progressive) answer to an INVOCATION.
    Yield {
        /// The INVOCATION's request ID.
        request: Id,
        /// Options (progress).
        options: YieldOptions,
        /// Arguments and keyword arguments.
        payload: Payload,
    }
}
