//! The session's reader: takes each incoming message, completes the pending
//! request it answers, delivers events, starts invocations; and, when the
//! session ends, fails everything still waiting.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::task::{Poll, Waker};

use tokio::sync::mpsc;

use wamp_proto::msg;

use wamp_proto::transport::{Congestion, Connection, Route, TransportError};
use wamp_proto::uri::Uri;
use wamp_proto::{error_uri, Dict, EventDetails, Id, List, Message, MessageType, Payload};

use super::event_queue::{EventSender, TrySendError};
use super::{call, callee, pubsub, Event, Pending, Shared};
use crate::error::{ApplicationError, Error};
use crate::payload::CallResult;

pub(crate) async fn run(shared: Arc<Shared>, mut conn: Connection) {
    let closer = conn.closer.clone();
    let closed = closer.closed();
    tokio::pin!(closed);
    let end = loop {
        // The connection first: `closed` is polled (and its waker registered
        // again) only when no message is ready, at least once per
        // cooperative budget of socket reads. A message is handled where
        // the poll left it: with no `select!` output or dispatching future
        // around it, it is not moved from one to the next (a `Message` was
        // 256 bytes then, and those moves were 7.5% of the CPU of a fan-out
        // to 1,000 subscribers).
        let next = std::future::poll_fn(|cx| match conn.receiver.poll_recv(cx) {
            Poll::Ready(m) => Poll::Ready(Some(m)),
            Poll::Pending => closed.as_mut().poll(cx).map(|()| None),
        })
        .await;
        let Some(next) = next else {
            break Error::TransportLost("disconnected by this client".into());
        };
        let Some(msg) = next else {
            break match conn.close_reason.get() {
                Some(TransportError::Decode(e)) => {
                    let reason = e.to_string();
                    let _ = conn
                        .sender
                        .push(Message::abort(error_uri::PROTOCOL_VIOLATION, reason.clone()));
                    Error::ProtocolViolation(reason)
                }
                Some(e) => Error::TransportLost(e.to_string()),
                None => Error::TransportLost("connection closed".into()),
            };
        };
        match dispatch(&shared, msg) {
            Ok(None) => {}
            Ok(Some(wait)) => wait.finish().await,
            Err(end) => {
                if let Error::ProtocolViolation(reason) = &end {
                    let _ = conn
                        .sender
                        .push(Message::abort(error_uri::PROTOCOL_VIOLATION, reason.clone()));
                }
                break end;
            }
        }
    };
    tracing::debug!(session = shared.details.session, "session ended: {end}");
    close(&shared, end);
}

/// Ends the session: fails pending requests, ends event streams, stops
/// running handlers.
pub(crate) fn close(shared: &Shared, end: Error) {
    let (pending, invocations, wakers) = {
        let mut st = shared.lock();
        if st.closed.is_some() {
            return;
        }
        st.closed = Some(end.clone());
        st.subscriptions.clear();
        st.registrations.clear();
        st.inputs.clear();
        let mut others = Vec::new();
        let mut wakers = Vec::new();
        for (request, p) in std::mem::take(&mut st.pending) {
            match p {
                Pending::Call(c) => wakers.extend(st.settle_call(request, c, Err(end.clone()))),
                other => others.push(other),
            }
        }
        (others, std::mem::take(&mut st.invocations), wakers)
    };
    wakers.into_iter().for_each(Waker::wake);
    for p in pending {
        p.fail(end.clone());
    }
    for (_, task) in invocations {
        task.abort();
    }
    shared.ended.send_replace(Some(end));
}

fn violation(msg: impl Into<String>) -> Error {
    Error::ProtocolViolation(msg.into())
}

/// An event's concrete topic: the one the router names in its details (a
/// pattern subscription's), else the topic subscribed to, shared.
fn concrete_topic(details: &EventDetails, subscribed: &Uri) -> Uri {
    match &details.topic {
        Some(topic) => Uri::from(topic.as_str()),
        None => subscribed.clone(),
    }
}

/// The values of a received payload. Over a socket they are decoded
/// already; kept encoded, they reach an in-process session only from the
/// embedded router, which checked them when they arrived.
fn values(payload: Payload) -> Result<(List, Dict), Error> {
    payload
        .into_values()
        .map_err(|e| violation(format!("a payload that does not decode: {e}")))
}

