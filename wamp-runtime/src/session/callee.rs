//! Registering procedures: handlers, invocations, progressive results, and
//! running each invocation as its own task so handlers run concurrently and
//! an INTERRUPT can stop one.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use wamp_proto::msg;

use futures_util::task::noop_waker_ref;
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};
use wamp_proto::transport::TrySendError;
use wamp_proto::uri::Uri;
use wamp_proto::{
    error_uri, Dict, Id, InvocationDetails, List, Message, MessageType, RegisterOptions, Value, YieldOptions,
};

use super::{Pending, Session, Shared};
use crate::error::{ApplicationError, Error};
use crate::payload::{CallResult, Payload};

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<CallResult, ApplicationError>> + Send>>;

/// A registered procedure's handler, shareable across invocations.
pub type Handler = Arc<dyn Fn(Invocation) -> HandlerFuture + Send + Sync>;

/// One call of a registered procedure, as the callee sees it.
#[derive(Debug)]
pub struct Invocation {
    /// The INVOCATION request ID.
    pub request: Id,
    /// The registration invoked.
    pub registration: Id,
    /// The concrete procedure URI called (for pattern registrations, the URI
    /// the caller used; otherwise the registered URI).
    pub procedure: Uri,
    /// Details: caller identity (when disclosed), timeout, ...
    pub details: InvocationDetails,
    /// Positional arguments.
    pub args: List,
    /// Keyword arguments.
    pub kwargs: Dict,
    /// Sends progressive results, when the caller asked for them.
    pub progress: Option<ProgressSender>,
    /// The rest of the caller's input, when it streams it (progressive
    /// call invocations, `details.progress`): this invocation's own
    /// arguments are its first chunk, the stream gives the later ones and
    /// ends after the last. `None` for an ordinary call.
    pub input: Option<InputStream>,
    /// The session the invocation arrived on (its details: realm, authid,
    /// authrole, ...; and for calling or publishing from the handler).
    pub session: Session,
}

impl Payload for Invocation {
    fn args(&self) -> &List {
        &self.args
    }
    fn kwargs(&self) -> &Dict {
        &self.kwargs
    }
}

/// Sends progressive results of one invocation to its caller.
#[derive(Clone)]
pub struct ProgressSender {
    shared: Arc<Shared>,
    request: Id,
    /// Whether this sender has let its handler's task yield once.
    yielded: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for ProgressSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressSender")
            .field("request", &self.request)
            .finish()
    }
}

impl ProgressSender {
    /// Sends one progressive result.
    ///
    /// Fails with [`Error::InvalidArgument`] for a value the session's
    /// serializer cannot carry (see [`wamp_proto::repr`]); nothing is sent.
    pub async fn send(&self, r: CallResult) -> Result<(), Error> {
        // A handler starts inside the task that delivered its INVOCATION,
        // which in-process is the caller's own: a stream must go on in a
        // task of its own, or the caller could not read it until the
        // stream is over (and the router holds a callee back until its
        // caller reads).
        if !self.yielded.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tokio::task::yield_now().await;
        }
        self.shared.check_payload(&r.args, &r.kwargs)?;
        self.shared
            .send(Message::Yield(msg::Yield {
                request: self.request,
                options: YieldOptions {
                    progress: Some(true),
                    ..Default::default()
                },
                payload: wamp_proto::Payload::new(r.args, r.kwargs),
            }))
            .await
    }
}

/// Chunks a caller streams into one invocation after its first
/// (progressive call invocations): each later INVOCATION's arguments, in
/// order; the stream ends after the last one (the INVOCATION without
/// `progress`). Read with [`next`](Self::next) or as a
/// [`Stream`](futures_util::Stream).
///
/// Bounded: while a handler does not read, the chunks wait in a small
/// queue and then hold back the session's reader (and so the router and
/// the caller), as an unread subscription does: a handler that keeps its
/// stream but stops reading holds back everything else the session
/// receives (an INTERRUPT for it too) once the queue is full. Dropping the
/// stream drops the rest of the input.
///
/// ```no_run
/// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
/// use wamp::{CallResult, Payload, RegisterOptions};
/// session
///     .register("com.example.sum", RegisterOptions::default(), |mut inv| async move {
///         let mut sum: i64 = inv.arg(0)?; // the first chunk
///         if let Some(input) = inv.input.as_mut() {
///             while let Some(chunk) = input.next().await {
///                 sum += chunk.arg::<i64>(0)?;
///             }
///         }
///         Ok(CallResult::new().with_arg(sum))
///     })
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct InputStream {
    rx: mpsc::Receiver<Chunk>,
    complete: bool,
}

