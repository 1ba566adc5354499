//! The router's meta API, typed: who is joined, what is registered and
//! subscribed, and the events of their changes (`session.meta()`).
//!
//! ```no_run
//! # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
//! let meta = session.meta();
//! println!("{} sessions", meta.session_count(None).await?);
//! let mut joins = meta.on_join().await?;
//! while let Some(joined) = joins.next().await {
//!     let joined = joined?;
//!     println!("{} joined as {}", joined.session, joined.authid);
//! }
//! # Ok(()) }
//! ```
//!
//! Works with any router that has the spec's session, registration and
//! subscription meta APIs (`wamp router`, Crossbar.io). URIs are in
//! [`meta_uri`].

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use wamp_proto::meta_uri;
use wamp_proto::uri::MatchPolicy;

use crate::{
    CallResult, Dict, Error, Event, Id, List, Payload, Session, SubscribeOptions, Subscription, Value,
};

/// The meta API of the router a session is joined to; see the [module](self).
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    session: &'a Session,
}

/// How killed sessions are told: GOODBYE's reason URI (the router's
/// default is `wamp.close.killed`) and message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Kill {
    /// GOODBYE.Reason, a URI.
    pub reason: Option<String>,
    /// GOODBYE.Details.message.
    pub message: Option<String>,
}

impl Kill {
    /// GOODBYE with the router's default reason, no message.
    pub fn new() -> Self {
        Kill::default()
    }

    /// With this reason URI.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// With this message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// When a testament is published: when the session is detached or when
/// it is destroyed (without session resumption, both when it goes:
/// detached ones first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TestamentScope {
    /// When the session is detached.
    Detached,
    /// When the session is destroyed (the default).
    #[default]
    Destroyed,
}

impl TestamentScope {
    fn as_str(self) -> &'static str {
        match self {
            TestamentScope::Detached => "detached",
            TestamentScope::Destroyed => "destroyed",
        }
    }
}

/// Which kept events `get_events` gives (the spec's event history
/// filters, ANDed); the default: all, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventQuery {
    /// Newest first.
    pub reverse: bool,
    /// At most this many.
    pub limit: Option<u64>,
    /// Only events on this topic (for pattern subscriptions).
    pub topic: Option<String>,
    /// Only events from this publication on (included).
    pub from_publication: Option<Id>,
    /// Only events after this publication.
    pub after_publication: Option<Id>,
    /// Only events before this publication.
    pub before_publication: Option<Id>,
    /// Only events up to this publication (included).
    pub until_publication: Option<Id>,
    /// Only events at or after this RFC 3339 time.
    pub from_time: Option<String>,
    /// Only events after this RFC 3339 time.
    pub after_time: Option<String>,
    /// Only events before this RFC 3339 time.
    pub before_time: Option<String>,
    /// Only events at or before this RFC 3339 time.
    pub until_time: Option<String>,
}

impl EventQuery {
    /// Every kept event, oldest first.
    pub fn new() -> Self {
        EventQuery::default()
    }

    /// Newest first.
    pub fn reverse(mut self) -> Self {
        self.reverse = true;
        self
    }

    /// At most `n` events.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Only events after `publication` (the next page, oldest first).
    pub fn after_publication(mut self, publication: Id) -> Self {
        self.after_publication = Some(publication);
        self
    }

    /// Only events on `topic`.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    fn kwargs(self) -> Dict {
        let mut d = Dict::new();
        if self.reverse {
            d.insert("reverse".into(), Value::Bool(true));
        }
        let ids = [
            ("limit", self.limit),
            ("from_publication", self.from_publication),
            ("after_publication", self.after_publication),
            ("before_publication", self.before_publication),
            ("until_publication", self.until_publication),
        ];
        for (k, v) in ids {
            if let Some(v) = v {
                d.insert(k.into(), Value::UInt(v));
            }
        }
        let strings = [
            ("topic", self.topic),
            ("from_time", self.from_time),
            ("after_time", self.after_time),
            ("before_time", self.before_time),
            ("until_time", self.until_time),
        ];
        for (k, v) in strings {
            if let Some(v) = v {
                d.insert(k.into(), Value::Str(v));
            }
        }
        d
    }
}

