//! Typed services: what `#[wamp::service]` generates code against.
//!
//! A [`Service`] lists its procedures and topics as [`Bindings`] (a wire URI,
//! options and a handler each) and describes itself (URIs and JSON Schemas)
//! as a [`ServiceDescription`]. [`Session::attach`] registers and subscribes
//! all of them in one call; call it again on a new session after a reconnect.
//!
//! Everything here also works without the macros: a hand-written `Service`
//! is as good as a generated one.

mod args;
pub(crate) mod description;
pub(crate) mod glue;
mod input;
mod stream;
mod stub;
mod typed;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt;
use wamp_proto::uri::Uri;
use wamp_proto::{EventDetails, Id, RegisterOptions, SubscribeOptions};

use crate::error::{ApplicationError, Error};
use crate::session::{Event, Handler, Registration, Session};

pub use args::{Bound, Extractor, FromEvent, FromInvocation, Publication, UriInt, Wire};
pub use description::{
    ErrorDescription, ParameterDescription, ParameterSource, ProcedureDescription, ServiceDescription,
    TopicDescription,
};
/// The `Stream` trait a procedure's streaming result implements
/// (`futures::Stream`).
pub use futures_util::Stream;
pub use input::Streaming;
pub use stream::{Progress, Progressive};
pub use stub::{Acknowledged, CallStream, Stub, StubOptions, TypedCall, TypedCallFuture, TypedPublish};
pub use typed::{typed_call, CallError, FromCallResult, IntoCallResult, WampError};

/// The last components of the procedure through which an attached service
/// answers its [`ServiceDescription`]: `<prefix>.reflection.describe`,
/// where `<prefix>` is [`ServiceDescription::uri_prefix`]. `wamp describe
/// PREFIX` calls it.
pub const DESCRIBE_SUFFIX: &str = "reflection.describe";

/// The future an event handler returns.
pub type EventFuture = Pin<Box<dyn Future<Output = Result<(), ApplicationError>> + Send>>;

/// A subscribed topic's handler, given each event and the session it
/// arrived on; events are handled one at a time, in order.
pub type EventHandler = Arc<dyn Fn(Event, Session) -> EventFuture + Send + Sync>;

/// A typed event with what the router said about it: the publication ID,
/// the concrete topic (for pattern subscriptions, the topic published to)
/// and the details (the publisher, when disclosed). Dereferences to the
/// bound payload.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TypedEvent<T> {
    /// The bound payload (and URI components).
    pub data: T,
    /// The publication ID.
    pub publication: Id,
    /// The concrete topic.
    pub topic: Uri,
    /// The EVENT details.
    pub details: EventDetails,
}

impl<T> TypedEvent<T> {
    /// The publisher's session ID, when the publisher disclosed itself.
    pub fn publisher(&self) -> Option<Id> {
        self.details.publisher
    }

    /// The bound payload.
    pub fn into_inner(self) -> T {
        self.data
    }
}

impl<T> std::ops::Deref for TypedEvent<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

/// A subscription whose events are bound to a typed struct (generated for
/// each topic of a service); also a `Stream` of them.
pub struct TypedSubscription<T> {
    inner: crate::session::Subscription,
    decode: fn(Extractor) -> Result<T, ApplicationError>,
}

impl<T> std::fmt::Debug for TypedSubscription<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> futures_util::Stream for TypedSubscription<T> {
    type Item = Result<TypedEvent<T>, ApplicationError>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let decode = self.decode;
        std::pin::Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|ev| ev.map(|ev| bind_event(ev, decode)))
    }
}

fn bind_event<T>(
    ev: Event,
    decode: fn(Extractor) -> Result<T, ApplicationError>,
) -> Result<TypedEvent<T>, ApplicationError> {
    let (publication, topic, details) = (ev.publication, ev.topic.clone(), ev.details.clone());
    decode(Extractor::new(ev.topic, ev.args, ev.kwargs)).map(|data| TypedEvent {
        data,
        publication,
        topic,
        details,
    })
}

impl<T> TypedSubscription<T> {
    /// Wraps a subscription with a decoder.
    pub fn new(
        inner: crate::session::Subscription,
        decode: fn(Extractor) -> Result<T, ApplicationError>,
    ) -> Self {
        TypedSubscription { inner, decode }
    }

    /// The next event, bound; `Err` when the payload does not fit the type
    /// (the event is skipped, the subscription goes on); `None` when the
    /// session has ended.
    pub async fn next(&mut self) -> Option<Result<TypedEvent<T>, ApplicationError>> {
        let ev = self.inner.next().await?;
        Some(bind_event(ev, self.decode))
    }

    /// Unsubscribes.
    pub async fn unsubscribe(self) -> Result<(), Error> {
        self.inner.unsubscribe().await
    }

    /// The untyped subscription.
    pub fn into_inner(self) -> crate::session::Subscription {
        self.inner
    }
}

/// A procedure to register.
pub struct ProcedureBinding {
    /// The wire URI (for patterns, with empty components or a prefix).
    pub uri: String,
    /// Register options (match policy, invoke policy, ...).
    pub options: RegisterOptions,
    /// The handler.
    pub handler: Handler,
}

/// A topic to subscribe.
pub struct TopicBinding {
    /// The wire URI (for patterns, with empty components or a prefix).
    pub uri: String,
    /// Subscribe options (match policy).
    pub options: SubscribeOptions,
    /// The handler.
    pub handler: EventHandler,
}

/// The procedures and topics of a service instance.
#[derive(Default)]
pub struct Bindings {
    /// Procedures to register.
    pub procedures: Vec<ProcedureBinding>,
    /// Topics to subscribe.
    pub topics: Vec<TopicBinding>,
}

