//! Streaming results in typed form: [`Progressive`], what a procedure
//! returns for "progress items, then a final value", and [`Progress`], the
//! handle its body sends items through.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use wamp_proto::error_uri;

use crate::error::{ApplicationError, Error};
use crate::payload::CallResult;
use crate::session::ProgressSender;

type Body<T, F, E> =
    Box<dyn FnOnce(Progress<T>) -> Pin<Box<dyn Future<Output = Result<F, E>> + Send>> + Send>;

/// A procedure's result made of progress items of type `T`, then a final
/// value `F` (or an error `E`, mapped through [`WampError`](super::WampError)).
///
/// Each item goes to the caller as a progressive RESULT when it asked for
/// progressive results; otherwise [`Progress::send`] drops the item and the
/// caller gets only the final value. The typed stub of such a procedure
/// returns a [`CallStream`](super::CallStream) of the items, then the final value.
///
/// ```
/// use std::time::Duration;
/// use wamp::service::Progressive;
///
/// struct LongOp;
///
/// #[wamp::service(prefix = "com.myapp")]
/// impl LongOp {
///     /// Reports 0..n as progress, then returns n.
///     #[wamp::procedure("longop")]
///     fn longop(&self, n: u32) -> Progressive<u32, u32> {
///         Progressive::new(move |progress| async move {
///             for i in 0..n {
///                 progress.send(i).await;
///                 tokio::time::sleep(Duration::from_millis(1)).await;
///             }
///             n
///         })
///     }
/// }
/// ```
#[must_use = "a Progressive does nothing unless returned from a procedure"]
pub struct Progressive<T, F, E = Infallible> {
    body: Body<T, F, E>,
}

impl<T, F, E> std::fmt::Debug for Progressive<T, F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progressive").finish_non_exhaustive()
    }
}

impl<T: Send + 'static, F: 'static> Progressive<T, F> {
    /// A body that sends items through its [`Progress`] and returns the
    /// final value.
    pub fn new<B, Fut>(body: B) -> Self
    where
        B: FnOnce(Progress<T>) -> Fut + Send + 'static,
        Fut: Future<Output = F> + Send + 'static,
    {
        Progressive {
            body: Box::new(move |p| {
                Box::pin(async move { Ok(body(p).await) }) as Pin<Box<dyn Future<Output = _> + Send>>
            }),
        }
    }
}

impl<T: Send + 'static, F: 'static, E: 'static> Progressive<T, F, E> {
    /// A body that may fail: an `Err` after some items ends the call with
    /// the error's URI (the items already sent stay sent).
    pub fn try_new<B, Fut>(body: B) -> Self
    where
        B: FnOnce(Progress<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<F, E>> + Send + 'static,
    {
        Progressive {
            body: Box::new(move |p| Box::pin(body(p))),
        }
    }
}

impl<T, F, E> Progressive<T, F, E> {
    /// Runs the body.
    pub(crate) async fn run(self, progress: Progress<T>) -> Result<F, E> {
        (self.body)(progress).await
    }
}

/// Where a [`Progressive`] body sends its items.
pub struct Progress<T> {
    sender: Option<ProgressSender>,
    encode: super::glue::Encode<T>,
}

impl<T> std::fmt::Debug for Progress<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("wanted", &self.sender.is_some())
            .finish()
    }
}

impl<T> Progress<T> {
    pub(crate) fn new(sender: Option<ProgressSender>, encode: super::glue::Encode<T>) -> Self {
        Progress { sender, encode }
    }

    /// Whether the caller asked for progressive results (if not, items are
    /// dropped and the body may skip the work of making them).
    pub fn is_wanted(&self) -> bool {
        self.sender.is_some()
    }

    /// Sends one item as a progressive result, waiting while the session's
    /// outgoing queue is full. Returns whether it went out: `false` when the
    /// caller did not ask for progress, or is gone (the router then
    /// interrupts the invocation).
    pub async fn send(&self, item: T) -> bool {
        self.try_send(item).await.is_ok()
    }

    /// Like [`send`](Self::send), with the reason an item did not go out.
    pub async fn try_send(&self, item: T) -> Result<(), Error> {
        let Some(sender) = &self.sender else {
            return Err(Error::Application(
                ApplicationError::new(error_uri::CANCELED)
                    .with_arg("the caller did not ask for progressive results"),
            ));
        };
        let v = (self.encode)(&item)?;
        sender
            .send(CallResult {
                args: vec![v],
                kwargs: Default::default(),
            })
            .await
    }
}
