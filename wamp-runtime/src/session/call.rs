//! Calling procedures: the [`Call`] builder, and [`CallHandle`] for progressive
//! results and cancellation. Dropping an unfinished call cancels it.

use std::future::{poll_fn, Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;
use wamp_proto::msg;

use serde::Serialize;
use tokio::sync::mpsc;
use wamp_proto::transport::TrySendError;
use wamp_proto::{error_uri, CallOptions, CancelMode, CancelOptions, Dict, Id, List, Message, Value};

use super::{Pending, Session, Shared};
use crate::error::Error;
use crate::payload::{Arguments, CallResult};

/// How long the client waits past a call's own timeout for the router's
/// answer before failing it locally.
const TIMEOUT_GRACE: Duration = Duration::from_millis(500);
/// Progressive results buffered per call before the session's reader waits.
const PROGRESS_QUEUE: usize = 64;

/// A call waiting for its final answer, in the session's pending requests.
/// Its outcome goes to the session's settled calls
/// ([`State::settle_call`](super::State::settle_call)), where its handle takes it: no channel, and
/// so no allocation, per call.
pub(crate) struct PendingCall {
    /// The handle's waker, once it has waited.
    waker: Option<Waker>,
    progress: Option<mpsc::Sender<CallResult>>,
    canceled: bool,
    timeout: Option<Duration>,
}

impl PendingCall {
    /// The client error for an ERROR answering the call: our own cancel
    /// and timeout map onto their client errors.
    pub fn error(&self, e: crate::ApplicationError) -> Error {
        if self.canceled && e.error == error_uri::CANCELED {
            Error::Canceled
        } else if let (Some(t), true) = (self.timeout, e.error == error_uri::TIMEOUT) {
            Error::Timeout(t)
        } else {
            Error::Application(e)
        }
    }

    pub fn progress_sender(&self) -> Option<mpsc::Sender<CallResult>> {
        self.progress.clone()
    }

    /// Whether the caller asked for progressive results.
    pub fn is_progressive(&self) -> bool {
        self.progress.is_some()
    }

    /// The waker of the handle, if it waits (to wake once the session's
    /// lock is released).
    pub fn take_waker(&mut self) -> Option<Waker> {
        self.waker.take()
    }
}

type ProgressCallback = Box<dyn FnMut(CallResult) + Send>;

/// A call being built: arguments and options, then `.await` for the result,
/// or [`start`](Call::start) for a [`CallHandle`].
///
/// ```no_run
/// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
/// use wamp::Payload;
/// let sum = session.call("com.arguments.add2").arg(2).arg(3).await?;
/// assert_eq!(sum.arg::<i64>(0)?, 5);
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until awaited or started"]
// Boxed: every builder step moves the call, and a pointer moves cheaply.
pub struct Call(Box<CallState>);

struct CallState {
    session: Session,
    procedure: String,
    arguments: Arguments,
    options: CallOptions,
    timeout: Option<Duration>,
    on_progress: Option<ProgressCallback>,
    drop_mode: CancelMode,
    stream_input: bool,
}

impl Session {
    /// Starts building a call of `procedure`.
    pub fn call(&self, procedure: impl Into<String>) -> Call {
        Call(Box::new(CallState {
            session: self.clone(),
            procedure: procedure.into(),
            arguments: Arguments::default(),
            options: CallOptions::default(),
            timeout: None,
            on_progress: None,
            drop_mode: CancelMode::KillNoWait,
            stream_input: false,
        }))
    }
}

impl Call {
    /// Appends a positional argument.
    pub fn arg(mut self, v: impl Serialize) -> Self {
        self.0.arguments.push(v);
        self
    }

    /// Appends an encoded positional argument (typed stubs).
    #[doc(hidden)]
    pub fn arg_value(mut self, v: Result<Value, Error>) -> Self {
        self.0.arguments.push_value(v);
        self
    }

    /// Adds an encoded keyword argument (typed stubs).
    #[doc(hidden)]
    pub fn kwarg_value(mut self, key: &str, v: Result<Value, Error>) -> Self {
        self.0.arguments.insert_value(key, v);
        self
    }

    /// Sets all keyword arguments from an encoded map (typed stubs).
    #[doc(hidden)]
    pub fn kwargs_value(mut self, v: Result<Value, Error>) -> Self {
        self.0.arguments.kwargs_value(v);
        self
    }

    /// Sets all positional arguments.
    pub fn args(mut self, args: List) -> Self {
        self.0.arguments.set_args(args);
        self
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, key: impl Into<String>, v: impl Serialize) -> Self {
        self.0.arguments.insert(key.into(), v, false);
        self
    }

    /// Adds a keyword argument unless it is `None` (serializes to null), so
    /// the callee's default applies; typed stubs use this for `Option`s.
    pub fn kwarg_opt(mut self, key: impl Into<String>, v: impl Serialize) -> Self {
        self.0.arguments.insert(key.into(), v, true);
        self
    }

    /// Drops trailing `null` positional arguments, so absent optional
    /// parameters at the end are not sent (the callee's defaults apply).
    pub fn trim_trailing_nulls(mut self) -> Self {
        self.0.arguments.trim_trailing_nulls();
        self
    }

    /// Sets all keyword arguments.
    pub fn kwargs(mut self, kwargs: Dict) -> Self {
        self.0.arguments.set_kwargs(kwargs);
        self
    }

    /// Sets all keyword arguments from a value that serializes to a map
    /// (a struct, a `HashMap`, ...); `None`/unit sets none.
    pub fn kwargs_from(mut self, v: &impl Serialize) -> Self {
        self.0.arguments.kwargs_from(v);
        self
    }

    /// Fails the call after `d`: the router enforces it (CALL.Options.timeout),
    /// and the client gives up shortly after if the router does not.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.0.options.timeout = Some(d.as_millis().max(1) as u64);
        self.0.timeout = Some(d);
        self
    }

    /// Asks the router to disclose this caller's identity to the callee.
    pub fn disclose_me(mut self) -> Self {
        self.0.options.disclose_me = Some(true);
        self
    }

    /// Sets the raw CALL options (keeps a timeout set with [`timeout`](Self::timeout)).
    pub fn options(mut self, options: CallOptions) -> Self {
        let timeout = self.0.options.timeout;
        self.0.options = options;
        if self.0.options.timeout.is_none() {
            self.0.options.timeout = timeout;
        }
        self
    }

    /// Receives progressive results through a callback while awaiting the final result.
    pub fn on_progress(mut self, f: impl FnMut(CallResult) + Send + 'static) -> Self {
        self.0.options.receive_progress = Some(true);
        self.0.on_progress = Some(Box::new(f));
        self
    }

    /// Asks for progressive results; read them with [`CallHandle::progress`].
    pub fn progressive(mut self) -> Self {
        self.0.options.receive_progress = Some(true);
        self
    }

    /// Streams the call's input (progressive call invocations): the
    /// arguments set here are its first chunk, [`CallHandle::send_input`]
    /// sends more and [`CallHandle::finish_input`] the last. Each chunk is a
    /// CALL with the same request ID, all but the last with
    /// `options.progress`; the callee gets them as INVOCATIONs of one
    /// invocation ([`Invocation::input`](crate::Invocation::input)). Start
    /// the call with [`start`](Self::start) (awaiting the builder fails
    /// with [`Error::Unsupported`]); with [`progressive`](Self::progressive)
    /// results stream back meanwhile. Cancel, timeout (from the first
    /// chunk) and dropping the handle end the call mid-stream.
    ///
    /// Needs a router that announced `progressive_call_invocations`;
    /// otherwise `start` fails with [`Error::Unsupported`] before anything
    /// is sent.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// use wamp::{CallResult, Payload};
    /// let mut call = session.call("com.example.sum").arg(1).stream_input().start().await?;
    /// call.send_input(CallResult::new().with_arg(2)).await?;
    /// call.finish_input(CallResult::new().with_arg(3)).await?;
    /// assert_eq!(call.result().await?.arg::<i64>(0)?, 6);
    /// # Ok(()) }
    /// ```
    pub fn stream_input(mut self) -> Self {
        self.0.stream_input = true;
        self
    }

    /// How the call is canceled when it is dropped unfinished (default
    /// `killnowait`: the callee is interrupted and nobody waits for it).
    pub fn cancel_on_drop(mut self, mode: CancelMode) -> Self {
        self.0.drop_mode = mode;
        self
    }

    /// Sends the CALL and returns a handle to the call in flight.
    pub async fn start(self) -> Result<CallHandle, Error> {
        let (mut handle, msg) = self.prepare()?;
        if let Err(e) = handle.shared.send(msg).await {
            handle.forget();
            return Err(e);
        }
        Ok(handle)
    }

    /// Checks the call, records it as pending and builds its CALL.
    fn prepare(self) -> Result<(CallHandle, Message), Error> {
        let CallState {
            session,
            procedure,
            arguments,
            options,
            timeout,
            on_progress: _,
            drop_mode,
            stream_input,
        } = *self.0;
        let mut options = options;
        let (args, kwargs) = arguments.into_parts()?;
        wamp_proto::uri::validate(&procedure, Default::default(), false)?;
        session.shared.check_payload(&args, &kwargs)?;
        let input = if stream_input {
            if !router_streams_input(&session.shared.details.router_roles) {
                return Err(Error::Unsupported(format!(
                    "the router did not announce {} (dealer role), so the call's input cannot stream",
                    wamp_proto::meta_uri::FEATURE_PROGRESSIVE_CALL_INVOCATIONS
                )));
            }
            options.progress = Some(true);
            Some(procedure.clone())
        } else {
            options.progress = None;
            None
        };
        let (progress, progress_rx) = if options.receive_progress == Some(true) {
            let (tx, rx) = mpsc::channel(PROGRESS_QUEUE);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let request = session.shared.add_pending(|_| {
            Pending::Call(PendingCall {
                waker: None,
                progress,
                canceled: false,
                timeout,
            })
        })?;
        let msg = Message::from(msg::Call {
            request,
            options,
            procedure,
            payload: wamp_proto::Payload::new(args, kwargs),
        });
        let handle = CallHandle {
            shared: session.shared,
            request,
            progress: progress_rx,
            timeout,
            deadline: timeout.map(|t| tokio::time::Instant::now() + t + TIMEOUT_GRACE),
            timer: None,
            done: false,
            drop_mode,
            input,
        };
        Ok((handle, msg))
    }

    async fn run(mut self) -> Result<CallResult, Error> {
        let on_progress = self.0.on_progress.take();
        let mut handle = self.start().await?;
        if let Some(mut f) = on_progress {
            // Ends at the final answer, or at the call's own deadline (then
            // `result` gives the timeout).
            while let Some(p) = handle.progress().await {
                f(p);
            }
        }
        handle.result().await
    }
}

impl IntoFuture for Call {
    type Output = Result<CallResult, Error>;
    type IntoFuture = CallFuture;

    fn into_future(self) -> CallFuture {
        CallFuture(Stage::Unstarted(self))
    }
}

/// An awaited [`Call`]: sends the CALL when first polled, then resolves to
/// the final result. Dropping it before that cancels the call, like
/// dropping a [`CallHandle`].
///
/// A plain call (no timeout, no progress callback) whose CALL fits in the
/// session's queue at once is a small state machine with no allocation of
/// its own; everything else runs as one boxed future.
#[must_use = "futures do nothing unless polled"]
pub struct CallFuture(Stage);

enum Stage {
    /// Built, not polled yet: nothing sent.
    Unstarted(Call),
    /// The CALL went out; waiting for the final result.
    Waiting(CallHandle),
    /// The general path: timeouts, progress callbacks, a full queue.
    Boxed(Pin<Box<dyn Future<Output = Result<CallResult, Error>> + Send>>),
    /// Resolved.
    Done,
}

impl Future for CallFuture {
    type Output = Result<CallResult, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match &mut self.0 {
                Stage::Unstarted(_) => {
                    let Stage::Unstarted(call) = std::mem::replace(&mut self.0, Stage::Done) else {
                        unreachable!("matched above")
                    };
                    self.0 = match call.start_now() {
                        Ok(stage) => stage,
                        Err(e) => return Poll::Ready(Err(e)),
                    };
                }
                Stage::Waiting(handle) => {
                    let outcome = ready!(handle.poll_result(cx));
                    self.0 = Stage::Done;
                    return Poll::Ready(outcome);
                }
                Stage::Boxed(fut) => {
                    let outcome = ready!(fut.as_mut().poll(cx));
                    self.0 = Stage::Done;
                    return Poll::Ready(outcome);
                }
                Stage::Done => panic!("CallFuture polled after it resolved"),
            }
        }
    }
}

