//! Shared helpers of the examples: every example connects to the router in
//! `WAMP_URL` on realm `WAMP_REALM` (default `realm1`), and with no
//! `WAMP_URL` starts the embedded router in-process.

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
