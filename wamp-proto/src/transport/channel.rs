//! The two ends a session holds of a connection: a [`Sender`] of outgoing
//! messages (a bounded queue in front of the transport's writer task) and a
//! [`Receiver`] of incoming ones (for socket transports, the socket itself,
//! read and decoded by whoever awaits [`Receiver::recv`]: no reader task
//! and no second queue between the socket and the session).
//!
//! Outgoing messages are [`Outgoing`]: a [`Message`] of one session's own,
//! or a [`SharedMessage`] that the router hands to many sessions at once (an
//! EVENT to every subscriber of a subscription). A shared message is encoded
//! at most once per serializer, by the first writer that needs those bytes;
//! every other writer sends the same bytes.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::Notify;

use super::{CloseReason, Closer, TransportError};
use crate::message::{Message, MessageType};
use crate::serializer::{EncodeError, Serializer};

pub use tokio::sync::mpsc::error::TrySendError;

/// One message handed to a writer: a message for this connection alone,
/// or a [`SharedMessage`] sent unchanged to many connections (encoded once
/// per serializer).
///
/// Two words wide, so a connection's queue costs little while it is idle
/// and a message moves cheaply between tasks.
#[derive(Debug, Clone)]
pub struct Outgoing(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Own(Box<Message>),
    Shared(SharedMessage),
}

impl Outgoing {
    /// The message's type.
    pub fn message_type(&self) -> MessageType {
        self.message().message_type()
    }

    /// The message.
    pub fn message(&self) -> &Message {
        match &self.0 {
            Repr::Own(m) => m,
            Repr::Shared(s) => s.message(),
        }
    }

    /// The bytes it counts for in a queue's limits.
    fn weight(&self) -> usize {
        match &self.0 {
            Repr::Own(m) => m.approx_size(),
            Repr::Shared(s) => s.0.size,
        }
    }

    /// Whether this is a message shared by many connections.
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared(_))
    }

    /// The message as an owned value (a shared one is cloned unless this was
    /// its last holder).
    pub fn into_message(self) -> Message {
        match self.0 {
            Repr::Own(m) => *m,
            Repr::Shared(s) => s.into_message(),
        }
    }

    /// The encoding of the message: encoded into `scratch` for a message
    /// of its own, or the shared bytes.
    pub fn encoded<'a>(
        &'a self,
        serializer: Serializer,
        scratch: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], EncodeError> {
        match &self.0 {
            Repr::Own(m) => {
                scratch.clear();
                serializer.encode_into(m, scratch)?;
                Ok(scratch)
            }
            Repr::Shared(s) => Ok(s.encoded(serializer)?),
        }
    }

    /// The shared encoding with `serializer` of a shared message, `None`
    /// for a message of its own.
    pub(crate) fn shared_encoding(&self, serializer: Serializer) -> Option<Result<&Bytes, EncodeError>> {
        match &self.0 {
            Repr::Own(_) => None,
            Repr::Shared(s) => Some(s.encoded(serializer)),
        }
    }

    /// The encoding of the message as owned bytes: newly encoded for a
    /// message of its own, the shared bytes (not copied) otherwise.
    pub fn encoded_bytes(&self, serializer: Serializer) -> Result<Bytes, EncodeError> {
        match &self.0 {
            Repr::Own(m) => Ok(Bytes::from(serializer.encode(m)?)),
            Repr::Shared(s) => Ok(s.encoded(serializer)?.clone()),
        }
    }
}

impl From<Message> for Outgoing {
    fn from(m: Message) -> Self {
        Outgoing(Repr::Own(Box::new(m)))
    }
}

impl From<SharedMessage> for Outgoing {
    fn from(m: SharedMessage) -> Self {
        Outgoing(Repr::Shared(m))
    }
}

/// A message shared by many connections (cheap to clone), with its
/// encoding cached per serializer.
///
/// ```
/// use wamp_proto::transport::SharedMessage;
/// use wamp_proto::{Message, Serializer};
/// let event = SharedMessage::new(Message::goodbye("wamp.close.normal"));
/// let a = event.encoded(Serializer::Json).unwrap().clone();
/// let b = event.clone().encoded(Serializer::Json).unwrap().clone();
/// assert_eq!(a.as_ptr(), b.as_ptr()); // encoded once, shared
/// ```
#[derive(Debug, Clone)]
pub struct SharedMessage(Arc<SharedInner>);

#[derive(Debug)]
struct SharedInner {
    message: Message,
    /// [`Message::approx_size`], counted once for every queue it joins.
    size: usize,
    encoded: [OnceLock<Result<Bytes, EncodeError>>; Serializer::ALL.len()],
}

impl SharedMessage {
    /// Wraps a message to be sent to many connections.
    pub fn new(message: Message) -> Self {
        SharedMessage(Arc::new(SharedInner {
            size: message.approx_size(),
            message,
            encoded: Default::default(),
        }))
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.0.message
    }

    /// The message as an owned value: moved out if this is the last
    /// holder, cloned otherwise.
    pub fn into_message(self) -> Message {
        match Arc::try_unwrap(self.0) {
            Ok(inner) => inner.message,
            Err(shared) => shared.message.clone(),
        }
    }