/// An event from a subscription's history (`wamp.subscription.get_events`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct StoredEvent {
    /// When the router got it (RFC 3339).
    pub timestamp: String,
    /// The subscription it was kept for.
    pub subscription: Id,
    /// Its publication ID.
    pub publication: Id,
    /// Its details as its subscribers got them.
    #[serde(default)]
    pub details: Dict,
    /// Its positional arguments.
    #[serde(default)]
    pub args: List,
    /// Its keyword arguments.
    #[serde(default)]
    pub kwargs: Dict,
}

/// A session as the router describes it (`wamp.session.get`,
/// `wamp.session.on_join`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// Its session ID.
    pub session: Id,
    /// Who it authenticated as.
    pub authid: String,
    /// Its role.
    pub authrole: String,
    /// How it authenticated (`anonymous`, `ticket`, ...).
    #[serde(default)]
    pub authmethod: Option<String>,
    /// Who checked (`static`, `dynamic`, ...).
    #[serde(default)]
    pub authprovider: Option<String>,
    /// The router's description of its transport.
    #[serde(default)]
    pub transport: Option<Dict>,
}

/// A session that left (`wamp.session.on_leave`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionLeft {
    /// Its session ID.
    pub session: Id,
    /// Who it was.
    pub authid: Option<String>,
    /// Its role.
    pub authrole: Option<String>,
}

/// Registration or subscription IDs by match policy
/// (`wamp.registration.list`, `wamp.subscription.list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ByPolicy {
    /// Exact-match IDs.
    #[serde(default)]
    pub exact: Vec<Id>,
    /// Prefix-match IDs.
    #[serde(default)]
    pub prefix: Vec<Id>,
    /// Wildcard-match IDs.
    #[serde(default)]
    pub wildcard: Vec<Id>,
}

impl ByPolicy {
    /// Whether `id` is in any of the lists.
    pub fn contains(&self, id: Id) -> bool {
        self.exact.contains(&id) || self.prefix.contains(&id) || self.wildcard.contains(&id)
    }
}

/// A registration or subscription as the router describes it
/// (`wamp.registration.get`, `wamp.subscription.get`, `on_create`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Observation {
    /// Its ID.
    pub id: Id,
    /// When it was created (ISO 8601).
    pub created: String,
    /// The procedure or topic (pattern).
    pub uri: String,
    /// `exact`, `prefix` or `wildcard`.
    #[serde(rename = "match")]
    pub match_policy: String,
    /// The invoke policy of a registration (`single`, `roundrobin`, ...).
    #[serde(default)]
    pub invoke: Option<String>,
}

/// A change of a registration or subscription, in the order the router
/// made them: `Created` before the first `Added`, `Deleted` after the last
/// `Removed`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Created by `session` (`on_create`).
    Created {
        /// The session whose request created it.
        session: Id,
        /// What was created.
        details: Observation,
    },
    /// `session` was added (`on_register`, `on_subscribe`).
    Added {
        /// The session added.
        session: Id,
        /// The registration or subscription.
        id: Id,
    },
    /// `session` was removed (`on_unregister`, `on_unsubscribe`).
    Removed {
        /// The session removed; `None` when the router does not say
        /// (Crossbar.io, for a session that left).
        session: Option<Id>,
        /// The registration or subscription.
        id: Id,
    },
    /// Deleted after its last session was removed (`on_delete`).
    Deleted {
        /// The last session; `None` when the router does not say
        /// (Crossbar.io, for a session that left).
        session: Option<Id>,
        /// The registration or subscription.
        id: Id,
    },
}

/// A meta event, typed.
pub trait MetaEvent: Sized {
    /// Reads one from an event on one of its topics.
    fn from_event(event: &Event) -> Result<Self, Error>;
}

impl MetaEvent for SessionInfo {
    fn from_event(event: &Event) -> Result<Self, Error> {
        arg(event.args(), 0)
    }
}

impl MetaEvent for SessionLeft {
    fn from_event(event: &Event) -> Result<Self, Error> {
        Ok(SessionLeft {
            session: arg(event.args(), 0)?,
            authid: arg::<Option<String>>(event.args(), 1).ok().flatten(),
            authrole: arg::<Option<String>>(event.args(), 2).ok().flatten(),
        })
    }
}

