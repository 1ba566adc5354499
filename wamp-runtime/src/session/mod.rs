//! The client session: join a realm, then call, register, publish and
//! subscribe.
//!
//! A [`Session`] is a cheap handle (clone it freely) to a joined session. A
//! driver task reads incoming messages and completes the pending requests.
//! A handler of a registered procedure starts in the driver and, at its
//! first `.await` that has to wait, goes on as a task of its own, so
//! handlers run concurrently.
//! When the session ends (leave, router GOODBYE/ABORT, transport loss,
//! protocol violation) every pending request fails with the reason, event
//! streams end, and running handlers are stopped.

mod call;
mod callee;
mod driver;
mod event_queue;
mod pubsub;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use wamp_proto::msg;

use tokio::sync::{oneshot, watch};
use wamp_proto::repr;
use wamp_proto::transport::{Connection, TransportConfig, TransportKind};
use wamp_proto::uri::Uri;
use wamp_proto::{Dict, HelloDetails, Id, IdMap, IdSequence, List, Message, Serializer, Value};

use crate::auth::Credentials;
use crate::error::{ApplicationError, Error};
use crate::payload::CallResult;

pub(crate) use call::InputSender;
pub use call::{Call, CallFuture, CallHandle};
pub use callee::{Handler, HandlerFuture, InputStream, Invocation, ProgressSender, Registration};
pub use pubsub::{Event, Publish, Subscription};

/// Settings of a client session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Serializers offered, in order of preference (WebSocket); the first is used for RawSocket.
    pub serializers: Vec<Serializer>,
    /// Transport limits: message size, queue capacity, handshake time.
    pub transport: TransportConfig,
    /// How long to wait for WELCOME.
    pub join_timeout: Duration,
    /// Most requests (calls, registers, ...) waiting for an answer at once.
    pub max_pending_requests: usize,
    /// Most invocations of registered procedures running at once; more are
    /// answered with `wamp.error.unavailable`.
    pub max_concurrent_invocations: usize,
    /// Capacity of each subscription's event queue (0 counts as 1): the
    /// events queued and those its [`Subscription`] took but has not
    /// handed out yet. A full queue holds back the session's reader (and
    /// so, through the transport, the router).
    pub event_queue_capacity: usize,
    /// The authid to authenticate as (HELLO.Details.authid).
    pub authid: Option<String>,
    /// The role to ask for (HELLO.Details.authrole); routers usually
    /// assign the role themselves.
    pub authrole: Option<String>,
    /// HELLO.Details.authextra. Cryptosign credentials add `pubkey`.
    pub authextra: Dict,
    /// The credentials offered, in order of preference (HELLO's
    /// `authmethods`); the router's CHALLENGE picks one. Empty: anonymous.
    pub auth: Vec<Credentials>,
}

impl SessionConfig {
    /// Sets the authid to authenticate as.
    pub fn with_authid(mut self, authid: impl Into<String>) -> Self {
        self.authid = Some(authid.into());
        self
    }

    /// Sets the role to ask for.
    pub fn with_authrole(mut self, authrole: impl Into<String>) -> Self {
        self.authrole = Some(authrole.into());
        self
    }

    /// Sets HELLO.Details.authextra.
    pub fn with_authextra(mut self, authextra: Dict) -> Self {
        self.authextra = authextra;
        self
    }

    /// Offers credentials for one more method (after those added before).
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.auth.push(credentials);
        self
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            serializers: Serializer::ALL.to_vec(),
            transport: TransportConfig::default(),
            join_timeout: Duration::from_secs(10),
            max_pending_requests: 65_536,
            max_concurrent_invocations: 4_096,
            event_queue_capacity: 1024,
            authid: None,
            authrole: None,
            authextra: Dict::new(),
            auth: Vec::new(),
        }
    }
}