    /// The message's encoding with `serializer`, made by the first caller
    /// and shared by all.
    pub fn encoded(&self, serializer: Serializer) -> Result<&Bytes, EncodeError> {
        self.0.encoded[serializer.index()]
            .get_or_init(|| serializer.encode(&self.0.message).map(Bytes::from))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The connection is closed: nothing more can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct Closed;

/// How much a connection's outgoing queue holds before whoever fills it is
/// held back: its high-water mark, in messages and in bytes
/// ([`Message::approx_size`]), whichever is reached first.
///
/// The policy at each level:
/// - below high water, [`Sender::send`] and [`Sender::try_send`] queue at once;
/// - at or over it, `send` waits and `try_send` says [`TrySendError::Full`];
///   [`Sender::push`] (the router's way of sending, for answers it owes and
///   messages it routes) still queues, and [`Sender::is_congested`] tells
///   the router to hold back the session that caused it;
/// - waiting senders and held-back producers go on once the queue is down
///   to low water, half the high-water mark;
/// - at the hard limit, [`HARD_LIMIT_FACTOR`] times the high-water mark and
///   at least [`HARD_LIMIT_FLOOR`], even `push` refuses and raises
///   [`Alarm::Overflow`]: the last resort that keeps memory bounded
///   whatever the number of producers. The floor leaves room for the
///   answers a router owes past high water (a session's pending calls)
///   even when the high-water mark is small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueLimits {
    /// High water in messages.
    pub messages: usize,
    /// High water in bytes.
    pub bytes: usize,
}

/// How many times the high-water mark a queue holds before it refuses even
/// the router's messages ([`QueueLimits`]).
pub const HARD_LIMIT_FACTOR: usize = 4;

/// The least hard limit of a queue, in messages and in bytes
/// ([`QueueLimits`]).
pub const HARD_LIMIT_FLOOR: (usize, usize) = (4096, 32 * 1024 * 1024);

impl QueueLimits {
    /// Limits of `messages` and `bytes` (each at least 1).
    pub fn new(messages: usize, bytes: usize) -> Self {
        QueueLimits {
            messages: messages.max(1),
            bytes: bytes.max(1),
        }
    }
}

/// Why a queue's owner must end its connection ([`Sender::alarmed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Alarm {
    /// The queue reached its hard limit ([`QueueLimits`]).
    Overflow,
    /// The queue stayed over high water and its consumer took nothing from
    /// it for the stall timeout of a producer waiting on it
    /// ([`Congestion::relieved`]): the peer stopped reading.
    Stalled,
}

impl std::fmt::Display for Alarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Alarm::Overflow => "its outgoing queue reached the hard limit",
            Alarm::Stalled => "it stopped reading: its outgoing queue made no progress",
        })
    }
}

/// One queue, shared by its senders and its consumer (a writer task, or
/// the in-process receiver): the messages in it, and its fill level.
#[derive(Debug)]
struct Gauge {
    /// The messages queued, in order.
    slots: Mutex<Slots>,
    /// How many [`Sender`]s there are: the last one gone ends the queue.
    senders: AtomicUsize,
    messages: AtomicUsize,
    bytes: AtomicUsize,
    limits: QueueLimits,
    /// Messages the consumer took so far: its progress.
    taken: AtomicU64,
    /// Producers waiting for low water ([`Gauge::relieved`]); the consumer
    /// only wakes anyone when there are some.
    waiters: AtomicUsize,
    /// Woken at low water, and when the consumer goes away.
    drained: Notify,
    /// The consumer went away: nothing queued will be taken any more.
    finished: AtomicBool,
    /// The first alarm raised, and its signal to the queue's owner.
    alarm: Mutex<Option<Alarm>>,
    alarmed: Notify,
    /// In-process only: what this sender's routed messages congested,
    /// waited on before its next message.
    deferred: Mutex<Congestion>,
    /// Whether `deferred` holds anything: what a sender checks first.
    has_deferred: AtomicBool,
}

impl Gauge {
    fn new(limits: QueueLimits) -> Arc<Gauge> {
        Arc::new(Gauge {
            slots: Mutex::new(Slots::default()),
            senders: AtomicUsize::new(1),
            messages: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            limits,
            taken: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            drained: Notify::new(),
            finished: AtomicBool::new(false),
            alarm: Mutex::new(None),
            alarmed: Notify::new(),
            deferred: Mutex::new(Congestion::default()),
            has_deferred: AtomicBool::new(false),
        })
    }

    fn level(&self) -> (usize, usize) {
        (self.messages.load(SeqCst), self.bytes.load(SeqCst))
    }

    /// Below high water: a sender may queue.
    fn has_room(&self) -> bool {
        let (m, b) = self.level();
        m < self.limits.messages && b < self.limits.bytes
    }

    /// At or over high water.
    fn is_congested(&self) -> bool {
        !self.has_room() && !self.finished.load(SeqCst)
    }