impl Call {
    /// Sends a plain call's CALL if the session's queue has room now; what
    /// needs more (a timeout, a progress callback, a full queue) goes the
    /// general, boxed way.
    fn start_now(self) -> Result<Stage, Error> {
        if self.0.stream_input {
            return Err(Error::Unsupported(
                "a call whose input streams is started with start(), which gives the handle to send it; awaited, it would never finish".into(),
            ));
        }
        if self.0.timeout.is_some() || self.0.on_progress.is_some() {
            return Ok(Stage::Boxed(Box::pin(self.run())));
        }
        let (mut handle, msg) = self.prepare()?;
        // Unread progress must not hold back the session's reader.
        handle.progress = None;
        match handle.shared.tx.try_send(msg) {
            Ok(()) => Ok(Stage::Waiting(handle)),
            Err(TrySendError::Full(out)) => Ok(Stage::Boxed(Box::pin(async move {
                let mut handle = handle;
                if let Err(e) = handle.shared.send(out.into_message()).await {
                    handle.forget();
                    return Err(e);
                }
                handle.result().await
            }))),
            Err(TrySendError::Closed(_)) => {
                let e = handle.shared.closed_error();
                handle.forget();
                Err(e)
            }
        }
    }
}

/// A call in flight. Await it (or [`result`](Self::result)) for the final
/// result; read progressive results with [`progress`](Self::progress);
/// [`cancel`](Self::cancel) it. Dropping it unfinished cancels the call
/// (mode `killnowait`).
pub struct CallHandle {
    shared: Arc<Shared>,
    request: Id,
    progress: Option<mpsc::Receiver<CallResult>>,
    timeout: Option<Duration>,
    /// When the client gives up on the call by itself: its timeout plus
    /// [`TIMEOUT_GRACE`] after it started. The router enforces the timeout
    /// (CALL.Options.timeout); this is for one that does not (Crossbar.io
    /// lets a progressive call run on), and covers progressive results too.
    deadline: Option<tokio::time::Instant>,
    /// The timer of `deadline`, made when the handle first waits.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
    drop_mode: CancelMode,
    /// The procedure, while the call's input streams.
    input: Option<String>,
}

