//! An embedded WAMP v2 router: realms, a broker and a dealer.
//!
//! Run it in-process (tests, single-binary apps) or behind WebSocket and
//! RawSocket listeners: plain TCP, TLS ([`Router::listen_websocket_tls`],
//! [`Router::listen_rawsocket_tls`]) or a Unix socket
//! ([`Router::listen_rawsocket_unix`]). The same [`Router`] serves all of
//! them at once: in-process sessions exchange
//! [`Message`](wamp_proto::Message)s over channels with no serialization,
//! socket sessions through the transports of `wamp-proto`.
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
//! publisher exclusion and black/white-listing.
//!
//! Authentication and authorization are per realm ([`RealmConfig`], see
//! [`auth`]): anonymous, WAMP-Ticket, WAMP-CRA (salted secrets too) and
//! WAMP-Cryptosign, with static users or a dynamic authenticator procedure;
//! roles with static permissions per URI pattern or a dynamic authorizer
//! procedure. A realm added by name ([`RouterConfig::realm`]) is open:
//! anonymous sessions may do anything.

//!
//! # Flow control
//!
//! A session that reads is never closed because another sends a lot.
//! Every session's outgoing queue has a high-water mark
//! ([`TransportConfig::queue_capacity`] messages and
//! [`TransportConfig::queue_bytes`]; the whole policy is at
//! [`QueueLimits`](wamp_proto::transport::QueueLimits)). The router always
//! queues what it routes and owes, and holds back the producer instead:
//! once a PUBLISH or CALL has filled a receiver's queue past high water
//! (or the session's own queue is there: a client that does not read its
//! answers), nothing new from that session is handled until those queues
//! are down to low water. Its answers (YIELD, ERROR for an INVOCATION) are
//! still handled meanwhile; its other messages wait in a bounded backlog,
//! then its socket is not read, so TCP pushes back on the peer. A session
//! held back with a full backlog while it owes answers is still read: new
//! work past the backlog is refused with `wamp.error.unavailable`, so its
//! answers are never stuck behind it. Calls pending per caller are bounded
//! the same way ([`RouterConfig::max_pending_calls`]). A queue that stays
//! over high water with no progress for [`RouterConfig::stall_timeout`]
//! gets its session closed with `wamp.close.stalled`; one that reaches the
//! hard limit, with `wamp.close.overflow`.

#![warn(missing_docs)]

pub mod auth;
mod authorize;
mod broker;
mod dealer;
mod listener;
pub mod matching;
mod meta;
mod realm;
mod session;
mod transcode;
pub mod web;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use wamp_proto::serializer::PayloadMode;
use wamp_proto::transport::{local, Connection, TransportConfig};
use wamp_proto::Serializer;

pub use auth::RealmConfig;
pub use listener::Listener;
#[cfg(unix)]
pub use listener::UnixSocketListener;
pub use realm::Realm;
pub use wamp_proto::transport::tls::{TlsConfigError, TlsServerConfig};

/// How a router is set up.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// Realms that exist from the start, open to anonymous sessions that
    /// may do anything ([`RealmConfig::open`]).
    pub realms: Vec<String>,
    /// Realms that exist from the start, with their own authentication and
    /// roles. A name here wins over the same name in `realms`.
    pub realm_configs: Vec<RealmConfig>,
    /// How long the router waits for a dynamic authenticator or authorizer
    /// procedure to answer.
    pub internal_call_timeout: Duration,
    /// Limits of each connection (message size, queue capacity, handshake time).
    pub transport: TransportConfig,
    /// Serializers offered on socket listeners, in order of preference.
    pub serializers: Vec<Serializer>,
    /// How long a new connection may take to send HELLO.
    pub hello_timeout: Duration,
    /// Most connections served at once by the listeners; more are refused.
    pub max_connections: usize,
    /// How long a session's outgoing queue may stay over its high-water
    /// mark without taking anything out (its peer stopped reading) while
    /// a producer waits on it, before the session is closed with
    /// `wamp.close.stalled` (default 5 s). See [Flow control](crate#flow-control).
    pub stall_timeout: Duration,
    /// Most calls one session may have waiting for an answer (default
    /// 1024). At the limit the router handles nothing new from it (its
    /// answers as a callee excepted) until one of them is answered. Their
    /// results may queue past the high-water mark: keep this well below
    /// the queue's hard limit (`wamp_proto::transport::QueueLimits`).
    pub max_pending_calls: usize,
    /// Topics and patterns whose events every realm keeps, for
    /// `wamp.subscription.get_events` (the spec's event history).
    pub event_history: Vec<EventHistory>,
}

/// Event history for one topic or pattern: its subscription exists from the
/// realm's start (subscribers or not), and keeps the last `limit` events
/// published to what it matches, for `wamp.subscription.get_events`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventHistory {
    /// The topic, or the pattern.
    pub uri: String,
    /// How `uri` matches.
    pub match_policy: wamp_proto::uri::MatchPolicy,
    /// How many events are kept (the oldest go first).
    pub limit: usize,
}

