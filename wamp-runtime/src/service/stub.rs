//! Typed caller stubs: what a generated `<Name>Client` is made of. A stub
//! method returns a [`TypedCall`] (await it for the typed result), a
//! [`CallStream`] (for procedures that stream their results) or a
//! [`TypedPublish`]; each takes per-call options before it is awaited, so
//! no stub method needs an "options" twin.

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use wamp_proto::{CancelMode, Id, Value};

use super::input::{self, Items, Pump};
use super::typed::{decode_error, CallError, FromCallResult, WampError};
use crate::error::Error;
use crate::payload::CallResult;
use crate::session::{Call, CallFuture, CallHandle, Publish, Session};

/// Options of a stub's calls: set once on a client
/// ([`with_options`](StubOptions) on the generated client) or per call on a
/// [`TypedCall`] or [`CallStream`].
///
/// ```
/// use std::time::Duration;
/// use wamp::service::StubOptions;
/// use wamp::CancelMode;
///
/// let options = StubOptions::new()
///     .timeout(Duration::from_secs(5))
///     .disclose_me(true)
///     .cancel_on_drop(CancelMode::Kill);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StubOptions {
    /// Fail calls after this long (CALL.Options.timeout, and locally).
    pub timeout: Option<Duration>,
    /// Ask the router to disclose the caller to the callee.
    pub disclose_me: bool,
    /// How a call dropped unfinished is canceled (default `killnowait`).
    pub cancel_on_drop: Option<CancelMode>,
    /// For procedures returning a `Progressive`: `false` asks for the final
    /// value only (a stream's stub always asks for its items).
    pub receive_progress: Option<bool>,
}

impl StubOptions {
    /// No options: no timeout, caller not disclosed, `killnowait` on drop.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the timeout.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Asks (or not) for the caller to be disclosed.
    pub fn disclose_me(mut self, yes: bool) -> Self {
        self.disclose_me = yes;
        self
    }

    /// Sets how a call dropped unfinished is canceled.
    pub fn cancel_on_drop(mut self, mode: CancelMode) -> Self {
        self.cancel_on_drop = Some(mode);
        self
    }

    /// For streaming procedures: whether to ask for progressive results.
    pub fn receive_progress(mut self, yes: bool) -> Self {
        self.receive_progress = Some(yes);
        self
    }

    fn apply(&self, mut call: Call) -> Call {
        if let Some(t) = self.timeout {
            call = call.timeout(t);
        }
        if self.disclose_me {
            call = call.disclose_me();
        }
        if let Some(m) = self.cancel_on_drop {
            call = call.cancel_on_drop(m);
        }
        call
    }
}

/// The session and default options a generated client calls with.
#[derive(Debug, Clone)]
pub struct Stub {
    session: Session,
    options: StubOptions,
}

impl Stub {
    /// A stub calling through `session`, with no options.
    pub fn new(session: Session) -> Self {
        Stub {
            session,
            options: StubOptions::default(),
        }
    }

    /// The same stub with other default options.
    pub fn with_options(&self, options: StubOptions) -> Self {
        Stub {
            session: self.session.clone(),
            options,
        }
    }