/// A set of procedures and topics served together. Implemented by
/// `#[wamp::service]`; implement it by hand for services built at run time.
pub trait Service: Send + Sync + 'static {
    /// The service's procedures and topics, with JSON Schemas of every
    /// signature.
    fn describe() -> ServiceDescription
    where
        Self: Sized;

    /// Handlers bound to this instance.
    fn bindings(self: Arc<Self>) -> Bindings;
}

/// A service, owned or shared: what [`Session::attach`] accepts.
pub trait IntoService {
    /// The service type.
    type Service: Service;
    /// The shared service.
    fn into_service(self) -> Arc<Self::Service>;
}

impl<S: Service> IntoService for S {
    type Service = S;
    fn into_service(self) -> Arc<S> {
        Arc::new(self)
    }
}

impl<S: Service> IntoService for Arc<S> {
    type Service = S;
    fn into_service(self) -> Arc<S> {
        self
    }
}

/// What [`Session::attach`] registered and subscribed. Dropping it keeps the
/// service attached for the session's lifetime; [`detach`](Self::detach) stops it.
#[derive(Debug)]
pub struct Attached {
    /// The registrations, one per procedure.
    pub registrations: Vec<Registration>,
    /// Per topic: a stop signal and the task handling its events, which
    /// unsubscribes at the router when stopped.
    subscriptions: Vec<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Attached {
    /// Unregisters every procedure and stops handling events.
    pub async fn detach(self) -> Result<(), Error> {
        for (stop, task) in self.subscriptions {
            let _ = stop.send(());
            let _ = task.await;
        }
        for reg in self.registrations {
            reg.unregister().await?;
        }
        Ok(())
    }
}

impl Session {
    /// Registers every procedure and subscribes every topic of a service.
    /// Takes `S` or `Arc<S>`; attach the same `Arc` again to a new session
    /// after a reconnect.
    ///
    /// If one registration fails (for example the procedure is already
    /// registered elsewhere), what was attached so far is detached again and
    /// the error is returned.
    ///
    /// The service also answers its [`ServiceDescription`] (as JSON: URIs
    /// and JSON Schemas) at `<prefix>.reflection.describe` (see
    /// [`DESCRIBE_SUFFIX`]), registered with the `roundrobin` invoke policy
    /// so that instances of one service share it. A service whose URIs have
    /// no common prefix, or whose describe procedure cannot be registered
    /// (another kind of service registered it), is attached without it.
    pub async fn attach<I: IntoService>(&self, service: I) -> Result<Attached, Error> {
        let bindings = service.into_service().bindings();
        let mut attached = Attached {
            registrations: Vec::new(),
            subscriptions: Vec::new(),
        };
        if let Some(reg) = self.register_description(I::Service::describe()).await {
            attached.registrations.push(reg);
        }
        for p in bindings.procedures {
            match self.register_handler(p.uri.clone(), p.options, p.handler).await {
                Ok(reg) => attached.registrations.push(reg),
                Err(e) => {
                    let _ = attached.detach().await;
                    return Err(e);
                }
            }
        }
        for t in bindings.topics {
            let mut sub = match self.subscribe(t.uri.clone(), t.options).await {
                Ok(sub) => sub,
                Err(e) => {
                    let _ = attached.detach().await;
                    return Err(e);
                }
            };
            let handler = t.handler;
            let uri = t.uri;
            let session = self.clone();
            let (stop_tx, mut stop) = tokio::sync::oneshot::channel::<()>();
            attached.subscriptions.push((
                stop_tx,
                tokio::spawn(async move {
                    // Dropping the `Attached` handle drops the sender: that keeps
                    // the service attached; only `detach` sends the stop.
                    let mut detachable = true;
                    loop {
                        let event = tokio::select! {
                            e = sub.next() => e,
                            stopped = &mut stop, if detachable => {
                                if stopped.is_err() {
                                    detachable = false;
                                    continue;
                                }
                                if let Err(e) = sub.unsubscribe().await {
                                    tracing::debug!(subscription = %uri, "unsubscribe on detach failed: {e}");
                                }
                                return;
                            }
                        };
                        let Some(event) = event else { return };
                        let topic = event.topic.clone();
                        match AssertUnwindSafe(handler(event, session.clone()))
                            .catch_unwind()
                            .await
                        {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => {
                                tracing::warn!(%topic, subscription = %uri, "event handler failed: {e}")
                            }
                            Err(_) => tracing::error!(%topic, subscription = %uri, "event handler panicked"),
                        }
                    }
                }),
            ));
        }
        Ok(attached)
    }
}

impl Session {
    /// Registers `<prefix>.reflection.describe` answering `description`;
    /// `None` (with a log line) where that is not possible.
    async fn register_description(&self, description: ServiceDescription) -> Option<Registration> {
        let prefix = description.uri_prefix()?;
        let uri = format!("{prefix}.{DESCRIBE_SUFFIX}");
        let answer = match crate::CallResult::single(&description) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(service = %description.name, "service description not representable: {e}");
                return None;
            }
        };
        let options = RegisterOptions {
            invoke: Some(wamp_proto::InvokePolicy::RoundRobin),
            ..Default::default()
        };
        let registered = self
            .register(uri.clone(), options, move |_| {
                let answer = answer.clone();
                async move { Ok(answer) }
            })
            .await;
        match registered {
            Ok(reg) => Some(reg),
            Err(e) => {
                tracing::info!(service = %description.name, procedure = %uri, "service description not served: {e}");
                None
            }
        }
    }
}
