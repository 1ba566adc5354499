//! Components that stay up: a list of transports, a realm, services to
//! attach, reconnection with Autobahn's policy, and lifecycle hooks.
//!
//! A [`Component`] connects over its transports in turn (round-robin),
//! joins the realm, attaches every service, and when the session is lost
//! connects again after the transport's retry delay, attaching everything
//! again on the new session. Hooks run in order, every time:
//! connect, join, (services attached), ready, ..., leave, disconnect; a
//! failed attempt runs connect-failure instead. A clean
//! [`ComponentHandle::leave`] (or Ctrl-C under [`Component::run`]) stops it
//! without reconnecting.
//!
//! [`Component::from_config_file`] builds a component from its entry in a
//! configuration file shared with the router (realm, transports with their
//! reconnect parameters, serializers, credentials; see [`crate::config`]),
//! to which services and hooks are added as here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wamp::Error> {
//! use wamp::component::{Component, Transport};
//!
//! struct Clock;
//!
//! #[wamp::service]
//! impl Clock {
//!     #[wamp::procedure("com.timeservice.now")]
//!     async fn now(&self) -> String {
//!         "2026-11-23T12:00:00Z".into()
//!     }
//! }
//!
//! Component::new("realm1")
//!     .transport(Transport::new("ws://127.0.0.1:8080/ws"))
//!     .transport(Transport::new("rs://127.0.0.1:8081"))
//!     .service(Clock)
//!     .on_ready(|session| async move { println!("ready as session {}", session.id()) })
//!     .run()
//!     .await
//! # }
//! ```

mod reconnect;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

pub use reconnect::ReconnectPolicy;
use reconnect::RetryState;

use crate::error::Error;
use crate::service::{IntoService, Service};
use crate::session::{open_transport, Session, SessionConfig, SessionDetails};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type Hook<A> = Arc<dyn Fn(A) -> BoxFuture + Send + Sync>;
type Attach = Arc<dyn Fn(Session) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send>> + Send + Sync>;

/// One way to reach the router: a URL and its reconnect policy.
///
/// URLs: `ws://host:port/path`, `wss://...`, `rs://host:port` (RawSocket
/// over TCP), `rs://unix:/path` (RawSocket over a Unix socket).
#[derive(Debug, Clone)]
pub struct Transport {
    /// The router URL.
    pub url: String,
    /// How this transport is retried.
    pub reconnect: ReconnectPolicy,
}

impl Transport {
    /// A transport with Autobahn's default reconnect policy.
    pub fn new(url: impl Into<String>) -> Self {
        Transport {
            url: url.into(),
            reconnect: ReconnectPolicy::default(),
        }
    }

    /// Sets the reconnect policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }
}

/// A long-running WAMP component. Build it, then [`run`](Self::run) it (or
/// [`start`](Self::start) it in the background).
#[derive(Clone)]
pub struct Component {
    realm: String,
    transports: Vec<Transport>,
    config: SessionConfig,
    services: Vec<Attach>,
    on_connect: Vec<Hook<String>>,
    on_join: Vec<Hook<Session>>,
    on_ready: Vec<Hook<Session>>,
    on_leave: Vec<Hook<(SessionDetails, Error)>>,
    on_disconnect: Vec<Hook<String>>,
    on_connect_failure: Vec<Hook<(String, Error)>>,
    is_fatal: Arc<dyn Fn(&Error) -> bool + Send + Sync>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("realm", &self.realm)
            .field("transports", &self.transports)
            .field("services", &self.services.len())
            .finish()
    }
}

fn hook<A, F, Fut>(f: F) -> Hook<A>
where
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |a| Box::pin(f(a)))
}

/// By default a refusal to join (unknown realm, failed authentication) is
/// fatal: retrying would only be refused again.
fn default_is_fatal(e: &Error) -> bool {
    matches!(e, Error::JoinRefused { .. })
}

impl Component {
    /// A component joining `realm`; add transports with [`transport`](Self::transport).
    pub fn new(realm: impl Into<String>) -> Self {
        Component {
            realm: realm.into(),
            transports: Vec::new(),
            config: SessionConfig::default(),
            services: Vec::new(),
            on_connect: Vec::new(),
            on_join: Vec::new(),
            on_ready: Vec::new(),
            on_leave: Vec::new(),
            on_disconnect: Vec::new(),
            on_connect_failure: Vec::new(),
            is_fatal: Arc::new(default_is_fatal),
        }
    }