/// Facts about a joined session.
#[derive(Debug, Clone)]
pub struct SessionDetails {
    /// The session ID the router assigned.
    pub session: Id,
    /// The realm joined.
    pub realm: String,
    /// The authenticated identity.
    pub authid: Option<String>,
    /// The role granted.
    pub authrole: Option<String>,
    /// The authentication method used.
    pub authmethod: Option<String>,
    /// Who authenticated the session.
    pub authprovider: Option<String>,
    /// Extra data from the authentication.
    pub authextra: Dict,
    /// The serializer in use (`None` in-process).
    pub serializer: Option<Serializer>,
    /// The transport in use.
    pub transport: TransportKind,
    /// The roles and features the router announced.
    pub router_roles: Dict,
}

pub(crate) enum Pending {
    Call(call::PendingCall),
    Register(oneshot::Sender<Result<Id, Error>>, Uri, Handler),
    Unregister(oneshot::Sender<Result<(), Error>>),
    Subscribe(
        oneshot::Sender<Result<(Id, Id), Error>>,
        String,
        event_queue::EventSender,
    ),
    Unsubscribe(oneshot::Sender<Result<(), Error>>),
    Publish(oneshot::Sender<Result<Id, Error>>),
}

impl Pending {
    /// Completes the request with an error.
    fn fail(self, e: Error) {
        match self {
            // Calls are settled through `State::settle_call`; a handle
            // woken without an outcome reports the session's end.
            Pending::Call(mut c) => {
                if let Some(w) = c.take_waker() {
                    w.wake();
                }
            }
            Pending::Register(tx, _, _) | Pending::Publish(tx) => {
                let _ = tx.send(Err(e));
            }
            Pending::Unregister(tx) | Pending::Unsubscribe(tx) => {
                let _ = tx.send(Err(e));
            }
            Pending::Subscribe(tx, _, _) => {
                let _ = tx.send(Err(e));
            }
        }
    }
}

/// One local subscriber of a router subscription.
pub(crate) struct LocalSubscriber {
    pub local_id: Id,
    pub topic: Uri,
    pub tx: event_queue::EventSender,
}

#[derive(Default)]
pub(crate) struct State {
    pub pending: IdMap<Id, Pending>,
    /// Final outcomes of calls, until their handles take them.
    pub settled: IdMap<Id, Result<CallResult, Error>>,
    pub registrations: IdMap<Id, (Uri, Handler)>,
    pub subscriptions: IdMap<Id, Vec<LocalSubscriber>>,
    pub invocations: IdMap<Id, tokio::task::AbortHandle>,
    /// Invocations whose caller streams input (progressive call
    /// invocations) and whose last chunk has not arrived: where their
    /// later INVOCATIONs go.
    pub inputs: IdMap<Id, tokio::sync::mpsc::Sender<callee::Chunk>>,
    /// Streaming invocations that ended before their last chunk arrived:
    /// chunks still on their way are dropped, not taken for new calls.
    pub ended_inputs: callee::EndedInputs,
    /// Set once the session has ended.
    pub closed: Option<Error>,
}

impl State {
    /// Why the session ended (or, not ended yet, that its connection is gone).
    pub fn closed_error(&self) -> Error {
        self.closed
            .clone()
            .unwrap_or_else(|| Error::TransportLost("connection closed".into()))
    }

    /// Settles the call `request` (taken out of `pending`) with its final
    /// outcome, for its handle to take; returns the handle's waker, to
    /// wake once the lock is released.
    #[must_use = "the waiting handle must be woken"]
    pub fn settle_call(
        &mut self,
        request: Id,
        mut call: call::PendingCall,
        outcome: Result<CallResult, Error>,
    ) -> Option<std::task::Waker> {
        self.settled.insert(request, outcome);
        call.take_waker()
    }
}

