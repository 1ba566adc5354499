//! The broker: subscriptions (exact, prefix, wildcard) and event routing with
//! publisher exclusion, black/white-listing and publisher disclosure.

use std::collections::BTreeMap;
use std::time::SystemTime;
use wamp_proto::msg;
use wamp_proto::repr::{self, SerializerSet};
use wamp_proto::transport::SharedMessage;
use wamp_proto::uri::{self, MatchPolicy, UriRule};
use wamp_proto::{
    error_uri, id, meta_uri, Dict, EventDetails, Id, IdMap, List, Message, MessageType, PublishOptions,
    Serializer, Value,
};

use crate::matching::PatternIndex;
use crate::meta;
use crate::realm::{send_error, send_to, SessionEntry, Sessions};
use crate::transcode::{transcoded, Payload};

#[derive(Debug)]
pub(crate) struct Subscription {
    pub uri: String,
    pub policy: MatchPolicy,
    /// Subscribed sessions, in subscription order.
    pub subscribers: Vec<Id>,
    /// When it was created, for the meta API.
    pub created: SystemTime,
    /// Its event history, when configured ([`crate::EventHistory`]): it
    /// then lives without subscribers too.
    pub history: Option<History>,
}

/// The last events of a subscription with event history, oldest first.
#[derive(Debug)]
pub(crate) struct History {
    pub limit: usize,
    pub events: std::collections::VecDeque<HistoryEvent>,
}

/// One event kept in a history, with what decides who may read it.
#[derive(Debug)]
pub(crate) struct HistoryEvent {
    pub time: SystemTime,
    pub publication: Id,
    pub details: EventDetails,
    pub payload: wamp_proto::Payload,
    /// The publication's authid and authrole lists (session lists are
    /// never kept: sessions do not outlive the router, see the spec).
    pub options: PublishOptions,
}

impl Subscription {
    /// Whether its changes are announced by meta events: not for
    /// subscriptions to the router's own `wamp.` topics (as Crossbar.io),
    /// which would announce the meta API's listeners to themselves.
    fn announced(&self) -> bool {
        !uri::is_router_namespace(&self.uri)
    }
}

/// Most topics with a retained event per realm: past it, `retain` on a
/// new topic is ignored (the spec lets a broker decline), with a log line.
pub(crate) const MAX_RETAINED_TOPICS: usize = 10_000;

/// The retained event of a topic (`PUBLISH.Options.retain`), and what
/// decides who may get it: the publisher's options and identity as they
/// were when it was published.
#[derive(Debug)]
struct Retained {
    publication: Id,
    publisher: Id,
    publisher_authid: String,
    publisher_authrole: String,
    sender: Option<Serializer>,
    options: PublishOptions,
    payload: wamp_proto::Payload,
    /// The serializers the payload can travel in.
    reach: SerializerSet,
}

/// Subscriptions of one realm.
#[derive(Debug, Default)]
pub(crate) struct Broker {
    subscriptions: IdMap<Id, Subscription>,
    index: PatternIndex,
    /// Retained events by topic (ordered, for prefix subscriptions).
    retained: BTreeMap<String, Retained>,
    /// Some subscription keeps event history: only then does a publication
    /// look for one.
    has_history: bool,
}

impl Broker {
    /// A broker whose history subscriptions exist from the start.
    pub fn with_history(entries: &[crate::EventHistory]) -> Broker {
        let mut broker = Broker {
            has_history: !entries.is_empty(),
            ..Default::default()
        };
        for h in entries {
            let history = History {
                limit: h.limit,
                events: Default::default(),
            };
            match broker.index.get(&h.uri, h.match_policy) {
                // Listed twice: the larger limit.
                Some(id) => {
                    if let Some(existing) = broker.subscriptions.get_mut(&id).and_then(|s| s.history.as_mut())
                    {
                        existing.limit = existing.limit.max(h.limit);
                    }
                }
                None => {
                    let id = id::random_id();
                    broker.index.insert(h.uri.clone(), h.match_policy, id);
                    broker.subscriptions.insert(
                        id,
                        Subscription {
                            uri: h.uri.clone(),
                            policy: h.match_policy,
                            subscribers: Vec::new(),
                            created: SystemTime::now(),
                            history: Some(history),
                        },
                    );
                }
            }
        }
        broker
    }