    /// Adds a transport (tried in the order added, round-robin).
    pub fn transport(mut self, t: impl Into<Transport>) -> Self {
        self.transports.push(t.into());
        self
    }

    /// Session settings (serializers, limits, authentication).
    pub fn config(mut self, config: SessionConfig) -> Self {
        self.config = config;
        self
    }

    /// A service attached on every new session, before `ready`.
    pub fn service<S: IntoService>(mut self, service: S) -> Self {
        self.services.push(attach_fn(service.into_service()));
        self
    }

    /// Runs after the transport connects, with the URL.
    pub fn on_connect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_connect.push(hook(f));
        self
    }

    /// Runs after the session joins, before services are attached.
    pub fn on_join<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Session) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_join.push(hook(f));
        self
    }

    /// Runs when join hooks are done and every service is attached.
    pub fn on_ready<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Session) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_ready.push(hook(f));
        self
    }

    /// Runs when the session has ended, with its details and why.
    pub fn on_leave<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(SessionDetails, Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_leave.push(Arc::new(move |(d, e)| Box::pin(f(d, e))));
        self
    }

    /// Runs after the transport is closed, with the URL.
    pub fn on_disconnect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_disconnect.push(hook(f));
        self
    }

    /// Runs when connecting or joining fails, with the URL and the error.
    pub fn on_connect_failure<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(String, Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_connect_failure
            .push(Arc::new(move |(u, e)| Box::pin(f(u, e))));
        self
    }

    /// Decides which connect or join errors stop the component instead of
    /// being retried (default: the router refused to join).
    pub fn is_fatal(mut self, f: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.is_fatal = Arc::new(f);
        self
    }

    /// Starts the component in the background.
    pub fn start(self) -> ComponentHandle {
        let (leave_tx, leave_rx) = watch::channel(false);
        let (session_tx, session_rx) = watch::channel(None);
        let task = tokio::spawn(self.drive(leave_rx, session_tx));
        ComponentHandle {
            leave: leave_tx,
            session: session_rx,
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// Runs until [`ComponentHandle::leave`]-like stop: here, Ctrl-C leaves
    /// the realm cleanly and returns `Ok`. Returns `Err` when a fatal error
    /// happens or every transport has used up its retries.
    pub async fn run(self) -> Result<(), Error> {
        let handle = self.start();
        let stopper = handle.clone();
        let ctrl_c = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("Ctrl-C: leaving");
                stopper.request_leave();
            }
        });
        let res = handle.join().await;
        ctrl_c.abort();
        res
    }

    async fn drive(
        self,
        mut leave: watch::Receiver<bool>,
        current: watch::Sender<Option<Session>>,
    ) -> Result<(), Error> {
        if self.transports.is_empty() {
            return Err(Error::Connect(
                wamp_proto::transport::TransportError::InvalidUrl {
                    url: String::new(),
                    reason: "the component has no transport".into(),
                },
            ));
        }
        let mut states: Vec<RetryState> = self
            .transports
            .iter()
            .map(|t| RetryState::new(t.reconnect.clone()))
            .collect();
        let n = self.transports.len();
        let mut next = 0;
        let mut last_error: Option<Error> = None;
        loop {
            if leave_requested(&leave) {
                return Ok(());
            }
            let Some(i) = (0..n).map(|k| (next + k) % n).find(|&i| states[i].can_retry()) else {
                return Err(last_error.unwrap_or(Error::NotConnected));
            };
            next = i + 1;
            let url = self.transports[i].url.clone();
            let outcome = self
                .session_once(&url, &mut leave, &current, &mut states[i])
                .await;
            match outcome {
                Ok(Stop::Left) => return Ok(()),
                Ok(Stop::Lost) => {}
                Err(e) => {
                    if (self.is_fatal)(&e) {
                        return Err(e);
                    }
                    last_error = Some(e);
                }
            }
            if leave_requested(&leave) {
                return Ok(());
            }
            let delay = states[i].failed();
            tracing::debug!(%url, "reconnecting in {delay:?}");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = left_requested(&mut leave) => return Ok(()),
            }
        }
    }

    /// One connect-join-serve cycle on one transport.
    async fn session_once(
        &self,
        url: &str,
        leave: &mut watch::Receiver<bool>,
        current: &watch::Sender<Option<Session>>,
        state: &mut RetryState,
    ) -> Result<Stop, Error> {
        let fail = |e: Error| async move {
            for h in &self.on_connect_failure {
                h((url.to_owned(), e.clone())).await;
            }
            Err(e)
        };
        let conn = match open_transport(url, &self.config).await {
            Ok(c) => c,
            Err(e) => return fail(e).await,
        };
        for h in &self.on_connect {
            h(url.to_owned()).await;
        }
        let session = match Session::join(conn, &self.realm, self.config.clone()).await {
            Ok(s) => s,
            Err(e) => return fail(e).await,
        };
        state.succeeded();
        for h in &self.on_join {
            h(session.clone()).await;
        }
        for attach in &self.services {
            if let Err(e) = attach(session.clone()).await {
                tracing::error!(%url, "attaching a service failed: {e}");
                let _ = session.leave().await;
                return Err(e);
            }
        }
        current.send_replace(Some(session.clone()));
        for h in &self.on_ready {
            h(session.clone()).await;
        }
        let (reason, left) = tokio::select! {
            reason = session.closed() => {
                // Our own GOODBYE (session.leave() by the application) ends the component too.
                let ours = matches!(&reason, Error::SessionClosed { reason, .. } if reason == wamp_proto::error_uri::GOODBYE_AND_OUT);
                (reason, ours)
            }
            _ = left_requested(leave) => {
                let _ = session.leave().await;
                (session.closed().await, true)
            }
        };
        current.send_replace(None);
        for h in &self.on_leave {
            h((session.details().clone(), reason.clone())).await;
        }
        session.disconnect();
        for h in &self.on_disconnect {
            h(url.to_owned()).await;
        }
        Ok(if left { Stop::Left } else { Stop::Lost })
    }
}

