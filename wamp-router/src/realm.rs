//! A realm: the sessions joined to it, its broker and its dealer, behind one
//! lock. The lock is never held across an `.await`: handlers mutate state and
//! hand messages to the sessions' bounded queues with `try_send`. The
//! realm's authentication and roles are fixed when it is created.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use wamp_proto::msg;

use tokio::sync::{oneshot, Notify};
use wamp_proto::transport::{Congestion, Outgoing, Sender, SharedMessage, TrySendError};
use wamp_proto::{
    error_uri, meta_uri, Dict, Id, IdMap, IdSequence, List, Message, MessageType, Serializer, Value,
};

use crate::auth::config::{Action, RealmConfig};
use crate::authorize::{CompiledRole, Verdict};
use crate::broker::Broker;
use crate::dealer::{Dealer, InternalError, InternalOutcome};

/// The router's flow-control settings, as every realm applies them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowLimits {
    /// How long a congested queue may make no progress before its session
    /// is closed.
    pub stall_timeout: Duration,
    /// Most calls a session may have waiting for an answer; beyond, the
    /// router reads nothing new from it until one is answered.
    pub max_pending_calls: usize,
}

/// A protocol violation by a peer: its session is aborted with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

/// What the router knows of a joined session.
#[derive(Debug)]
pub(crate) struct SessionEntry {
    pub id: Id,
    /// Where its messages go; shared with its task and with messages held
    /// back for it.
    pub outbound: Arc<Outbound>,
    pub authid: String,
    pub authrole: String,
    /// How it authenticated, and who checked (`static`, `dynamic`): for
    /// the meta API.
    pub authmethod: &'static str,
    pub authprovider: &'static str,
    /// `type` and `peer` of its transport, as the meta API shows them.
    pub transport: Arc<crate::auth::TransportInfo>,
    /// The serializer its messages are encoded in, `None` in-process (it
    /// takes every value as it is). Payloads are checked against it where
    /// the router transcodes (see `transcode`).
    pub serializer: Option<Serializer>,
    /// The callee announced `call_canceling`, so it understands INTERRUPT.
    pub callee_cancels: bool,
    /// It announced `registration_revocation` (callee) and
    /// `subscription_revocation` (subscriber): it understands UNREGISTERED
    /// and UNSUBSCRIBED with request 0.
    pub revocation: (bool, bool),
    /// It announced `progressive_call_invocations` as caller, as callee.
    pub progressive_invocations: (bool, bool),
    /// Request IDs of INVOCATIONs sent to this session.
    pub invocation_ids: IdSequence,
    /// Events to publish when it goes (`wamp.session.add_testament`).
    pub testaments: crate::meta::Testaments,
}

/// The sessions joined to a realm, by session ID.
pub(crate) type Sessions = IdMap<Id, SessionEntry>;

/// How to reach a joined session.
#[derive(Debug)]
pub(crate) struct Outbound {
    /// Its queue; the queue's alarms tell its task to close it.
    pub tx: Sender,
    /// Calls it made that wait for an answer (counted by the dealer).
    pub calls: AtomicUsize,
    /// The router's limit of pending calls per session.
    max_calls: usize,
    /// Woken when one of its calls is answered while it is at the limit.
    pub call_answered: Notify,
    /// INVOCATIONs sent to it that wait for its answer.
    pub owed: AtomicUsize,
    /// Woken when it comes to owe an answer, while its task may wait for
    /// that ([`awaiting_invocations`](Self::awaiting_invocations)).
    pub invoked: Notify,
    /// Whether its task may be waiting for `invoked`: only then does an
    /// invocation take `invoked`'s lock to wake it.
    awaiting: AtomicBool,
    /// Told once the meta API killed it: the realm forgot it already and
    /// its GOODBYE is queued, its task only has to stop.
    pub killed: Notify,
}

impl Outbound {
    pub fn new(tx: Sender, max_calls: usize) -> Self {
        Outbound {
            tx,
            calls: AtomicUsize::new(0),
            max_calls,
            call_answered: Notify::new(),
            owed: AtomicUsize::new(0),
            invoked: Notify::new(),
            awaiting: AtomicBool::new(false),
            killed: Notify::new(),
        }
    }