    /// At the hard limit.
    fn is_full(&self) -> bool {
        let (m, b) = self.level();
        let hard = |high: usize, floor: usize| high.saturating_mul(HARD_LIMIT_FACTOR).max(floor);
        m >= hard(self.limits.messages, HARD_LIMIT_FLOOR.0)
            || b >= hard(self.limits.bytes, HARD_LIMIT_FLOOR.1)
    }

    /// Down to low water, or nobody will take anything any more.
    fn is_relieved(&self) -> bool {
        let (m, b) = self.level();
        (m <= self.limits.messages / 2 && b <= self.limits.bytes / 2) || self.finished.load(SeqCst)
    }

    fn added(&self, weight: usize) {
        self.messages.fetch_add(1, SeqCst);
        self.bytes.fetch_add(weight, SeqCst);
    }

    /// Counts `messages` weighing `bytes` in all out: the consumer took them.
    fn took(&self, messages: usize, bytes: usize) {
        self.messages.fetch_sub(messages, SeqCst);
        self.bytes.fetch_sub(bytes, SeqCst);
        self.taken.fetch_add(messages as u64, Relaxed);
        if self.waiters.load(SeqCst) > 0 && self.is_relieved() {
            self.drained.notify_waiters();
        }
    }

    fn finish(&self) {
        self.finished.store(true, SeqCst);
        self.drained.notify_waiters();
    }

    fn lock_slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn raise(&self, alarm: Alarm) {
        let mut slot = self.alarm.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(alarm);
            self.alarmed.notify_one();
        }
    }

    /// Waits for low water. A consumer that takes nothing for `stall`
    /// meanwhile gets [`Alarm::Stalled`] and is waited on no longer.
    async fn relieved(&self, stall: Duration) {
        loop {
            if self.is_relieved() {
                return;
            }
            let before = self.taken.load(Relaxed);
            self.waiters.fetch_add(1, SeqCst);
            let notified = self.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let waited = if self.is_relieved() {
                Ok(())
            } else {
                tokio::time::timeout(stall, notified).await
            };
            self.waiters.fetch_sub(1, SeqCst);
            if waited.is_err() && self.taken.load(Relaxed) == before && !self.is_relieved() {
                self.raise(Alarm::Stalled);
                return;
            }
        }
    }

    /// Waits until a sender may queue; `Err` once the consumer is gone.
    async fn room(&self) -> Result<(), Closed> {
        loop {
            if self.finished.load(SeqCst) {
                return Err(Closed);
            }
            if self.has_room() {
                return Ok(());
            }
            self.waiters.fetch_add(1, SeqCst);
            let notified = self.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.has_room() && !self.finished.load(SeqCst) {
                notified.await;
            }
            self.waiters.fetch_sub(1, SeqCst);
        }
    }
}

/// The queues a producer's last message filled past high water: the
/// producer should send nothing new until they are down to low water
/// ([`relieved`](Self::relieved)). How the router slows a publisher or a
/// caller to the pace of the consumers it sends to, instead of buffering
/// without bound or closing anyone who reads.
#[derive(Debug, Default)]
pub struct Congestion {
    gauges: Vec<Arc<Gauge>>,
    stall: Duration,
}

impl Congestion {
    /// Nothing congested, with the stall timeout for what will be added.
    pub fn new(stall: Duration) -> Self {
        Congestion {
            gauges: Vec::new(),
            stall,
        }
    }

    /// Whether no queue was congested.
    pub fn is_empty(&self) -> bool {
        self.gauges.is_empty()
    }

    /// Adds a queue if it is over high water now.
    pub fn add_if_congested(&mut self, queue: &QueueWatch) {
        let gauge = &queue.0;
        if gauge.is_congested() && !self.gauges.iter().any(|g| Arc::ptr_eq(g, gauge)) {
            self.gauges.push(gauge.clone());
        }
    }

    /// Leaves `queue` out.
    pub fn remove(&mut self, queue: &QueueWatch) {
        self.gauges.retain(|g| !Arc::ptr_eq(g, &queue.0));
    }

    /// Adds what `other` holds.
    pub fn merge(&mut self, other: Congestion) {
        self.stall = self.stall.max(other.stall);
        for g in other.gauges {
            if !self.gauges.iter().any(|h| Arc::ptr_eq(&g, h)) {
                self.gauges.push(g);
            }
        }
    }

    /// Whether every queue is down to low water (or gone).
    pub fn is_relieved(&self) -> bool {
        self.gauges.iter().all(|g| g.is_relieved())
    }

    /// Waits until every queue is down to low water, or its consumer is
    /// gone. A consumer that takes nothing at all for the stall timeout
    /// is not waited for: its queue raises [`Alarm::Stalled`] for its owner
    /// to close it.
    pub async fn relieved(self) {
        for g in &self.gauges {
            g.relieved(self.stall).await;
        }
    }
}

/// A handle on a queue's fill level ([`Sender::watch`]) that, unlike a
/// [`Sender`], does not keep the connection open.
#[derive(Debug, Clone)]
pub struct QueueWatch(Arc<Gauge>);

impl QueueWatch {
    /// Whether the queue is at or over its high-water mark.
    pub fn is_congested(&self) -> bool {
        self.0.is_congested()
    }
}