pub(crate) struct Shared {
    pub tx: wamp_proto::transport::Sender,
    pub closer: wamp_proto::transport::Closer,
    pub ids: IdSequence,
    pub local_ids: IdSequence,
    pub state: Mutex<State>,
    pub details: SessionDetails,
    pub config: SessionConfig,
    /// Becomes `Some` when the session has ended.
    pub ended: watch::Sender<Option<Error>>,
    pub invocation_slots: callee::InvocationSlots,
    /// Set at the first invocation whose caller streams input: until then
    /// an INVOCATION costs no look-up of input streams.
    pub inputs_seen: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a pending request under a fresh request ID.
    pub fn add_pending(&self, make: impl FnOnce(Id) -> Pending) -> Result<Id, Error> {
        let mut st = self.lock();
        if let Some(e) = &st.closed {
            return Err(e.clone());
        }
        if st.pending.len() >= self.config.max_pending_requests {
            return Err(Error::Overloaded(format!(
                "{} requests already wait for an answer (max_pending_requests)",
                st.pending.len()
            )));
        }
        let id = self.ids.next();
        st.pending.insert(id, make(id));
        Ok(id)
    }

    pub fn take_pending(&self, id: Id) -> Option<Pending> {
        self.lock().pending.remove(&id)
    }

    /// Queues a message for the router.
    pub async fn send(&self, msg: Message) -> Result<(), Error> {
        self.tx.send(msg).await.map_err(|_| self.closed_error())
    }

    pub fn closed_error(&self) -> Error {
        self.lock().closed_error()
    }

    /// Refuses a payload this session's serializer would not carry
    /// unchanged (an in-process session carries every value).
    pub fn check_payload(&self, args: &List, kwargs: &Dict) -> Result<(), repr::ReprError> {
        match self.details.serializer {
            Some(s) => repr::check_payload(s, args, kwargs),
            None => Ok(()),
        }
    }

    /// Like [`check_payload`](Self::check_payload), for an ERROR: its URI
    /// and arguments.
    pub fn check_error(&self, e: &ApplicationError) -> Result<(), repr::ReprError> {
        if let Some(s) = self.details.serializer {
            repr::check_str(s, "error", &e.error)?;
        }
        self.check_payload(&e.args, &e.kwargs)
    }
}

/// A joined WAMP session. Clones share the session.
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.shared.details.session)
            .field("realm", &self.shared.details.realm)
            .finish()
    }
}

impl Session {
    /// Connects to a router and joins `realm` with default settings.
    ///
    /// URLs: `ws://host:port/path` (WebSocket), `rs://host:port` or
    /// `tcp://host:port` (RawSocket over TCP).
    pub async fn connect(url: &str, realm: &str) -> Result<Session, Error> {
        Self::connect_with(url, realm, SessionConfig::default()).await
    }

    /// Connects to a router and joins `realm`.
    pub async fn connect_with(url: &str, realm: &str, config: SessionConfig) -> Result<Session, Error> {
        let conn = open_transport(url, &config).await?;
        Self::join(conn, realm, config).await
    }