    /// Counts a call of this session's in.
    pub fn call_started(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a call of this session's out; wakes its task if that brings
    /// it below the limit (the only time it may be waiting for this).
    pub fn call_ended(&self) {
        if self.calls.fetch_sub(1, Ordering::SeqCst) >= self.max_calls {
            self.call_answered.notify_waiters();
        }
    }

    /// Whether it has as many calls pending as it may.
    pub fn at_call_limit(&self) -> bool {
        self.calls.load(Ordering::SeqCst) >= self.max_calls
    }

    /// Waits until fewer than the limit of its calls are pending.
    pub async fn calls_below_limit(&self) {
        loop {
            let answered = self.call_answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            if !self.at_call_limit() {
                return;
            }
            answered.await;
        }
    }

    /// Counts an invocation it must answer in; wakes its task when it
    /// starts to owe answers (the only time it may be waiting for this)
    /// and it may be waiting.
    pub fn invocation_started(&self) {
        // Both sides sequentially consistent: either this sees the flag
        // set, or the task, which reads the count after setting it, sees
        // the count raised and does not wait.
        if self.owed.fetch_add(1, Ordering::SeqCst) == 0 && self.awaiting.load(Ordering::SeqCst) {
            self.invoked.notify_waiters();
        }
    }

    /// Says that its task may wait for `invoked` until the guard is
    /// dropped. Take it before reading [`owes_answers`](Self::owes_answers),
    /// and enable each `Notified` before that read too: a wake-up it
    /// misses then came after the count it reads.
    pub fn awaiting_invocations(&self) -> AwaitingInvocations<'_> {
        self.awaiting.store(true, Ordering::SeqCst);
        AwaitingInvocations(self)
    }

    /// Counts an invocation it must answer out.
    pub fn invocation_ended(&self) {
        self.owed.fetch_sub(1, Ordering::SeqCst);
    }

    /// Whether it owes answers to INVOCATIONs.
    pub fn owes_answers(&self) -> bool {
        self.owed.load(Ordering::SeqCst) > 0
    }
}

/// While alive, invocations of its session wake its task
/// ([`Outbound::awaiting_invocations`]).
pub(crate) struct AwaitingInvocations<'a>(&'a Outbound);

impl Drop for AwaitingInvocations<'_> {
    fn drop(&mut self) {
        self.0.awaiting.store(false, Ordering::SeqCst);
    }
}

/// The mutable state of a realm.
#[derive(Debug, Default)]
pub(crate) struct RealmState {
    pub sessions: Sessions,
    pub broker: Broker,
    pub dealer: Dealer,
}

/// Sends a message to a joined session without waiting, past its queue's
/// high-water mark if need be: what the router routes and owes is never
/// dropped. Who sent new work (an EVENT, an INVOCATION) to a congested
/// session is held back instead ([`pressure`]); only a queue at its hard
/// limit refuses, and its session is then closed.
///
/// An INVOCATION or INTERRUPT for a session with a
/// [`Route`](wamp_proto::transport::Route) (an in-process client that takes
/// its messages as they are sent) is held back until the realm's lock is
/// released ([`RealmGuard`]): the route runs that client's handler, which
/// answers into this realm at once. Other messages only complete the
/// client's own state (the `Route` contract), so they are handed over now.
pub(crate) fn send_to(sessions: &Sessions, sid: Id, msg: impl Deliver) {
    if let Some(entry) = sessions.get(&sid) {
        msg.deliver(sid, entry);
    }
}

/// What [`send_to`] sends: a message of the session's own, or one shared
/// by many sessions (always queued).
pub(crate) trait Deliver {
    fn deliver(self, sid: Id, entry: &SessionEntry);
}