/// Takes a peer's messages at once, in the sending task, instead of
/// through the connection's queue: how the embedded router serves an
/// in-process session without a task hand-off per message. See
/// [`Receiver::bypass`].
///
/// The sender may hold its own locks while it hands over a message, so a
/// route must not send back to it from within `route`, except in answer
/// to the messages that ask for one at once (INVOCATION, INTERRUPT), which
/// a sender hands over only when it can take the answer.
pub trait Route: Send + Sync {
    /// Handles `msg` now, or gives it back to be queued as usual (a message
    /// this route does not handle, or one for a session that has ended).
    /// What the message congested is returned: the sender waits for it to
    /// drain before it sends anything more ([`Sender::send`]).
    // The message comes back as it went in: no allocation to box it.
    fn route(&self, msg: Message) -> Result<Congestion, Message>;
}

/// Where an in-process connection's [`Route`] goes once installed; shared
/// by the sending end and the peer's receiving end.
type RouteSlot = Arc<OnceLock<Box<dyn Route>>>;

/// A queued message and the bytes it counts for.
#[derive(Debug)]
struct Item {
    msg: Outgoing,
    weight: usize,
}

/// What a queue holds, under its lock. Each side takes the lock once per
/// message it adds and once per batch it takes: the consumer swaps the
/// whole deque for its own empty one.
#[derive(Debug, Default)]
struct Slots {
    items: VecDeque<Item>,
    /// The consumer's waker, while it waits for a message.
    waker: Option<Waker>,
    /// Every sender is gone: once `items` is taken, nothing more comes.
    senders_gone: bool,
    /// The consumer is gone: nothing is queued any more.
    consumer_gone: bool,
}

/// The sending end of a connection: a queue to its writer, bounded by
/// [`QueueLimits`]. Cheap to clone; dropping every clone closes the
/// connection (the writer flushes what is queued, then closes the socket).
pub struct Sender {
    gauge: QueueWatch,
    /// In-process connections only: the peer's [`Route`], once installed.
    route: Option<RouteSlot>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .field("queued", &self.gauge.0.level())
            .field("routed", &self.route.as_ref().is_some_and(|r| r.get().is_some()))
            .finish()
    }
}

impl Sender {
    /// Queues a message, waiting while the queue is at its high-water mark
    /// (until it is down to low water), or while what this sender's earlier
    /// messages congested drains.
    pub async fn send(&self, msg: Message) -> Result<(), Closed> {
        self.wait_deferred().await;
        match self.route_directly(msg) {
            Ok(congestion) => {
                if !congestion.is_empty() {
                    congestion.relieved().await;
                }
                Ok(())
            }
            Err(msg) => {
                self.gauge.0.room().await?;
                self.enqueue(msg.into()).map_err(|_| Closed)
            }
        }
    }

    /// Queues a message if there is room now (below high water, and
    /// nothing this sender congested earlier is still over it).
    pub fn try_send(&self, msg: Message) -> Result<(), TrySendError<Outgoing>> {
        if self.route.is_some() && !self.deferred_relieved() {
            return Err(TrySendError::Full(msg.into()));
        }
        match self.route_directly(msg) {
            Ok(congestion) => {
                if !congestion.is_empty() {
                    self.lock_deferred().merge(congestion);
                    self.gauge.0.has_deferred.store(true, SeqCst);
                }
                Ok(())
            }
            Err(msg) => {
                if self.is_closed() {
                    Err(TrySendError::Closed(msg.into()))
                } else if self.gauge.0.has_room() {
                    self.enqueue(msg.into())
                } else {
                    Err(TrySendError::Full(msg.into()))
                }
            }
        }
    }

    /// Queues a message whatever the high-water mark, up to the hard limit
    /// ([`QueueLimits`]): how a router sends what it owes (answers) and
    /// what it routes, then asks [`is_congested`](Self::is_congested) whom
    /// to hold back. At the hard limit the message is refused and the
    /// queue raises [`Alarm::Overflow`].
    pub fn push(&self, msg: Message) -> Result<(), TrySendError<Outgoing>> {
        match self.route_directly(msg) {
            // The peer's route took it: a client's routes congest nothing.
            Ok(_) => Ok(()),
            Err(msg) => self.push_outgoing(msg.into()),
        }
    }

    /// [`push`](Self::push) for a message shared with other connections
    /// (always queued: they come from a router).
    pub fn push_shared(&self, msg: SharedMessage) -> Result<(), TrySendError<Outgoing>> {
        self.push_outgoing(msg.into())
    }

    fn push_outgoing(&self, msg: Outgoing) -> Result<(), TrySendError<Outgoing>> {
        if self.gauge.0.is_full() && !self.is_closed() {
            self.gauge.0.raise(Alarm::Overflow);
            return Err(TrySendError::Full(msg));
        }
        self.enqueue(msg)
    }

    fn enqueue(&self, msg: Outgoing) -> Result<(), TrySendError<Outgoing>> {
        let gauge = &self.gauge.0;
        let weight = msg.weight();
        let waker = {
            let mut slots = gauge.lock_slots();
            if slots.consumer_gone {
                return Err(TrySendError::Closed(msg));
            }
            // Counted in before the consumer can take it (it counts out).
            gauge.added(weight);
            slots.items.push_back(Item { msg, weight });
            slots.waker.take()
        };
        if let Some(waker) = waker {
            // Held to the end of a routing task's poll: one wake-up per burst.
            super::wakes::wake(waker);
        }
        Ok(())
    }