/// What a message handled by [`dispatch`] still waits for: room in a full
/// queue (a subscriber's, a progressive call's results, a streaming
/// handler's input). The reader holds back until it is done.
enum Wait {
    /// An event for one local subscriber whose queue is full.
    Event(EventSender, Event),
    /// An event for several local subscribers of one subscription.
    Events(Vec<(Uri, EventSender)>, Event),
    /// A progressive result for its caller.
    Progress(mpsc::Sender<CallResult>, CallResult),
    /// A later chunk of a streaming invocation, and whether it is the last.
    Input(mpsc::Sender<callee::Chunk>, CallResult, bool),
}

impl Wait {
    async fn finish(self) {
        // Receivers may be gone meanwhile (a dropped subscription, a
        // caller that only wants the final result, a handler that stopped
        // reading its input): nothing to deliver then.
        match self {
            Wait::Event(tx, event) => _ = tx.send(event).await,
            Wait::Events(targets, event) => {
                for (topic, tx) in targets {
                    let mut ev = event.clone();
                    // A topic the router named is every target's, and
                    // already the event's: not copied again.
                    if ev.details.topic.is_none() {
                        ev.topic = topic;
                    }
                    let _ = tx.send(ev).await;
                }
            }
            Wait::Progress(tx, result) => _ = tx.send(result).await,
            Wait::Input(tx, chunk, last) => _ = tx.send((chunk, last)).await,
        }
    }
}

/// Handles one message, without waiting: what must wait for room in a
/// queue is returned, for the reader to wait on before it reads on. `Err`
/// ends the session with that reason.
fn dispatch(shared: &Arc<Shared>, msg: Message) -> Result<Option<Wait>, Error> {
    match msg {
        Message::Result(msg::Result {
            request,
            details,
            payload,
        }) if details.progress == Some(true) => {
            let (args, kwargs) = values(payload)?;
            let progress = match shared.lock().pending.get(&request) {
                Some(Pending::Call(c)) => c.progress_sender(),
                _ => None,
            };
            Ok(progress.map(|tx| Wait::Progress(tx, CallResult { args, kwargs })))
        }
        Message::Event(event) => {
            let msg::Event {
                subscription,
                publication,
                details,
                payload,
            } = *event;
            let (args, kwargs) = values(payload)?;
            // The event is made once its topic is known: a placeholder
            // `Uri` would cost an allocation per event.
            let st = shared.lock();
            let Some(subs) = st.subscriptions.get(&subscription) else {
                return Ok(None); // unsubscribed meanwhile
            };
            let Some(first) = subs.first() else {
                return Ok(None);
            };
            let event = Event {
                subscription,
                publication,
                topic: concrete_topic(&details, &first.topic),
                details,
                args,
                kwargs,
            };
            // Backpressure: a full subscriber queue holds back this reader.
            Ok(match subs.as_slice() {
                // One local subscriber (the usual case): no list of
                // targets, and no clone of its sender unless its queue
                // is full.
                [only] => match only.tx.try_send(event) {
                    Ok(()) | Err(TrySendError::Closed(_)) => None,
                    Err(TrySendError::Full(event)) => Some(Wait::Event(only.tx.clone(), event)),
                },
                many => Some(Wait::Events(
                    many.iter().map(|s| (s.topic.clone(), s.tx.clone())).collect(),
                    event,
                )),
            })
        }
        // A later chunk of a streaming invocation goes to its handler,
        // holding back this reader while the handler's queue is full.
        Message::Invocation(inv) => {
            let last = inv.details.progress != Some(true);
            match callee::input_chunk(shared, inv.request, last) {
                callee::InputChunk::New => dispatch_now(shared, Message::Invocation(inv)).map(|()| None),
                callee::InputChunk::Dropped => Ok(None),
                callee::InputChunk::To(tx) => {
                    let (args, kwargs) = values(inv.payload)?;
                    Ok(Some(Wait::Input(tx, CallResult { args, kwargs }, last)))
                }
            }
        }
        Message::Goodbye(msg::Goodbye { details, reason }) => {
            let _ = shared.tx.push(Message::goodbye(error_uri::GOODBYE_AND_OUT));
            Err(Error::SessionClosed {
                reason,
                message: details.message,
            })
        }
        Message::Abort(msg::Abort { details, reason }) => Err(Error::SessionClosed {
            reason,
            message: details.message,
        }),
        other => dispatch_now(shared, other).map(|()| None),
    }
}