impl Deliver for Message {
    fn deliver(self, sid: Id, entry: &SessionEntry) {
        let outbound = &entry.outbound;
        let answered_at_once = matches!(
            self,
            Message::Invocation(_) | Message::Interrupt(msg::Interrupt { .. })
        );
        if answered_at_once && outbound.tx.is_routed() {
            outbox::hold(Held {
                sid,
                outbound: outbound.clone(),
                msg: Box::new(self),
            });
        } else {
            let new_work = is_new_work(&self);
            settle(sid, outbound, outbound.tx.push(self), new_work);
        }
    }
}

impl Deliver for SharedMessage {
    fn deliver(self, sid: Id, entry: &SessionEntry) {
        let outbound = &entry.outbound;
        settle(sid, outbound, outbound.tx.push_shared(self), true);
    }
}

/// Whether a client's message makes the router send new work (EVENTs,
/// an INVOCATION, a progressive RESULT): only then can it congest anyone
/// ([`pressure`]).
fn gives_new_work(msg: &Message) -> bool {
    match msg {
        Message::Publish(_) | Message::Call(_) => true,
        Message::Yield(y) => y.options.progress == Some(true),
        _ => false,
    }
}

/// Whether a message gives its receiver new work (rather than answering
/// it): the kind whose sender is held back while the receiver is congested.
/// A progressive RESULT counts: a callee may stream any number of them,
/// and only the final one is an answer owed.
fn is_new_work(msg: &Message) -> bool {
    match msg {
        Message::Event(_) | Message::Invocation(_) => true,
        Message::Result(r) => r.details.progress == Some(true),
        _ => false,
    }
}

/// Notes a congested receiver of new work for the sender to wait on, or
/// logs a message refused at the hard limit (the queue's alarm then
/// closes its session).
fn settle(sid: Id, outbound: &Outbound, sent: Result<(), TrySendError<Outgoing>>, new_work: bool) {
    match sent {
        Ok(()) => {
            if new_work && outbound.tx.is_congested() {
                pressure::note(&outbound.tx);
            }
        }
        Err(TrySendError::Full(msg)) => {
            let (messages, bytes) = outbound.tx.queued();
            tracing::warn!(
                session = sid,
                messages,
                bytes,
                "outgoing queue at its hard limit: dropping {} and closing the session",
                msg.message_type()
            );
        }
        Err(TrySendError::Closed(_)) => {}
    }
}

/// Who is congested by what the session being handled on this thread
/// sends: collected while the realm routes one message of it
/// ([`Realm::handle`]), so that its task (or, in-process, its sender)
/// waits for them before it sends more.
mod pressure {
    use std::cell::RefCell;

    use wamp_proto::transport::{Congestion, Sender};

    thread_local! {
        static NOTED: RefCell<Option<Congestion>> = const { RefCell::new(None) };
    }

    /// Collects what `f` congests (nested collections are kept apart).
    pub(super) fn collect<T>(stall: std::time::Duration, f: impl FnOnce() -> T) -> (T, Congestion) {
        let outer = NOTED.with(|n| n.borrow_mut().replace(Congestion::new(stall)));
        let out = f();
        let noted = NOTED.with(|n| std::mem::replace(&mut *n.borrow_mut(), outer));
        (out, noted.unwrap_or_default())
    }

    /// Notes a congested queue, if a collection is going on.
    pub(super) fn note(tx: &Sender) {
        NOTED.with(|n| {
            if let Some(c) = n.borrow_mut().as_mut() {
                c.add_if_congested(tx.watch());
            }
        });
    }
}

/// A message held back by [`send_to`] until the realm is unlocked (boxed:
/// it is moved in and out of the outbox, a pointer moves cheaper than a
/// message).
struct Held {
    sid: Id,
    outbound: Arc<Outbound>,
    msg: Box<Message>,
}

/// Messages held back while a realm is locked, per thread, delivered in
/// order when the outermost [`RealmGuard`] of the thread is released.
/// Delivering one may lock a realm again (a client's handler answering at
/// once); what that holds back joins the end of the same list, so the
/// stack stays flat however long the chain of calls.
mod outbox {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::{settle, Held};

    #[derive(Default)]
    struct Outbox {
        held: VecDeque<Held>,
        delivering: bool,
    }

    thread_local! {
        static OUTBOX: RefCell<Outbox> = RefCell::default();
    }