/// Whether the router's WELCOME roles announce progressive call
/// invocations for its dealer (or the older name `progressive_calls`).
fn router_streams_input(roles: &Dict) -> bool {
    let feature = |name: &str| {
        matches!(
            roles.get("dealer"),
            Some(Value::Dict(d)) if matches!(
                d.get("features"),
                Some(Value::Dict(f)) if matches!(f.get(name), Some(Value::Bool(true)))
            )
        )
    };
    feature(wamp_proto::meta_uri::FEATURE_PROGRESSIVE_CALL_INVOCATIONS) || feature("progressive_calls")
}

impl CallHandle {
    /// Sends one more chunk of the call's input (a CALL with the same
    /// request ID and `options.progress`); waits while the session's
    /// outgoing queue is full. See [`Call::stream_input`].
    ///
    /// Fails with [`Error::InputClosed`] if the input does not stream (any
    /// more), or the call has ended (its outcome is then the
    /// [`result`](Self::result)); with [`Error::InvalidArgument`] for a
    /// value the session's serializer cannot carry. Nothing is sent then.
    pub async fn send_input(&mut self, chunk: CallResult) -> Result<(), Error> {
        self.input(chunk, false).await
    }

    /// Sends the last chunk of the call's input (a CALL with the same
    /// request ID and no `progress`); the call then waits for its result.
    /// Fails as [`send_input`](Self::send_input) does.
    pub async fn finish_input(&mut self, chunk: CallResult) -> Result<(), Error> {
        self.input(chunk, true).await
    }

