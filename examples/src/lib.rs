//! The examples of the wamp SDK: the quickstart, and the Autobahn|Python
//! WAMP examples in Rust, one backend and one frontend each, with the same
//! URIs, arguments, results, errors and events as Autobahn's, so that an
//! Autobahn frontend works with our backend and the other way round.
//!
//! | module | Autobahn example | what it shows |
//! | --- | --- | --- |
//! | [`rpc_timeservice`] | `rpc/timeservice` | a procedure without arguments |
//! | [`rpc_slowsquare`] | `rpc/slowsquare` | asynchronous procedures, concurrent calls |
//! | [`rpc_arguments`] | `rpc/arguments` | positional, keyword and variadic arguments |
//! | [`rpc_complex`] | `rpc/complex` | several positional and keyword results |
//! | [`rpc_errors`] | `rpc/errors` | error URIs with args/kwargs, typed error enums |
//! | [`rpc_progress`] | `rpc/progress` | progressive results |
//! | [`rpc_options`] | `rpc/options` | caller disclosure, publishing with `exclude` |
//! | [`rpc_patterns`] | (programming guide) | `<int:id>` / `<string:x>` wildcard procedures |
//! | [`rpc_suffix`] | (programming guide) | a `<suffix:path>` prefix procedure |
//! | [`rpc_stream_sum`] | (none) | streaming input and two-way streams (progressive call invocations) |
//! | [`pubsub_basic`] | `pubsub/basic` | a periodic publisher and a subscriber |
//! | [`pubsub_complex`] | `pubsub/complex` | events without payload and with args + kwargs |
//! | [`pubsub_options`] | `pubsub/options` | acknowledged publish, `exclude_me`, event details |
//! | [`pubsub_unsubscribe`] | `pubsub/unsubscribe` | unsubscribing and subscribing again |
//! | [`pubsub_patterns`] | (programming guide) | the concert topics: wildcard and prefix subscriptions |
//!
//! [`web`] is the backend of the browser example (`examples/web/`, a page
//! using Autobahn|JS served by `wamp router --web`).
//!
//! [`component_config`] runs a router and its components from one
//! configuration file (`examples/component_config.toml`).
//!
//! Each Autobahn module has `backend` and `frontend` functions, and a `check` of
//! what the frontend prints against any backend that behaves like
//! Autobahn's; the example binaries `<module>_backend` and
//! `<module>_frontend` run them (see [`run_backend`] and [`run_frontend`]),
//! and the test suite drives the same functions against Autobahn|Python
//! peers, on the embedded router and on Crossbar.io.
//!
//! Environment:
//!
//! - `WAMP_URL`: the router to use (`ws://127.0.0.1:8080/ws`, `rs://...`).
//!   Without it a backend starts the embedded router with a WebSocket
//!   listener, and a frontend starts the embedded router with the matching
//!   backend in-process.
//! - `WAMP_REALM`: the realm, default `realm1`.
//! - `WAMP_LISTEN`: where a backend's embedded router listens: a port or
//!   `host:port`, default `127.0.0.1:8080`.
//! - `WAMP_INTERVAL_MS`: the examples' unit of time (Autobahn's one second:
//!   publishing period, progress step, pauses), default 1000.

#![warn(missing_docs)]

pub mod component_config;
pub mod expect;
mod number;
mod runner;
mod support;

pub mod pubsub_basic;
pub mod pubsub_complex;
pub mod pubsub_options;
pub mod pubsub_patterns;
pub mod pubsub_unsubscribe;
pub mod rpc_arguments;
pub mod rpc_complex;
pub mod rpc_errors;
pub mod rpc_options;
pub mod rpc_patterns;
pub mod rpc_progress;
pub mod rpc_slowsquare;
pub mod rpc_stream_sum;
pub mod rpc_suffix;
pub mod rpc_timeservice;
pub mod web;

pub use number::Number;
pub use runner::{backend_component, interval_from_env, listen_addr, run_backend, run_frontend};
pub use support::{describe_call_error, spawn_periodic, Backend, BoxError, Transcript};

use wamp::router::{Router, RouterConfig};
use wamp::Session;

/// The realm from `WAMP_REALM`, default `realm1`.
pub fn realm() -> String {
    std::env::var("WAMP_REALM").unwrap_or_else(|_| "realm1".into())
}

/// Where the example's sessions come from.
pub enum Target {
    /// A router at a URL (`WAMP_URL`).
    Url(String),
    /// An embedded router in this process.
    Embedded(Router),
}

impl Target {
    /// Reads `WAMP_URL`; without it, starts an embedded router with the realm.
    pub fn from_env() -> Target {
        match std::env::var("WAMP_URL") {
            Ok(url) if !url.is_empty() => Target::Url(url),
            _ => Target::Embedded(Router::new(RouterConfig::default().realm(realm()))),
        }
    }

    /// Joins a new session.
    pub async fn join(&self) -> Result<Session, wamp::Error> {
        match self {
            Target::Url(url) => Session::connect(url, &realm()).await,
            Target::Embedded(router) => Session::join_local(router, &realm()).await,
        }
    }

    /// A short description for log lines.
    pub fn describe(&self) -> String {
        match self {
            Target::Url(url) => format!("router at {url}, realm {}", realm()),
            Target::Embedded(_) => format!("embedded router (in-process), realm {}", realm()),
        }
    }
}

/// Starts log output (honours RUST_LOG, default warnings only).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
