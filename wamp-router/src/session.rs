//! One client connection in the router: the HELLO/WELCOME opening (with
//! authentication), the message loop (with authorization), and the closing
//! (GOODBYE, ABORT, transport loss, overflow, router shutdown). Whatever
//! way a session ends, the realm forgets it and everything it owned.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use wamp_proto::msg;

use tokio::sync::watch;
use wamp_proto::transport::{Alarm, Congestion, Connection, Route, TransportKind};
use wamp_proto::{
    error_uri, id, meta_uri, Dict, HelloDetails, Id, IdSequence, Message, MessageType, Value, WelcomeDetails,
};

use crate::auth::config::Action;
use crate::auth::{self, Failure, Identity};
use crate::authorize::{self, Verdict};
use crate::realm::{Outbound, Realm, SessionEntry};
use crate::RouterInner;

/// How long a session's writer may take to send what is queued when the
/// session ends, before the connection is dropped.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(2);

/// Most messages read ahead while a dynamic authorizer decides on one.
const MAX_BACKLOG: usize = 1024;

/// Queues a closing message (ABORT, GOODBYE) past the high-water mark:
/// the last thing the session sends. The writer has [`CLOSE_SEND_TIMEOUT`]
/// to deliver it with what is queued before it ([`run`]).
fn send_closing(conn: &Connection, msg: Message) {
    let _ = conn.sender.push(msg);
}

/// Serves one connection until its session ends, then lets it deliver
/// its last message ([`linger`]).
pub(crate) async fn run(router: Arc<RouterInner>, mut conn: Connection) {
    serve(router, &mut conn).await;
    // Boxed: only the end of a session needs its state.
    Box::pin(linger(conn)).await;
}

/// The session's life on a connection: opening, message loop, closing.
async fn serve(router: Arc<RouterInner>, conn: &mut Connection) {
    // Boxed: the opening's state (HELLO, authentication, WELCOME) is freed
    // once the session has joined, instead of sizing every joined
    // session's task for its whole life.
    let Some(mut session) = Box::pin(open(&router, conn)).await else {
        return;
    };
    session.serve().await;
    session.realm.leave(session.sid);
    tracing::debug!(session = session.sid, "session left");
}