    async fn input(&mut self, chunk: CallResult, last: bool) -> Result<(), Error> {
        send_input(&self.shared, self.request, &mut self.input, chunk, last).await
    }

    /// Takes the sending half of a call whose input streams, so that the
    /// input can be sent while the handle waits for results (the typed
    /// stubs do both at once). `None` if the input does not stream.
    pub(crate) fn take_input(&mut self) -> Option<InputSender> {
        self.input.take().map(|procedure| InputSender {
            shared: Arc::clone(&self.shared),
            request: self.request,
            procedure: Some(procedure),
        })
    }

    /// The CALL request ID.
    pub fn request_id(&self) -> Id {
        self.request
    }

    /// The next progressive result; `None` once the final result (or an
    /// error) has arrived, or the call's timeout has passed (then
    /// [`result`](Self::result) gives [`Error::Timeout`]).
    pub async fn progress(&mut self) -> Option<CallResult> {
        poll_fn(|cx| self.poll_progress(cx)).await
    }

    /// Waits for the final result; with a [`timeout`](Call::timeout), fails
    /// with [`Error::Timeout`] shortly after it if the router has not
    /// ended the call by then.
    pub async fn result(mut self) -> Result<CallResult, Error> {
        // Unread progress must not hold back the session's reader.
        self.progress = None;
        poll_fn(|cx| self.poll_result(cx)).await
    }