/// Most events one topic's history may keep.
pub const MAX_EVENT_HISTORY: usize = 100_000;

impl EventHistory {
    /// History of `uri` under `match_policy`, `limit` events; checked.
    pub fn new(
        uri: impl Into<String>,
        match_policy: wamp_proto::uri::MatchPolicy,
        limit: usize,
    ) -> Result<EventHistory, String> {
        let uri = uri.into();
        wamp_proto::uri::validate_pattern(&uri, match_policy, wamp_proto::uri::UriRule::Loose)
            .map_err(|e| format!("{uri:?}: {e}"))?;
        if wamp_proto::uri::is_router_namespace(&uri) {
            return Err(format!("{uri:?}: the wamp. namespace belongs to the router"));
        }
        if limit == 0 || limit > MAX_EVENT_HISTORY {
            return Err(format!(
                "{uri:?}: the limit must be 1 to {MAX_EVENT_HISTORY}, not {limit}"
            ));
        }
        Ok(EventHistory {
            uri,
            match_policy,
            limit,
        })
    }

    /// `URI=LIMIT`, a URI ending in a dot being a prefix
    /// (`com.example.=100`), as `wamp router --event-history` takes it.
    pub fn parse(spec: &str) -> Result<EventHistory, String> {
        let (uri, limit) = spec
            .rsplit_once('=')
            .ok_or_else(|| format!("{spec:?}: expected URI=LIMIT"))?;
        let limit = limit
            .trim()
            .parse()
            .map_err(|e| format!("{spec:?}: the limit is no number: {e}"))?;
        let policy = if uri.ends_with('.') {
            wamp_proto::uri::MatchPolicy::Prefix
        } else {
            wamp_proto::uri::MatchPolicy::Exact
        };
        EventHistory::new(uri.trim(), policy, limit)
    }
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            realms: Vec::new(),
            realm_configs: Vec::new(),
            internal_call_timeout: Duration::from_secs(10),
            // Payloads stay as their senders encoded them: forwarded
            // untouched to peers with the same serializer.
            transport: TransportConfig {
                payloads: PayloadMode::Encoded,
                ..TransportConfig::default()
            },
            serializers: Serializer::ALL.to_vec(),
            hello_timeout: Duration::from_secs(10),
            max_connections: 100_000,
            stall_timeout: Duration::from_secs(5),
            max_pending_calls: 1024,
            event_history: Vec::new(),
        }
    }
}

impl RouterConfig {
    /// Adds an open realm: anonymous sessions may do anything.
    pub fn realm(mut self, name: impl Into<String>) -> Self {
        self.realms.push(name.into());
        self
    }

    /// Adds a realm with its authentication and roles.
    pub fn realm_with(mut self, realm: RealmConfig) -> Self {
        self.realm_configs.push(realm);
        self
    }

    /// Keeps event history for a topic or pattern in every realm.
    pub fn event_history(mut self, history: EventHistory) -> Self {
        self.event_history.push(history);
        self
    }
}

/// Flow-control settings given one by one (a configuration file's
/// `[flow]`, command-line flags), laid over a [`RouterConfig`]: what is
/// `None` keeps the config's value. See [Flow control](crate#flow-control).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowSettings {
    /// [`TransportConfig::queue_capacity`]: the outgoing queue's high-water
    /// mark in messages.
    pub queue_messages: Option<usize>,
    /// [`TransportConfig::queue_bytes`]: the same in bytes.
    pub queue_bytes: Option<usize>,
    /// [`RouterConfig::stall_timeout`].
    pub stall_timeout: Option<Duration>,
    /// [`RouterConfig::max_pending_calls`].
    pub max_pending_calls: Option<usize>,
}

impl FlowSettings {
    /// Sets in `config` what is set here.
    pub fn apply_to(&self, config: &mut RouterConfig) {
        if let Some(n) = self.queue_messages {
            config.transport.queue_capacity = n;
        }
        if let Some(n) = self.queue_bytes {
            config.transport.queue_bytes = n;
        }
        if let Some(d) = self.stall_timeout {
            config.stall_timeout = d;
        }
        if let Some(n) = self.max_pending_calls {
            config.max_pending_calls = n;
        }
    }
}

pub(crate) struct RouterInner {
    config: RouterConfig,
    realms: RwLock<HashMap<String, Arc<Realm>>>,
    shutdown: watch::Sender<bool>,
}