/// Opens a session: HELLO, authentication, joining the realm, WELCOME.
/// `None` if it did not join (refused, or the peer left first).
async fn open<'c>(router: &Arc<RouterInner>, conn: &'c mut Connection) -> Option<Joined<'c>> {
    let peer = conn.peer.clone().unwrap_or_else(|| conn.kind.to_string());
    let mut shutdown = router.shutdown.subscribe();
    if *shutdown.borrow() {
        return None;
    }
    let first = tokio::select! {
        m = tokio::time::timeout(router.config.hello_timeout, conn.receiver.recv()) => m,
        _ = shutdown.changed() => return None,
    };
    let (realm_name, details) = match first {
        Ok(Some(Message::Hello(hello))) => {
            let msg::Hello { realm, details } = *hello;
            (realm, details)
        }
        Ok(Some(other)) => {
            let msg = format!("expected HELLO, got {}", other.message_type());
            tracing::debug!(%peer, "{msg}");
            send_closing(conn, Message::abort(error_uri::PROTOCOL_VIOLATION, msg));
            return None;
        }
        Ok(None) => {
            abort_if_undecodable(conn);
            return None;
        }
        Err(_) => {
            let msg = "no HELLO received in time";
            send_closing(conn, Message::abort(error_uri::PROTOCOL_VIOLATION, msg));
            return None;
        }
    };
    let Some(realm) = router.realm(&realm_name) else {
        let msg = format!("no realm {realm_name:?} on this router");
        send_closing(conn, Message::abort(error_uri::NO_SUCH_REALM, msg));
        return None;
    };

    let sid = id::random_id();
    let authenticated = tokio::select! {
        // Boxed: its state lives only while authenticating, not in every
        // joined session's task.
        r = Box::pin(auth::authenticate(router, &realm, sid, &details, conn)) => r,
        _ = shutdown.changed() => Err(Failure::Deny {
            reason: error_uri::SYSTEM_SHUTDOWN.into(),
            message: "the router is shutting down".into(),
        }),
    };
    let identity = match authenticated {
        Ok(identity) => identity,
        Err(Failure::Deny { reason, message }) => {
            tracing::debug!(%peer, realm = %realm_name, %reason, "session refused: {message}");
            send_closing(conn, Message::abort(&reason, message));
            return None;
        }
        Err(Failure::Gone) => return None,
    };
    if !realm.has_authorizer(&identity.authrole) {
        // In-process sessions only (sockets say no): the client's messages
        // are routed as it sends them. It cannot send any before WELCOME.
        conn.receiver.bypass(DirectRoute {
            realm: realm.clone(),
            identity: identity.clone(),
            sid,
            unchecked: realm.allows_everything(&identity.authrole),
        });
    }
    // Crossbar.io's spelling too.
    let callee_cancels =
        feature(&details, "callee", "call_canceling") || feature(&details, "callee", "call_cancelling");
    // Crossbar.io's and others' older name too.
    let progressive = |role| {
        feature(&details, role, meta_uri::FEATURE_PROGRESSIVE_CALL_INVOCATIONS)
            || feature(&details, role, "progressive_calls")
    };
    let progressive_invocations = (progressive("caller"), progressive("callee"));
    let revocation = (
        feature(&details, "callee", meta_uri::FEATURE_REGISTRATION_REVOCATION),
        feature(&details, "subscriber", meta_uri::FEATURE_SUBSCRIPTION_REVOCATION),
    );
    // HELLO's details (the client's roles and features) are not needed any
    // more: freed now rather than kept for the whole session.
    drop(details);
    let outbound = Arc::new(Outbound::new(
        conn.sender.clone(),
        router.flow().max_pending_calls,
    ));
    realm.join(SessionEntry {
        id: sid,
        outbound: outbound.clone(),
        authid: identity.authid.clone(),
        authrole: identity.authrole.clone(),
        authmethod: identity.authmethod.as_str(),
        authprovider: identity.authprovider,
        transport: identity.transport.clone(),
        serializer: conn.serializer,
        callee_cancels,
        revocation,
        progressive_invocations,
        invocation_ids: IdSequence::new(),
        testaments: Default::default(),
    });
    let welcome = WelcomeDetails {
        roles: Some(router_roles()),
        realm: Some(realm_name.clone()),
        authid: Some(identity.authid.clone()),
        authrole: Some(identity.authrole.clone()),
        authmethod: Some(identity.authmethod.as_str().into()),
        authprovider: Some(identity.authprovider.into()),
        authextra: identity.authextra.clone(),
        agent: Some(concat!("wamp-rs-router/", env!("CARGO_PKG_VERSION")).into()),
        ..Default::default()
    };
    if conn
        .sender
        .send(Message::from(msg::Welcome {
            session: sid,
            details: welcome,
        }))
        .await
        .is_err()
    {
        realm.leave(sid);
        return None;
    }
    tracing::debug!(
        session = sid,
        realm = %realm_name,
        authid = %identity.authid,
        authrole = %identity.authrole,
        %peer,
        "session joined"
    );

    let limits = router.config.transport.queue_limits();
    Some(Joined {
        sid,
        realm: realm.clone(),
        identity,
        conn,
        outbound,
        shutdown,
        backlog: Backlog::new(MAX_BACKLOG, limits.bytes),
        congestion: Congestion::default(),
        authorizer_timeout: router.config.internal_call_timeout,
    })
}

/// After the connection's receiving end ended because the peer sent
/// something that is no WAMP message, says so with ABORT: the socket may
/// still be writable.
fn abort_if_undecodable(conn: &Connection) {
    if let Some(wamp_proto::transport::TransportError::Decode(e)) = conn.close_reason.get() {
        send_closing(conn, Message::abort(error_uri::PROTOCOL_VIOLATION, e.to_string()));
    }
}