    /// Whether the call's own deadline has passed; if not, `cx` is woken
    /// when it does.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline else {
            return false;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().poll(cx).is_ready()
    }

    /// Gives up on the call after its timeout: cancels it at the router.
    fn expire(&mut self) -> Error {
        self.send_cancel(CancelMode::KillNoWait);
        self.done = true;
        self.timer = None;
        Error::Timeout(self.timeout.unwrap_or_default())
    }

    /// The next progressive result if one is queued; `Ready(None)` once the
    /// final answer has arrived (or progress was not asked for), or the
    /// call's deadline has passed.
    pub(crate) fn poll_progress(&mut self, cx: &mut Context<'_>) -> Poll<Option<CallResult>> {
        let Some(rx) = self.progress.as_mut() else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Pending if self.poll_expired(cx) => {
                self.progress = None;
                Poll::Ready(None)
            }
            other => other,
        }
    }

    /// The final outcome if it has arrived, or the timeout once the call's
    /// deadline has passed; otherwise waits for either.
    pub(crate) fn poll_result(&mut self, cx: &mut Context<'_>) -> Poll<Result<CallResult, Error>> {
        let outcome = {
            let mut st = self.shared.lock();
            match st.settled.remove(&self.request) {
                Some(outcome) => Some(outcome),
                None => match st.pending.get_mut(&self.request) {
                    Some(Pending::Call(c)) => {
                        match &mut c.waker {
                            Some(w) if w.will_wake(cx.waker()) => {}
                            slot => *slot = Some(cx.waker().clone()),
                        }
                        None
                    }
                    // Neither waiting nor settled: the session ended without
                    // an answer.
                    _ => Some(Err(st.closed_error())),
                },
            }
        };
        if let Some(outcome) = outcome {
            self.done = true;
            return Poll::Ready(outcome);
        }
        if self.poll_expired(cx) {
            return Poll::Ready(Err(self.expire()));
        }
        Poll::Pending
    }

    /// Cancels the call with `mode` and waits for its end: `Err(Canceled)`,
    /// or with `kill`, whatever the callee answers.
    pub async fn cancel(self, mode: CancelMode) -> Result<CallResult, Error> {
        {
            let mut st = self.shared.lock();
            if let Some(Pending::Call(c)) = st.pending.get_mut(&self.request) {
                c.canceled = true;
            }
        }
        let msg = Message::Cancel(msg::Cancel {
            request: self.request,
            options: CancelOptions {
                mode: Some(mode),
                ..Default::default()
            },
        });
        self.shared.send(msg).await?;
        self.result().await
    }

    /// Gives up a call whose CALL never went out.
    fn forget(&mut self) {
        self.done = true;
        self.shared.take_pending(self.request);
    }

    /// Cancels the call unless it is answered already (then its unread
    /// outcome is dropped).
    fn send_cancel(&self, mode: CancelMode) {
        let waiting = {
            let mut st = self.shared.lock();
            st.settled.remove(&self.request);
            st.pending.remove(&self.request).is_some()
        };
        if waiting {
            let msg = Message::Cancel(msg::Cancel {
                request: self.request,
                options: CancelOptions {
                    mode: Some(mode),
                    ..Default::default()
                },
            });
            // Past the high-water mark: dropping a call must not wait, and
            // the router must learn of it. If the queue is closed, the
            // session is going down and the router forgets the call with it.
            let _ = self.shared.tx.push(msg);
        }
    }
}