    pub(super) fn hold(h: Held) {
        OUTBOX.with(|o| o.borrow_mut().held.push_back(h));
    }

    /// Delivers everything held, unless an outer call on this thread is
    /// already doing so (it will deliver these too).
    pub(super) fn deliver() {
        let start = OUTBOX.with(|o| {
            let mut o = o.borrow_mut();
            let start = !o.delivering && !o.held.is_empty();
            o.delivering |= start;
            start
        });
        if !start {
            return;
        }
        // Reset even if a route panics, or this thread would hold messages forever.
        struct Done;
        impl Drop for Done {
            fn drop(&mut self) {
                OUTBOX.with(|o| o.borrow_mut().delivering = false);
            }
        }
        let _done = Done;
        while let Some(h) = OUTBOX.with(|o| o.borrow_mut().held.pop_front()) {
            let new_work = super::is_new_work(&h.msg);
            settle(h.sid, &h.outbound, h.outbound.tx.push(*h.msg), new_work);
        }
    }
}

/// The realm's state, locked. When released, the messages [`send_to`] held
/// back meanwhile are delivered (after the unlock).
pub(crate) struct RealmGuard<'a> {
    /// `None` only inside `drop`, once unlocked.
    state: Option<MutexGuard<'a, RealmState>>,
}

impl std::ops::Deref for RealmGuard<'_> {
    type Target = RealmState;
    fn deref(&self) -> &RealmState {
        self.state.as_ref().expect("locked until dropped")
    }
}

impl std::ops::DerefMut for RealmGuard<'_> {
    fn deref_mut(&mut self) -> &mut RealmState {
        self.state.as_mut().expect("locked until dropped")
    }
}

impl Drop for RealmGuard<'_> {
    fn drop(&mut self) {
        drop(self.state.take()); // unlock first: delivering may lock again
        outbox::deliver();
    }
}

/// Sends an ERROR answering `request` of `request_type`.
pub(crate) fn send_error(
    sessions: &Sessions,
    sid: Id,
    request_type: MessageType,
    request: Id,
    error: &str,
    message: impl Into<String>,
) {
    let args = vec![Value::Str(message.into())];
    send_to(
        sessions,
        sid,
        Message::error(request_type, request, error, args, Dict::new()),
    );
}

/// Removes a session from the realm with everything it owned. When
/// `announce`, its testaments are published first (detached, then
/// destroyed); the meta events of what goes (registrations, subscriptions,
/// then the session itself when `announce`) go to whoever listens. Gives
/// back its entry, or `None` when it was gone already.
pub(crate) fn remove_session(st: &mut RealmState, sid: Id, announce: bool) -> Option<SessionEntry> {
    let RealmState {
        sessions,
        broker,
        dealer,
    } = st;
    let testaments = std::mem::take(&mut sessions.get_mut(&sid)?.testaments);
    if announce {
        // Published as the session's own, while its identity is known
        // (disclosure, exclusion lists), before anything of it goes.
        for publish in testaments.into_publishes() {
            broker.publish(sessions, sid, publish);
        }
    }
    broker.remove_session(sessions, sid);
    dealer.remove_session(sessions, broker, sid);
    let entry = sessions.remove(&sid)?;
    if announce {
        broker.publish_meta(sessions, meta_uri::SESSION_ON_LEAVE, || {
            vec![
                Value::UInt(sid),
                Value::Str(entry.authid.clone()),
                Value::Str(entry.authrole.clone()),
            ]
        });
    }
    Some(entry)
}

/// A realm of the router.
#[derive(Debug)]
pub struct Realm {
    name: String,
    config: RealmConfig,
    flow: FlowLimits,
    roles: HashMap<String, CompiledRole>,
    state: Mutex<RealmState>,
}

impl Realm {
    pub(crate) fn new(config: RealmConfig, flow: FlowLimits, history: &[crate::EventHistory]) -> Arc<Realm> {
        let roles = config
            .roles
            .iter()
            .map(|r| (r.name.clone(), CompiledRole::new(r)))
            .collect();
        Arc::new(Realm {
            name: config.name.clone(),
            config,
            flow,
            roles,
            state: Mutex::new(RealmState {
                broker: Broker::with_history(history),
                ..Default::default()
            }),
        })
    }

