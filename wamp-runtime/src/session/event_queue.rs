//! A subscription's queue of [`Event`]s, from the session's reader to its
//! [`Subscription`](super::Subscription): bounded, one lock per event on
//! the reader's side and one per burst on the subscriber's, which takes
//! everything queued at once and hands it out one event at a time.
//!
//! The bound ([`SessionConfig::event_queue_capacity`](super::SessionConfig))
//! counts the events queued and those the subscriber took but has not
//! handed out yet, so it holds exactly. What the subscriber hands out is
//! counted out every [`COUNT_EVERY`] events and whenever it looks at the
//! queue again; a reader held back by a full queue is woken then.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

use super::Event;

/// How many events a [`EventReceiver`] hands out at most before it counts
/// them out of the queue's length.
const COUNT_EVERY: usize = 32;

/// Events an empty batch keeps room for; a larger one (left by a burst)
/// is given back.
const BATCH_KEEP: usize = 64;

struct Inner {
    state: Mutex<State>,
    /// The most events queued and not yet handed out.
    capacity: usize,
    /// Woken when a full queue has room again, or its receiver is gone.
    room: Notify,
}

#[derive(Default)]
struct State {
    items: VecDeque<Event>,
    /// Events queued or taken by the receiver and not yet counted out.
    len: usize,
    /// The receiver's waker, while it waits for an event.
    waker: Option<Waker>,
    /// A sender found the queue full and waits for room.
    sender_waits: bool,
    senders: usize,
    /// The receiver is gone or closed: nothing is queued any more.
    closed: bool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why [`EventSender::try_send`] gave an event back.
#[derive(Debug)]
pub(crate) enum TrySendError {
    /// The queue holds its capacity.
    Full(Event),
    /// The receiver is gone.
    Closed(Event),
}

/// A queue of at most `capacity` events (at least 1).
pub(crate) fn channel(capacity: usize) -> (EventSender, EventReceiver) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            senders: 1,
            ..State::default()
        }),
        capacity: capacity.max(1),
        room: Notify::new(),
    });
    (
        EventSender { inner: inner.clone() },
        EventReceiver {
            inner,
            batch: VecDeque::new(),
            handed_out: 0,
        },
    )
}

/// The session's end of a subscription's queue.
pub(crate) struct EventSender {
    inner: Arc<Inner>,
}

impl EventSender {
    /// Queues `event` if there is room.
    #[allow(clippy::result_large_err)] // given back unboxed: no allocation
    pub(crate) fn try_send(&self, event: Event) -> Result<(), TrySendError> {
        let waker = {
            let mut st = self.inner.lock();
            if st.closed {
                return Err(TrySendError::Closed(event));
            }
            if st.len >= self.inner.capacity {
                st.sender_waits = true;
                return Err(TrySendError::Full(event));
            }
            st.len += 1;
            st.items.push_back(event);
            st.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Queues `event`, waiting for room; gives it back if the receiver is
    /// gone.
    pub(crate) async fn send(&self, mut event: Event) -> Result<(), Event> {
        loop {
            let room = self.inner.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_send(event) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(e)) => return Err(e),
                Err(TrySendError::Full(e)) => event = e,
            }
            room.await;
        }
    }
}