/// Sends one chunk of a streaming call's input; `procedure` is the
/// procedure while the input is open, and is taken by the last chunk (or
/// when the call turns out to have ended).
async fn send_input(
    shared: &Shared,
    request: Id,
    procedure: &mut Option<String>,
    chunk: CallResult,
    last: bool,
) -> Result<(), Error> {
    let Some(uri) = procedure.as_ref() else {
        return Err(Error::InputClosed);
    };
    let running = {
        let st = shared.lock();
        matches!(st.pending.get(&request), Some(Pending::Call(_)))
    };
    if !running {
        *procedure = None;
        return Err(Error::InputClosed);
    }
    shared.check_payload(&chunk.args, &chunk.kwargs)?;
    let uri = if last {
        procedure.take().unwrap_or_default()
    } else {
        uri.clone()
    };
    shared
        .send(Message::from(msg::Call {
            request,
            options: CallOptions {
                progress: (!last).then_some(true),
                ..Default::default()
            },
            procedure: uri,
            payload: wamp_proto::Payload::new(chunk.args, chunk.kwargs),
        }))
        .await
}

/// The input half of a call whose input streams, apart from its
/// [`CallHandle`] ([`CallHandle::take_input`]).
pub(crate) struct InputSender {
    shared: Arc<Shared>,
    request: Id,
    procedure: Option<String>,
}

impl InputSender {
    /// Sends one chunk; the `last` one ends the input. Fails as
    /// [`CallHandle::send_input`] does.
    pub(crate) async fn send(&mut self, chunk: CallResult, last: bool) -> Result<(), Error> {
        send_input(&self.shared, self.request, &mut self.procedure, chunk, last).await
    }
}

impl CallFuture {
    /// A call that runs as `fut` (the general path, for callers in this crate).
    pub(crate) fn boxed(fut: impl Future<Output = Result<CallResult, Error>> + Send + 'static) -> Self {
        CallFuture(Stage::Boxed(Box::pin(fut)))
    }
}

impl IntoFuture for CallHandle {
    type Output = Result<CallResult, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.result())
    }
}