impl RouterInner {
    fn flow(&self) -> realm::FlowLimits {
        realm::FlowLimits {
            stall_timeout: self.config.stall_timeout,
            max_pending_calls: self.config.max_pending_calls.max(1),
        }
    }

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
        let (shutdown, _) = watch::channel(false);
        let router = Router {
            inner: Arc::new(RouterInner {
                config,
                realms: RwLock::default(),
                shutdown,
            }),
        };
        let config = &router.inner.config;
        let open = config.realms.iter().map(|name| RealmConfig::open(name.clone()));
        // A name in `realm_configs` wins over the same one in `realms`.
        for realm in config.realm_configs.iter().cloned().chain(open) {
            router.add_realm_with(realm);
        }
        router
    }

    /// Adds an open realm at run time (anonymous sessions may do
    /// anything); does nothing if it exists.
    pub fn add_realm(&self, name: &str) {
        self.add_realm_with(RealmConfig::open(name));
    }

    /// Adds a realm with its authentication and roles at run time; does
    /// nothing if a realm of that name exists.
    pub fn add_realm_with(&self, realm: RealmConfig) {
        let mut realms = self.inner.realms.write().unwrap_or_else(|p| p.into_inner());
        realms
            .entry(realm.name.clone())
            .or_insert_with(|| Realm::new(realm, self.inner.flow(), &self.inner.config.event_history));
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

    /// Serves a connection made by any transport until its session ends,
    /// in a task of its own.
    pub fn serve(&self, conn: Connection) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.serve_here(conn))
    }

    /// Serves a connection until its session ends, in the calling task.
    pub fn serve_here(&self, conn: Connection) -> impl std::future::Future<Output = ()> + Send + 'static {
        // What one poll routes to other sessions is written after it, one
        // wake-up per writer for the burst read.
        wamp_proto::transport::wakes_after_poll(session::run(self.inner.clone(), conn))
    }

    /// Opens an in-process connection to this router: the returned end is
    /// the client's; messages cross without serialization.
    pub fn connect_local(&self) -> Connection {
        let (client, server) = local::pair(self.inner.config.transport.queue_limits());
        self.serve(server);
        client
    }

    /// Starts a WebSocket listener (`ws://ADDR/<any path>`).
    pub async fn listen_websocket(&self, addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<Listener> {
        listener::listen(self.clone(), addr, listener::Kind::WebSocket, None, None).await
    }

    /// Starts a RawSocket listener on TCP (`rs://ADDR`).
    pub async fn listen_rawsocket(&self, addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<Listener> {
        listener::listen(self.clone(), addr, listener::Kind::RawSocket, None, None).await
    }

    /// Starts a WebSocket listener over TLS (`wss://ADDR/<any path>`).
    ///
    /// ```no_run
    /// # async fn demo(router: wamp_router::Router) -> Result<(), Box<dyn std::error::Error>> {
    /// use wamp_router::TlsServerConfig;
    /// let tls = TlsServerConfig::from_pem_files("cert.pem", "key.pem")?;
    /// let wss = router.listen_websocket_tls("0.0.0.0:8443", tls).await?;
    /// println!("listening on {}", wss.url());
    /// # Ok(()) }
    /// ```
    pub async fn listen_websocket_tls(
        &self,
        addr: impl tokio::net::ToSocketAddrs,
        tls: TlsServerConfig,
    ) -> std::io::Result<Listener> {
        listener::listen(self.clone(), addr, listener::Kind::WebSocket, Some(tls), None).await
    }

    /// Starts a WebSocket listener that also serves the files of a
    /// directory on the same port, as Crossbar.io's web transport does:
    /// WAMP at `ws://ADDR/ws` (`wss://` with `tls`), every other path a
    /// file of `web` (see [`web`] for what is served and
    /// refused).
    ///
    /// ```no_run
    /// # async fn demo(router: wamp_router::Router) -> Result<(), Box<dyn std::error::Error>> {
    /// use wamp_router::web::WebRoot;
    /// let l = router.listen_web("127.0.0.1:8080", None, WebRoot::new("examples/web")?).await?;
    /// println!("pages at {}, WAMP at {}", l.web_url().unwrap(), l.url());
    /// # Ok(()) }
    /// ```
    pub async fn listen_web(
        &self,
        addr: impl tokio::net::ToSocketAddrs,
        tls: Option<TlsServerConfig>,
        web: web::WebRoot,
    ) -> std::io::Result<Listener> {
        listener::listen(self.clone(), addr, listener::Kind::WebSocket, tls, Some(web)).await
    }

    /// Starts a RawSocket listener over TLS (`rss://ADDR`).
    pub async fn listen_rawsocket_tls(
        &self,
        addr: impl tokio::net::ToSocketAddrs,
        tls: TlsServerConfig,
    ) -> std::io::Result<Listener> {
        listener::listen(self.clone(), addr, listener::Kind::RawSocket, Some(tls), None).await
    }

    /// Starts a RawSocket listener on a Unix socket (`rs://unix:PATH`).
    ///
    /// A socket file already at `path` is replaced only if nothing listens
    /// on it (left over from a crash); a live socket, or a file that is not
    /// a socket, is an error. The socket file is removed when the listener
    /// stops ([`UnixSocketListener::stop`], [`Router::shutdown`]). Its
    /// permissions follow the process's umask.
    #[cfg(unix)]
    pub async fn listen_rawsocket_unix(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> std::io::Result<UnixSocketListener> {
        listener::listen_unix(self.clone(), path.as_ref(), listener::Kind::RawSocket).await
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