    /// The default options.
    pub fn options(&self) -> &StubOptions {
        &self.options
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Subscribes to `uri` with options the macros checked, binding each
    /// event with `bind`.
    pub async fn subscribe<T>(
        &self,
        uri: &str,
        options: super::glue::OptionTable,
        bind: fn(super::Extractor) -> Result<T, crate::ApplicationError>,
    ) -> Result<super::TypedSubscription<T>, Error> {
        let sub = self
            .session
            .subscribe(uri, super::glue::subscribe_options(options))
            .await?;
        Ok(super::TypedSubscription::new(sub, bind))
    }

    /// A typed call of `uri`, with the stub's options.
    pub fn call<T, E>(&self, uri: impl Into<String>) -> TypedCall<T, E> {
        TypedCall {
            call: self.options.apply(self.session.call(uri)),
            input: None,
            _types: PhantomData,
        }
    }

    /// A streaming call of `uri` (a `Progressive` procedure), with the
    /// stub's options: `receive_progress(false)` asks for the final value only.
    pub fn stream<T, F, E>(&self, uri: impl Into<String>) -> CallStream<T, F, E> {
        self.start_stream(uri.into(), self.options.receive_progress != Some(false))
    }

    /// A streaming call of `uri` (an `impl Stream` procedure): always asks
    /// for progressive results, since without them the items would come
    /// collected in the final result.
    pub fn items<T, E>(&self, uri: impl Into<String>) -> CallStream<T, (), E> {
        self.start_stream(uri.into(), true)
    }

    fn start_stream<T, F, E>(&self, uri: String, progress: bool) -> CallStream<T, F, E> {
        let mut call = self.options.apply(self.session.call(uri));
        if progress {
            call = call.progressive();
        }
        CallStream {
            state: State::Unstarted(Some(call)),
            input: None,
            pump: None,
            outcome: None,
            reported: false,
            _types: PhantomData,
        }
    }

    /// A typed publication to `uri`.
    pub fn publish(&self, uri: impl Into<String>) -> TypedPublish {
        TypedPublish {
            publish: self.session.publish(uri),
        }
    }
}

/// A typed call being built: per-call options, then `.await` for
/// `Result<T, CallError<E>>`. Dropping the awaited call before it resolves
/// cancels it. For a procedure that takes an input stream
/// ([`Streaming`](super::Streaming)), awaiting sends the input while it
/// waits for the result; an input item that cannot be sent fails the call
/// (and cancels it) with that item's error.
#[must_use = "a call does nothing until awaited"]
pub struct TypedCall<T, E = Infallible> {
    call: Call,
    /// The procedure's input stream, for a procedure that takes one.
    input: Option<Items>,
    _types: PhantomData<fn() -> (T, E)>,
}

impl<T, E> std::fmt::Debug for TypedCall<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedCall").finish_non_exhaustive()
    }
}

impl<T, E> TypedCall<T, E> {
    /// Appends a positional argument (generated code).
    #[doc(hidden)]
    pub fn arg(mut self, v: Result<Value, Error>) -> Self {
        self.call = self.call.arg_value(v);
        self
    }

    /// Adds a keyword argument (generated code).
    #[doc(hidden)]
    pub fn kwarg(mut self, key: &str, v: Result<Value, Error>) -> Self {
        self.call = self.call.kwarg_value(key, v);
        self
    }

    /// Sets all keyword arguments (generated code).
    #[doc(hidden)]
    pub fn kwargs(mut self, v: Result<Value, Error>) -> Self {
        self.call = self.call.kwargs_value(v);
        self
    }

    /// Streams the call's input from `items` (generated code).
    #[doc(hidden)]
    pub fn input<S>(mut self, items: S, encode: super::glue::Encode<S::Item>) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: 'static,
    {
        self.input = Some(input::items(items, encode));
        self
    }

    /// Fails the call after `d`.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.call = self.call.timeout(d);
        self
    }

    /// Asks the router to disclose this caller to the callee.
    pub fn disclose_me(mut self) -> Self {
        self.call = self.call.disclose_me();
        self
    }

    /// How the call is canceled when dropped unfinished.
    pub fn cancel_on_drop(mut self, mode: CancelMode) -> Self {
        self.call = self.call.cancel_on_drop(mode);
        self
    }

    /// Applies a set of options.
    pub fn options(self, options: &StubOptions) -> Self {
        TypedCall {
            call: options.apply(self.call),
            input: self.input,
            _types: PhantomData,
        }
    }

    /// The untyped call (without the input stream of a procedure that
    /// takes one).
    pub fn into_inner(self) -> Call {
        self.call
    }
}

impl<T: FromCallResult, E: WampError> IntoFuture for TypedCall<T, E> {
    type Output = Result<T, CallError<E>>;
    type IntoFuture = TypedCallFuture<T, E>;

