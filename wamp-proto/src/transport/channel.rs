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

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

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
    encoded: [OnceLock<Result<Bytes, EncodeError>>; Serializer::ALL.len()],
}

impl SharedMessage {
    /// Wraps a message to be sent to many connections.
    pub fn new(message: Message) -> Self {
        SharedMessage(Arc::new(SharedInner {
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
    // The message comes back as it went in: no allocation to box it.
    #[allow(clippy::result_large_err)]
    fn route(&self, msg: Message) -> Result<(), Message>;
}

/// Where an in-process connection's [`Route`] goes once installed; shared
/// by the sending end and the peer's receiving end.
type RouteSlot = Arc<OnceLock<Box<dyn Route>>>;

/// The sending end of a connection: a bounded queue to its writer. Cheap
/// to clone; dropping every clone closes the connection (the writer
/// flushes what is queued, then closes the socket).
#[derive(Clone)]
pub struct Sender {
    tx: mpsc::Sender<Outgoing>,
    /// In-process connections only: the peer's [`Route`], once installed.
    route: Option<RouteSlot>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.tx.is_closed())
            .field("routed", &self.route.as_ref().is_some_and(|r| r.get().is_some()))
            .finish()
    }
}

impl Sender {
    /// Queues a message, waiting while the queue is full.
    pub async fn send(&self, msg: Message) -> Result<(), Closed> {
        match self.route_directly(msg) {
            Ok(()) => Ok(()),
            Err(msg) => self.tx.send(msg.into()).await.map_err(|_| Closed),
        }
    }

    /// Queues a message if there is room now.
    pub fn try_send(&self, msg: Message) -> Result<(), TrySendError<Outgoing>> {
        match self.route_directly(msg) {
            Ok(()) => Ok(()),
            Err(msg) => self.tx.try_send(msg.into()),
        }
    }

    /// Queues a message shared with other connections if there is room now
    /// (shared messages are always queued: they come from a router).
    pub fn try_send_shared(&self, msg: SharedMessage) -> Result<(), TrySendError<Outgoing>> {
        self.tx.try_send(msg.into())
    }

    /// Hands `msg` to the peer's [`Route`] if one is installed and takes it.
    #[allow(clippy::result_large_err)] // given back unboxed: no allocation
    fn route_directly(&self, msg: Message) -> Result<(), Message> {
        match self.route.as_ref().and_then(|slot| slot.get()) {
            Some(route) => route.route(msg),
            None => Err(msg),
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
        self.tx.is_closed()
    }

    /// Resolves once the connection is closed.
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

/// Where incoming messages come from.
enum Source {
    /// The in-process transport: the peer's queue, and the slot where a
    /// [`Route`] for the peer's messages can be installed.
    Queue(mpsc::Receiver<Outgoing>, RouteSlot),
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
            Source::Queue(rx, _) => rx.poll_recv(cx).map(|m| m.map(Outgoing::into_message)),
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

/// A bounded queue: its sending end, and the raw receiving end a writer
/// task drains.
pub(crate) fn queue(capacity: usize) -> (Sender, mpsc::Receiver<Outgoing>) {
    let (tx, rx) = mpsc::channel(capacity);
    (Sender { tx, route: None }, rx)
}

/// An in-process pair of ends: what goes into the sender comes out of the
/// receiver, with no encoding (or goes straight to a [`Route`] installed
/// with [`Receiver::bypass`]).
pub(crate) fn in_process(capacity: usize, closer: &Closer, reason: CloseReason) -> (Sender, Receiver) {
    let (tx, rx) = mpsc::channel(capacity);
    let slot = RouteSlot::default();
    let sender = Sender {
        tx,
        route: Some(slot.clone()),
    };
    (sender, Receiver::new(Source::Queue(rx, slot), closer, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
