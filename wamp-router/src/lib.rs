//! An embedded WAMP v2 router: realms, a broker and a dealer.
//!
//! Run it in-process (tests, single-binary apps) or behind WebSocket and
//! RawSocket listeners. The same [`Router`] serves both: in-process sessions
//! exchange [`Message`](wamp_proto::Message)s over channels with no
//! serialization, socket sessions through the transports of `wamp-proto`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use wamp_router::{Router, RouterConfig};
//!
//! let router = Router::new(RouterConfig::default().realm("realm1"));
//! let ws = router.listen_websocket("127.0.0.1:0").await?;
//! println!("listening on ws://{}/ws", ws.local_addr());
//! # Ok(()) }
//! ```
//!
//! What it implements: the Basic profile, plus pattern-based registrations
//! and subscriptions, shared registrations (single, roundrobin, random,
//! first, last), progressive call results, call canceling (skip, kill,
//! killnowait), router-side call timeouts, caller and publisher disclosure,
//! publisher exclusion and black/white-listing. Anonymous authentication.

#![warn(missing_docs)]

mod broker;
mod dealer;
mod listener;
pub mod matching;
mod realm;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use wamp_proto::transport::{local, Connection, TransportConfig};
use wamp_proto::Serializer;

pub use listener::Listener;
pub use realm::Realm;

/// How a router is set up.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// Realms that exist from the start.
    pub realms: Vec<String>,
    /// Limits of each connection (message size, queue capacity, handshake time).
    pub transport: TransportConfig,
    /// Serializers offered on socket listeners, in order of preference.
    pub serializers: Vec<Serializer>,
    /// How long a new connection may take to send HELLO.
    pub hello_timeout: Duration,
    /// Most connections served at once by the listeners; more are refused.
    pub max_connections: usize,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            realms: Vec::new(),
            transport: TransportConfig::default(),
            serializers: Serializer::ALL.to_vec(),
            hello_timeout: Duration::from_secs(10),
            max_connections: 100_000,
        }
    }
}

impl RouterConfig {
    /// Adds a realm.
    pub fn realm(mut self, name: impl Into<String>) -> Self {
        self.realms.push(name.into());
        self
    }
}

pub(crate) struct RouterInner {
    config: RouterConfig,
    realms: RwLock<HashMap<String, Arc<Realm>>>,
    shutdown: watch::Sender<bool>,
}

impl RouterInner {
    fn realm(&self, name: &str) -> Option<Arc<Realm>> {
        self.realms
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }
}

/// An embedded WAMP router. Cheap to clone: clones share the same realms.
#[derive(Clone)]
pub struct Router {
    inner: Arc<RouterInner>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("realms", &self.realm_names())
            .finish()
    }
}

impl Router {
    /// A router with the realms of `config`.
    pub fn new(config: RouterConfig) -> Router {
        let realms = config
            .realms
            .iter()
            .map(|name| (name.clone(), Realm::new(name.clone())))
            .collect();
        let (shutdown, _) = watch::channel(false);
        Router {
            inner: Arc::new(RouterInner {
                config,
                realms: RwLock::new(realms),
                shutdown,
            }),
        }
    }

    /// Adds a realm at run time; does nothing if it exists.
    pub fn add_realm(&self, name: &str) {
        let mut realms = self.inner.realms.write().unwrap_or_else(|p| p.into_inner());
        realms
            .entry(name.to_owned())
            .or_insert_with(|| Realm::new(name.to_owned()));
    }

    /// A realm by name.
    pub fn realm(&self, name: &str) -> Option<Arc<Realm>> {
        self.inner.realm(name)
    }

    /// The names of all realms, sorted.
    pub fn realm_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .realms
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// The router's configuration.
    pub fn config(&self) -> &RouterConfig {
        &self.inner.config
    }

    /// Serves a connection made by any transport until its session ends.
    pub fn serve(&self, conn: Connection) -> tokio::task::JoinHandle<()> {
        tokio::spawn(session::run(self.inner.clone(), conn))
    }

    /// Opens an in-process connection to this router: the returned end is
    /// the client's; messages cross without serialization.
    pub fn connect_local(&self) -> Connection {
        let (client, server) = local::pair(self.inner.config.transport.queue_capacity);
        self.serve(server);
        client
    }

    /// Starts a WebSocket listener (`ws://ADDR/<any path>`).
    pub async fn listen_websocket(&self, addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<Listener> {
        listener::listen(self.clone(), addr, listener::Kind::WebSocket).await
    }

    /// Starts a RawSocket listener on TCP.
    pub async fn listen_rawsocket(&self, addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<Listener> {
        listener::listen(self.clone(), addr, listener::Kind::RawSocket).await
    }

    /// Ends every session with GOODBYE `wamp.close.system_shutdown` and
    /// stops the listeners.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }
}