impl Clone for EventSender {
    fn clone(&self) -> Self {
        self.inner.lock().senders += 1;
        EventSender {
            inner: self.inner.clone(),
        }
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.inner.lock();
            st.senders -= 1;
            if st.senders > 0 {
                return;
            }
            st.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The subscriber's end of a subscription's queue.
pub(crate) struct EventReceiver {
    inner: Arc<Inner>,
    /// Taken from the queue, not yet handed out.
    batch: VecDeque<Event>,
    /// Handed out since the queue's length was last counted down.
    handed_out: usize,
}

impl EventReceiver {
    /// The next event; `None` once every sender is gone (or after
    /// [`close`](Self::close)) and everything queued was handed out.
    ///
    /// Each batch taken from the queue counts against the task's
    /// cooperative budget, as one read of a socket does however many
    /// messages it brings: a subscriber whose queue never runs dry (its
    /// reader refilling it from another thread) still yields its thread
    /// now and then.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if let Some(event) = self.pop() {
            return Poll::Ready(Some(event));
        }
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        if self.batch.capacity() > BATCH_KEEP {
            self.batch = VecDeque::new();
        }
        let ended = self.count_out(Some(cx));
        match self.pop() {
            Some(event) => {
                coop.made_progress();
                Poll::Ready(Some(event))
            }
            None if ended => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// The next event of the batch, if any.
    fn pop(&mut self) -> Option<Event> {
        let event = self.batch.pop_front()?;
        self.handed_out += 1;
        if self.handed_out >= COUNT_EVERY {
            self.count_out(None);
        }
        Some(event)
    }

    /// The next event (see [`poll_recv`](Self::poll_recv)).
    pub(crate) async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Counts what was handed out out of the queue's length (waking a
    /// sender waiting for room). With `cx` and the batch empty, also takes
    /// everything queued, or registers `cx` to be woken by the next event;
    /// returns whether nothing more will come.
    fn count_out(&mut self, cx: Option<&mut Context<'_>>) -> bool {
        let (ended, wake_sender) = {
            let mut st = self.inner.lock();
            st.len -= std::mem::take(&mut self.handed_out);
            let wake_sender = std::mem::take(&mut st.sender_waits);
            let mut ended = false;
            if let Some(cx) = cx {
                if !st.items.is_empty() {
                    std::mem::swap(&mut self.batch, &mut st.items);
                } else if st.senders == 0 || st.closed {
                    ended = true;
                } else {
                    match &mut st.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    }
                }
            }
            (ended, wake_sender)
        };
        if wake_sender {
            self.inner.room.notify_waiters();
        }
        ended
    }

    /// Stops the queue: senders are refused from now on, and what was
    /// queued is dropped.
    pub(crate) fn close(&mut self) {
        let dropped = {
            let mut st = self.inner.lock();
            st.closed = true;
            st.waker = None;
            st.len = 0;
            std::mem::take(&mut st.items)
        };
        self.batch.clear();
        self.handed_out = 0;
        self.inner.room.notify_waiters();
        drop(dropped);
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use wamp_proto::Value;

    fn event(n: u64) -> Event {
        Event {
            subscription: 1,
            publication: n,
            topic: wamp_proto::uri::Uri::from("com.example.topic"),
            details: Default::default(),
            args: vec![Value::UInt(n)],
            kwargs: Default::default(),
        }
    }

    fn number(e: &Event) -> u64 {
        e.publication
    }

    fn poll(rx: &mut EventReceiver) -> Poll<Option<Event>> {
        let waker = futures_util::task::noop_waker();
        rx.poll_recv(&mut Context::from_waker(&waker))
    }

    #[test]
    fn events_come_out_in_order_up_to_the_capacity_then_the_end() {
        let (tx, mut rx) = channel(100);
        for n in 0..100 {
            tx.try_send(event(n)).unwrap();
        }
        assert!(matches!(tx.try_send(event(100)), Err(TrySendError::Full(_))));
        // Taken, not yet counted out: still no room.
        for n in 0..10 {
            assert!(matches!(poll(&mut rx), Poll::Ready(Some(e)) if number(&e) == n));
        }
        assert!(matches!(tx.try_send(event(100)), Err(TrySendError::Full(_))));
        for n in 10..COUNT_EVERY as u64 {
            assert!(matches!(poll(&mut rx), Poll::Ready(Some(e)) if number(&e) == n));
        }
        // Counted out: room for as many.
        for n in 100..100 + COUNT_EVERY as u64 {
            tx.try_send(event(n)).unwrap();
        }
        assert!(matches!(tx.try_send(event(0)), Err(TrySendError::Full(_))));
        let tx2 = tx.clone();
        drop(tx);
        for n in COUNT_EVERY as u64..100 + COUNT_EVERY as u64 {
            assert!(matches!(poll(&mut rx), Poll::Ready(Some(e)) if number(&e) == n));
        }
        assert!(poll(&mut rx).is_pending(), "a sender is left");
        drop(tx2);
        assert!(matches!(poll(&mut rx), Poll::Ready(None)));
    }

    #[test]
    fn a_capacity_of_zero_is_one() {
        let (tx, _rx) = channel(0);
        tx.try_send(event(0)).unwrap();
        assert!(matches!(tx.try_send(event(1)), Err(TrySendError::Full(_))));
    }

    #[tokio::test]
    async fn closing_refuses_senders_wakes_a_waiting_one_and_drops_what_was_queued() {
        let (tx, mut rx) = channel(1);
        tx.try_send(event(0)).unwrap();
        let waiting = tokio::spawn(async move { tx.send(event(1)).await.map_err(|e| number(&e)) });
        tokio::task::yield_now().await;
        rx.close();
        let refused = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(refused, Err(1));
        assert!(matches!(poll(&mut rx), Poll::Ready(None)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_subscriber_that_always_finds_events_still_lets_other_tasks_run() {
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        let (tx, mut rx) = channel(1024);
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        tokio::spawn(async move { flag.store(true, SeqCst) });
        let mut first_seen = None;
        // Refilled before every take, as by a reader on another thread.
        for n in 0..1000 {
            tx.try_send(event(n)).unwrap();
            assert_eq!(rx.recv().await.map(|e| number(&e)), Some(n));
            if first_seen.is_none() && other_ran.load(SeqCst) {
                first_seen = Some(n);
            }
        }
        assert!(first_seen.is_some(), "the other task waited for all 1,000 events");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sender_held_back_by_a_full_queue_goes_on_as_the_subscriber_reads() {
        const EVENTS: u64 = 50_000;
        let (tx, mut rx) = channel(8);
        let sender = tokio::spawn(async move {
            for n in 0..EVENTS {
                tx.send(event(n)).await.unwrap();
            }
        });
        let reader = async {
            let mut next = 0;
            while let Some(e) = rx.recv().await {
                assert_eq!(number(&e), next);
                next += 1;
            }
            next
        };
        let got = tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .unwrap();
        assert_eq!(got, EVENTS);
        sender.await.unwrap();
    }
}