    pub fn subscribe(&mut self, sessions: &Sessions, sid: Id, msg: msg::Subscribe) {
        let msg::Subscribe {
            request,
            options,
            topic,
        } = msg;
        let policy = options.match_policy.unwrap_or_default();
        let get_retained = options.get_retained.unwrap_or(false);
        if let Err(e) = uri::validate_pattern(&topic, policy, UriRule::Loose) {
            return send_error(
                sessions,
                sid,
                MessageType::Subscribe,
                request,
                error_uri::INVALID_URI,
                e.to_string(),
            );
        }
        let (sub_id, created) = match self.index.get(&topic, policy) {
            Some(existing) => (existing, false),
            None => {
                let new_id = id::random_id();
                self.index.insert(topic.clone(), policy, new_id);
                self.subscriptions.insert(
                    new_id,
                    Subscription {
                        uri: topic,
                        policy,
                        subscribers: Vec::new(),
                        created: SystemTime::now(),
                        history: None,
                    },
                );
                (new_id, true)
            }
        };
        let mut added = false;
        if let Some(sub) = self.subscriptions.get_mut(&sub_id) {
            if !sub.subscribers.contains(&sid) {
                sub.subscribers.push(sid);
                added = true;
            }
        }
        send_to(
            sessions,
            sid,
            Message::Subscribed(msg::Subscribed {
                request,
                subscription: sub_id,
            }),
        );
        if get_retained {
            self.send_retained(sessions, sid, sub_id);
        }
        let Some(sub) = self.subscriptions.get(&sub_id).filter(|s| s.announced()) else {
            return;
        };
        if created {
            self.publish_meta(sessions, meta_uri::SUBSCRIPTION_ON_CREATE, || {
                vec![
                    Value::UInt(sid),
                    Value::Dict(meta::subscription_details(sub_id, sub)),
                ]
            });
        }
        if added {
            self.publish_meta(sessions, meta_uri::SUBSCRIPTION_ON_SUBSCRIBE, || {
                vec![Value::UInt(sid), Value::UInt(sub_id)]
            });
        }
    }

    pub fn unsubscribe(&mut self, sessions: &Sessions, sid: Id, msg: msg::Unsubscribe) {
        let msg::Unsubscribe {
            request,
            subscription,
        } = msg;
        if let Some(removal) = self.detach(sid, subscription) {
            send_to(
                sessions,
                sid,
                Message::Unsubscribed(msg::Unsubscribed {
                    request,
                    details: None,
                }),
            );
            self.announce_removal(sessions, sid, subscription, removal);
        } else {
            send_error(
                sessions,
                sid,
                MessageType::Unsubscribe,
                request,
                error_uri::NO_SUCH_SUBSCRIPTION,
                format!("session holds no subscription {subscription}"),
            );
        }
    }

    /// Removes `sid` from a subscription, deleting it when it is left
    /// empty; `None` when `sid` was not subscribed.
    fn detach(&mut self, sid: Id, subscription: Id) -> Option<Removal> {
        let sub = self.subscriptions.get_mut(&subscription)?;
        let pos = sub.subscribers.iter().position(|s| *s == sid)?;
        sub.subscribers.remove(pos);
        let announced = sub.announced();
        // One with history stays, for its history (and its ID with it).
        let deleted = sub.subscribers.is_empty() && sub.history.is_none();
        if deleted {
            let sub = self.subscriptions.remove(&subscription).expect("present above");
            self.index.remove(&sub.uri, sub.policy);
        }
        Some(Removal { announced, deleted })
    }

    /// Publishes `on_unsubscribe`, then `on_delete` if the subscription went.
    fn announce_removal(&self, sessions: &Sessions, sid: Id, subscription: Id, removal: Removal) {
        if !removal.announced {
            return;
        }
        let args = || vec![Value::UInt(sid), Value::UInt(subscription)];
        self.publish_meta(sessions, meta_uri::SUBSCRIPTION_ON_UNSUBSCRIBE, args);
        if removal.deleted {
            self.publish_meta(sessions, meta_uri::SUBSCRIPTION_ON_DELETE, args);
        }
    }

