//! Writers woken once per poll of the task that queues for them, not once
//! per message.
//!
//! A task that routes (a router's session, a client's reader) queues many
//! messages for other connections' writers while it handles one burst of
//! input. Woken at the first message, a writer on another worker thread
//! starts at once and writes that message alone, then is woken again for
//! the next: a system call, and a wake-up at both ends, per message.
//! Inside [`WakesAfterPoll`], the [`Sender`](super::Sender)s' wake-ups are
//! held until the task's poll returns, so each writer wakes once and finds
//! the whole burst queued.
//!
//! Nothing waits longer than that poll: a poll that has to wait returns
//! (and so wakes the writers) before it does, and the wake-ups are given
//! out even if it panics. A poll is bounded by tokio's cooperative budget,
//! which every socket read takes from, and by the queues' limits: a
//! router's session that fills a peer's queue past its high-water mark
//! stops reading, which ends the poll. On a current-thread runtime a woken
//! writer never ran before the routing task's poll returned anyway; this
//! gives the multi-threaded runtime the same order.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

thread_local! {
    /// Whether a [`WakesAfterPoll`] is being polled on this thread, and
    /// the wake-ups held meanwhile; the list keeps its capacity from poll
    /// to poll.
    static HELD: RefCell<Held> = const { RefCell::new(Held { active: false, wakers: Vec::new() }) };
}

struct Held {
    active: bool,
    wakers: Vec<Waker>,
}

/// Wakes `waker` now, or when the [`WakesAfterPoll`] being polled on this
/// thread returns from its poll.
pub(crate) fn wake(waker: Waker) {
    // Woken at once where nothing holds wake-ups, or where the thread's
    // state is gone (a waker dropped as the thread exits).
    let mut waker = Some(waker);
    let _ = HELD.try_with(|held| {
        if let Ok(mut held) = held.try_borrow_mut() {
            if held.active {
                held.wakers.extend(waker.take());
            }
        }
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

pin_project_lite::pin_project! {
    /// A future whose polls hold the wake-ups of the writers it queues for
    /// until they return, so that each writer wakes once per poll and
    /// writes what the poll queued in one go, rather than once per message
    /// on another thread. Nothing waits longer than the poll: a poll that
    /// has to wait returns (and so wakes them) first, and a poll that
    /// panics wakes them too. Tokio's cooperative budget bounds a poll.
    ///
    /// The router serves every connection inside one, and a client's
    /// session reads inside one. Polls nested in one
    /// (a `WakesAfterPoll` inside another) leave the wake-ups to the outer one.
    ///
    /// ```
    /// use wamp_proto::transport::wakes_after_poll;
    /// # async fn route_a_burst() {}
    /// # async fn demo() {
    /// tokio::spawn(wakes_after_poll(route_a_burst()));
    /// # }
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct WakesAfterPoll<F> {
        #[pin]
        inner: F,
    }
}

/// Wraps `fut` so that the writers it queues for are woken once per poll
/// (see [`WakesAfterPoll`]).
pub fn wakes_after_poll<F: Future>(fut: F) -> WakesAfterPoll<F> {
    WakesAfterPoll { inner: fut }
}

impl<F: Future> Future for WakesAfterPoll<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Not polled inside another one (and the thread not exiting).
        let outer = HELD
            .try_with(|held| {
                let mut held = held.borrow_mut();
                !std::mem::replace(&mut held.active, true)
            })
            .unwrap_or(false);
        // Given out on the way out, a panic's way included. (Not
        // `then_some`, which would make a `Release`, and drop it, either way.)
        let _release = if outer { Some(Release) } else { None };
        self.project().inner.poll(cx)
    }
}

/// Ends holding wake-ups on this thread and gives out those held.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        let mut wakers = HELD
            .try_with(|held| {
                let mut held = held.borrow_mut();
                held.active = false;
                std::mem::take(&mut held.wakers)
            })
            .unwrap_or_default();
        for waker in wakers.drain(..) {
            waker.wake();
        }
        // The list's allocation goes back for the next poll, unless a
        // wake-up above started another `WakesAfterPoll` that made one.
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if held.wakers.capacity() == 0 {
                held.wakers = wakers;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    fn woken(c: &Count) -> usize {
        c.0.load(Ordering::SeqCst)
    }

    /// Polls `fut` once, with a waker nobody looks at.
    fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
        let noop = futures_util::task::noop_waker();
        std::pin::pin!(fut).poll(&mut Context::from_waker(&noop))
    }

    #[test]
    fn outside_a_poll_a_wake_up_is_given_at_once() {
        let (count, waker) = counter();
        wake(waker);
        assert_eq!(woken(&count), 1);
    }

    #[test]
    fn wake_ups_wait_for_the_end_of_the_poll_even_when_it_waits() {
        let (count, waker) = counter();
        let (seen, seen_in_nested) = (Arc::new(AtomicUsize::new(99)), Arc::new(AtomicUsize::new(99)));
        let (c, s, sn) = (count.clone(), seen.clone(), seen_in_nested.clone());
        let fut = wakes_after_poll(std::future::poll_fn(move |_| {
            wake(waker.clone());
            s.store(woken(&c), Ordering::SeqCst);
            // A nested one leaves the wake-ups to this one.
            let c2 = c.clone();
            let sn = sn.clone();
            let w2 = waker.clone();
            let inner = wakes_after_poll(std::future::poll_fn(move |_| {
                wake(w2.clone());
                Poll::Ready(())
            }));
            assert!(poll_once(inner).is_ready());
            sn.store(woken(&c2), Ordering::SeqCst);
            Poll::<()>::Pending
        }));
        assert!(poll_once(fut).is_pending());
        assert_eq!(seen.load(Ordering::SeqCst), 0, "held during the poll");
        assert_eq!(
            seen_in_nested.load(Ordering::SeqCst),
            0,
            "held past a nested poll"
        );
        assert_eq!(woken(&count), 2, "given out when the poll returned Pending");
        // And outside, at once again.
        let (count, waker) = counter();
        wake(waker);
        assert_eq!(woken(&count), 1);
    }

    #[test]
    fn a_poll_that_panics_still_gives_its_wake_ups() {
        let (count, waker) = counter();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let fut = wakes_after_poll(std::future::poll_fn(move |_| -> Poll<()> {
                wake(waker.clone());
                panic!("a handler's bug");
            }));
            let _ = poll_once(fut);
        }));
        assert!(result.is_err());
        assert_eq!(woken(&count), 1);
        let (count, waker) = counter();
        wake(waker);
        assert_eq!(woken(&count), 1, "nothing held after the panic");
    }
}