    fn into_future(self) -> Self::IntoFuture {
        // Absent optional parameters at the end are not sent: callee defaults apply.
        let call = self.call.trim_trailing_nulls();
        let inner = match self.input {
            None => call.into_future(),
            Some(items) => CallFuture::boxed(input::call(call, items)),
        };
        TypedCallFuture {
            inner,
            _types: PhantomData,
        }
    }
}

/// An awaited [`TypedCall`].
#[must_use = "futures do nothing unless polled"]
pub struct TypedCallFuture<T, E> {
    inner: CallFuture,
    _types: PhantomData<fn() -> (T, E)>,
}

impl<T, E> std::fmt::Debug for TypedCallFuture<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedCallFuture").finish_non_exhaustive()
    }
}

impl<T: FromCallResult, E: WampError> Future for TypedCallFuture<T, E> {
    type Output = Result<T, CallError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let r = ready!(Pin::new(&mut self.inner).poll(cx));
        Poll::Ready(match r {
            Ok(r) => T::from_call_result(r).map_err(CallError::InvalidResult),
            Err(e) => Err(decode_error(e)),
        })
    }
}

/// The types a stub value decodes to, without owning any.
type Types<T> = PhantomData<fn() -> T>;

/// A stream's call being started: its handle, and the pump of its input
/// when that streams.
type Starting = Pin<Box<dyn Future<Output = Result<(CallHandle, Option<Pump>), Error>> + Send>>;

enum State {
    Unstarted(Option<Call>),
    Starting(Starting),
    Running(CallHandle),
    Done,
}

/// The results of a streaming procedure: a `Stream` of its progress items
/// (`Result<T, CallError<E>>`), then [`finish`](Self::finish) for the
/// final value `F`. The CALL goes out when the stream is first polled;
/// dropping the stream before the end cancels the call.
///
/// An error answer (a `WampError` of the procedure, mid-stream or not) is
/// the stream's last item.
///
/// For a procedure that also takes an input stream ([`Streaming`](super::Streaming)),
/// the input goes out while this stream is polled, at the pace the
/// session's queue allows: results and input items travel at once.
#[must_use = "streams do nothing unless polled"]
pub struct CallStream<T, F = (), E = Infallible> {
    state: State,
    /// The procedure's input stream, until the call starts.
    input: Option<Items>,
    /// Sends the input while the call runs.
    pump: Option<Pump>,
    outcome: Option<Result<CallResult, Error>>,
    /// Whether an error outcome was the stream's last item already.
    reported: bool,
    _types: Types<(T, F, E)>,
}

impl<T, F, E> std::fmt::Debug for CallStream<T, F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallStream").finish_non_exhaustive()
    }
}

impl<T, F, E> CallStream<T, F, E> {
    fn map_call(mut self, f: impl FnOnce(Call) -> Call) -> Self {
        if let State::Unstarted(call) = &mut self.state {
            *call = call.take().map(f);
        }
        self
    }

    /// Appends a positional argument (generated code).
    #[doc(hidden)]
    pub fn arg(self, v: Result<Value, Error>) -> Self {
        self.map_call(|c| c.arg_value(v))
    }

    /// Adds a keyword argument (generated code).
    #[doc(hidden)]
    pub fn kwarg(self, key: &str, v: Result<Value, Error>) -> Self {
        self.map_call(|c| c.kwarg_value(key, v))
    }

    /// Sets all keyword arguments (generated code).
    #[doc(hidden)]
    pub fn kwargs(self, v: Result<Value, Error>) -> Self {
        self.map_call(|c| c.kwargs_value(v))
    }

    /// Streams the call's input from `items` (generated code).
    #[doc(hidden)]
    pub fn input<S>(mut self, items: S, encode: super::glue::Encode<S::Item>) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: 'static,
    {
        self.input = Some(input::items(items, encode));
        self
    }