impl MetaEvent for Change {
    fn from_event(event: &Event) -> Result<Self, Error> {
        let args = event.args();
        let kind = event.topic.rsplit('.').next().unwrap_or_default();
        Ok(match kind {
            "on_create" => Change::Created {
                session: arg(args, 0)?,
                details: arg(args, 1)?,
            },
            "on_register" | "on_subscribe" => Change::Added {
                session: arg(args, 0)?,
                id: arg(args, 1)?,
            },
            "on_unregister" | "on_unsubscribe" => Change::Removed {
                session: arg(args, 0)?,
                id: arg(args, 1)?,
            },
            "on_delete" => Change::Deleted {
                session: arg(args, 0)?,
                id: arg(args, 1)?,
            },
            _ => return Err(Error::Value(format!("not a meta event: {}", event.topic))),
        })
    }
}

/// A stream of typed meta events; dropping it unsubscribes.
#[derive(Debug)]
pub struct MetaEvents<T> {
    subscription: Subscription,
    kind: PhantomData<fn() -> T>,
}

impl<T: MetaEvent> MetaEvents<T> {
    /// The next event, `None` once the session ended. An event that does
    /// not read as `T` is an `Err`; the stream goes on.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        let event = self.subscription.next().await?;
        Some(T::from_event(&event))
    }

    /// Unsubscribes.
    pub async fn unsubscribe(self) -> Result<(), Error> {
        self.subscription.unsubscribe().await
    }
}

impl Session {
    /// The meta API of the router this session is joined to.
    pub fn meta(&self) -> Meta<'_> {
        Meta { session: self }
    }
}