    /// Hands `msg` to the peer's [`Route`] if one is installed and takes it.
    fn route_directly(&self, msg: Message) -> Result<Congestion, Message> {
        match self.route.as_ref().and_then(|slot| slot.get()) {
            Some(route) => route.route(msg),
            None => Err(msg),
        }
    }

    fn lock_deferred(&self) -> std::sync::MutexGuard<'_, Congestion> {
        self.gauge.0.deferred.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deferred_relieved(&self) -> bool {
        if !self.gauge.0.has_deferred.load(SeqCst) {
            return true;
        }
        let mut deferred = self.lock_deferred();
        if deferred.is_relieved() {
            deferred.gauges.clear();
            self.gauge.0.has_deferred.store(false, SeqCst);
            true
        } else {
            false
        }
    }

    async fn wait_deferred(&self) {
        if self.route.is_none() || self.deferred_relieved() {
            return;
        }
        let pending = std::mem::take(&mut *self.lock_deferred());
        self.gauge.0.has_deferred.store(false, SeqCst);
        pending.relieved().await;
    }

    /// Whether the queue is at or over its high-water mark.
    pub fn is_congested(&self) -> bool {
        self.gauge.0.is_congested()
    }

    /// A handle on the queue's fill level, for [`Congestion`].
    pub fn watch(&self) -> &QueueWatch {
        &self.gauge
    }

    /// How many messages, and about how many bytes, are queued.
    pub fn queued(&self) -> (usize, usize) {
        self.gauge.0.level()
    }

    /// Resolves with the first [`Alarm`] raised on this queue: the owner
    /// of the connection should then close it.
    pub async fn alarmed(&self) -> Alarm {
        loop {
            if let Some(alarm) = *self.gauge.0.alarm.lock().unwrap_or_else(|p| p.into_inner()) {
                return alarm;
            }
            self.gauge.0.alarmed.notified().await;
        }
    }