/// A chunk of a streaming invocation's input, and whether it is the last.
pub(crate) type Chunk = (CallResult, bool);

impl InputStream {
    /// The next chunk; `None` once the last has been read, or the input
    /// was cut short ([`is_complete`](Self::is_complete) tells which).
    pub async fn next(&mut self) -> Option<CallResult> {
        std::future::poll_fn(|cx| futures_util::Stream::poll_next(Pin::new(&mut *self), cx)).await
    }

    /// Whether the caller's last chunk has arrived. After the stream's end,
    /// `false` means the input was cut short: the invocation was
    /// interrupted (the caller canceled) or the session ended, so the
    /// chunks read are not all the caller meant to send.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// An input stream and where its chunks go, `capacity` of them queued.
    pub(crate) fn channel(capacity: usize) -> (mpsc::Sender<Chunk>, InputStream) {
        let (tx, rx) = mpsc::channel(capacity);
        (tx, InputStream { rx, complete: false })
    }
}

impl futures_util::Stream for InputStream {
    type Item = CallResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<CallResult>> {
        match std::task::ready!(self.rx.poll_recv(cx)) {
            Some((chunk, last)) => {
                self.complete |= last;
                Poll::Ready(Some(chunk))
            }
            None => Poll::Ready(None),
        }
    }
}

/// Input chunks buffered per streaming invocation before the session's
/// reader waits.
const INPUT_QUEUE: usize = 64;

/// How many streaming invocations that ended early a session remembers,
/// to drop their late chunks (the router remembers as many on its side).
const ENDED_INPUTS: usize = 4096;

/// Streaming invocations that ended (answered, failed, interrupted) before
/// their last chunk arrived: their request IDs, oldest first, so the
/// chunks still on their way are dropped rather than taken for new
/// invocations. Bounded; empty unless such a stream ended early.
#[derive(Default)]
pub(crate) struct EndedInputs {
    order: std::collections::VecDeque<Id>,
    set: std::collections::HashSet<Id>,
}

