//! One client connection in the router: the HELLO/WELCOME opening (with
//! authentication), the message loop (with authorization), and the closing
//! (GOODBYE, ABORT, transport loss, overflow, router shutdown). Whatever
//! way a session ends, the realm forgets it and everything it owned.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use wamp_proto::transport::{Connection, Route};
use wamp_proto::{
    error_uri, id, Dict, HelloDetails, Id, IdSequence, Message, MessageType, Value, WelcomeDetails,
};

use crate::auth::config::Action;
use crate::auth::{self, Failure, Identity};
use crate::authorize::{self, Verdict};
use crate::realm::{Outbound, Realm, SessionEntry};
use crate::RouterInner;

/// How long the router waits to hand a closing message to a peer's queue.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(2);

/// Most messages read ahead while a dynamic authorizer decides on one.
const MAX_BACKLOG: usize = 1024;

async fn send_closing(conn: &Connection, msg: Message) {
    let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, conn.sender.send(msg)).await;
}

/// Serves one connection until its session ends.
pub(crate) async fn run(router: Arc<RouterInner>, mut conn: Connection) {
    let peer = conn.peer.clone().unwrap_or_else(|| conn.kind.to_string());
    let mut shutdown = router.shutdown.subscribe();
    if *shutdown.borrow() {
        return;
    }
    let first = tokio::select! {
        m = tokio::time::timeout(router.config.hello_timeout, conn.receiver.recv()) => m,
        _ = shutdown.changed() => return,
    };
    let (realm_name, details) = match first {
        Ok(Some(Message::Hello { realm, details })) => (realm, details),
        Ok(Some(other)) => {
            let msg = format!("expected HELLO, got {}", other.message_type());
            tracing::debug!(%peer, "{msg}");
            return send_closing(&conn, Message::abort(error_uri::PROTOCOL_VIOLATION, msg)).await;
        }
        Ok(None) => return,
        Err(_) => {
            let msg = "no HELLO received in time";
            return send_closing(&conn, Message::abort(error_uri::PROTOCOL_VIOLATION, msg)).await;
        }
    };
    let Some(realm) = router.realm(&realm_name) else {
        let msg = format!("no realm {realm_name:?} on this router");
        return send_closing(&conn, Message::abort(error_uri::NO_SUCH_REALM, msg)).await;
    };

    let sid = id::random_id();
    let authenticated = tokio::select! {
        // Boxed: its state lives only while authenticating, not in every
        // joined session's task.
        r = Box::pin(auth::authenticate(&router, &realm, sid, &details, &mut conn)) => r,
        _ = shutdown.changed() => Err(Failure::Deny {
            reason: error_uri::SYSTEM_SHUTDOWN.into(),
            message: "the router is shutting down".into(),
        }),
    };
    let identity = match authenticated {
        Ok(identity) => identity,
        Err(Failure::Deny { reason, message }) => {
            tracing::debug!(%peer, realm = %realm_name, %reason, "session refused: {message}");
            return send_closing(&conn, Message::abort(&reason, message)).await;
        }
        Err(Failure::Gone) => return,
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
    let callee_cancels = feature(&details, "callee", "call_canceling");
    // HELLO's details (the client's roles and features) are not needed any
    // more: freed now rather than kept for the whole session.
    drop(details);
    let outbound = Arc::new(Outbound {
        tx: conn.sender.clone(),
        kill: Notify::new(),
    });
    realm.join(SessionEntry {
        id: sid,
        outbound: outbound.clone(),
        authid: identity.authid.clone(),
        authrole: identity.authrole.clone(),
        serializer: conn.serializer,
        callee_cancels,
        invocation_ids: IdSequence::new(),
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
        .send(Message::Welcome {
            session: sid,
            details: welcome,
        })
        .await
        .is_err()
    {
        realm.leave(sid);
        return;
    }
    tracing::debug!(
        session = sid,
        realm = %realm_name,
        authid = %identity.authid,
        authrole = %identity.authrole,
        %peer,
        "session joined"
    );

    let mut session = Joined {
        sid,
        realm: realm.clone(),
        identity,
        conn,
        outbound,
        shutdown,
        backlog: VecDeque::new(),
        authorizer_timeout: router.config.internal_call_timeout,
    };
    session.serve().await;
    realm.leave(sid);
    tracing::debug!(session = sid, "session left");
}

/// Whether the message loop goes on.
enum Flow {
    Go,
    Stop,
}

/// A joined session's message loop.
struct Joined {
    sid: Id,
    realm: Arc<Realm>,
    identity: Identity,
    conn: Connection,
    /// Its entry's way in; `kill` is signalled when its queue overflows.
    outbound: Arc<Outbound>,
    shutdown: watch::Receiver<bool>,
    /// Messages read while a dynamic authorizer decided on an earlier one;
    /// handled in order before reading more.
    backlog: VecDeque<Message>,
    authorizer_timeout: Duration,
}

impl Joined {
    async fn serve(&mut self) {
        loop {
            let msg = match self.backlog.pop_front() {
                Some(m) => m,
                None => {
                    let next = tokio::select! {
                        m = self.conn.receiver.recv() => m,
                        _ = self.conn.closer.closed() => None,
                        _ = self.outbound.kill.notified() => return self.overflowed().await,
                        _ = self.shutdown.changed() => return self.shut_down().await,
                    };
                    match next {
                        Some(m) => m,
                        None => return self.transport_ended().await,
                    }
                }
            };
            if let Flow::Stop = self.request(msg).await {
                return;
            }
        }
    }

    async fn overflowed(&self) {
        send_closing(
            &self.conn,
            Message::abort(
                error_uri::CLOSE_REALM,
                "session could not keep up with its messages",
            ),
        )
        .await;
    }

    async fn shut_down(&self) {
        send_closing(&self.conn, Message::goodbye(error_uri::SYSTEM_SHUTDOWN)).await;
    }

    async fn transport_ended(&self) {
        if let Some(reason) = self.conn.close_reason.get() {
            tracing::debug!(session = self.sid, "connection ended: {reason}");
            if let wamp_proto::transport::TransportError::Decode(e) = reason {
                // The socket may still be writable: say why we stop.
                send_closing(
                    &self.conn,
                    Message::abort(error_uri::PROTOCOL_VIOLATION, e.to_string()),
                )
                .await;
            }
        }
    }

    /// Authorizes a message if it needs it, then handles it.
    async fn request(&mut self, msg: Message) -> Flow {
        let refusal = match static_check(&self.realm, &self.identity, self.sid, &msg) {
            Check::Pass => None,
            Check::Refuse(error, message) => Some((error, message)),
            // Boxed, like authentication: rare, and large.
            Check::Ask(procedure, action, uri) => match Box::pin(self.ask(&procedure, &msg)).await {
                Err(flow) => return flow,
                Ok(Ok(true)) => None,
                Ok(Ok(false)) => Some((
                    error_uri::NOT_AUTHORIZED,
                    authorize::denied_message(&self.identity, self.sid, self.realm.name(), action, &uri),
                )),
                Ok(Err(why)) => Some((error_uri::AUTHORIZATION_FAILED, why)),
            },
        };
        match refusal {
            None => self.handle(msg).await,
            Some((error, message)) => {
                tracing::debug!(session = self.sid, %error, "{message}");
                let Some(reply) = authorize::refusal(&msg, error, message) else {
                    return Flow::Go; // an unacknowledged PUBLISH is dropped silently
                };
                match self.conn.sender.send(reply).await {
                    Ok(()) => Flow::Go,
                    Err(_) => Flow::Stop,
                }
            }
        }
    }

    /// Asks a dynamic authorizer about `msg`. Meanwhile the session's
    /// answers (YIELD, ERROR for an INVOCATION) are handled at once, since
    /// the authorizer may be waiting for one of them, and its other
    /// messages are kept in order for later. `Err` ends the session.
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
        tokio::pin!(decision);
        loop {
            tokio::select! {
                d = &mut decision => return Ok(d),
                m = self.conn.receiver.recv(), if self.backlog.len() < MAX_BACKLOG => match m {
                    Some(m @ (Message::Yield { .. } | Message::Error { request_type: MessageType::Invocation, .. })) => {
                        if let Flow::Stop = self.handle(m).await {
                            return Err(Flow::Stop);
                        }
                    }
                    Some(m) => self.backlog.push_back(m),
                    None => {
                        self.transport_ended().await;
                        return Err(Flow::Stop);
                    }
                },
                _ = self.conn.closer.closed() => return Err(Flow::Stop),
                _ = self.outbound.kill.notified() => {
                    self.overflowed().await;
                    return Err(Flow::Stop);
                }
                _ = self.shutdown.changed() => {
                    self.shut_down().await;
                    return Err(Flow::Stop);
                }
            }
        }
    }

    async fn handle(&mut self, msg: Message) -> Flow {
        match msg {
            Message::Goodbye { .. } => {
                // Forget the session before answering: once the peer has our
                // GOODBYE, nothing may still be routed to it (a call right
                // after its leave() must find no registration of it).
                self.realm.leave(self.sid);
                send_closing(&self.conn, Message::goodbye(error_uri::GOODBYE_AND_OUT)).await;
                Flow::Stop
            }
            Message::Abort { .. } => Flow::Stop,
            m => match self.realm.handle(self.sid, m) {
                Ok(()) => Flow::Go,
                Err(v) => {
                    tracing::debug!(session = self.sid, "protocol violation: {}", v.0);
                    send_closing(&self.conn, Message::abort(error_uri::PROTOCOL_VIOLATION, v.0)).await;
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
    fn route(&self, msg: Message) -> Result<(), Message> {
        let routable = matches!(
            msg,
            Message::Publish { .. }
                | Message::Subscribe { .. }
                | Message::Unsubscribe { .. }
                | Message::Call { .. }
                | Message::Cancel { .. }
                | Message::Register { .. }
                | Message::Unregister { .. }
                | Message::Yield { .. }
                | Message::Error {
                    request_type: MessageType::Invocation,
                    ..
                }
        );
        if !routable {
            return Err(msg);
        }
        if self.unchecked {
            return self.realm.handle_joined(self.sid, msg);
        }
        match static_check(&self.realm, &self.identity, self.sid, &msg) {
            Check::Pass => self.realm.handle_joined(self.sid, msg),
            Check::Refuse(error, message) => {
                tracing::debug!(session = self.sid, %error, "{message}");
                match authorize::refusal(&msg, error, message) {
                    Some(reply) => self.realm.send_to_joined(self.sid, reply).map_err(|_| msg),
                    None => Ok(()), // an unacknowledged PUBLISH is dropped silently
                }
            }
            Check::Ask(..) => Err(msg),
        }
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
        ]),
    );
    roles
}