    /// The router's flow-control limits.
    pub(crate) fn flow(&self) -> FlowLimits {
        self.flow
    }

    /// The realm's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The realm's authentication methods and roles.
    pub fn config(&self) -> &RealmConfig {
        &self.config
    }

    /// Whether the realm has a role of this name.
    pub(crate) fn has_role(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// Whether `role` has a dynamic authorizer (asked for every action).
    pub(crate) fn has_authorizer(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(CompiledRole::has_authorizer)
    }

    /// Whether `role` may do anything at all, unchecked.
    pub(crate) fn allows_everything(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(CompiledRole::allows_everything)
    }

    /// What `role`'s static configuration says about an action; an unknown
    /// role may do nothing.
    pub(crate) fn check(&self, role: &str, action: Action, uri: &str) -> Verdict {
        match self.roles.get(role) {
            Some(r) => r.check(action, uri),
            None => Verdict::Deny,
        }
    }

    /// Calls a procedure of this realm as the router (no caller session),
    /// waiting at most `timeout` for the answer.
    pub(crate) async fn call(
        self: &Arc<Self>,
        procedure: &str,
        args: List,
        kwargs: Dict,
        timeout: Duration,
    ) -> InternalOutcome {
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.lock();
            let RealmState { sessions, dealer, .. } = &mut *st;
            let call = msg::Call {
                request: 0, // the dealer assigns one
                options: wamp_proto::CallOptions {
                    timeout: Some(timeout.as_millis().clamp(1, u64::MAX as u128) as u64),
                    ..Default::default()
                },
                procedure: procedure.to_owned(),
                payload: wamp_proto::Payload::new(args, kwargs),
            };
            dealer.call_internal(self, sessions, call, tx);
        }
        // The dealer always answers (result, error, timeout, callee gone);
        // a dropped sender would mean the realm itself went away.
        rx.await.unwrap_or_else(|_| {
            Err(InternalError {
                error: error_uri::CANCELED.into(),
                args: vec![Value::Str("the realm went away".into())],
                kwargs: Dict::new(),
            })
        })
    }