/// Handles a message that needs no waiting: answers to requests,
/// invocations, interrupts. `Err` ends the session with that reason.
fn dispatch_now(shared: &Arc<Shared>, msg: Message) -> Result<(), Error> {
    let ty = msg.message_type();
    match msg {
        Message::Result(msg::Result { request, payload, .. }) => {
            let (args, kwargs) = values(payload)?;
            if let Settled::Other(other) = settle(shared, request, false, |_| Ok(CallResult { args, kwargs }))
            {
                return Err(mismatch(shared, ty, request, other));
            }
        }
        Message::Error(msg::Error {
            request_type,
            request,
            error,
            payload,
            ..
        }) => {
            if request_type == MessageType::Invocation {
                return Err(violation("router sent an ERROR for an INVOCATION"));
            }
            let (args, kwargs) = values(payload)?;
            let mut e = Some(ApplicationError { error, args, kwargs });
            if let Settled::Other(other) = settle(shared, request, false, |c| {
                Err(c.error(e.take().expect("used once")))
            }) {
                other.fail(Error::Application(e.take().expect("not used for other requests")));
            }
        }
        Message::Registered(msg::Registered {
            request,
            registration,
        }) => match shared.take_pending(request) {
            Some(Pending::Register(tx, uri, handler)) => {
                shared.lock().registrations.insert(registration, (uri, handler));
                let _ = tx.send(Ok(registration));
            }
            Some(other) => return Err(mismatch(shared, ty, request, other)),
            None => return Err(violation(format!("REGISTERED for unknown request {request}"))),
        },
        Message::Unregistered(msg::Unregistered { request, details }) => {
            if request == 0 {
                // Router-initiated revocation.
                if let Some(reg) = details.and_then(|d| d.registration) {
                    shared.lock().registrations.remove(&reg);
                }
                return Ok(());
            }
            match shared.take_pending(request) {
                Some(Pending::Unregister(tx)) => {
                    let _ = tx.send(Ok(()));
                }
                Some(other) => return Err(mismatch(shared, ty, request, other)),
                None => return Err(violation(format!("UNREGISTERED for unknown request {request}"))),
            }
        }
        Message::Subscribed(msg::Subscribed {
            request,
            subscription,
        }) => match shared.take_pending(request) {
            Some(Pending::Subscribe(tx, topic, events)) => {
                let local = pubsub::subscribed(shared, subscription, topic, events);
                let _ = tx.send(Ok((subscription, local)));
            }
            Some(other) => return Err(mismatch(shared, ty, request, other)),
            None => return Err(violation(format!("SUBSCRIBED for unknown request {request}"))),
        },
        Message::Unsubscribed(msg::Unsubscribed { request, details }) => {
            if request == 0 {
                if let Some(sub) = details.and_then(|d| d.subscription) {
                    shared.lock().subscriptions.remove(&sub);
                }
                return Ok(());
            }
            match shared.take_pending(request) {
                Some(Pending::Unsubscribe(tx)) => {
                    let _ = tx.send(Ok(()));
                }
                Some(other) => return Err(mismatch(shared, ty, request, other)),
                None => return Err(violation(format!("UNSUBSCRIBED for unknown request {request}"))),
            }
        }
        Message::Published(msg::Published { request, publication }) => match shared.take_pending(request) {
            Some(Pending::Publish(tx)) => {
                let _ = tx.send(Ok(publication));
            }
            Some(other) => return Err(mismatch(shared, ty, request, other)),
            None => return Err(violation(format!("PUBLISHED for unknown request {request}"))),
        },
        Message::Invocation(inv) => {
            let msg::Invocation {
                request,
                registration,
                details,
                payload,
            } = *inv;
            let (args, kwargs) = values(payload)?;
            callee::invoke(shared, request, registration, details, args, kwargs)
        }
        Message::Interrupt(msg::Interrupt { request, .. }) => callee::interrupt(shared, request),
        other => {
            return Err(violation(format!(
                "{} is not a message a router may send in an established session",
                other.message_type()
            )))
        }
    }
    Ok(())
}

/// Takes the embedded router's messages for an in-process session as the
/// router sends them ([`Receiver::bypass`]): answers and invocations are
/// handled at once in the sending task, so an in-process call whose
/// handler answers at once completes with no task hand-off at all. What
/// must wait (events, progressive results, and the final result of a
/// progressive call, which must come after them) and the session's end
/// still go through the reader, in order.
///
/// Holds the session weakly: the router keeps the route as long as it
/// keeps the connection, which must not keep a dropped session alive.
///
/// [`Receiver::bypass`]: wamp_proto::transport::Receiver::bypass
pub(crate) struct Answers(pub Weak<Shared>);

impl Route for Answers {
    fn route(&self, msg: Message) -> Result<Congestion, Message> {
        // Settling a call or starting a handler congests nobody.
        self.take(msg).map(|()| Congestion::default())
    }
}