/// Lets a connection whose session ended deliver what is queued (its last
/// message says why it ended) before it goes: the writer sends it and
/// closes, while what the peer still sends is read and dropped. Dropping a
/// socket with unread input would make the kernel reset the connection
/// and discard what was not yet transmitted, the closing message
/// included. A peer that neither reads nor closes in time is cut off, so
/// no writer waits on a socket forever.
async fn linger(conn: Connection) {
    let Connection {
        sender,
        mut receiver,
        closer,
        kind,
        ..
    } = conn;
    let finished = sender.finished();
    drop(sender);
    let drained = async {
        // In-process, nothing is lost by not reading.
        if kind != TransportKind::Local {
            while receiver.recv().await.is_some() {}
        }
    };
    let delivered = async {
        tokio::join!(finished, drained);
    };
    if tokio::time::timeout(CLOSE_SEND_TIMEOUT, delivered).await.is_err() {
        closer.close();
    }
}

/// Whether the message loop goes on.
enum Flow {
    Go,
    Stop,
}

/// Messages read from a held-back session meanwhile, handled in order
/// once it may go on. Past its bound (messages and bytes) reading stops,
/// unless the session owes answers: then it grows up to its hard bound
/// ([`BACKLOG_HARD`]), so that its answers are read whatever precedes them.
struct Backlog {
    messages: VecDeque<Message>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    /// Progressive YIELDs waiting here: while there are any, every answer
    /// to an INVOCATION waits behind them, so none overtakes them.
    progress: usize,
}

/// A YIELD with `progress: true`.
fn is_progressive_yield(msg: &Message) -> bool {
    matches!(msg, Message::Yield(y) if y.options.progress == Some(true))
}

/// How many times its bound, in messages and in bytes, a backlog grows
/// while its session owes answers.
const BACKLOG_HARD: (usize, usize) = (16, 4);

impl Backlog {
    fn new(max_messages: usize, max_bytes: usize) -> Self {
        Backlog {
            messages: VecDeque::new(),
            bytes: 0,
            max_messages: max_messages.max(1),
            max_bytes,
            progress: 0,
        }
    }

    /// Within its bound: reading goes on.
    fn has_room(&self) -> bool {
        self.messages.len() < self.max_messages && self.bytes < self.max_bytes
    }

    /// Within its hard bound: reading goes on while the session owes answers.
    fn below_hard(&self) -> bool {
        self.messages.len() < self.max_messages.saturating_mul(BACKLOG_HARD.0)
            && self.bytes < self.max_bytes.saturating_mul(BACKLOG_HARD.1)
    }

    fn push(&mut self, msg: Message) {
        self.bytes += msg.approx_size();
        self.progress += usize::from(is_progressive_yield(&msg));
        self.messages.push_back(msg);
    }

    fn pop(&mut self) -> Option<Message> {
        let msg = self.messages.pop_front()?;
        self.bytes -= msg.approx_size();
        self.progress -= usize::from(is_progressive_yield(&msg));
        if self.messages.is_empty() && self.messages.capacity() > BACKLOG_KEPT {
            // A burst held back once must not keep its room for the
            // session's whole life.
            self.messages = VecDeque::new();
        }
        Some(msg)
    }

    fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

/// The most room for messages a drained backlog keeps.
const BACKLOG_KEPT: usize = 16;

/// A joined session's message loop.
struct Joined<'c> {
    sid: Id,
    realm: Arc<Realm>,
    identity: Identity,
    conn: &'c mut Connection,
    /// Its entry's way in, with its count of pending calls.
    outbound: Arc<Outbound>,
    shutdown: watch::Receiver<bool>,
    /// Messages read while the session was held back (a dynamic authorizer
    /// deciding on an earlier one, congested receivers, too many pending
    /// calls); handled in order before reading more.
    backlog: Backlog,
    /// The queues its last message congested: nothing new is handled
    /// until they are down to low water.
    congestion: Congestion,
    authorizer_timeout: Duration,
}

/// A message taken in hand ([`Joined::request`]): handled at once, or
/// waiting for the role's dynamic authorizer.
enum Request<'a> {
    Done(Flow),
    Asking(std::pin::Pin<Box<dyn std::future::Future<Output = Flow> + Send + 'a>>),
}

/// Why a session is closed from the router's side.
enum Closing {
    Alarm(Alarm),
    Shutdown,
}