/// Resolves once a leave is requested (the watch guard never outlives it).
async fn left_requested(leave: &mut watch::Receiver<bool>) {
    let _ = leave.wait_for(|l| *l).await;
}

/// Reads the flag without holding the borrow across an await.
fn leave_requested(leave: &watch::Receiver<bool>) -> bool {
    *leave.borrow()
}

enum Stop {
    /// Left on purpose: stop.
    Left,
    /// Lost: reconnect.
    Lost,
}

fn attach_fn<S: Service>(service: Arc<S>) -> Attach {
    Arc::new(move |session: Session| {
        let service = service.clone();
        Box::pin(async move { session.attach(service).await.map(|_| ()) })
    })
}

/// The component's task, taken by whoever joins it first.
type SharedTask = Arc<Mutex<Option<tokio::task::JoinHandle<Result<(), Error>>>>>;

/// Controls a started component.
#[derive(Clone, Debug)]
pub struct ComponentHandle {
    leave: watch::Sender<bool>,
    session: watch::Receiver<Option<Session>>,
    task: SharedTask,
}

impl ComponentHandle {
    /// The current session, or [`Error::NotConnected`] while (re)connecting.
    pub fn session(&self) -> Result<Session, Error> {
        self.session
            .borrow()
            .clone()
            .filter(Session::is_open)
            .ok_or(Error::NotConnected)
    }

    /// Waits until a session is ready (joined, services attached).
    pub async fn ready(&self) -> Result<Session, Error> {
        let mut rx = self.session.clone();
        loop {
            if let Some(s) = rx.borrow_and_update().clone().filter(Session::is_open) {
                return Ok(s);
            }
            if rx.changed().await.is_err() {
                return Err(Error::NotConnected);
            }
        }
    }

    fn request_leave(&self) {
        self.leave.send_replace(true);
    }

    /// Leaves the realm cleanly and stops the component (no reconnect).
    pub async fn leave(&self) -> Result<(), Error> {
        self.request_leave();
        self.join().await
    }

    /// Waits for the component to stop and returns how it ended.
    pub async fn join(&self) -> Result<(), Error> {
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        match task {
            Some(t) => t
                .await
                .unwrap_or_else(|e| Err(Error::TransportLost(format!("component task failed: {e}")))),
            None => Ok(()),
        }
    }
}

impl From<&str> for Transport {
    fn from(url: &str) -> Self {
        Transport::new(url)
    }
}

impl From<String> for Transport {
    fn from(url: String) -> Self {
        Transport::new(url)
    }
}