impl EndedInputs {
    fn insert(&mut self, request: Id) {
        if self.set.insert(request) {
            self.order.push_back(request);
            if self.order.len() > ENDED_INPUTS {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }

    fn contains(&self, request: Id) -> bool {
        !self.set.is_empty() && self.set.contains(&request)
    }

    fn remove(&mut self, request: Id) {
        if self.set.remove(&request) {
            self.order.retain(|r| *r != request);
        }
    }
}

/// Where a later INVOCATION of a streaming invocation goes.
pub(crate) enum InputChunk {
    /// Not a chunk: a new invocation.
    New,
    /// A chunk of an invocation that has ended: dropped.
    Dropped,
    /// To the invocation's input stream.
    To(mpsc::Sender<Chunk>),
}

/// Whether an INVOCATION continues a streaming invocation (and where its
/// chunk goes); the last chunk (`last`, no `progress`) closes the stream.
pub(crate) fn input_chunk(shared: &Shared, request: Id, last: bool) -> InputChunk {
    if !shared.inputs_seen.load(Ordering::Acquire) {
        return InputChunk::New;
    }
    let mut st = shared.lock();
    if last {
        if let Some(tx) = st.inputs.remove(&request) {
            return InputChunk::To(tx);
        }
    } else if let Some(tx) = st.inputs.get(&request) {
        return InputChunk::To(tx.clone());
    }
    if st.ended_inputs.contains(request) {
        if last {
            st.ended_inputs.remove(request);
        }
        return InputChunk::Dropped;
    }
    InputChunk::New
}

/// Whether an INVOCATION continues a streaming invocation this session
/// knows of (to leave it to the reader, in order, with backpressure).
pub(crate) fn is_input_chunk(shared: &Shared, request: Id) -> bool {
    if !shared.inputs_seen.load(Ordering::Acquire) {
        return false;
    }
    let st = shared.lock();
    st.inputs.contains_key(&request) || st.ended_inputs.contains(request)
}

/// A streaming invocation's handler has ended (or never started): if its
/// last chunk has not arrived, the chunks still coming are dropped.
/// `streamed` is its request, or `None` for an invocation known not to
/// stream (nothing to end, so no lock is taken).
fn end_input(shared: &Shared, streamed: Option<Id>) {
    let Some(request) = streamed else { return };
    let mut st = shared.lock();
    if st.inputs.remove(&request).is_some() {
        st.ended_inputs.insert(request);
    }
}

/// A procedure registered by this session.
#[derive(Clone)]
pub struct Registration {
    /// The registration ID.
    pub id: Id,
    /// The URI registered (a pattern for prefix/wildcard registrations).
    pub procedure: String,
    session: Session,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .field("procedure", &self.procedure)
            .finish()
    }
}

impl Registration {
    /// Unregisters the procedure.
    pub async fn unregister(self) -> Result<(), Error> {
        self.session.unregister(self.id).await
    }
}

impl Session {
    /// Registers `procedure` with a handler; a panic in the handler becomes
    /// a `wamp.error.runtime_error`.
    ///
    /// Each invocation starts in the session's reader and runs there until
    /// its first `.await` that has to wait: a handler that answers at once
    /// costs no task. From that point it runs as a task of its own,
    /// concurrently with other invocations, and INTERRUPT (call canceling)
    /// stops it. Long blocking work therefore belongs behind an await
    /// (`tokio::task::spawn_blocking`), or it holds up the session's other
    /// messages while it runs.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// use wamp::{CallResult, Payload, RegisterOptions};
    /// session
    ///     .register("com.arguments.add2", RegisterOptions::default(), |inv| async move {
    ///         let (a, b): (i64, i64) = (inv.arg(0)?, inv.arg(1)?);
    ///         Ok(CallResult::new().with_arg(a + b))
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn register<F, Fut>(
        &self,
        procedure: impl Into<String>,
        options: RegisterOptions,
        handler: F,
    ) -> Result<Registration, Error>
    where
        F: Fn(Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallResult, ApplicationError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |inv| Box::pin(handler(inv)));
        self.register_handler(procedure.into(), options, handler).await
    }

    /// Registers an already boxed [`Handler`].
    pub async fn register_handler(
        &self,
        procedure: String,
        options: RegisterOptions,
        handler: Handler,
    ) -> Result<Registration, Error> {
        let policy = options.match_policy.unwrap_or_default();
        wamp_proto::uri::validate_pattern(&procedure, policy, Default::default())?;
        let (tx, rx) = oneshot::channel();
        let shared = &self.shared;
        let request = shared.add_pending(|_| Pending::Register(tx, Uri::from(&procedure), handler))?;
        shared
            .send(Message::Register(msg::Register {
                request,
                options,
                procedure: procedure.clone(),
            }))
            .await?;
        let id = rx.await.unwrap_or_else(|_| Err(shared.closed_error()))?;
        Ok(Registration {
            id,
            procedure,
            session: self.clone(),
        })
    }

    /// Unregisters a registration by ID.
    pub async fn unregister(&self, registration: Id) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        let request = self.shared.add_pending(|_| Pending::Unregister(tx))?;
        self.shared.lock().registrations.remove(&registration);
        self.shared
            .send(Message::Unregister(msg::Unregister {
                request,
                registration,
            }))
            .await?;
        rx.await.unwrap_or_else(|_| Err(self.shared.closed_error()))
    }
}

/// Counts the invocations running at once, up to
/// `SessionConfig::max_concurrent_invocations`. Never waited on (one over
/// the limit is refused at once), so an atomic counter does.
pub(crate) struct InvocationSlots {
    running: AtomicUsize,
    max: usize,
}