impl Answers {
    fn take(&self, msg: Message) -> Result<(), Message> {
        let Some(shared) = self.0.upgrade() else {
            return Err(msg);
        };
        let now = match &msg {
            // The final answer of a call: settled here, in one look at the
            // pending requests, unless the call is progressive (its results
            // go through the reader, and so must this one, after them).
            Message::Result(msg::Result { details, request, .. }) if details.progress != Some(true) => {
                let (request, mut msg) = (*request, Some(msg));
                let settled = settle(&shared, request, true, |_| {
                    let Some(Message::Result(msg::Result { payload, .. })) = msg.take() else {
                        unreachable!("matched above")
                    };
                    values(payload).map(|(args, kwargs)| CallResult { args, kwargs })
                });
                return settled.unless_left(msg);
            }
            Message::Error(msg::Error {
                request_type: MessageType::Call,
                request,
                ..
            }) => {
                let (request, mut msg) = (*request, Some(msg));
                let settled = settle(&shared, request, true, |c| {
                    let Some(Message::Error(msg::Error { error, payload, .. })) = msg.take() else {
                        unreachable!("matched above")
                    };
                    let (args, kwargs) = values(payload)?;
                    Err(c.error(ApplicationError { error, args, kwargs }))
                });
                return settled.unless_left(msg);
            }
            // A streaming invocation's later chunks go through the reader,
            // in order and with backpressure; a new invocation starts here.
            Message::Invocation(inv) => !callee::is_input_chunk(&shared, inv.request),
            Message::Error(msg::Error { .. })
            | Message::Registered(msg::Registered { .. })
            | Message::Unregistered(msg::Unregistered { .. })
            | Message::Subscribed(msg::Subscribed { .. })
            | Message::Unsubscribed(msg::Unsubscribed { .. })
            | Message::Published(msg::Published { .. })
            | Message::Interrupt(msg::Interrupt { .. }) => true,
            _ => false,
        };
        if !now {
            return Err(msg);
        }
        dispatch_here(&shared, msg);
        Ok(())
    }
}

/// Handles a message in the router's task; a router that breaks the
/// protocol ends the session as the reader would.
fn dispatch_here(shared: &Arc<Shared>, msg: Message) {
    if let Err(end) = dispatch_now(shared, msg) {
        if let Error::ProtocolViolation(reason) = &end {
            let _ = shared
                .tx
                .push(Message::abort(error_uri::PROTOCOL_VIOLATION, reason.clone()));
        }
        close(shared, end);
        shared.closer.close(); // and stop the reader
    }
}

/// What [`settle`] did with a call's final answer.
enum Settled {
    /// The call is settled; or there was no request (canceled or timed
    /// out locally).
    Done,
    /// Left for the reader: a progressive call (its final answer must come
    /// after its progressive results), or anything but a waiting call.
    Left,
    /// A request of another kind, taken out: the router broke the protocol.
    Other(Pending),
}

impl Settled {
    /// For [`Answers::route`]: the message back, to go through the reader,
    /// if it was left for it.
    fn unless_left(self, msg: Option<Message>) -> Result<(), Message> {
        match self {
            Settled::Left => Err(msg.expect("not used when left")),
            Settled::Done | Settled::Other(_) => Ok(()),
        }
    }
}

/// Settles the call `request` with the outcome `answer` makes for it, and
/// wakes its handle. With `only_plain_calls` (in the router's task), what
/// is not a waiting, non-progressive call is left in place for the reader.
fn settle(
    shared: &Shared,
    request: Id,
    only_plain_calls: bool,
    answer: impl FnOnce(&call::PendingCall) -> Result<CallResult, Error>,
) -> Settled {
    let waker = {
        let mut st = shared.lock();
        if only_plain_calls
            && !matches!(st.pending.get(&request), Some(Pending::Call(c)) if !c.is_progressive())
        {
            return Settled::Left;
        }
        match st.pending.remove(&request) {
            Some(Pending::Call(c)) => {
                let outcome = answer(&c);
                st.settle_call(request, c, outcome)
            }
            Some(other) => return Settled::Other(other),
            None => None,
        }
    };
    if let Some(w) = waker {
        w.wake();
    }
    Settled::Done
}

/// An answer of the wrong type for a request: fail the request, end the session.
fn mismatch(shared: &Shared, ty: MessageType, request: u64, pending: Pending) -> Error {
    let e = violation(format!("{ty} answered request {request} of another kind"));
    match pending {
        Pending::Call(c) => {
            let waker = shared.lock().settle_call(request, c, Err(e.clone()));
            waker.into_iter().for_each(Waker::wake);
        }
        other => other.fail(e.clone()),
    }
    e
}