    /// Joins `realm` over an established connection (any transport),
    /// authenticating with the credentials of `config`.
    pub async fn join(mut conn: Connection, realm: &str, config: SessionConfig) -> Result<Session, Error> {
        let (session, welcome) = handshake(&mut conn, realm, &config).await?;
        let details = SessionDetails {
            session,
            realm: welcome.realm.clone().unwrap_or_else(|| realm.to_owned()),
            authid: welcome.authid,
            authrole: welcome.authrole,
            authmethod: welcome.authmethod,
            authprovider: welcome.authprovider,
            authextra: welcome.authextra.unwrap_or_default(),
            serializer: conn.serializer,
            transport: conn.kind,
            router_roles: welcome.roles.unwrap_or_default(),
        };
        let (ended, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            tx: conn.sender.clone(),
            closer: conn.closer.clone(),
            ids: IdSequence::new(),
            local_ids: IdSequence::new(),
            state: Mutex::new(State::default()),
            details,
            invocation_slots: callee::InvocationSlots::new(config.max_concurrent_invocations),
            inputs_seen: Default::default(),
            config,
            ended,
        });
        // In-process only (sockets say no): answers and invocations are
        // handled as the embedded router sends them.
        conn.receiver.bypass(driver::Answers(Arc::downgrade(&shared)));
        // The answers a burst of invocations queues go out in one write.
        tokio::spawn(wamp_proto::transport::wakes_after_poll(driver::run(
            shared.clone(),
            conn,
        )));
        Ok(Session { shared })
    }

    /// Joins a realm of an embedded router in-process (no sockets, no
    /// serialization).
    #[cfg(feature = "router")]
    pub async fn join_local(router: &wamp_router::Router, realm: &str) -> Result<Session, Error> {
        Self::join(router.connect_local(), realm, SessionConfig::default()).await
    }

    /// Joins a realm of an embedded router in-process with settings
    /// (credentials, limits).
    #[cfg(feature = "router")]
    pub async fn join_local_with(
        router: &wamp_router::Router,
        realm: &str,
        config: SessionConfig,
    ) -> Result<Session, Error> {
        Self::join(router.connect_local(), realm, config).await
    }

    /// The session ID.
    pub fn id(&self) -> Id {
        self.shared.details.session
    }

    /// Facts about the session: realm, authid, authrole, serializer, ...
    pub fn details(&self) -> &SessionDetails {
        &self.shared.details
    }

    /// Whether the session is still joined.
    pub fn is_open(&self) -> bool {
        self.shared.lock().closed.is_none()
    }

    /// Waits until the session has ended and returns why.
    pub async fn closed(&self) -> Error {
        let mut rx = self.shared.ended.subscribe();
        loop {
            if let Some(e) = rx.borrow_and_update().clone() {
                return e;
            }
            if rx.changed().await.is_err() {
                return self.shared.closed_error();
            }
        }
    }

    /// Drops the connection at once, without GOODBYE, as a crash would. The
    /// router notices the lost transport; pending requests fail here with
    /// [`Error::TransportLost`].
    pub fn disconnect(&self) {
        self.shared.closer.close();
    }

    /// Leaves the realm: GOODBYE, wait for the router's GOODBYE (at most 5 s),
    /// close the transport.
    pub async fn leave(&self) -> Result<(), Error> {
        if !self.is_open() {
            return Ok(());
        }
        self.shared
            .send(Message::goodbye(wamp_proto::error_uri::CLOSE_NORMAL))
            .await?;
        match tokio::time::timeout(Duration::from_secs(5), self.closed()).await {
            Ok(_) => Ok(()),
            Err(_) => {
                driver::close(
                    &self.shared,
                    Error::SessionClosed {
                        reason: wamp_proto::error_uri::CLOSE_NORMAL.into(),
                        message: Some("router did not answer GOODBYE".into()),
                    },
                );
                Ok(())
            }
        }
    }
}

/// HELLO, then CHALLENGE/AUTHENTICATE as often as the router asks, until
/// WELCOME or ABORT.
async fn handshake(
    conn: &mut Connection,
    realm: &str,
    config: &SessionConfig,
) -> Result<(Id, wamp_proto::WelcomeDetails), Error> {
    let mut authextra = config.authextra.clone();
    for c in &config.auth {
        c.add_authextra(&mut authextra);
    }
    let authmethods = match config.auth.is_empty() {
        true => vec!["anonymous".to_owned()],
        false => config.auth.iter().map(|c| c.method().to_owned()).collect(),
    };
    let hello = Message::from(msg::Hello {
        realm: realm.to_owned(),
        details: HelloDetails {
            roles: Some(client_roles()),
            authmethods: Some(authmethods),
            authid: config.authid.clone(),
            authrole: config.authrole.clone(),
            authextra: (!authextra.is_empty()).then_some(authextra),
            agent: Some(concat!("wamp-rs/", env!("CARGO_PKG_VERSION")).into()),
            ..Default::default()
        },
    });
    conn.sender.send(hello).await.map_err(|_| transport_lost(conn))?;
    let deadline = tokio::time::Instant::now() + config.join_timeout;
    loop {
        let reply = tokio::time::timeout_at(deadline, conn.receiver.recv())
            .await
            .map_err(|_| Error::JoinRefused {
                reason: wamp_proto::error_uri::TIMEOUT.into(),
                message: Some(format!("no WELCOME within {:?}", config.join_timeout)),
            })?;
        match reply {
            Some(Message::Welcome(welcome)) => return Ok((welcome.session, welcome.details)),
            Some(Message::Abort(msg::Abort { details, reason })) => {
                return Err(Error::JoinRefused {
                    reason,
                    message: details.message,
                })
            }
            Some(Message::Challenge(msg::Challenge { authmethod, extra })) => {
                let answer = match config.auth.iter().find(|c| c.method() == authmethod) {
                    Some(credentials) => credentials.respond(&extra),
                    None => Err(format!(
                        "the router challenged with {authmethod:?}, which this client did not offer"
                    )),
                };
                match answer {
                    Ok(signature) => {
                        let authenticate = Message::Authenticate(msg::Authenticate {
                            signature,
                            extra: Dict::new(),
                        });
                        conn.sender
                            .send(authenticate)
                            .await
                            .map_err(|_| transport_lost(conn))?;
                    }
                    Err(message) => {
                        const CANNOT: &str = wamp_proto::error_uri::CANNOT_AUTHENTICATE;
                        let _ = conn.sender.send(Message::abort(CANNOT, message.clone())).await;
                        return Err(Error::JoinRefused {
                            reason: CANNOT.into(),
                            message: Some(message),
                        });
                    }
                }
            }
            Some(other) => {
                let msg = format!("expected WELCOME, got {}", other.message_type());
                let _ = conn
                    .sender
                    .send(Message::abort(
                        wamp_proto::error_uri::PROTOCOL_VIOLATION,
                        msg.clone(),
                    ))
                    .await;
                return Err(Error::ProtocolViolation(msg));
            }
            None => return Err(transport_lost(conn)),
        }
    }
}