/// One running invocation's place, given back when dropped: borrowed while
/// the handler runs in the reader, owned by the task it may go on in.
struct InvocationSlot<S: std::ops::Deref<Target = Shared>>(S);

impl InvocationSlots {
    pub fn new(max: usize) -> Self {
        InvocationSlots {
            running: AtomicUsize::new(0),
            max,
        }
    }
}

impl<S: std::ops::Deref<Target = Shared>> InvocationSlot<S> {
    /// A place, unless `max` invocations are running.
    fn try_take(shared: S) -> Option<Self> {
        let slots = &shared.invocation_slots;
        if slots.running.fetch_add(1, Ordering::AcqRel) < slots.max {
            Some(InvocationSlot(shared))
        } else {
            slots.running.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }

    /// The same place, held by another owner.
    fn transfer<T: std::ops::Deref<Target = Shared>>(self, to: T) -> InvocationSlot<T> {
        std::mem::forget(self);
        InvocationSlot(to)
    }
}

impl<S: std::ops::Deref<Target = Shared>> Drop for InvocationSlot<S> {
    fn drop(&mut self) {
        self.0.invocation_slots.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Starts a handler for an INVOCATION.
pub(crate) fn invoke(
    shared: &Arc<Shared>,
    request: Id,
    registration: Id,
    details: InvocationDetails,
    args: List,
    kwargs: Dict,
) {
    // A streaming invocation's later chunks are routed to it from now on
    // (and dropped if it is refused below).
    let input = (details.progress == Some(true)).then(|| {
        let (tx, input) = InputStream::channel(INPUT_QUEUE);
        shared.lock().inputs.insert(request, tx);
        shared.inputs_seen.store(true, Ordering::Release);
        input
    });
    // Only a streaming invocation has an entry for its input to end (a
    // lock and a lookup per invocation otherwise).
    let streamed = input.is_some().then_some(request);
    // The registered URI is only needed (and cloned) when the router did
    // not say which URI was called, as it does for pattern registrations.
    let found = shared
        .lock()
        .registrations
        .get(&registration)
        .map(|(uri, handler)| (details.procedure.is_none().then(|| uri.clone()), handler.clone()));
    let Some((registered_uri, handler)) = found else {
        let msg = error_message(
            request,
            error_uri::NO_SUCH_REGISTRATION,
            "procedure is no longer registered",
        );
        end_input(shared, streamed);
        return answer(shared, msg);
    };
    let Some(permit) = InvocationSlot::try_take(&**shared) else {
        let msg = error_message(
            request,
            error_uri::UNAVAILABLE,
            "callee is at its limit of concurrent invocations",
        );
        end_input(shared, streamed);
        return answer(shared, msg);
    };
    let progress = details.receive_progress.unwrap_or(false).then(|| ProgressSender {
        shared: shared.clone(),
        request,
        yielded: Default::default(),
    });
    let inv = Invocation {
        request,
        registration,
        procedure: registered_uri
            .or_else(|| details.procedure.as_deref().map(Uri::from))
            .unwrap_or_default(),
        details,
        args,
        kwargs,
        progress,
        input,
        session: Session {
            shared: shared.clone(),
        },
    };
    // A handler may panic before it returns its future, as well as in it;
    // both become a runtime_error answer (in-process, the panic would
    // otherwise unwind into the caller's task).
    let mut running = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(inv))) {
        Ok(future) => AssertUnwindSafe(future).catch_unwind(),
        Err(panic) => {
            drop(permit);
            end_input(shared, streamed);
            return answer(shared, answer_message(shared, request, Err(panic)));
        }
    };
    // Run the handler here, in the session's reader, until its first await:
    // most handlers answer at once, and then the invocation costs no task
    // of its own. One that waits goes on in its own task (polled again
    // there, so it registers that task's waker).
    if let Poll::Ready(outcome) = running.poll_unpin(&mut Context::from_waker(noop_waker_ref())) {
        drop(permit);
        end_input(shared, streamed);
        return answer(shared, answer_message(shared, request, outcome));
    }
    let task_shared = shared.clone();
    let permit = permit.transfer(shared.clone());
    // Hold the lock while spawning so the task cannot finish (and remove its
    // entry) before the entry is inserted.
    let mut st = shared.lock();
    let task = tokio::spawn(async move {
        let msg = answer_message(&task_shared, request, running.await);
        task_shared.lock().invocations.remove(&request);
        end_input(&task_shared, streamed);
        answer(&task_shared, msg);
        drop(permit);
    });
    st.invocations.insert(request, task.abort_handle());
}

/// The YIELD or ERROR answering an invocation, from its handler's outcome
/// (a panic becomes `wamp.error.runtime_error`). An answer the session's
/// serializer cannot carry becomes `wamp.error.invalid_argument` naming
/// the value, so the caller hears why rather than something else.
fn answer_message(
    shared: &Shared,
    request: Id,
    outcome: std::thread::Result<Result<CallResult, ApplicationError>>,
) -> Message {
    let unsendable = match &outcome {
        Ok(Ok(r)) => shared
            .check_payload(&r.args, &r.kwargs)
            .err()
            .map(|e| format!("result: {e}")),
        Ok(Err(e)) => shared
            .check_error(e)
            .err()
            .map(|err| format!("error {:?}: {err}", e.error)),
        Err(_) => None,
    };
    if let Some(cause) = unsendable {
        tracing::warn!(request, "handler's answer cannot be sent: {cause}");
        return error_message(
            request,
            error_uri::INVALID_ARGUMENT,
            &format!("the callee's {cause}"),
        );
    }
    match outcome {
        Ok(Ok(r)) => Message::Yield(msg::Yield {
            request,
            options: YieldOptions::default(),
            payload: wamp_proto::Payload::new(r.args, r.kwargs),
        }),
        Ok(Err(e)) => Message::Error(msg::Error {
            request_type: MessageType::Invocation,
            request,
            details: Dict::new(),
            error: e.error,
            payload: wamp_proto::Payload::new(e.args, e.kwargs),
        }),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "handler panicked".into());
            tracing::error!(request, "handler panicked: {what}");
            error_message(
                request,
                error_uri::RUNTIME_ERROR,
                &format!("handler panicked: {what}"),
            )
        }
    }
}