    /// Resolves once the queue's consumer is gone (the writer finished or
    /// failed, or the in-process peer dropped its receiver). Holds no
    /// sender, so it does not keep the connection open.
    pub fn finished(&self) -> impl Future<Output = ()> + Send + 'static {
        let gauge = self.gauge.0.clone();
        async move {
            loop {
                let notified = gauge.drained.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if gauge.finished.load(SeqCst) {
                    return;
                }
                notified.await;
            }
        }
    }

    /// Whether the peer installed a [`Route`]: [`send`](Self::send) and
    /// [`try_send`](Self::try_send) may then run the peer's code in the
    /// calling task, so they must not be called while holding a lock that
    /// code could need.
    pub fn is_routed(&self) -> bool {
        self.route.as_ref().is_some_and(|slot| slot.get().is_some())
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.gauge.0.finished.load(SeqCst)
    }

    /// Resolves once the connection is closed.
    pub async fn closed(&self) {
        self.finished().await
    }
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.gauge.0.senders.fetch_add(1, Relaxed);
        Sender {
            gauge: self.gauge.clone(),
            route: self.route.clone(),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let gauge = &self.gauge.0;
        if gauge.senders.fetch_sub(1, SeqCst) != 1 {
            return;
        }
        let waker = {
            let mut slots = gauge.lock_slots();
            slots.senders_gone = true;
            slots.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The consuming end of a queue: what a writer task drains. Taking a
/// message counts it out of the queue's limits.
///
/// It takes what is queued in one go (one lock for a burst) and hands it
/// out one message at a time. A writer's messages are counted out of the
/// queue's level every [`COUNT_EVERY`] messages or [`COUNT_BYTES`] bytes,
/// and whenever it looks at the queue itself (finding the batch empty,
/// [`is_empty`](Self::is_empty), waiting): the level may read a little
/// high for that long, never low. A writer calls `is_empty` before it
/// waits on its socket, and a large message is counted out as it is
/// taken, so a stalled peer is told from a slow one as before. The
/// in-process receiver, whose session may wait on anything while it
/// handles a message, counts each one out as it takes it.
#[derive(Debug)]
pub(crate) struct QueueReceiver {
    gauge: Arc<Gauge>,
    /// Taken from the queue, not yet handed out.
    batch: VecDeque<Item>,
    /// Handed out but not yet counted out of the level: messages, bytes.
    uncounted: (usize, usize),
}

/// How many messages a [`QueueReceiver`] hands out at most before it counts
/// them out of the queue's level.
const COUNT_EVERY: usize = 32;

/// How many bytes of messages a [`QueueReceiver`] hands out at most before
/// it counts them out of the queue's level.
const COUNT_BYTES: usize = 64 * 1024;

/// Items a [`QueueReceiver`]'s empty batch keeps room for; a larger one
/// (left by a burst) is given back.
const BATCH_KEEP: usize = 64;

impl QueueReceiver {
    fn new(gauge: Arc<Gauge>) -> Self {
        QueueReceiver {
            gauge,
            batch: VecDeque::new(),
            uncounted: (0, 0),
        }
    }

    /// The next message of the batch, if any.
    fn pop(&mut self) -> Option<Outgoing> {
        let item = self.batch.pop_front()?;
        self.uncounted.0 += 1;
        self.uncounted.1 += item.weight;
        if self.uncounted.0 >= COUNT_EVERY || self.uncounted.1 >= COUNT_BYTES {
            self.count();
        }
        Some(item.msg)
    }

    /// Counts what was handed out out of the queue's level.
    fn count(&mut self) {
        let (messages, bytes) = std::mem::take(&mut self.uncounted);
        if messages > 0 {
            self.gauge.took(messages, bytes);
        }
    }

    /// With the batch empty, takes everything queued. Without anything
    /// queued: `Some(false)` (and `cx`'s waker is woken by the next
    /// message), or `None` once every sender is gone.
    fn refill(&mut self, cx: Option<&mut Context<'_>>) -> Option<bool> {
        self.count();
        if self.batch.capacity() > BATCH_KEEP {
            self.batch = VecDeque::new();
        }
        let mut slots = self.gauge.lock_slots();
        if !slots.items.is_empty() {
            std::mem::swap(&mut self.batch, &mut slots.items);
            return Some(true);
        }
        if slots.senders_gone {
            return None;
        }
        if let Some(cx) = cx {
            match &mut slots.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
        }
        Some(false)
    }

    /// The next message; `None` once every sender is gone.
    pub(crate) async fn recv(&mut self) -> Option<Outgoing> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// A message if one is queued now.
    pub(crate) fn try_recv(&mut self) -> Option<Outgoing> {
        if let Some(msg) = self.pop() {
            return Some(msg);
        }
        match self.refill(None) {
            Some(true) => self.pop(),
            _ => None,
        }
    }

    /// Whether nothing is queued now. Also counts what was handed out.
    pub(crate) fn is_empty(&mut self) -> bool {
        self.count();
        if !self.batch.is_empty() {
            return false;
        }
        if self.batch.capacity() > BATCH_KEEP {
            self.batch = VecDeque::new();
        }
        self.gauge.lock_slots().items.is_empty()
    }

    /// The next message. Each batch taken from the queue counts against
    /// the task's cooperative budget, as one read of a socket does however
    /// many messages it brings, so a consumer whose queue never runs dry
    /// still yields its thread now and then.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        if let Some(msg) = self.pop() {
            return Poll::Ready(Some(msg));
        }
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        match self.refill(Some(cx)) {
            Some(true) => {
                coop.made_progress();
                Poll::Ready(self.pop())
            }
            Some(false) => Poll::Pending,
            None => Poll::Ready(None),
        }
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        self.count();
        let left: Vec<Item> = {
            let mut slots = self.gauge.lock_slots();
            slots.consumer_gone = true;
            slots.waker = None;
            slots.items.drain(..).chain(self.batch.drain(..)).collect()
        };
        let bytes = left.iter().map(|i| i.weight).sum();
        self.gauge.took(left.len(), bytes);
        self.gauge.finish();
        drop(left);
    }
}

/// Where incoming messages come from.
enum Source {
    /// The in-process transport: the peer's queue, and the slot where a
    /// [`Route`] for the peer's messages can be installed.
    Queue(QueueReceiver, RouteSlot),
    /// A socket transport: frames read and decoded on demand. The stream
    /// records why it ended in the connection's [`CloseReason`].
    Stream(Pin<Box<dyn Stream<Item = Message> + Send>>),
}

struct ReceiverState {
    source: Source,
    /// Resolves when the connection's [`Closer`] fires.
    closed: Pin<Box<dyn Future<Output = ()> + Send>>,
    reason: CloseReason,
    ended: bool,
}

/// The receiving end of a connection.
///
/// [`recv`](Self::recv) is cancel-safe: a message is either returned or
/// left for the next call, so it can be used in `tokio::select!`. It ends
/// (`None`) when the peer closes, the transport fails, or the connection's
/// [`Closer`] fires; [`CloseReason`] then says why.
///
/// For socket transports, frames are read from the socket and decoded by
/// whoever awaits `recv`: nothing is read (and a RawSocket PING is not
/// answered) while nobody does.
// The state is only ever reached through `&mut self` (`Mutex::get_mut`,
// no locking): the mutex only makes the receiver `Sync` whatever the
// socket type is, so sessions holding it stay `Send` across awaits.
pub struct Receiver(Mutex<ReceiverState>);

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receiver")
    }
}

impl Receiver {
    fn new(source: Source, closer: &Closer, reason: CloseReason) -> Self {
        Receiver(Mutex::new(ReceiverState {
            source,
            closed: Box::pin(closer.closed_owned()),
            reason,
            ended: false,
        }))
    }

    /// A receiver reading from a socket transport's frame stream.
    pub(crate) fn stream(
        s: impl Stream<Item = Message> + Send + 'static,
        closer: &Closer,
        reason: CloseReason,
    ) -> Self {
        Self::new(Source::Stream(Box::pin(s)), closer, reason)
    }