impl Joined<'_> {
    async fn serve(&mut self) {
        loop {
            if let Err(Flow::Stop) = self.hold_back().await {
                return;
            }
            // Not `match self.backlog.pop()`: the popped `Option` would
            // take room in the task for its whole wait on the connection.
            let next = if self.backlog.is_empty() {
                tokio::select! {
                    // The connection first: while it has messages ready,
                    // the other branches are not polled, so nothing is
                    // registered with (and taken off) their `Notify`s for
                    // every message. They are polled whenever the
                    // connection has nothing ready, which a socket's read
                    // does at least once per cooperative budget (128
                    // reads), however fast its peer sends.
                    biased;
                    m = self.conn.receiver.recv() => m,
                    _ = self.conn.closer.closed() => None,
                    alarm = self.conn.sender.alarmed() => return self.close(Closing::Alarm(alarm)),
                    _ = self.shutdown.changed() => return self.close(Closing::Shutdown),
                    // Its GOODBYE is queued and the realm forgot it.
                    _ = self.outbound.killed.notified() => return,
                }
            } else {
                self.backlog.pop()
            };
            let Some(msg) = next else {
                return self.transport_ended();
            };
            let flow = match self.request(msg) {
                Request::Done(flow) => flow,
                Request::Asking(decision) => decision.await,
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    /// Flow control: waits, before anything new of this session's is
    /// handled, until the queues its last message congested and its own
    /// queue are down to low water, and until fewer than the limit of its
    /// calls are pending. Meanwhile its answers still flow
    /// ([`meanwhile`](Self::meanwhile)).
    async fn hold_back(&mut self) -> Result<(), Flow> {
        let flow = self.realm.flow();
        let mut congestion = std::mem::take(&mut self.congestion);
        // A client that sends requests without reading the answers is held
        // back by its own queue.
        let mut own = Congestion::new(flow.stall_timeout);
        own.add_if_congested(self.conn.sender.watch());
        congestion.merge(own);
        // Boxed: waiting is the exception, and its state would otherwise
        // size every idle session's task.
        if !congestion.is_relieved() {
            Box::pin(self.meanwhile(congestion.relieved())).await?;
        }
        if self.outbound.at_call_limit() {
            let outbound = self.outbound.clone();
            Box::pin(self.meanwhile(outbound.calls_below_limit())).await?;
        }
        Ok(())
    }

    fn close(&self, why: Closing) {
        let (reason, message) = match why {
            Closing::Alarm(alarm) => {
                let (messages, bytes) = self.conn.sender.queued();
                tracing::warn!(
                    session = self.sid,
                    authid = %self.identity.authid,
                    messages,
                    bytes,
                    "closing the session: {alarm}"
                );
                let reason = match alarm {
                    Alarm::Stalled => error_uri::CLOSE_STALLED,
                    _ => error_uri::CLOSE_OVERFLOW,
                };
                (reason, format!("the router closed this session: {alarm}"))
            }
            Closing::Shutdown => {
                return send_closing(self.conn, Message::goodbye(error_uri::SYSTEM_SHUTDOWN))
            }
        };
        // Behind whatever is queued; the peer sees it if it reads on.
        let _ = self.conn.sender.push(Message::abort(reason, message));
    }

    fn transport_ended(&self) {
        if let Some(reason) = self.conn.close_reason.get() {
            tracing::debug!(session = self.sid, "connection ended: {reason}");
        }
        abort_if_undecodable(self.conn);
    }

    /// Authorizes a message if it needs it, then handles it.
    fn request(&mut self, msg: Message) -> Request<'_> {
        match static_check(&self.realm, &self.identity, self.sid, &msg) {
            Check::Pass => Request::Done(self.handle(msg)),
            Check::Refuse(error, message) => Request::Done(self.refuse(&msg, error, message)),
            // Boxed, like authentication: rare, and large (the message is
            // kept while the authorizer decides).
            Check::Ask(procedure, action, uri) => {
                Request::Asking(Box::pin(self.ask_then_handle(procedure, action, uri, msg)))
            }
        }
    }

    /// Asks the role's dynamic authorizer about `msg`, then handles or
    /// refuses it.
    async fn ask_then_handle(
        &mut self,
        procedure: String,
        action: Action,
        uri: String,
        msg: Message,
    ) -> Flow {
        match self.ask(&procedure, &msg).await {
            Err(flow) => flow,
            Ok(Ok(true)) => self.handle(msg),
            Ok(Ok(false)) => {
                let message =
                    authorize::denied_message(&self.identity, self.sid, self.realm.name(), action, &uri);
                self.refuse(&msg, error_uri::NOT_AUTHORIZED, message)
            }
            Ok(Err(why)) => self.refuse(&msg, error_uri::AUTHORIZATION_FAILED, why),
        }
    }

    /// Answers `msg` with ERROR `error` (an unacknowledged PUBLISH is
    /// dropped silently: it has no answer).
    fn refuse(&mut self, msg: &Message, error: &str, message: String) -> Flow {
        tracing::debug!(session = self.sid, %error, "{message}");
        let Some(reply) = authorize::refusal(msg, error, message) else {
            return Flow::Go;
        };
        match self.conn.sender.push(reply) {
            Ok(()) => Flow::Go,
            Err(_) => Flow::Stop,
        }
    }

    /// Asks a dynamic authorizer about `msg`, handling the session's
    /// answers meanwhile. `Err` ends the session.
    async fn ask(&mut self, procedure: &str, msg: &Message) -> Result<Result<bool, String>, Flow> {
        let realm = self.realm.clone();
        let identity = self.identity.clone();
        let decision = authorize::ask(
            &realm,
            procedure,
            &identity,
            self.sid,
            msg,
            self.authorizer_timeout,
        );
        self.meanwhile(decision).await
    }

    /// Waits for `until` while the session is held back. Its answers
    /// (YIELD, ERROR for an INVOCATION) are handled at once meanwhile, since
    /// what it waits for may depend on them (an authorizer, a caller that
    /// is also its callee); its other messages are kept in order for later,
    /// up to the backlog's bound, then reading stops. While the session
    /// owes answers, reading never stops, or its answers could be stuck
    /// behind new work that waits for them: the backlog grows to its hard
    /// bound, and new work past that is refused
    /// ([`refuse_busy`](Self::refuse_busy)). `Err` ends the session.
    async fn meanwhile<T>(&mut self, until: impl std::future::Future<Output = T>) -> Result<T, Flow> {
        tokio::pin!(until);
        let outbound = self.outbound.clone();
        let _awaiting = outbound.awaiting_invocations();
        loop {
            let invoked = outbound.invoked.notified();
            tokio::pin!(invoked);
            invoked.as_mut().enable();
            let room = self.backlog.has_room();
            // Past its bound, the backlog grows for answers owed, but not
            // for a stream of progressive results: that callee's
            // connection then pushes back, as a publisher's does.
            let read = room || (outbound.owes_answers() && self.backlog.progress == 0);
            tokio::select! {
                d = &mut until => return Ok(d),
                // It was sent an INVOCATION: read again to take its answer.
                _ = &mut invoked, if !read => {}
                m = self.conn.receiver.recv(), if read => match m {
                    // Answers are taken at once, but a progressive YIELD is
                    // new work for its caller: it waits, and so does every
                    // answer after it.
                    Some(m @ (Message::Yield(msg::Yield { .. }) | Message::Error(msg::Error { request_type: MessageType::Invocation, .. })))
                        if self.backlog.progress == 0 && !is_progressive_yield(&m) =>
                    {
                        if let Flow::Stop = self.handle(m) {
                            return Err(Flow::Stop);
                        }
                    }
                    Some(m) if self.backlog.has_room() => self.backlog.push(m),
                    // Past a full backlog, what ends or shrinks work still counts.
                    Some(m @ (Message::Goodbye(msg::Goodbye { .. }) | Message::Abort(msg::Abort { .. }) | Message::Cancel(msg::Cancel { .. }))) => {
                        if let Flow::Stop = self.handle(m) {
                            return Err(Flow::Stop);
                        }
                    }
                    // Read only because it owes answers (see above).
                    Some(m) if self.backlog.below_hard() => self.backlog.push(m),
                    Some(m) => {
                        if let Flow::Stop = self.refuse_busy(m) {
                            return Err(Flow::Stop);
                        }
                    }
                    None => {
                        self.transport_ended();
                        return Err(Flow::Stop);
                    }
                },
                _ = self.conn.closer.closed() => return Err(Flow::Stop),
                _ = outbound.killed.notified() => return Err(Flow::Stop),
                alarm = self.conn.sender.alarmed() => {
                    self.close(Closing::Alarm(alarm));
                    return Err(Flow::Stop);
                }
                _ = self.shutdown.changed() => {
                    self.close(Closing::Shutdown);
                    return Err(Flow::Stop);
                }
            }
        }
    }

    /// Refuses new work that arrives while the session is held back, owes
    /// answers and has its backlog at the hard bound (see
    /// [`meanwhile`](Self::meanwhile)): a request gets ERROR
    /// `wamp.error.unavailable`; an unacknowledged PUBLISH, which has no
    /// answer to carry a refusal, ends the session with
    /// `wamp.close.overflow` rather than be lost without a word.
    fn refuse_busy(&mut self, msg: Message) -> Flow {
        let message = "the router is holding this session back (its receivers are congested or \
                       it has too many calls pending) and has no room for more: try again"
            .to_owned();
        let reply = match &msg {
            Message::Unsubscribe(msg::Unsubscribe { request, .. }) => {
                Some((MessageType::Unsubscribe, *request))
            }
            Message::Unregister(msg::Unregister { request, .. }) => Some((MessageType::Unregister, *request)),
            _ => None,
        }
        .map(|(ty, request)| {
            Message::error(
                ty,
                request,
                error_uri::UNAVAILABLE,
                vec![Value::Str(message.clone())],
                Dict::new(),
            )
        })
        .or_else(|| authorize::refusal(&msg, error_uri::UNAVAILABLE, message));
        match reply {
            Some(reply) => match self.conn.sender.push(reply) {
                Ok(()) => Flow::Go,
                Err(_) => Flow::Stop,
            },
            None => {
                tracing::warn!(
                    session = self.sid,
                    authid = %self.identity.authid,
                    "closing the session: {} while it is held back, owes answers and its backlog is full",
                    msg.message_type()
                );
                send_closing(
                    self.conn,
                    Message::abort(
                        error_uri::CLOSE_OVERFLOW,
                        format!(
                            "the router closed this session: it sent new work ({}) faster than its receivers \
                             take it while owing answers, past the router's backlog",
                            msg.message_type()
                        ),
                    ),
                );
                Flow::Stop
            }
        }
    }

    fn handle(&mut self, msg: Message) -> Flow {
        match msg {
            Message::Goodbye(msg::Goodbye { .. }) => {
                // Forget the session before answering: once the peer has our
                // GOODBYE, nothing may still be routed to it (a call right
                // after its leave() must find no registration of it).
                self.realm.leave(self.sid);
                send_closing(self.conn, Message::goodbye(error_uri::GOODBYE_AND_OUT));
                Flow::Stop
            }
            Message::Abort(msg::Abort { .. }) => Flow::Stop,
            m => match self.realm.handle(self.sid, m) {
                Ok(congestion) => {
                    self.congestion.merge(congestion);
                    Flow::Go
                }
                Err(v) => {
                    tracing::debug!(session = self.sid, "protocol violation: {}", v.0);
                    send_closing(self.conn, Message::abort(error_uri::PROTOCOL_VIOLATION, v.0));
                    Flow::Stop
                }
            },
        }
    }
}

/// What the realm's static configuration says about a message.
enum Check {
    /// No authorization needed, or allowed.
    Pass,
    /// Refused: the ERROR's URI and message.
    Refuse(&'static str, String),
    /// The role's dynamic authorizer must decide: its procedure, and the
    /// action and URI asked about.
    Ask(String, Action, String),
}

fn static_check(realm: &Realm, identity: &Identity, sid: Id, msg: &Message) -> Check {
    let Some((action, uri)) = authorize::target(msg) else {
        return Check::Pass;
    };
    match realm.check(&identity.authrole, action, uri) {
        Verdict::Allow => Check::Pass,
        Verdict::Deny => Check::Refuse(
            error_uri::NOT_AUTHORIZED,
            authorize::denied_message(identity, sid, realm.name(), action, uri),
        ),
        Verdict::Ask(procedure) => Check::Ask(procedure, action, uri.to_owned()),
    }
}

/// Routes an in-process session's messages in the session's own task, as
/// they are sent ([`wamp_proto::transport::Receiver::bypass`]): no hand-off
/// to this router task and back per message. Installed only for roles
/// without a dynamic authorizer, whose checks are synchronous; GOODBYE,
/// ABORT and anything unexpected still come through the queue, in order
/// after everything routed before them.
struct DirectRoute {
    realm: Arc<Realm>,
    identity: Identity,
    sid: Id,
    /// The role may do anything (an open realm): nothing to check.
    unchecked: bool,
}

impl Route for DirectRoute {
    fn route(&self, msg: Message) -> Result<Congestion, Message> {
        let answer = matches!(
            msg,
            Message::Yield(msg::Yield { .. })
                | Message::Error(msg::Error {
                    request_type: MessageType::Invocation,
                    ..
                })
        );
        let routable = answer
            || matches!(
                msg,
                Message::Publish(_)
                    | Message::Subscribe(msg::Subscribe { .. })
                    | Message::Unsubscribe(msg::Unsubscribe { .. })
                    | Message::Call(_)
                    | Message::Cancel(msg::Cancel { .. })
                    | Message::Register(msg::Register { .. })
                    | Message::Unregister(msg::Unregister { .. })
            );
        if !routable {
            return Err(msg);
        }
        // What this message congested, without the client's own incoming
        // queue: an in-process client never waits on it (see
        // `Realm::handle_joined`).
        let congestion = if self.unchecked {
            self.realm.handle_joined(self.sid, msg)?
        } else {
            match static_check(&self.realm, &self.identity, self.sid, &msg) {
                Check::Pass => self.realm.handle_joined(self.sid, msg)?,
                Check::Refuse(error, message) => {
                    tracing::debug!(session = self.sid, %error, "{message}");
                    // An unacknowledged PUBLISH is dropped silently.
                    if let Some(reply) = authorize::refusal(&msg, error, message) {
                        self.realm.send_to_joined(self.sid, reply).map_err(|_| msg)?;
                    }
                    Congestion::new(self.realm.flow().stall_timeout)
                }
                Check::Ask(..) => return Err(msg),
            }
        };
        Ok(congestion)
    }
}

/// Whether HELLO announces `role.features.name = true`.
fn feature(details: &HelloDetails, role: &str, name: &str) -> bool {
    let Some(roles) = &details.roles else { return false };
    roles
        .get(role)
        .and_then(Value::as_dict)
        .and_then(|r| r.get("features"))
        .and_then(Value::as_dict)
        .and_then(|f| f.get(name))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The roles and features the router announces in WELCOME.
fn router_roles() -> Dict {
    let features = |names: &[&str]| {
        let f: Dict = names
            .iter()
            .map(|n| ((*n).to_owned(), Value::Bool(true)))
            .collect();
        let mut role = Dict::new();
        role.insert("features".into(), Value::Dict(f));
        Value::Dict(role)
    };
    let mut roles = Dict::new();
    roles.insert(
        "broker".into(),
        features(&[
            "publisher_identification",
            "publisher_exclusion",
            "subscriber_blackwhite_listing",
            "pattern_based_subscription",
            meta_uri::FEATURE_SESSION,
            meta_uri::FEATURE_SUBSCRIPTION,
            meta_uri::FEATURE_SUBSCRIPTION_REVOCATION,
            "event_retention",
            meta_uri::FEATURE_EVENT_HISTORY,
        ]),
    );
    roles.insert(
        "dealer".into(),
        features(&[
            "caller_identification",
            "pattern_based_registration",
            "shared_registration",
            "progressive_call_results",
            "call_canceling",
            "call_timeout",
            meta_uri::FEATURE_SESSION,
            meta_uri::FEATURE_REGISTRATION,
            meta_uri::FEATURE_REGISTRATION_REVOCATION,
            meta_uri::FEATURE_TESTAMENT,
            meta_uri::FEATURE_PROGRESSIVE_CALL_INVOCATIONS,
        ]),
    );
    roles
}