fn transport_lost(conn: &Connection) -> Error {
    Error::TransportLost(
        conn.close_reason
            .get()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "connection closed during join".into()),
    )
}

/// Opens a socket transport for a URL, without joining: `ws://`, `wss://`
/// (TLS), `rs://host:port` (or `tcp://`), `rss://host:port` (RawSocket over
/// TLS), `rs://unix:/path/to.sock` (RawSocket over a Unix socket). TLS
/// trusts the system's roots unless `config.transport.tls` says otherwise
/// (see [`wamp_proto::transport::tls::TlsClientConfig`]).
pub async fn open_transport(url: &str, config: &SessionConfig) -> Result<Connection, Error> {
    Ok(wamp_proto::transport::connect(url, &config.serializers, &config.transport).await?)
}

/// The roles and features this client announces in HELLO.
fn client_roles() -> Dict {
    let role = |names: &[&str]| {
        let features: Dict = names
            .iter()
            .map(|n| ((*n).to_owned(), Value::Bool(true)))
            .collect();
        let mut r = Dict::new();
        r.insert("features".into(), Value::Dict(features));
        Value::Dict(r)
    };
    let mut roles = Dict::new();
    roles.insert(
        "caller".into(),
        role(&[
            "caller_identification",
            "progressive_call_results",
            "call_canceling",
            "call_timeout",
            wamp_proto::meta_uri::FEATURE_PROGRESSIVE_CALL_INVOCATIONS,
        ]),
    );
    roles.insert(
        "callee".into(),
        role(&[
            "caller_identification",
            "pattern_based_registration",
            "shared_registration",
            "progressive_call_results",
            "call_canceling",
            wamp_proto::meta_uri::FEATURE_PROGRESSIVE_CALL_INVOCATIONS,
            // UNREGISTERED with request 0 forgets the registration.
            wamp_proto::meta_uri::FEATURE_REGISTRATION_REVOCATION,
        ]),
    );
    roles.insert(
        "publisher".into(),
        role(&[
            "publisher_identification",
            "subscriber_blackwhite_listing",
            "publisher_exclusion",
        ]),
    );
    roles.insert(
        "subscriber".into(),
        role(&[
            "publisher_identification",
            "pattern_based_subscription",
            // UNSUBSCRIBED with request 0 ends the subscription's streams.
            wamp_proto::meta_uri::FEATURE_SUBSCRIPTION_REVOCATION,
        ]),
    );
    roles
}