    /// Removes a leaving session's subscriptions, with their meta events.
    pub fn remove_session(&mut self, sessions: &Sessions, sid: Id) {
        let held: Vec<Id> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| s.subscribers.contains(&sid))
            .map(|(id, _)| *id)
            .collect();
        for sub in held {
            if let Some(removal) = self.detach(sid, sub) {
                self.announce_removal(sessions, sid, sub, removal);
            }
        }
    }

    /// Publishes a meta event from the router to the subscribers of
    /// `topic`, into their queues as any event. Nothing is built (`args`
    /// is not called) when nobody subscribed to anything that matches: one
    /// lookup in the index, as long as the URI.
    pub fn publish_meta(&self, sessions: &Sessions, topic: &str, args: impl FnOnce() -> List) {
        if self.index.best_match(topic).is_none() {
            return;
        }
        let payload = wamp_proto::Payload::new(args(), Dict::new());
        let publication = id::random_id();
        for (sub_id, policy) in self.index.all_matches(topic) {
            let Some(sub) = self.subscriptions.get(&sub_id) else {
                continue;
            };
            let mut details = EventDetails::default();
            if policy != MatchPolicy::Exact {
                details.topic = Some(topic.to_owned());
            }
            let event = Message::from(msg::Event {
                subscription: sub_id,
                publication,
                details,
                payload: payload.clone(),
            });
            match sub.subscribers.as_slice() {
                [] => {}
                [only] => send_to(sessions, *only, event),
                many => {
                    let event = SharedMessage::new(event);
                    for &target in many {
                        send_to(sessions, target, event.clone());
                    }
                }
            }
        }
    }

    /// Keeps `payload` as the retained event of `topic`, replacing the
    /// one before.
    fn retain(
        &mut self,
        topic: &str,
        publication: Id,
        publisher: Option<&SessionEntry>,
        options: &PublishOptions,
        payload: &wamp_proto::Payload,
    ) {
        let Some(p) = publisher else { return };
        if self.retained.len() >= MAX_RETAINED_TOPICS && !self.retained.contains_key(topic) {
            tracing::warn!(
                session = p.id,
                %topic,
                "not retaining the event: the realm retains events on {MAX_RETAINED_TOPICS} topics already"
            );
            return;
        }
        self.retained.insert(
            topic.to_owned(),
            Retained {
                publication,
                publisher: p.id,
                publisher_authid: p.authid.clone(),
                publisher_authrole: p.authrole.clone(),
                sender: p.serializer,
                options: options.clone(),
                payload: payload.clone(),
                reach: payload.reach().intersection(repr::str_serializers(topic)),
            },
        );
    }

    /// Sends `sid`, just subscribed to `sub_id` with `get_retained`, the
    /// retained events of the topics the subscription matches that it
    /// would have got when they were published (publisher exclusion,
    /// black- and white-lists, its serializer), with `retained: true`.
    fn send_retained(&self, sessions: &Sessions, sid: Id, sub_id: Id) {
        let (Some(sub), Some(target)) = (self.subscriptions.get(&sub_id), sessions.get(&sid)) else {
            return;
        };
        let candidates: Box<dyn Iterator<Item = (&String, &Retained)>> = match sub.policy {
            MatchPolicy::Exact => Box::new(self.retained.get_key_value(&sub.uri).into_iter()),
            MatchPolicy::Prefix => Box::new(
                self.retained
                    .range(sub.uri.clone()..)
                    .take_while(|(t, _)| t.starts_with(&sub.uri)),
            ),
            MatchPolicy::Wildcard => Box::new(
                self.retained
                    .iter()
                    .filter(|(t, _)| uri::wildcard_matches(&sub.uri, t)),
            ),
        };
        for (topic, r) in candidates {
            let excluded_me = r.options.exclude_me.unwrap_or(true) && r.publisher == sid;
            if excluded_me || !eligible(&r.options, Some(target)) {
                continue;
            }
            if transcoded(r.sender, target.serializer).is_some_and(|s| !r.reach.contains(s)) {
                continue;
            }
            let mut details = EventDetails {
                retained: Some(true),
                ..Default::default()
            };
            if sub.policy != MatchPolicy::Exact {
                details.topic = Some(topic.clone());
            }
            if r.options.disclose_me == Some(true) {
                details.publisher = Some(r.publisher);
                details.publisher_authid = Some(r.publisher_authid.clone());
                details.publisher_authrole = Some(r.publisher_authrole.clone());
            }
            let event = Message::from(msg::Event {
                subscription: sub_id,
                publication: r.publication,
                details,
                payload: r.payload.clone(),
            });
            send_to(sessions, sid, event);
        }
    }

    /// Removes `subscriber` from a subscription on the router's initiative
    /// (`wamp.subscription.remove_subscriber`), with the meta events of an
    /// UNSUBSCRIBE; a subscriber that announced `subscription_revocation`
    /// gets UNSUBSCRIBED with request 0. `false` when it was no subscriber
    /// of the subscription.
    pub fn revoke(
        &mut self,
        sessions: &Sessions,
        subscriber: Id,
        subscription: Id,
        reason: Option<String>,
    ) -> bool {
        let Some(removal) = self.detach(subscriber, subscription) else {
            return false;
        };
        if sessions.get(&subscriber).is_some_and(|s| s.revocation.1) {
            let details = wamp_proto::RevokeDetails {
                subscription: Some(subscription),
                reason,
                ..Default::default()
            };
            send_to(
                sessions,
                subscriber,
                Message::Unsubscribed(msg::Unsubscribed {
                    request: 0,
                    details: Some(details),
                }),
            );
        }
        self.announce_removal(sessions, subscriber, subscription, removal);
        true
    }

    /// The subscriptions, for the meta API.
    pub fn subscriptions(&self) -> &IdMap<Id, Subscription> {
        &self.subscriptions
    }

    /// The subscription of exactly this topic and policy.
    pub fn lookup(&self, topic: &str, policy: MatchPolicy) -> Option<Id> {
        self.index.get(topic, policy)
    }

    /// Every subscription an event on `topic` reaches.
    pub fn matches(&self, topic: &str) -> Vec<Id> {
        self.index
            .all_matches(topic)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    pub fn publish(&mut self, sessions: &Sessions, sid: Id, msg: msg::Publish) {
        let msg::Publish {
            request,
            options,
            topic,
            payload,
        } = msg;
        let acknowledge = options.acknowledge.unwrap_or(false);
        let invalid = match uri::validate(&topic, UriRule::Loose, false) {
            Err(e) => Some(e.to_string()),
            // Only the router publishes there (meta events): a forged one
            // would look like the router's own.
            Ok(()) if uri::is_router_namespace(&topic) => Some(format!(
                "cannot publish to {topic:?}: the wamp. namespace belongs to the router"
            )),
            Ok(()) => None,
        };
        if let Some(message) = invalid {
            tracing::debug!(session = sid, "publication refused: {message}");
            if acknowledge {
                send_error(
                    sessions,
                    sid,
                    MessageType::Publish,
                    request,
                    error_uri::INVALID_URI,
                    message,
                );
            }
            return;
        }
        let publisher = sessions.get(&sid);
        let sender = publisher.and_then(|p| p.serializer);
        let matches: Vec<(Id, MatchPolicy)> = self.index.all_matches(&topic);
        // What the payload can travel in, worked out once; a pattern
        // subscription's EVENT carries the topic too.
        let reach = if matches.is_empty() {
            SerializerSet::ALL
        } else {
            payload.reach()
        };
        let topic_reach = repr::str_serializers(&topic);
        let reach_of = |policy: MatchPolicy| match policy {
            MatchPolicy::Exact => reach,
            _ => reach.intersection(topic_reach),
        };
        let exclude_me = options.exclude_me.unwrap_or(true);
        let receives =
            |target: Id| !(exclude_me && target == sid) && eligible(&options, sessions.get(&target));
        let refuses = |target: Id, policy: MatchPolicy| {
            let receiver = sessions.get(&target).and_then(|t| t.serializer);
            transcoded(sender, receiver).filter(|r| !reach_of(policy).contains(*r))
        };

        // Why each serializer the payload (with the topic) cannot travel
        // in cannot: worked out only when there is one.
        let causes: Vec<(Serializer, String)> = Serializer::ALL
            .into_iter()
            .filter(|r| !reach_of(MatchPolicy::Wildcard).contains(*r))
            .map(|r| {
                (
                    r,
                    Payload {
                        body: &payload,
                        dicts: &[],
                        strs: &[("topic", &topic)],
                    }
                    .explain(r)
                    .map_or_else(|| r.to_string(), |e| e.to_string()),
                )
            })
            .collect();
        let cause = |r: Serializer| {
            causes
                .iter()
                .find(|(s, _)| *s == r)
                .map_or("", |(_, c)| c.as_str())
        };

        if acknowledge && !causes.is_empty() {
            // Acknowledged: all or nothing, and the publisher is told why.
            for &(sub_id, policy) in &matches {
                let Some(sub) = self.subscriptions.get(&sub_id) else {
                    continue;
                };
                let refused = sub.subscribers.iter().copied().filter(|&t| receives(t));
                if let Some(r) = refused.filter_map(|t| refuses(t, policy)).next() {
                    return send_error(
                        sessions,
                        sid,
                        MessageType::Publish,
                        request,
                        error_uri::INVALID_ARGUMENT,
                        format!(
                            "{}, which a subscriber uses; the event was not published",
                            cause(r)
                        ),
                    );
                }
            }
        }

        let publication = id::random_id();
        if options.retain == Some(true) {
            self.retain(&topic, publication, publisher, &options, &payload);
        }
        let disclose = options.disclose_me.unwrap_or(false);
        // Events published with session lists are not kept (the spec).
        let keep = self.has_history && options.exclude.is_none() && options.eligible.is_none();
        for &(sub_id, policy) in matches.iter().filter(|_| keep) {
            let Some(history) = self
                .subscriptions
                .get_mut(&sub_id)
                .and_then(|s| s.history.as_mut())
            else {
                continue;
            };
            if !keep {
                continue;
            }
            let mut details = EventDetails::default();
            if policy != MatchPolicy::Exact {
                details.topic = Some(topic.clone());
            }
            if let (true, Some(p)) = (disclose, publisher) {
                details.publisher = Some(p.id);
                details.publisher_authid = Some(p.authid.clone());
                details.publisher_authrole = Some(p.authrole.clone());
            }
            if history.events.len() >= history.limit {
                history.events.pop_front();
            }
            history.events.push_back(HistoryEvent {
                time: SystemTime::now(),
                publication,
                details,
                payload: payload.clone(),
                options: PublishOptions {
                    exclude_authid: options.exclude_authid.clone(),
                    exclude_authrole: options.exclude_authrole.clone(),
                    eligible_authid: options.eligible_authid.clone(),
                    eligible_authrole: options.eligible_authrole.clone(),
                    ..Default::default()
                },
            });
        }
        let mut skipped: Vec<(Id, Serializer)> = Vec::new();
        let mut payload = Some(payload);
        for (i, &(sub_id, policy)) in matches.iter().enumerate() {
            let Some(sub) = self.subscriptions.get(&sub_id) else {
                continue;
            };
            let mut details = EventDetails::default();
            if policy != MatchPolicy::Exact {
                details.topic = Some(topic.clone());
            }
            if disclose {
                if let Some(p) = publisher {
                    details.publisher = Some(p.id);
                    details.publisher_authid = Some(p.authid.clone());
                    details.publisher_authrole = Some(p.authrole.clone());
                }
            }
            // The payload is moved into the last subscription's EVENT,
            // cloned for the others.
            let last = i + 1 == matches.len();
            let event = Message::from(msg::Event {
                subscription: sub_id,
                publication,
                details,
                payload: take_last(&mut payload, last),
            });
            let mut receivers = sub.subscribers.iter().copied().filter(|&target| {
                if !receives(target) {
                    return false;
                }
                match refuses(target, policy) {
                    Some(r) => {
                        skipped.push((target, r));
                        false
                    }
                    None => true,
                }
            });
            match (receivers.next(), receivers.next()) {
                (None, _) => {}
                (Some(only), None) => send_to(sessions, only, event),
                (Some(first), Some(second)) => {
                    // Every receiver gets the same EVENT: one message, encoded
                    // at most once per serializer by the writers.
                    let event = SharedMessage::new(event);
                    for target in [first, second].into_iter().chain(receivers) {
                        send_to(sessions, target, event.clone());
                    }
                }
            }
        }
        if let Some(&(_, r)) = skipped.first() {
            tracing::warn!(
                session = sid,
                %topic,
                publication,
                "event not delivered to {} subscriber(s) ({:?}): {}",
                skipped.len(),
                skipped.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
                cause(r),
            );
        }
        if acknowledge {
            send_to(
                sessions,
                sid,
                Message::Published(msg::Published { request, publication }),
            );
        }
    }
}