/// Sends an answer without waiting, past the queue's high-water mark (an
/// answer is owed, and the number of invocations bounds them); only at the
/// queue's hard limit does a task wait for room, so the reader never does.
fn answer(shared: &Arc<Shared>, msg: Message) {
    if let Err(TrySendError::Full(msg)) = shared.tx.push(msg) {
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = shared.send(msg.into_message()).await;
        });
    }
}

/// Stops a running invocation after INTERRUPT and tells the router. The
/// task is aborted before its input is closed, so that its handler is
/// dropped rather than woken by what would look like the input's end.
pub(crate) fn interrupt(shared: &Arc<Shared>, request: Id) {
    let task = shared.lock().invocations.remove(&request);
    if let Some(task) = &task {
        task.abort();
    }
    end_input(shared, Some(request));
    if task.is_some() {
        let msg = error_message(request, error_uri::CANCELED, "invocation interrupted");
        answer(shared, msg);
    }
}

fn error_message(request: Id, error: &str, message: &str) -> Message {
    Message::error(
        MessageType::Invocation,
        request,
        error,
        vec![Value::Str(message.to_owned())],
        Dict::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::{EndedInputs, ENDED_INPUTS};

    #[test]
    fn ended_inputs_forget_the_oldest_past_their_bound() {
        let mut ended = EndedInputs::default();
        assert!(!ended.contains(1));
        for request in 1..=ENDED_INPUTS as u64 + 1 {
            ended.insert(request);
        }
        assert!(!ended.contains(1), "the oldest is forgotten");
        assert!(ended.contains(2) && ended.contains(ENDED_INPUTS as u64 + 1));
        assert_eq!(ended.order.len(), ENDED_INPUTS);
        ended.remove(2);
        assert!(!ended.contains(2));
        assert_eq!(
            (ended.order.len(), ended.set.len()),
            (ENDED_INPUTS - 1, ENDED_INPUTS - 1)
        );
    }
}