    /// Fails the call after `d` (before the stream is first polled). The
    /// router enforces it (CALL.Options.timeout), and the client gives up
    /// shortly after if the router does not; the stream then ends with the
    /// timeout as its last item.
    pub fn timeout(self, d: Duration) -> Self {
        self.map_call(|c| c.timeout(d))
    }

    /// Asks the router to disclose this caller (before the stream is first polled).
    pub fn disclose_me(self) -> Self {
        self.map_call(|c| c.disclose_me())
    }

    /// How the call is canceled when the stream is dropped unfinished.
    pub fn cancel_on_drop(self, mode: CancelMode) -> Self {
        self.map_call(|c| c.cancel_on_drop(mode))
    }

    /// Starts the call now if it has not started, and polls for the next
    /// progressive result, or the final outcome.
    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Option<CallResult>> {
        loop {
            match &mut self.state {
                State::Unstarted(call) => {
                    let call = call
                        .take()
                        .expect("a stream's call is taken once")
                        .trim_trailing_nulls();
                    self.state = State::Starting(match self.input.take() {
                        None => Box::pin(async move { Ok((call.start().await?, None)) }),
                        Some(items) => Box::pin(async move {
                            let (handle, pump) = input::start(call, items).await?;
                            Ok((handle, Some(pump)))
                        }),
                    });
                }
                State::Starting(fut) => match ready!(fut.as_mut().poll(cx)) {
                    Ok((handle, pump)) => {
                        self.pump = pump;
                        self.state = State::Running(handle);
                    }
                    Err(e) => {
                        self.outcome = Some(Err(e));
                        self.state = State::Done;
                    }
                },
                State::Running(handle) => {
                    // The input goes out while the results come in.
                    if let Some(pump) = self.pump.as_mut() {
                        if let Poll::Ready(r) = pump.as_mut().poll(cx) {
                            self.pump = None;
                            if let Err(e) = r {
                                // Dropping the handle cancels the call.
                                self.outcome = Some(Err(e));
                                self.state = State::Done;
                                continue;
                            }
                        }
                    }
                    if let Some(item) = ready!(handle.poll_progress(cx)) {
                        return Poll::Ready(Some(item));
                    }
                    let outcome = ready!(handle.poll_result(cx));
                    self.outcome = Some(outcome);
                    self.pump = None;
                    self.state = State::Done;
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

impl<T: FromCallResult, F, E: WampError> CallStream<T, F, E> {
    /// The next progress item; `None` after the last one (then
    /// [`finish`](Self::finish) gives the final value). The same as
    /// `StreamExt::next`, without importing it.
    pub async fn next(&mut self) -> Option<Result<T, CallError<E>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<T: FromCallResult, F: FromCallResult, E: WampError> CallStream<T, F, E> {
    /// Reads the stream to its end (dropping the items not read yet) and
    /// returns the final value.
    pub async fn finish(mut self) -> Result<F, CallError<E>> {
        std::future::poll_fn(|cx| {
            while ready!(self.poll_step(cx)).is_some() {}
            Poll::Ready(())
        })
        .await;
        match self.outcome.take() {
            Some(Ok(r)) => F::from_call_result(r).map_err(CallError::InvalidResult),
            Some(Err(e)) => Err(decode_error(e)),
            None => unreachable!("a stream read to its end has an outcome"),
        }
    }
}

impl<T: FromCallResult, F, E: WampError> Stream for CallStream<T, F, E> {
    type Item = Result<T, CallError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // No field is structurally pinned.
        let this = self.get_mut();
        match ready!(this.poll_step(cx)) {
            Some(item) => Poll::Ready(Some(T::from_call_result(item).map_err(CallError::InvalidResult))),
            // An error ends the stream as its last item (and is kept for
            // `finish`); a final result is kept for `finish`.
            None => match &this.outcome {
                Some(Err(e)) if !this.reported => {
                    this.reported = true;
                    Poll::Ready(Some(Err(decode_error(e.clone()))))
                }
                _ => Poll::Ready(None),
            },
        }
    }
}

/// A typed publication: options, then `.await` (or [`acknowledge`](Self::acknowledge)
/// and `.await` for the publication ID).
#[must_use = "a publication does nothing until awaited"]
pub struct TypedPublish {
    publish: Publish,
}

impl std::fmt::Debug for TypedPublish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedPublish").finish_non_exhaustive()
    }
}

impl TypedPublish {
    /// Appends a positional argument (generated code).
    #[doc(hidden)]
    pub fn arg(mut self, v: Result<Value, Error>) -> Self {
        self.publish = self.publish.arg_value(v);
        self
    }

    /// Adds a keyword argument (generated code).
    #[doc(hidden)]
    pub fn kwarg(mut self, key: &str, v: Result<Value, Error>) -> Self {
        self.publish = self.publish.kwarg_value(key, v);
        self
    }

    /// Sets all keyword arguments (generated code).
    #[doc(hidden)]
    pub fn kwargs(mut self, v: Result<Value, Error>) -> Self {
        self.publish = self.publish.kwargs_value(v);
        self
    }

    /// Asks the broker to acknowledge: awaiting then gives the publication ID.
    pub fn acknowledge(self) -> Acknowledged {
        Acknowledged {
            publish: self.publish.acknowledge(true),
        }
    }

    /// Whether this session receives its own event, if subscribed (default: not).
    pub fn exclude_me(mut self, yes: bool) -> Self {
        self.publish = self.publish.exclude_me(yes);
        self
    }

    /// Sessions that must not receive the event.
    pub fn exclude(mut self, sessions: Vec<Id>) -> Self {
        self.publish = self.publish.exclude(sessions);
        self
    }

    /// Authids that must not receive the event.
    pub fn exclude_authid(mut self, authids: Vec<String>) -> Self {
        self.publish = self.publish.exclude_authid(authids);
        self
    }

    /// Authroles that must not receive the event.
    pub fn exclude_authrole(mut self, authroles: Vec<String>) -> Self {
        self.publish = self.publish.exclude_authrole(authroles);
        self
    }

    /// Only these sessions may receive the event.
    pub fn eligible(mut self, sessions: Vec<Id>) -> Self {
        self.publish = self.publish.eligible(sessions);
        self
    }

    /// Only sessions with these authids may receive the event.
    pub fn eligible_authid(mut self, authids: Vec<String>) -> Self {
        self.publish = self.publish.eligible_authid(authids);
        self
    }

    /// Only sessions with these authroles may receive the event.
    pub fn eligible_authrole(mut self, authroles: Vec<String>) -> Self {
        self.publish = self.publish.eligible_authrole(authroles);
        self
    }

    /// Asks the broker to keep the event for later subscribers that ask for it.
    pub fn retain(mut self, yes: bool) -> Self {
        self.publish = self.publish.retain(yes);
        self
    }

    /// Asks the broker to disclose this publisher to subscribers.
    pub fn disclose_me(mut self) -> Self {
        self.publish = self.publish.disclose_me();
        self
    }

    /// The untyped publication.
    pub fn into_inner(self) -> Publish {
        self.publish
    }
}

impl IntoFuture for TypedPublish {
    type Output = Result<(), Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let fut = self.publish.into_future();
        Box::pin(async move { fut.await.map(|_| ()) })
    }
}

/// An acknowledged [`TypedPublish`]: `.await` gives the publication ID.
#[must_use = "a publication does nothing until awaited"]
pub struct Acknowledged {
    publish: Publish,
}

impl std::fmt::Debug for Acknowledged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acknowledged").finish_non_exhaustive()
    }
}

impl IntoFuture for Acknowledged {
    type Output = Result<Id, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let fut = self.publish.into_future();
        Box::pin(async move {
            fut.await?
                .ok_or_else(|| Error::ProtocolViolation("an acknowledged publication has no ID".into()))
        })
    }
}