/// What removing a subscriber did, for its meta events.
#[derive(Debug, Clone, Copy)]
struct Removal {
    /// The subscription's changes are announced.
    announced: bool,
    /// It had no subscriber left and was deleted.
    deleted: bool,
}

/// The value itself the last time, a clone before.
fn take_last<T: Clone + Default>(v: &mut Option<T>, last: bool) -> T {
    if last {
        v.take().unwrap_or_default()
    } else {
        v.clone().unwrap_or_default()
    }
}

/// Applies the black- and white-lists of PUBLISH.Options to one receiver.
pub(crate) fn eligible(o: &PublishOptions, target: Option<&SessionEntry>) -> bool {
    let Some(t) = target else { return false };
    let listed = |list: &Option<Vec<Id>>| list.as_ref().map(|l| l.contains(&t.id));
    let named = |list: &Option<Vec<String>>, v: &str| list.as_ref().map(|l| l.iter().any(|x| x == v));
    let excluded = listed(&o.exclude) == Some(true)
        || named(&o.exclude_authid, &t.authid) == Some(true)
        || named(&o.exclude_authrole, &t.authrole) == Some(true);
    let not_eligible = listed(&o.eligible) == Some(false)
        || named(&o.eligible_authid, &t.authid) == Some(false)
        || named(&o.eligible_authrole, &t.authrole) == Some(false);
    !excluded && !not_eligible
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use wamp_proto::SubscribeOptions;

    use super::*;

    fn subscribe(broker: &mut Broker, sid: Id, topic: &str, policy: MatchPolicy) {
        let options = SubscribeOptions {
            match_policy: Some(policy),
            ..Default::default()
        };
        let sessions = Sessions::default();
        broker.subscribe(
            &sessions,
            sid,
            msg::Subscribe {
                request: 1,
                options,
                topic: topic.into(),
            },
        );
    }

    /// A meta event nobody subscribed to costs one lookup: its arguments
    /// are not even built.
    #[test]
    fn meta_events_cost_nothing_without_subscribers() {
        let mut broker = Broker::default();
        let sessions = Sessions::default();
        let built = Cell::new(0);
        let args = || {
            built.set(built.get() + 1);
            vec![]
        };
        broker.publish_meta(&sessions, meta_uri::SESSION_ON_JOIN, args);
        subscribe(&mut broker, 7, "com.example.", MatchPolicy::Prefix);
        subscribe(&mut broker, 7, meta_uri::SESSION_ON_LEAVE, MatchPolicy::Exact);
        broker.publish_meta(&sessions, meta_uri::SESSION_ON_JOIN, args);
        assert_eq!(built.get(), 0);
        subscribe(&mut broker, 7, "wamp.session.", MatchPolicy::Prefix);
        broker.publish_meta(&sessions, meta_uri::SESSION_ON_JOIN, args);
        assert_eq!(built.get(), 1);
    }
}