impl Meta<'_> {
    async fn call(&self, procedure: &str, args: List, kwargs: Dict) -> Result<CallResult, Error> {
        self.session.call(procedure).args(args).kwargs(kwargs).await
    }

    async fn events<T: MetaEvent>(&self, topic: &str, policy: MatchPolicy) -> Result<MetaEvents<T>, Error> {
        let options = SubscribeOptions {
            match_policy: Some(policy),
            ..Default::default()
        };
        Ok(MetaEvents {
            subscription: self.session.subscribe(topic, options).await?,
            kind: PhantomData,
        })
    }

    /// How many sessions are joined, only those with one of `authroles` if given.
    pub async fn session_count(&self, authroles: Option<&[&str]>) -> Result<u64, Error> {
        let r = self
            .call(meta_uri::SESSION_COUNT, roles(authroles), Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// The IDs of the sessions joined, only those with one of `authroles` if given.
    pub async fn sessions(&self, authroles: Option<&[&str]>) -> Result<Vec<Id>, Error> {
        let r = self
            .call(meta_uri::SESSION_LIST, roles(authroles), Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// A session's details; `wamp.error.no_such_session` if it is not joined.
    pub async fn session(&self, id: Id) -> Result<SessionInfo, Error> {
        let r = self
            .call(meta_uri::SESSION_GET, vec![Value::UInt(id)], Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// Closes another session with GOODBYE; `wamp.error.no_such_session`
    /// if there is none with this ID (this session's own included).
    pub async fn kill(&self, id: Id, how: Kill) -> Result<(), Error> {
        self.call(meta_uri::SESSION_KILL, vec![Value::UInt(id)], kill_kwargs(how))
            .await
            .map(drop)
    }

    /// Closes every other session of `authid`; gives their IDs.
    pub async fn kill_by_authid(&self, authid: &str, how: Kill) -> Result<Vec<Id>, Error> {
        let args = vec![Value::Str(authid.into())];
        let r = self
            .call(meta_uri::SESSION_KILL_BY_AUTHID, args, kill_kwargs(how))
            .await?;
        arg(&r.args, 0)
    }

    /// Closes every other session of `authrole`; gives how many.
    pub async fn kill_by_authrole(&self, authrole: &str, how: Kill) -> Result<u64, Error> {
        let args = vec![Value::Str(authrole.into())];
        let r = self
            .call(meta_uri::SESSION_KILL_BY_AUTHROLE, args, kill_kwargs(how))
            .await?;
        arg(&r.args, 0)
    }

    /// Closes every other session of the realm; gives how many.
    pub async fn kill_all(&self, how: Kill) -> Result<u64, Error> {
        let r = self
            .call(meta_uri::SESSION_KILL_ALL, vec![], kill_kwargs(how))
            .await?;
        arg(&r.args, 0)
    }

    /// Leaves a testament: the router publishes `args` and `kwargs` to
    /// `topic` (with `options`; never acknowledged) when this session goes,
    /// however it goes (GOODBYE, a dropped connection, killed), unless
    /// flushed first.
    pub async fn add_testament(
        &self,
        topic: &str,
        args: List,
        kwargs: Dict,
        options: crate::PublishOptions,
        scope: TestamentScope,
    ) -> Result<(), Error> {
        let mut kw = Dict::new();
        kw.insert("scope".into(), Value::Str(scope.as_str().into()));
        let options = options.to_dict();
        if !options.is_empty() {
            kw.insert("publish_options".into(), Value::Dict(options));
        }
        let args = vec![Value::Str(topic.into()), Value::List(args), Value::Dict(kwargs)];
        self.call(meta_uri::SESSION_ADD_TESTAMENT, args, kw)
            .await
            .map(drop)
    }

    /// Removes this session's testaments of `scope`.
    pub async fn flush_testaments(&self, scope: TestamentScope) -> Result<(), Error> {
        let mut kw = Dict::new();
        kw.insert("scope".into(), Value::Str(scope.as_str().into()));
        self.call(meta_uri::SESSION_FLUSH_TESTAMENTS, vec![], kw)
            .await
            .map(drop)
    }

    /// Sessions joining, from now on.
    pub async fn on_join(&self) -> Result<MetaEvents<SessionInfo>, Error> {
        self.events(meta_uri::SESSION_ON_JOIN, MatchPolicy::Exact).await
    }

    /// Sessions leaving, from now on.
    pub async fn on_leave(&self) -> Result<MetaEvents<SessionLeft>, Error> {
        self.events(meta_uri::SESSION_ON_LEAVE, MatchPolicy::Exact).await
    }

    /// The registrations, by match policy.
    pub async fn registrations(&self) -> Result<ByPolicy, Error> {
        let r = self
            .call(meta_uri::REGISTRATION_LIST, vec![], Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// The registration of exactly `procedure` under `policy`.
    pub async fn lookup_registration(
        &self,
        procedure: &str,
        policy: MatchPolicy,
    ) -> Result<Option<Id>, Error> {
        let args = vec![Value::Str(procedure.into()), match_options(policy)];
        let r = self
            .call(meta_uri::REGISTRATION_LOOKUP, args, Dict::new())
            .await?;
        nullable(&r.args)
    }

    /// The registration a call of `procedure` would reach.
    pub async fn match_registration(&self, procedure: &str) -> Result<Option<Id>, Error> {
        let args = vec![Value::Str(procedure.into())];
        let r = self.call(meta_uri::REGISTRATION_MATCH, args, Dict::new()).await?;
        nullable(&r.args)
    }

    /// A registration's details; `wamp.error.no_such_registration` if none.
    pub async fn registration(&self, id: Id) -> Result<Observation, Error> {
        let r = self
            .call(meta_uri::REGISTRATION_GET, vec![Value::UInt(id)], Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// The callees of a registration.
    pub async fn callees(&self, id: Id) -> Result<Vec<Id>, Error> {
        let args = vec![Value::UInt(id)];
        let r = self
            .call(meta_uri::REGISTRATION_LIST_CALLEES, args, Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// How many callees a registration has.
    pub async fn count_callees(&self, id: Id) -> Result<u64, Error> {
        let args = vec![Value::UInt(id)];
        let r = self
            .call(meta_uri::REGISTRATION_COUNT_CALLEES, args, Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// Removes `callee` from a registration (Crossbar.io's
    /// `wamp.registration.remove_callee`); a callee that announced
    /// `registration_revocation` (this SDK's does) is told, with `reason`.
    pub async fn remove_callee(
        &self,
        registration: Id,
        callee: Id,
        reason: Option<&str>,
    ) -> Result<(), Error> {
        let mut kw = Dict::new();
        if let Some(r) = reason {
            kw.insert("reason".into(), Value::Str(r.into()));
        }
        let args = vec![Value::UInt(registration), Value::UInt(callee)];
        self.call(meta_uri::REGISTRATION_REMOVE_CALLEE, args, kw)
            .await
            .map(drop)
    }

    /// Registration changes, in order, from now on (one prefix
    /// subscription to `wamp.registration.`).
    pub async fn registration_changes(&self) -> Result<MetaEvents<Change>, Error> {
        self.events("wamp.registration.", MatchPolicy::Prefix).await
    }

    /// The subscriptions, by match policy.
    pub async fn subscriptions(&self) -> Result<ByPolicy, Error> {
        let r = self
            .call(meta_uri::SUBSCRIPTION_LIST, vec![], Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// The subscription of exactly `topic` under `policy`.
    pub async fn lookup_subscription(&self, topic: &str, policy: MatchPolicy) -> Result<Option<Id>, Error> {
        let args = vec![Value::Str(topic.into()), match_options(policy)];
        let r = self
            .call(meta_uri::SUBSCRIPTION_LOOKUP, args, Dict::new())
            .await?;
        nullable(&r.args)
    }

    /// Every subscription an event on `topic` reaches (exact, prefix,
    /// wildcard); empty when none (the router says null).
    pub async fn match_subscriptions(&self, topic: &str) -> Result<Vec<Id>, Error> {
        let args = vec![Value::Str(topic.into())];
        let r = self.call(meta_uri::SUBSCRIPTION_MATCH, args, Dict::new()).await?;
        Ok(arg::<Option<Vec<Id>>>(&r.args, 0)
            .ok()
            .flatten()
            .unwrap_or_default())
    }

    /// A subscription's details; `wamp.error.no_such_subscription` if none.
    pub async fn subscription(&self, id: Id) -> Result<Observation, Error> {
        let r = self
            .call(meta_uri::SUBSCRIPTION_GET, vec![Value::UInt(id)], Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// The subscribers of a subscription.
    pub async fn subscribers(&self, id: Id) -> Result<Vec<Id>, Error> {
        let args = vec![Value::UInt(id)];
        let r = self
            .call(meta_uri::SUBSCRIPTION_LIST_SUBSCRIBERS, args, Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// How many subscribers a subscription has.
    pub async fn count_subscribers(&self, id: Id) -> Result<u64, Error> {
        let args = vec![Value::UInt(id)];
        let r = self
            .call(meta_uri::SUBSCRIPTION_COUNT_SUBSCRIBERS, args, Dict::new())
            .await?;
        arg(&r.args, 0)
    }

    /// Removes `subscriber` from a subscription (Crossbar.io's
    /// `wamp.subscription.remove_subscriber`); a subscriber that announced
    /// `subscription_revocation` (this SDK's does: its streams of the
    /// subscription end) is told, with `reason`.
    pub async fn remove_subscriber(
        &self,
        subscription: Id,
        subscriber: Id,
        reason: Option<&str>,
    ) -> Result<(), Error> {
        let mut kw = Dict::new();
        if let Some(r) = reason {
            kw.insert("reason".into(), Value::Str(r.into()));
        }
        let args = vec![Value::UInt(subscription), Value::UInt(subscriber)];
        self.call(meta_uri::SUBSCRIPTION_REMOVE_SUBSCRIBER, args, kw)
            .await
            .map(drop)
    }

    /// The kept events of a subscription with event history (the router
    /// must keep some for it: `wamp router --event-history URI=LIMIT`).
    pub async fn get_events(&self, subscription: Id, query: EventQuery) -> Result<Vec<StoredEvent>, Error> {
        let args = vec![Value::UInt(subscription)];
        let r = self
            .call(meta_uri::SUBSCRIPTION_GET_EVENTS, args, query.kwargs())
            .await?;
        arg(&r.args, 0)
    }

    /// Subscription changes, in order, from now on (one prefix
    /// subscription to `wamp.subscription.`; the router announces no
    /// changes of subscriptions to its own `wamp.` topics).
    pub async fn subscription_changes(&self) -> Result<MetaEvents<Change>, Error> {
        self.events("wamp.subscription.", MatchPolicy::Prefix).await
    }
}

/// Positional result `i` as `T`.
fn arg<T: DeserializeOwned>(args: &List, i: usize) -> Result<T, Error> {
    let v = args.get(i).cloned().unwrap_or(Value::Null);
    wamp_proto::from_value(v).map_err(|e| Error::Value(format!("meta API result {i}: {e}")))
}

/// A nullable ID result: null, or none at all (a callee returning
/// nothing), is `None`.
fn nullable(args: &List) -> Result<Option<Id>, Error> {
    arg(args, 0)
}

fn roles(authroles: Option<&[&str]>) -> List {
    match authroles {
        None => vec![],
        Some(r) => vec![Value::List(r.iter().map(|s| Value::Str((*s).into())).collect())],
    }
}

fn match_options(policy: MatchPolicy) -> Value {
    let mut d = Dict::new();
    d.insert("match".into(), Value::Str(policy.as_str().into()));
    Value::Dict(d)
}

fn kill_kwargs(how: Kill) -> Dict {
    let mut d = Dict::new();
    if let Some(r) = how.reason {
        d.insert("reason".into(), Value::Str(r));
    }
    if let Some(m) = how.message {
        d.insert("message".into(), Value::Str(m));
    }
    d
}