    /// From now on, the peer hands each message it sends to `route` at
    /// once, in its own task, and queues here only what `route` gives back.
    ///
    /// Only the in-process transport can do this (returns `false` for
    /// others, or when a route is already installed). Install it before the
    /// peer can send anything that `route` takes, so nothing routed
    /// directly can overtake a message still in the queue.
    pub fn bypass(&mut self, route: impl Route + 'static) -> bool {
        let st = self.0.get_mut().unwrap_or_else(|p| p.into_inner());
        match &st.source {
            Source::Queue(_, slot) => slot.set(Box::new(route)).is_ok(),
            Source::Stream(_) => false,
        }
    }

    /// The next message; `None` once the connection has ended.
    pub async fn recv(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next message; `None` once the connection has ended.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let st = self.0.get_mut().unwrap_or_else(|p| p.into_inner());
        if st.ended {
            return Poll::Ready(None);
        }
        let next = match &mut st.source {
            Source::Queue(rx, _) => {
                let next = rx.poll_recv(cx);
                // Its session may wait on anything while it handles it.
                rx.count();
                next.map(|m| m.map(Outgoing::into_message))
            }
            Source::Stream(s) => s.as_mut().poll_next(cx),
        };
        match next {
            Poll::Ready(Some(m)) => Poll::Ready(Some(m)),
            Poll::Ready(None) => {
                st.ended = true;
                Poll::Ready(None)
            }
            // Only checked before waiting: a busy connection pays nothing
            // for it, and a closed one stops at the next lull.
            Poll::Pending => match st.closed.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    st.reason.set(TransportError::Io(
                        "connection closed abruptly by this side".into(),
                    ));
                    st.ended = true;
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// A queue: its sending end, and the receiving end a writer task drains.
pub(crate) fn queue(limits: QueueLimits) -> (Sender, QueueReceiver) {
    let gauge = Gauge::new(limits);
    let sender = Sender {
        gauge: QueueWatch(gauge.clone()),
        route: None,
    };
    (sender, QueueReceiver::new(gauge))
}

/// An in-process pair of ends: what goes into the sender comes out of the
/// receiver, with no encoding (or goes straight to a [`Route`] installed
/// with [`Receiver::bypass`]).
pub(crate) fn in_process(limits: QueueLimits, closer: &Closer, reason: CloseReason) -> (Sender, Receiver) {
    let (mut sender, rx) = queue(limits);
    let slot = RouteSlot::default();
    sender.route = Some(slot.clone());
    (sender, Receiver::new(Source::Queue(rx, slot), closer, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dict, Id, Payload, Value};

    #[test]
    fn shared_messages_encode_once_per_serializer() {
        let shared = SharedMessage::new(Message::goodbye("wamp.close.normal"));
        let copy = shared.clone();
        for s in Serializer::ALL {
            let a = shared.encoded(s).unwrap().clone();
            let b = copy.encoded(s).unwrap().clone();
            assert_eq!(a.as_ptr(), b.as_ptr(), "{s}: one encoding, shared");
            assert_eq!(s.decode(&a).unwrap(), *shared.message());
        }
        // The last holder moves the message out; others clone.
        drop(copy);
        assert_eq!(shared.into_message(), Message::goodbye("wamp.close.normal"));
    }

    #[test]
    fn own_messages_encode_into_the_scratch_buffer() {
        let msg = Outgoing::from(Message::goodbye("wamp.close.normal"));
        let mut scratch = vec![1, 2, 3];
        let len = msg.encoded(Serializer::Json, &mut scratch).unwrap().len();
        assert_eq!(len, scratch.len());
        assert_eq!(Serializer::Json.decode(&scratch).unwrap(), *msg.message());
    }

    /// A GOODBYE whose reason carries `n`, to check order.
    fn numbered(n: usize) -> Message {
        Message::goodbye(&format!("com.example.n{n}"))
    }

    fn number(msg: Outgoing) -> usize {
        match msg.into_message() {
            Message::Goodbye(g) => g.reason["com.example.n".len()..].parse().unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn messages_come_out_in_order_then_the_end_once_every_sender_is_gone() {
        let (tx, mut rx) = queue(QueueLimits::new(10_000, usize::MAX / 8));
        let tx2 = tx.clone();
        for n in 0..100 {
            tx.push(numbered(n)).unwrap();
        }
        // Half taken: the rest stays queued behind what comes next.
        for n in 0..50 {
            assert_eq!(number(rx.try_recv().unwrap()), n);
        }
        for n in 100..150 {
            tx2.push(numbered(n)).unwrap();
        }
        drop(tx);
        for n in 50..150 {
            assert_eq!(number(rx.try_recv().unwrap()), n);
        }
        assert!(rx.try_recv().is_none());
        assert!(rx.is_empty());
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending(), "a sender is left");
        drop(tx2);
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(None)));
    }

    #[test]
    fn the_level_counts_what_was_taken_out_by_the_next_look_at_the_queue() {
        let (tx, mut rx) = queue(QueueLimits::new(10_000, usize::MAX / 8));
        let weight = numbered(0).approx_size();
        for n in 0..3 * COUNT_EVERY {
            tx.push(numbered(n)).unwrap();
        }
        assert_eq!(tx.queued(), (3 * COUNT_EVERY, 3 * COUNT_EVERY * weight));
        // Never under what is still queued, and at most `COUNT_EVERY`
        // messages over it.
        for taken in 1..=2 * COUNT_EVERY + 1 {
            rx.try_recv().unwrap();
            let (messages, bytes) = tx.queued();
            let left = 3 * COUNT_EVERY - taken;
            assert!(
                messages >= left && messages < left + COUNT_EVERY,
                "{taken}: {messages}"
            );
            assert_eq!(bytes, messages * weight);
        }
        assert!(!rx.is_empty());
        assert_eq!(tx.queued().0, COUNT_EVERY - 1, "counted by `is_empty`");
        while rx.try_recv().is_some() {}
        assert!(rx.is_empty());
        assert_eq!(tx.queued(), (0, 0));
    }

    #[test]
    fn a_large_message_is_counted_out_as_it_is_taken() {
        let (tx, mut rx) = queue(QueueLimits::new(10_000, usize::MAX / 8));
        let large = Message::from(crate::msg::Event {
            subscription: Id::from(1u64),
            publication: Id::from(2u64),
            details: Default::default(),
            payload: Payload::new(vec![Value::Str("x".repeat(COUNT_BYTES))], Dict::new()),
        });
        assert!(large.approx_size() >= COUNT_BYTES);
        for _ in 0..3 {
            tx.push(large.clone()).unwrap();
        }
        for left in (0..3).rev() {
            rx.try_recv().unwrap();
            assert_eq!(tx.queued(), (left, left * large.approx_size()));
        }
    }

    #[test]
    fn a_burst_leaves_no_large_batch_behind() {
        let (tx, mut rx) = queue(QueueLimits::new(10_000, usize::MAX / 8));
        for n in 0..1_000 {
            tx.push(numbered(n)).unwrap();
        }
        assert_eq!(number(rx.try_recv().unwrap()), 0);
        assert!(rx.batch.capacity() >= 999);
        while rx.try_recv().is_some() {}
        assert!(rx.is_empty());
        assert!(rx.batch.capacity() <= BATCH_KEEP, "{}", rx.batch.capacity());
        // The deque left in the queue is the receiver's old, small one.
        assert!(rx.gauge.lock_slots().items.capacity() <= BATCH_KEEP);
    }

    #[tokio::test]
    async fn the_consumer_gone_closes_the_senders_and_frees_what_was_queued() {
        let (tx, mut rx) = queue(QueueLimits::new(10_000, usize::MAX / 8));
        let shared = SharedMessage::new(numbered(7));
        tx.push_shared(shared.clone()).unwrap();
        tx.push(numbered(8)).unwrap();
        assert_eq!(number(rx.try_recv().unwrap()), 7);
        tx.push_shared(shared.clone()).unwrap();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.queued(), (0, 0));
        assert_eq!(Arc::strong_count(&shared.0), 1, "the queued copies are dropped");
        assert!(matches!(tx.push(numbered(9)), Err(TrySendError::Closed(_))));
        assert!(matches!(tx.try_send(numbered(9)), Err(TrySendError::Closed(_))));
        assert_eq!(tx.send(numbered(9)).await, Err(Closed));
        tokio::time::timeout(Duration::from_secs(5), tx.closed())
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_consumer_that_always_finds_messages_still_lets_other_tasks_run() {
        let (tx, mut rx) = queue(QueueLimits::new(10_000, usize::MAX / 8));
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        tokio::spawn(async move { flag.store(true, SeqCst) });
        let mut first_seen = None;
        // Refilled before every take, as by producers on other threads.
        for n in 0..1000 {
            tx.push(numbered(n)).unwrap();
            assert_eq!(rx.recv().await.map(number), Some(n));
            if first_seen.is_none() && other_ran.load(SeqCst) {
                first_seen = Some(n);
            }
        }
        assert!(
            first_seen.is_some(),
            "the other task waited for all 1,000 messages"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn producers_on_other_threads_wake_the_consumer_and_lose_nothing() {
        const PRODUCERS: usize = 4;
        const EACH: usize = 20_000;
        let (tx, mut rx) = queue(QueueLimits::new(64, usize::MAX / 8));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for n in 0..EACH {
                        // `send` waits at high water: the consumer's
                        // counting out must wake it.
                        tx.send(numbered(p * EACH + n)).await.unwrap();
                        if n % 1000 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next = [0; PRODUCERS];
        let consumer = async {
            let mut got = 0;
            while let Some(msg) = rx.recv().await {
                let n = number(msg);
                let (p, i) = (n / EACH, n % EACH);
                assert_eq!(i, next[p], "producer {p}'s messages in order");
                next[p] += 1;
                got += 1;
                if got % 100 == 0 {
                    rx.is_empty();
                }
            }
            got
        };
        let got = tokio::time::timeout(Duration::from_secs(60), consumer)
            .await
            .unwrap();
        assert_eq!(got, PRODUCERS * EACH);
        for p in producers {
            p.await.unwrap();
        }
    }
}
