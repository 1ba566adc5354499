//! Publish and subscribe: the [`Publish`] builder, [`Subscription`] event
//! streams, and [`Event`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use wamp_proto::msg;

use serde::Serialize;
use tokio::sync::oneshot;
use wamp_proto::uri::Uri;
use wamp_proto::{Dict, EventDetails, Id, List, Message, PublishOptions, SubscribeOptions, Value};

use super::event_queue::{self, EventReceiver, EventSender};
use super::{LocalSubscriber, Pending, Session, Shared};
use crate::error::Error;
use crate::payload::{Arguments, Payload};

/// An event received on a subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The router's subscription ID.
    pub subscription: Id,
    /// The publication ID.
    pub publication: Id,
    /// The concrete topic (for pattern subscriptions, the topic published to),
    /// shared by the subscription's events.
    pub topic: Uri,
    /// Details: publisher identity (when disclosed), ...
    pub details: EventDetails,
    /// Positional arguments.
    pub args: List,
    /// Keyword arguments.
    pub kwargs: Dict,
}

impl Payload for Event {
    fn args(&self) -> &List {
        &self.args
    }
    fn kwargs(&self) -> &Dict {
        &self.kwargs
    }
}

/// A subscription: a stream of [`Event`]s. Read it with
/// [`next`](Self::next) (or as a `futures::Stream`); it ends when the session
/// ends. Dropping it stops delivery locally; [`unsubscribe`](Self::unsubscribe)
/// also tells the router.
pub struct Subscription {
    /// The router's subscription ID (shared by all subscribers of the same topic and policy).
    pub id: Id,
    /// The topic (or pattern) subscribed to.
    pub topic: String,
    local_id: Id,
    events: EventReceiver,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("topic", &self.topic)
            .finish()
    }
}

impl Subscription {
    /// The next event; `None` when the session has ended.
    pub async fn next(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Unsubscribes. The router is told when this was the session's last
    /// local subscriber of the subscription.
    pub async fn unsubscribe(mut self) -> Result<(), Error> {
        self.events.close();
        let last = {
            let mut st = self.shared.lock();
            match st.subscriptions.get_mut(&self.id) {
                Some(subs) => {
                    subs.retain(|s| s.local_id != self.local_id);
                    if subs.is_empty() {
                        st.subscriptions.remove(&self.id);
                        true
                    } else {
                        false
                    }
                }
                None => false,
            }
        };
        if !last {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        let request = self.shared.add_pending(|_| Pending::Unsubscribe(tx))?;
        self.shared
            .send(Message::Unsubscribe(msg::Unsubscribe {
                request,
                subscription: self.id,
            }))
            .await?;
        rx.await.unwrap_or_else(|_| Err(self.shared.closed_error()))
    }
}

impl futures_util::Stream for Subscription {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.events.poll_recv(cx)
    }
}

impl Session {
    /// Subscribes to a topic (or a pattern, with `match` in the options).
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// use wamp::{Payload, SubscribeOptions};
    /// let mut sub = session.subscribe("com.myapp.hello", SubscribeOptions::default()).await?;
    /// while let Some(event) = sub.next().await {
    ///     println!("got {}", event.arg::<String>(0)?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn subscribe(
        &self,
        topic: impl Into<String>,
        options: SubscribeOptions,
    ) -> Result<Subscription, Error> {
        let topic = topic.into();
        let policy = options.match_policy.unwrap_or_default();
        wamp_proto::uri::validate_pattern(&topic, policy, Default::default())?;
        let (events_tx, events_rx) = event_queue::channel(self.shared.config.event_queue_capacity);
        let (tx, rx) = oneshot::channel();
        let request = self
            .shared
            .add_pending(|_| Pending::Subscribe(tx, topic.clone(), events_tx))?;
        self.shared
            .send(Message::Subscribe(msg::Subscribe {
                request,
                options,
                topic: topic.clone(),
            }))
            .await?;
        let (id, local_id) = rx.await.unwrap_or_else(|_| Err(self.shared.closed_error()))?;
        Ok(Subscription {
            id,
            topic,
            local_id,
            events: events_rx,
            shared: self.shared.clone(),
        })
    }

    /// Starts building a publication to `topic`.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// let publication = session.publish("com.myapp.hello").arg("Hello, world").acknowledge(true).await?;
    /// assert!(publication.is_some());
    /// # Ok(()) }
    /// ```
    pub fn publish(&self, topic: impl Into<String>) -> Publish {
        Publish {
            session: self.clone(),
            topic: topic.into(),
            arguments: Arguments::default(),
            options: PublishOptions::default(),
        }
    }
}

/// Records a router subscription on SUBSCRIBED.
pub(crate) fn subscribed(shared: &Shared, subscription: Id, topic_hint: String, tx: EventSender) -> Id {
    let local_id = shared.local_ids.next();
    shared
        .lock()
        .subscriptions
        .entry(subscription)
        .or_default()
        .push(LocalSubscriber {
            local_id,
            topic: topic_hint.into(),
            tx,
        });
    local_id
}

