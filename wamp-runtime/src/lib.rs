//! A typed WAMP v2 SDK: client sessions over WebSocket, RawSocket or
//! in-process, typed services from annotated Rust code, and an embedded router.
//!
//! WAMP (Web Application Messaging Protocol) gives application components
//! routed RPC (register/call) and PubSub (subscribe/publish) through a
//! router. With the default `router` feature this crate re-exports the
//! embedded router as [`router`], so a program needs no other software.
//!
//! # Typed services
//!
//! Annotate the methods of an `impl` block; [`macro@service`] turns them into
//! handlers, a typed client stub (`<Name>Client`) and JSON Schemas:
//!
//! ```
//! use wamp::router::{Router, RouterConfig};
//! use wamp::{CallError, Session};
//!
//! #[derive(Debug, PartialEq, wamp::WampError)]
//! enum CatalogError {
//!     #[wamp(uri = "com.myapp.error.not_found")]
//!     NotFound { id: u64 },
//! }
//!
//! struct Catalog {
//!     names: Vec<String>,
//! }
//!
//! #[wamp::service(prefix = "com.myapp")]
//! impl Catalog {
//!     /// Registered as `com.myapp.item..get_name` (match wildcard); `id`
//!     /// is parsed from the concrete URI of each call.
//!     #[wamp::procedure("item.<int:id>.get_name")]
//!     async fn get_name(&self, id: u64) -> Result<String, CatalogError> {
//!         self.names.get(id as usize).cloned().ok_or(CatalogError::NotFound { id })
//!     }
//!
//!     /// Subscribed as `com.myapp...on_concert`; the topic's components
//!     /// bind `country`, `state` and `city`, the payload binds `title`.
//!     #[wamp::topic("<country>.<state>.<city>.on_concert")]
//!     async fn on_concert(&self, country: String, state: String, city: String, title: String) {
//!         println!("{title} in {city}, {state}, {country}");
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), wamp::Error> {
//! let router = Router::new(RouterConfig::default().realm("realm1"));
//! let backend = Session::join_local(&router, "realm1").await?;
//! backend.attach(Catalog { names: vec!["alpha".into()] }).await?;
//!
//! let client = CatalogClient::new(Session::join_local(&router, "realm1").await?);
//! assert_eq!(client.get_name(0).await.unwrap(), "alpha");
//! assert!(matches!(client.get_name(7).await, Err(CallError::Service(CatalogError::NotFound { id: 7 }))));
//! # Ok(()) }
//! ```
//!
//! URI patterns: `<name>` and `<string:name>` bind one component (any
//! `FromStr` type), `<int:name>` one component as an integer of the
//! parameter's type (range-checked), `<suffix:name>` the rest of the URI
//! (prefix match; last only). A component that fails to parse is a
//! `wamp.error.invalid_argument` error naming the variable, and the handler
//! does not run.
//!
//! Parameters not bound from the URI come from the positional arguments in
//! order (`Option<T>` may be absent); `#[wamp(kwarg)]` (or
//! `#[wamp(kwarg = "key")]`) takes a keyword argument, `#[wamp(kwargs)]` all
//! keyword arguments as one struct. An argument's type implements
//! [`service::Wire`] (serde's `Serialize` and `Deserialize`, schemars'
//! `JsonSchema`). Values the session gives rather than the caller are
//! injected: [`InvocationDetails`] (caller, procedure), [`Session`],
//! [`ProgressSender`] or `Option<ProgressSender>`, and for topics
//! [`EventDetails`] or [`service::Publication`] (publication ID, concrete
//! topic, details). The macros take a parameter whose type is written
//! with one of these names (bare, or as a `wamp::` path) to be injected,
//! and the compiler checks it through [`service::FromInvocation`] /
//! [`service::FromEvent`]; a type of your own with such a name is an
//! argument when the parameter is marked `#[wamp(arg)]` (or written with
//! its module path, `model::Session`). Wrong arity or types are
//! `wamp.error.invalid_argument` errors naming the parameter.
//!
//! Results: a `T: Serialize` is one positional result, [`CallResult`] carries
//! several positional and keyword results, `()` is none, and `Result<T, E>`
//! with `E: `[`WampError`] (derive it) sends `E`'s error URI with its args
//! (tuple fields) or kwargs (named fields). A panic in a handler is a
//! `wamp.error.runtime_error` to the caller; the session lives on.
//!
//! Streaming results: a procedure returns a [`service::Progressive<T, F>`]
//! (items of type `T` sent through its body's [`service::Progress`], then
//! the final value `F`; `Progressive<T, F, E>` built with `try_new` may
//! fail with `E`) or `impl Stream<Item = T>` (or `Item = Result<T, E>`).
//! Each item is a progressive RESULT when the caller asked for progressive
//! results. A caller that did not ask gets only the final value of a
//! `Progressive` (its items are dropped; [`service::Progress::is_wanted`]
//! tells the body), and the items of a stream collected into one list, its
//! only positional result. An `Err` mid-stream ends the call with `E`'s
//! error URI. The stub method of such a procedure returns a
//! [`service::CallStream`]: the items, then `finish()` for the final value;
//! dropping it cancels the call.
//!
//! ```
//! use wamp::service::Progressive;
//!
//! struct Jobs;
//!
//! #[wamp::service(prefix = "com.myapp")]
//! impl Jobs {
//!     /// Reports 0..n as progress, then returns n.
//!     #[wamp::procedure("count")]
//!     fn count(&self, n: u32) -> Progressive<u32, u32> {
//!         Progressive::new(move |progress| async move {
//!             for i in 0..n {
//!                 progress.send(i).await;
//!             }
//!             n
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let router = wamp::router::Router::new(wamp::router::RouterConfig::default().realm("realm1"));
//! # let backend = wamp::Session::join_local(&router, "realm1").await?;
//! # backend.attach(Jobs).await?;
//! # let session = wamp::Session::join_local(&router, "realm1").await?;
//! let mut count = JobsClient::new(session).count(3);
//! while let Some(i) = count.next().await {
//!     println!("progress {}", i?);
//! }
//! assert_eq!(count.finish().await?, 3);
//! # Ok(()) }
//! ```
//!
//! Streaming input (progressive call invocations): a procedure takes at
//! most one parameter of type [`service::Streaming<T>`], a stream of
//! `Result<T, ApplicationError>` (an item that does not decode is an `Err`
//! naming the parameter and the item). The call's first CALL carries the
//! other parameters, bound before the handler runs; each later CALL chunk
//! carries items, one per positional argument, and the last chunk ends
//! the stream (a caller that does not stream gives an empty one). The
//! stub takes an `impl Stream<Item = T> + Send + 'static` for that
//! parameter and sends each item as it comes, waiting while the session's
//! queue is full, then ends the input; awaiting it gives the result, or,
//! when the procedure also streams results, the [`service::CallStream`]
//! carries items both ways at once. Dropping the future or the stream
//! cancels the call. A router without progressive call invocations
//! (Crossbar.io) fails such a call at once with [`Error::Unsupported`].
//!
//! ```
//! use wamp::service::{Progressive, Streaming};
//! use wamp::ApplicationError;
//!
//! struct Adder;
//!
//! #[wamp::service(prefix = "com.myapp")]
//! impl Adder {
//!     /// Running totals of the numbers streamed in, then the total.
//!     #[wamp::procedure("running_sum")]
//!     fn running_sum(&self, mut numbers: Streaming<i64>) -> Progressive<i64, i64, ApplicationError> {
//!         Progressive::try_new(move |progress| async move {
//!             let mut total = 0;
//!             while let Some(n) = numbers.next().await {
//!                 total += n?;
//!                 progress.send(total).await;
//!             }
//!             Ok(total)
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let router = wamp::router::Router::new(wamp::router::RouterConfig::default().realm("realm1"));
//! # let backend = wamp::Session::join_local(&router, "realm1").await?;
//! # backend.attach(Adder).await?;
//! # let session = wamp::Session::join_local(&router, "realm1").await?;
//! let numbers = futures_util::stream::iter([1, 2, 3]);
//! let mut totals = AdderClient::new(session).running_sum(numbers);
//! while let Some(total) = totals.next().await {
//!     println!("so far {}", total?);
//! }
//! assert_eq!(totals.finish().await?, 6);
//! # Ok(()) }
//! ```
//!
//! Options in the attribute, checked at compile time: for procedures
//! `invoke = "roundrobin"` (single, roundrobin, random, first, last),
//! `concurrency = N`, `disclose_caller = true`; for topics
//! `get_retained = true`; for both `match = "prefix" | "wildcard"` with a
//! plain wire URI (patterns imply their policy).
//!
//! Options on stubs: a stub method returns a builder to await, so options
//! are set per call without a second method: `client.get_name(7)
//! .timeout(d).disclose_me().await`, `.cancel_on_drop(CancelMode::Kill)`;
//! [`service::StubOptions`] set them for every call of a client
//! (`client.with_options(..)`), including `receive_progress(false)` for
//! streaming procedures. `publish_*` stubs take `exclude_me`, `exclude` /
//! `eligible` (sessions, authids, authroles), `retain` and `disclose_me`,
//! and `.acknowledge().await` returns the publication ID. `subscribe_*`
//! stubs yield [`service::TypedEvent`]s: the bound payload (through
//! `Deref`) with the publication ID, the concrete topic and the details
//! (the publisher, when disclosed).
//!
//! Other forms: `#[wamp::service]` on a trait (a definition shared by
//! servers and clients: the client crate needs only the trait; serve an
//! implementation with `session.attach(x.into_service())`), and
//! `#[wamp::procedure]`/`#[wamp::topic]` on a free function (which gets a
//! module of the same name with a `Handler` to attach and a `call` or
//! `publish`/`subscribe` stub). Every service describes itself:
//! [`Service::describe`] returns a serializable [`ServiceDescription`] with
//! the JSON Schemas of every parameter, result and error.
//!
//! # Components and the configuration file
//!
//! [`component::Component`] keeps a session up: transports tried
//! round-robin with Autobahn's reconnect policy, services attached again on
//! every new session, lifecycle hooks. [`config`] reads one TOML file for a
//! router (transports, realms, roles, users) and its components, so that
//! `Component::from_config_file("wamp.toml", "backend")` joins the router
//! that `wamp router --config wamp.toml` runs.
//!
//! # Untyped sessions
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

pub mod auth;
pub mod component;
pub mod config;
mod error;
pub mod meta;
mod payload;
pub mod service;
pub mod session;

pub use error::{ApplicationError, Error};
pub use payload::{CallResult, Payload};
pub use session::{
    Call, CallFuture, CallHandle, Event, Handler, InputStream, Invocation, ProgressSender, Publish,
    Registration, Session, SessionConfig, SessionDetails, Subscription,
};

/// The wire protocol layer: messages, serializers, transports, URIs, IDs.
pub use wamp_proto as proto;
pub use wamp_proto::uri::{MatchPolicy, Uri};
pub use wamp_proto::{
    error_uri, meta_uri, CallOptions, CancelMode, Dict, EventDetails, Id, InvocationDetails, InvokePolicy,
    List, PublishOptions, RegisterOptions, Serializer, SubscribeOptions, Value,
};

pub use service::{Attached, CallError, Service, ServiceDescription, WampError};
pub use wamp_macros::{procedure, service, topic, WampError};

/// Support for generated code. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::service::description::{
        param, procedure_description, schema_of, service_description, topic_description,
    };
    pub use crate::service::glue::{
        event_ok, event_result, ok, progressive, register_options, result, stream, subscribe_options,
        try_stream, OptionTable, Outcome,
    };
    pub use crate::service::{
        Bindings, Extractor, FromEvent, FromInvocation, IntoCallResult, Stub, UriInt, WampError, Wire,
    };
    pub use crate::service::{EventFuture, EventHandler, ProcedureBinding, TopicBinding};
    pub use crate::session::HandlerFuture;
    #[doc(hidden)]
    pub use serde_json;
    #[doc(hidden)]
    pub use wamp_proto;
}

/// The embedded router (feature `router`, on by default).
#[cfg(feature = "router")]
pub use wamp_router as router;