    /// How many sessions are joined.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    pub(crate) fn lock(&self) -> RealmGuard<'_> {
        // A panic while holding the lock would be a router bug; the state is
        // still consistent per message, so keep serving.
        RealmGuard {
            state: Some(self.state.lock().unwrap_or_else(|p| p.into_inner())),
        }
    }

    /// Adds a session; its `wamp.session.on_join` goes to whoever listens.
    pub(crate) fn join(&self, entry: SessionEntry) {
        let mut st = self.lock();
        let sid = entry.id;
        st.sessions.insert(sid, entry);
        let RealmState { sessions, broker, .. } = &*st;
        broker.publish_meta(sessions, meta_uri::SESSION_ON_JOIN, || {
            vec![Value::Dict(crate::meta::session_details(&sessions[&sid]))]
        });
    }

    /// Removes a session and everything it owned: registrations,
    /// subscriptions, and calls in flight to or from it. Nothing happens
    /// for a session already gone (killed through the meta API).
    pub(crate) fn leave(&self, sid: Id) {
        remove_session(&mut self.lock(), sid, true);
    }

    /// Handles one message from a joined session; says which sessions'
    /// queues it congested (see [`pressure`]).
    pub(crate) fn handle(self: &Arc<Self>, sid: Id, msg: Message) -> Result<Congestion, Violation> {
        if !gives_new_work(&msg) {
            return Self::dispatch(self, &mut self.lock(), sid, msg).map(|()| Congestion::default());
        }
        let (handled, congestion) = pressure::collect(self.flow.stall_timeout, || {
            let mut st = self.lock();
            Self::dispatch(self, &mut st, sid, msg)
            // Unlocked here: what the outbox delivers counts too.
        });
        handled.map(|()| congestion)
    }

    /// Handles a message of a session routed directly (in-process), if the
    /// session is still joined; otherwise gives it back. Only messages that
    /// [`dispatch`](Self::dispatch) accepts may come here.
    pub(crate) fn handle_joined(self: &Arc<Self>, sid: Id, msg: Message) -> Result<Congestion, Message> {
        let dispatch = |msg| self.dispatch_joined(sid, msg);
        if !gives_new_work(&msg) {
            return dispatch(msg).map(|()| Congestion::default());
        }
        let (handled, mut congestion) = pressure::collect(self.flow.stall_timeout, || dispatch(msg));
        if !congestion.is_empty() {
            // An in-process client must not wait for its own incoming queue:
            // the task that sends is often the one its reader feeds (a caller
            // that reads a callee's progressive results only once its CALL
            // is sent), and it would wait on itself.
            if let Some(entry) = self.lock().sessions.get(&sid) {
                congestion.remove(entry.outbound.tx.watch());
            }
        }
        handled.map(|()| congestion)
    }

    /// [`handle_joined`](Self::handle_joined)'s dispatch under the realm's
    /// lock.
    #[inline(always)]
    fn dispatch_joined(self: &Arc<Self>, sid: Id, msg: Message) -> Result<(), Message> {
        let mut st = self.lock();
        if !st.sessions.contains_key(&sid) {
            return Err(msg);
        }
        if let Message::Call(m) = &msg {
            if st.dealer.precheck(&st.sessions, sid, m).is_err() {
                // Through the session's task, which aborts it.
                return Err(msg);
            }
        }
        Self::dispatch(self, &mut st, sid, msg).map_err(|v| {
            // Unreachable for the messages a direct route takes.
            tracing::error!(session = sid, "direct route took a message it may not: {}", v.0);
            Message::abort(error_uri::PROTOCOL_VIOLATION, v.0)
        })
    }

    /// Queues a message to a joined session; gives it back if the session
    /// is gone.
    pub(crate) fn send_to_joined(&self, sid: Id, msg: Message) -> Result<(), Message> {
        let st = self.lock();
        if !st.sessions.contains_key(&sid) {
            return Err(msg);
        }
        send_to(&st.sessions, sid, msg);
        Ok(())
    }

    fn dispatch(self: &Arc<Self>, st: &mut RealmState, sid: Id, msg: Message) -> Result<(), Violation> {
        if !st.sessions.contains_key(&sid) {
            // Killed through the meta API while this was read: nothing it
            // sends may leave state behind (a registration nobody removes).
            return Ok(());
        }
        if let Message::Call(m) = msg {
            // The spec: protocol errors abort the session.
            st.dealer.precheck(&st.sessions, sid, &m)?;
            return match crate::meta::procedure(&m.procedure) {
                Some(p) => {
                    crate::meta::call(self, st, sid, p, *m);
                    Ok(())
                }
                None => st.dealer.call(self, &st.sessions, sid, *m),
            };
        }
        let RealmState {
            sessions,
            broker,
            dealer,
        } = st;
        match msg {
            Message::Publish(m) => broker.publish(sessions, sid, *m),
            Message::Subscribe(m) => broker.subscribe(sessions, sid, m),
            Message::Unsubscribe(m) => broker.unsubscribe(sessions, sid, m),
            Message::Cancel(m) => dealer.cancel(sessions, sid, m),
            Message::Register(m) => dealer.register(sessions, broker, sid, m),
            Message::Unregister(m) => dealer.unregister(sessions, broker, sid, m),
            Message::Yield(m) => dealer.on_yield(sessions, sid, m),
            Message::Error(m) if m.request_type == MessageType::Invocation => {
                dealer.on_invocation_error(sessions, sid, m)
            }
            other => {
                return Err(Violation(format!(
                    "{} is not a message a client may send in an established session",
                    other.message_type()
                )))
            }
        }
        Ok(())
    }

    /// Called by a call's timer: fails the call if it is still pending.
    pub(crate) fn call_timed_out(&self, caller: Id, request: Id) {
        let mut st = self.lock();
        let RealmState { sessions, dealer, .. } = &mut *st;
        dealer.timeout(sessions, caller, request);
    }
}