/// A publication being built; `.await` it to publish. Resolves to the
/// publication ID when acknowledged, `None` otherwise.
#[must_use = "a publication does nothing until awaited"]
pub struct Publish {
    session: Session,
    topic: String,
    arguments: Arguments,
    options: PublishOptions,
}

impl Publish {
    /// Appends a positional argument.
    pub fn arg(mut self, v: impl Serialize) -> Self {
        self.arguments.push(v);
        self
    }

    /// Appends an encoded positional argument (typed stubs).
    #[doc(hidden)]
    pub fn arg_value(mut self, v: Result<Value, Error>) -> Self {
        self.arguments.push_value(v);
        self
    }

    /// Adds an encoded keyword argument (typed stubs).
    #[doc(hidden)]
    pub fn kwarg_value(mut self, key: &str, v: Result<Value, Error>) -> Self {
        self.arguments.insert_value(key, v);
        self
    }

    /// Sets all keyword arguments from an encoded map (typed stubs).
    #[doc(hidden)]
    pub fn kwargs_value(mut self, v: Result<Value, Error>) -> Self {
        self.arguments.kwargs_value(v);
        self
    }

    /// Sets all positional arguments.
    pub fn args(mut self, args: List) -> Self {
        self.arguments.set_args(args);
        self
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, key: impl Into<String>, v: impl Serialize) -> Self {
        self.arguments.insert(key.into(), v, false);
        self
    }

    /// Adds a keyword argument unless it is `None` (serializes to null).
    pub fn kwarg_opt(mut self, key: impl Into<String>, v: impl Serialize) -> Self {
        self.arguments.insert(key.into(), v, true);
        self
    }

    /// Sets all keyword arguments.
    pub fn kwargs(mut self, kwargs: Dict) -> Self {
        self.arguments.set_kwargs(kwargs);
        self
    }

    /// Asks the router to acknowledge (the future then waits for PUBLISHED).
    pub fn acknowledge(mut self, yes: bool) -> Self {
        self.options.acknowledge = Some(yes);
        self
    }

    /// Asks the router to retain the event for the topic's later
    /// subscribers that ask for it (`SubscribeOptions::get_retained`; the
    /// event then has `details.retained`).
    pub fn retain(mut self, yes: bool) -> Self {
        self.options.retain = Some(yes);
        self
    }

    /// Whether the publisher itself may receive the event (default: excluded).
    pub fn exclude_me(mut self, yes: bool) -> Self {
        self.options.exclude_me = Some(yes);
        self
    }

    /// Session IDs that must not receive the event.
    pub fn exclude(mut self, sessions: Vec<Id>) -> Self {
        self.options.exclude = Some(sessions);
        self
    }

    /// Only these session IDs may receive the event.
    pub fn eligible(mut self, sessions: Vec<Id>) -> Self {
        self.options.eligible = Some(sessions);
        self
    }

    /// Authids that must not receive the event.
    pub fn exclude_authid(mut self, authids: Vec<String>) -> Self {
        self.options.exclude_authid = Some(authids);
        self
    }

    /// Authroles that must not receive the event.
    pub fn exclude_authrole(mut self, authroles: Vec<String>) -> Self {
        self.options.exclude_authrole = Some(authroles);
        self
    }

    /// Only sessions with these authids may receive the event.
    pub fn eligible_authid(mut self, authids: Vec<String>) -> Self {
        self.options.eligible_authid = Some(authids);
        self
    }

    /// Only sessions with these authroles may receive the event.
    pub fn eligible_authrole(mut self, authroles: Vec<String>) -> Self {
        self.options.eligible_authrole = Some(authroles);
        self
    }

    /// Asks the router to disclose the publisher to subscribers.
    pub fn disclose_me(mut self) -> Self {
        self.options.disclose_me = Some(true);
        self
    }

    /// Sets the raw PUBLISH options (authid/authrole lists, ...).
    pub fn options(mut self, options: PublishOptions) -> Self {
        self.options = options;
        self
    }

    async fn run(self) -> Result<Option<Id>, Error> {
        let (args, kwargs) = self.arguments.into_parts()?;
        wamp_proto::uri::validate(&self.topic, Default::default(), false)?;
        let shared = &self.session.shared;
        shared.check_payload(&args, &kwargs)?;
        let acknowledge = self.options.acknowledge == Some(true);
        let mut waiter = None;
        let request = if acknowledge {
            let (tx, rx) = oneshot::channel();
            waiter = Some(rx);
            shared.add_pending(|_| Pending::Publish(tx))?
        } else {
            if let Some(e) = &shared.lock().closed {
                return Err(e.clone());
            }
            shared.ids.next()
        };
        shared
            .send(Message::from(msg::Publish {
                request,
                options: self.options,
                topic: self.topic,
                payload: wamp_proto::Payload::new(args, kwargs),
            }))
            .await?;
        match waiter {
            Some(rx) => rx.await.unwrap_or_else(|_| Err(shared.closed_error())).map(Some),
            None => Ok(None),
        }
    }
}

impl IntoFuture for Publish {
    type Output = Result<Option<Id>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