impl Drop for CallHandle {
    fn drop(&mut self) {
        if !self.done {
            self.send_cancel(self.drop_mode);
        }
    }
}

#[cfg(all(test, feature = "router"))]
mod tests {
    use std::future::IntoFuture;

    use futures_util::FutureExt;
    use wamp_router::{Router, RouterConfig};

    use crate::{CallResult, Error, Payload, RegisterOptions, Session};

    const REALM: &str = "realm1";

    /// A caller and a callee of `com.test.echo` (answers at once) and
    /// `com.test.never` (never answers), in-process.
    async fn pair() -> (Session, Session) {
        let router = Router::new(RouterConfig::default().realm(REALM));
        let callee = Session::join_local(&router, REALM).await.unwrap();
        callee
            .register("com.test.echo", RegisterOptions::default(), |inv| async move {
                Ok(CallResult::new().with_arg(inv.arg::<i64>(0)?))
            })
            .await
            .unwrap();
        callee
            .register("com.test.never", RegisterOptions::default(), |_| async move {
                std::future::pending::<()>().await;
                Ok(CallResult::new())
            })
            .await
            .unwrap();
        let caller = Session::join_local(&router, REALM).await.unwrap();
        (caller, callee)
    }

    #[test]
    fn the_router_announces_streamed_input_under_either_name() {
        use wamp_proto::{Dict, Value};
        let roles = |feature: &str, on: bool| {
            let mut features = Dict::new();
            features.insert(feature.into(), Value::Bool(on));
            let mut dealer = Dict::new();
            dealer.insert("features".into(), Value::Dict(features));
            let mut roles = Dict::new();
            roles.insert("dealer".into(), Value::Dict(dealer));
            roles
        };
        assert!(super::router_streams_input(&roles(
            "progressive_call_invocations",
            true
        )));
        assert!(super::router_streams_input(&roles("progressive_calls", true)));
        assert!(!super::router_streams_input(&roles(
            "progressive_call_invocations",
            false
        )));
        assert!(!super::router_streams_input(&roles(
            "progressive_call_results",
            true
        )));
        assert!(!super::router_streams_input(&Dict::new()));
    }

    fn requests(s: &Session) -> (usize, usize) {
        let st = s.shared.lock();
        (st.pending.len(), st.settled.len())
    }

    #[tokio::test]
    async fn an_answer_not_read_yet_is_kept_for_its_handle() {
        let (caller, _callee) = pair().await;
        // In-process, the answer arrives while the CALL is sent.
        let handle = caller.call("com.test.echo").arg(7).start().await.unwrap();
        assert_eq!(requests(&caller), (0, 1), "settled, no longer pending");
        assert_eq!(handle.await.unwrap().arg::<i64>(0).unwrap(), 7);
        assert_eq!(requests(&caller), (0, 0));
    }

    #[tokio::test]
    async fn a_handle_dropped_unread_leaves_nothing_behind() {
        let (caller, _callee) = pair().await;
        drop(caller.call("com.test.echo").arg(7).start().await.unwrap());
        assert_eq!(requests(&caller), (0, 0));
        // A handle dropped while its call waits cancels it.
        drop(caller.call("com.test.never").start().await.unwrap());
        assert_eq!(requests(&caller), (0, 0));
    }

    #[tokio::test]
    async fn waiting_calls_fail_with_the_reason_the_session_ended() {
        let (caller, _callee) = pair().await;
        // Polled once: the CALL goes out, and the call waits.
        let mut waiting = caller.call("com.test.never").into_future();
        assert!((&mut waiting).now_or_never().is_none());
        let handle = caller.call("com.test.never").start().await.unwrap();
        assert_eq!(requests(&caller), (2, 0));
        caller.leave().await.unwrap();
        let end = caller.closed().await;
        assert!(matches!(end, Error::SessionClosed { .. }), "{end}");
        for outcome in [waiting.await, handle.await] {
            assert_eq!(outcome.unwrap_err().to_string(), end.to_string());
        }
    }
}
