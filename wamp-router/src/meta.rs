//! The meta API: the session, registration and subscription procedures of
//! the spec (`meta_api_*.md`), answered by the realm itself under its lock
//! like any routed call, so they see the realm's state as it is and nothing
//! else (another realm is another state). A caller is authorized as for any
//! call before its CALL gets here. Meta events are published by the broker
//! (`Broker::publish_meta`), only when somebody listens.

use std::time::{SystemTime, UNIX_EPOCH};

use wamp_proto::uri::{self, MatchPolicy, UriRule};
use wamp_proto::{
    error_uri, meta_uri, msg, CloseDetails, Dict, Id, List, Message, MessageType, Payload, PublishOptions,
    ResultDetails, Value,
};

use crate::auth::config::Action;
use crate::authorize::Verdict;
use crate::broker::Subscription;
use crate::dealer::Registration;
use crate::realm::{remove_session, send_error, send_to, Realm, RealmState, SessionEntry};

/// A meta procedure the router answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Procedure {
    SessionCount,
    SessionList,
    SessionGet,
    SessionKill,
    SessionKillByAuthid,
    SessionKillByAuthrole,
    SessionKillAll,
    AddTestament,
    FlushTestaments,
    RegistrationList,
    RegistrationLookup,
    RegistrationMatch,
    RegistrationGet,
    RegistrationListCallees,
    RegistrationCountCallees,
    RegistrationRemoveCallee,
    SubscriptionList,
    SubscriptionLookup,
    SubscriptionMatch,
    SubscriptionGet,
    SubscriptionListSubscribers,
    SubscriptionCountSubscribers,
    SubscriptionRemoveSubscriber,
    SubscriptionGetEvents,
}

/// The meta procedure `uri` names, if it names one. Cheap for other URIs:
/// one prefix comparison.
pub(crate) fn procedure(uri: &str) -> Option<Procedure> {
    use Procedure::*;
    if !uri::is_router_namespace(uri) {
        return None;
    }
    Some(match uri {
        meta_uri::SESSION_COUNT => SessionCount,
        meta_uri::SESSION_LIST => SessionList,
        meta_uri::SESSION_GET => SessionGet,
        meta_uri::SESSION_KILL => SessionKill,
        meta_uri::SESSION_KILL_BY_AUTHID => SessionKillByAuthid,
        meta_uri::SESSION_KILL_BY_AUTHROLE => SessionKillByAuthrole,
        meta_uri::SESSION_KILL_ALL => SessionKillAll,
        meta_uri::SESSION_ADD_TESTAMENT => AddTestament,
        meta_uri::SESSION_FLUSH_TESTAMENTS => FlushTestaments,
        meta_uri::REGISTRATION_LIST => RegistrationList,
        meta_uri::REGISTRATION_LOOKUP => RegistrationLookup,
        meta_uri::REGISTRATION_MATCH => RegistrationMatch,
        meta_uri::REGISTRATION_GET => RegistrationGet,
        meta_uri::REGISTRATION_LIST_CALLEES => RegistrationListCallees,
        meta_uri::REGISTRATION_COUNT_CALLEES => RegistrationCountCallees,
        meta_uri::REGISTRATION_REMOVE_CALLEE => RegistrationRemoveCallee,
        meta_uri::SUBSCRIPTION_LIST => SubscriptionList,
        meta_uri::SUBSCRIPTION_LOOKUP => SubscriptionLookup,
        meta_uri::SUBSCRIPTION_MATCH => SubscriptionMatch,
        meta_uri::SUBSCRIPTION_GET => SubscriptionGet,
        meta_uri::SUBSCRIPTION_LIST_SUBSCRIBERS => SubscriptionListSubscribers,
        meta_uri::SUBSCRIPTION_COUNT_SUBSCRIBERS => SubscriptionCountSubscribers,
        meta_uri::SUBSCRIPTION_REMOVE_SUBSCRIBER => SubscriptionRemoveSubscriber,
        meta_uri::SUBSCRIPTION_GET_EVENTS => SubscriptionGetEvents,
        _ => return None,
    })
}

/// Why a meta call failed: the ERROR's URI and message.
type Failure = (&'static str, String);

/// Answers a call of a meta procedure from session `sid` with RESULT or ERROR.
pub(crate) fn call(realm: &Realm, st: &mut RealmState, sid: Id, procedure: Procedure, call: msg::Call) {
    let request = call.request;
    let answer = match call.payload.into_values() {
        Ok((args, kwargs)) => match procedure {
            Procedure::AddTestament => add_testament(realm, st, sid, args, &kwargs),
            Procedure::FlushTestaments => flush_testaments(st, sid, &kwargs),
            Procedure::SubscriptionGetEvents => get_events(realm, st, sid, &Args(args), &kwargs),
            _ => answer(st, sid, procedure, &Args(args), &kwargs),
        },
        Err(e) => Err((error_uri::INVALID_ARGUMENT, e.to_string())),
    };
    match answer {
        Ok(args) => send_to(
            &st.sessions,
            sid,
            Message::Result(msg::Result {
                request,
                details: ResultDetails::default(),
                payload: Payload::new(args, Dict::new()),
            }),
        ),
        Err((error, message)) => send_error(&st.sessions, sid, MessageType::Call, request, error, message),
    }
}

fn answer(
    st: &mut RealmState,
    sid: Id,
    procedure: Procedure,
    args: &Args,
    kwargs: &Dict,
) -> Result<List, Failure> {
    use Procedure::*;
    let one = |v: Value| Ok(vec![v]);
    match procedure {
        SessionCount => {
            let roles = args.authroles()?;
            one(Value::UInt(sessions_of(st, roles.as_deref()).count() as u64))
        }
        SessionList => {
            let roles = args.authroles()?;
            one(ids(sessions_of(st, roles.as_deref()).map(|s| s.id)))
        }
        SessionGet => {
            let target = args.id(0, "session")?;
            match st.sessions.get(&target) {
                Some(entry) => one(Value::Dict(session_details(entry))),
                None => Err(no_such_session(target)),
            }
        }
        SessionKill => {
            let target = args.id(0, "session")?;
            let closing = Closing::from_kwargs(kwargs)?;
            // The caller is no *other* session: the spec's answer for it.
            if target == sid || !st.sessions.contains_key(&target) {
                return Err(no_such_session(target));
            }
            kill(st, &[target], &closing, true);
            Ok(vec![])
        }
        SessionKillByAuthid => {
            let authid = args.string(0, "authid")?;
            let closing = Closing::from_kwargs(kwargs)?;
            let targets = others(st, sid, |s| s.authid == authid);
            kill(st, &targets, &closing, true);
            one(ids(targets))
        }
        SessionKillByAuthrole => {
            let authrole = args.string(0, "authrole")?;
            let closing = Closing::from_kwargs(kwargs)?;
            let targets = others(st, sid, |s| s.authrole == authrole);
            kill(st, &targets, &closing, true);
            one(Value::UInt(targets.len() as u64))
        }
        SessionKillAll => {
            let closing = Closing::from_kwargs(kwargs)?;
            let targets = others(st, sid, |_| true);
            // The spec: closing every session generates no session meta
            // events and no testaments.
            kill(st, &targets, &closing, false);
            one(Value::UInt(targets.len() as u64))
        }
        AddTestament | FlushTestaments | SubscriptionGetEvents => unreachable!("answered by call()"),
        RegistrationRemoveCallee => {
            let (registration, callee) = (args.id(0, "registration")?, args.id(1, "callee")?);
            let reason = args.reason(2, kwargs)?;
            if !st.sessions.contains_key(&callee) {
                return Err(no_such_session(callee));
            }
            let RealmState {
                sessions,
                broker,
                dealer,
            } = st;
            if !dealer.revoke(sessions, broker, callee, registration, reason) {
                return Err((
                    error_uri::NO_SUCH_REGISTRATION,
                    format!("session {callee} is no callee of a registration {registration} on this realm"),
                ));
            }
            Ok(vec![])
        }
        SubscriptionRemoveSubscriber => {
            let (subscription, subscriber) = (args.id(0, "subscription")?, args.id(1, "subscriber")?);
            let reason = args.reason(2, kwargs)?;
            if !st.sessions.contains_key(&subscriber) {
                return Err(no_such_session(subscriber));
            }
            if !st.broker.revoke(&st.sessions, subscriber, subscription, reason) {
                return Err((
                    error_uri::NO_SUCH_SUBSCRIPTION,
                    format!("session {subscriber} is no subscriber of a subscription {subscription} on this realm"),
                ));
            }
            Ok(vec![])
        }
        RegistrationList => {
            let regs = st.dealer.registrations().iter().map(|(id, r)| (*id, r.policy));
            one(by_policy(regs))
        }
        RegistrationLookup => {
            let procedure = args.string(0, "procedure")?;
            let policy = args.match_policy(1)?;
            one(nullable(st.dealer.lookup(procedure, policy)))
        }
        RegistrationMatch => {
            let procedure = args.string(0, "procedure")?;
            one(nullable(st.dealer.best_match(procedure)))
        }
        RegistrationGet | RegistrationListCallees | RegistrationCountCallees => {
            let id = args.id(0, "registration")?;
            let Some(reg) = st.dealer.registrations().get(&id) else {
                return Err((
                    error_uri::NO_SUCH_REGISTRATION,
                    format!("no registration with ID {id} exists on this realm"),
                ));
            };
            one(match procedure {
                RegistrationGet => Value::Dict(registration_details(id, reg)),
                RegistrationListCallees => ids(reg.callees.iter().copied()),
                _ => Value::UInt(reg.callees.len() as u64),
            })
        }
        SubscriptionList => {
            let subs = st.broker.subscriptions().iter().map(|(id, s)| (*id, s.policy));
            one(by_policy(subs))
        }
        SubscriptionLookup => {
            let topic = args.string(0, "topic")?;
            let policy = args.match_policy(1)?;
            one(nullable(st.broker.lookup(topic, policy)))
        }
        SubscriptionMatch => {
            let topic = args.string(0, "topic")?;
            let matches = st.broker.matches(topic);
            // The spec's "(Nullable) list": null when nothing matches.
            one(if matches.is_empty() {
                Value::Null
            } else {
                ids(matches)
            })
        }
        SubscriptionGet | SubscriptionListSubscribers | SubscriptionCountSubscribers => {
            let id = args.id(0, "subscription")?;
            let Some(sub) = st.broker.subscriptions().get(&id) else {
                return Err((
                    error_uri::NO_SUCH_SUBSCRIPTION,
                    format!("no subscription with ID {id} exists on this realm"),
                ));
            };
            one(match procedure {
                SubscriptionGet => Value::Dict(subscription_details(id, sub)),
                SubscriptionListSubscribers => ids(sub.subscribers.iter().copied()),
                _ => Value::UInt(sub.subscribers.len() as u64),
            })
        }
    }
}

fn no_such_session(target: Id) -> Failure {
    (
        error_uri::NO_SUCH_SESSION,
        format!("no other session with ID {target} exists on this realm"),
    )
}

/// The sessions joined, only those of `roles` if given.
fn sessions_of<'a>(
    st: &'a RealmState,
    roles: Option<&'a [String]>,
) -> impl Iterator<Item = &'a SessionEntry> {
    st.sessions
        .values()
        .filter(move |s| roles.is_none_or(|r| r.contains(&s.authrole)))
}

/// The sessions other than the caller that `pick` picks.
fn others(st: &RealmState, caller: Id, pick: impl Fn(&SessionEntry) -> bool) -> Vec<Id> {
    st.sessions
        .values()
        .filter(|s| s.id != caller && pick(s))
        .map(|s| s.id)
        .collect()
}

/// The GOODBYE a killed session gets.
struct Closing {
    reason: String,
    message: Option<String>,
}

impl Closing {
    /// From a kill's keyword arguments `reason` (a URI, `wamp.close.killed`
    /// if absent) and `message`.
    fn from_kwargs(kwargs: &Dict) -> Result<Closing, Failure> {
        let reason = match kwargs.get("reason") {
            None | Some(Value::Null) => error_uri::CLOSE_KILLED.to_owned(),
            Some(Value::Str(r)) if !r.is_empty() && uri::validate(r, UriRule::Loose, false).is_ok() => {
                r.clone()
            }
            Some(other) => {
                return Err((
                    error_uri::INVALID_URI,
                    format!("reason must be a non-empty URI, not {other}"),
                ))
            }
        };
        let message = match kwargs.get("message") {
            None | Some(Value::Null) => None,
            Some(Value::Str(m)) => Some(m.clone()),
            Some(other) => {
                return Err((
                    error_uri::INVALID_ARGUMENT,
                    format!("message must be a string, not {}", other.kind()),
                ))
            }
        };
        Ok(Closing { reason, message })
    }
}

/// Closes sessions: each is forgotten by the realm at once (with the meta
/// events of what it owned; its `on_leave` when `announce`), gets GOODBYE
/// and its task stops.
fn kill(st: &mut RealmState, targets: &[Id], closing: &Closing, announce: bool) {
    for &target in targets {
        let Some(entry) = remove_session(st, target, announce) else {
            continue;
        };
        tracing::debug!(session = target, reason = %closing.reason, "session killed through the meta API");
        let goodbye = Message::Goodbye(msg::Goodbye {
            details: CloseDetails {
                message: closing.message.clone(),
                ..Default::default()
            },
            reason: closing.reason.clone(),
        });
        // Its last message: past the high-water mark like any closing one.
        let _ = entry.outbound.tx.push(goodbye);
        entry.outbound.killed.notify_one();
    }
}

/// Most testaments a session may have per scope.
pub(crate) const MAX_TESTAMENTS: usize = 64;

/// A session's testaments: PUBLISHes the router makes for it when it goes,
/// the `detached` ones first (the spec's order for a router without
/// session resumption, where both happen at once), each in the order added.
#[derive(Debug, Default)]
pub(crate) struct Testaments {
    detached: Vec<msg::Publish>,
    destroyed: Vec<msg::Publish>,
}

impl Testaments {
    fn scope(&mut self, scope: Scope) -> &mut Vec<msg::Publish> {
        match scope {
            Scope::Detached => &mut self.detached,
            Scope::Destroyed => &mut self.destroyed,
        }
    }

    /// What to publish, in order.
    pub fn into_publishes(self) -> impl Iterator<Item = msg::Publish> {
        self.detached.into_iter().chain(self.destroyed)
    }
}

#[derive(Debug, Clone, Copy)]
enum Scope {
    Detached,
    Destroyed,
}

/// The `scope` keyword argument, `destroyed` by default (the spec).
fn scope(kwargs: &Dict) -> Result<Scope, Failure> {
    match kwargs.get("scope") {
        None | Some(Value::Null) => Ok(Scope::Destroyed),
        Some(Value::Str(s)) if s == "destroyed" => Ok(Scope::Destroyed),
        Some(Value::Str(s)) if s == "detached" => Ok(Scope::Detached),
        Some(other) => Err(invalid(format!(
            "scope must be \"destroyed\" or \"detached\", not {other}"
        ))),
    }
}

/// `wamp.session.add_testament(topic, args, kwargs, publish_options=, scope=)`:
/// the caller's role must be allowed to publish to `topic` (statically:
/// a dynamic authorizer cannot be asked here, under the realm's lock).
fn add_testament(
    realm: &Realm,
    st: &mut RealmState,
    sid: Id,
    args: List,
    kwargs: &Dict,
) -> Result<List, Failure> {
    let mut args = args.into_iter();
    let topic = match args.next() {
        Some(Value::Str(t)) => t,
        _ => return Err(invalid("argument 0 (topic) must be a URI".into())),
    };
    if let Err(e) = uri::validate(&topic, UriRule::Loose, false) {
        return Err((error_uri::INVALID_URI, e.to_string()));
    }
    if uri::is_router_namespace(&topic) {
        return Err((
            error_uri::INVALID_URI,
            format!("cannot leave a testament on {topic:?}: the wamp. namespace belongs to the router"),
        ));
    }
    let event_args = match args.next() {
        None | Some(Value::Null) => List::new(),
        Some(Value::List(l)) => l,
        Some(other) => {
            return Err(invalid(format!(
                "argument 1 (args) must be a list, not {}",
                other.kind()
            )))
        }
    };
    let event_kwargs = match args.next() {
        None | Some(Value::Null) => Dict::new(),
        Some(Value::Dict(d)) => d,
        Some(other) => {
            return Err(invalid(format!(
                "argument 2 (kwargs) must be a dict, not {}",
                other.kind()
            )))
        }
    };
    let mut options = match kwargs.get("publish_options") {
        None | Some(Value::Null) => PublishOptions::default(),
        Some(Value::Dict(d)) => {
            PublishOptions::from_dict(d.clone()).map_err(|e| invalid(format!("publish_options: {e}")))?
        }
        Some(other) => {
            return Err(invalid(format!(
                "publish_options must be a dict, not {}",
                other.kind()
            )))
        }
    };
    // Nobody is left to acknowledge to.
    options.acknowledge = None;
    let scope = scope(kwargs)?;
    let entry = st.sessions.get_mut(&sid).ok_or_else(|| no_such_session(sid))?;
    match realm.check(&entry.authrole, Action::Publish, &topic) {
        Verdict::Allow => {}
        Verdict::Deny => {
            return Err((
                error_uri::NOT_AUTHORIZED,
                format!(
                    "role {:?} may not publish to {topic:?}, so it may not leave a testament there",
                    entry.authrole
                ),
            ))
        }
        Verdict::Ask(_) => {
            return Err((
                error_uri::NOT_AUTHORIZED,
                format!(
                    "role {:?} is authorized dynamically: a testament needs a static permission to publish",
                    entry.authrole
                ),
            ))
        }
    }
    let bucket = entry.testaments.scope(scope);
    if bucket.len() >= MAX_TESTAMENTS {
        return Err(invalid(format!(
            "a session may leave at most {MAX_TESTAMENTS} testaments per scope"
        )));
    }
    bucket.push(msg::Publish {
        request: 0,
        options,
        topic,
        payload: Payload::new(event_args, event_kwargs),
    });
    Ok(vec![])
}

/// `wamp.session.flush_testaments(scope=)`.
fn flush_testaments(st: &mut RealmState, sid: Id, kwargs: &Dict) -> Result<List, Failure> {
    let scope = scope(kwargs)?;
    let entry = st.sessions.get_mut(&sid).ok_or_else(|| no_such_session(sid))?;
    entry.testaments.scope(scope).clear();
    Ok(vec![])
}

/// `wamp.subscription.get_events(subscription, reverse=, limit=, topic=,
/// from_publication=, after_publication=, before_publication=,
/// until_publication=, from_time=, after_time=, before_time=,
/// until_time=)`: the subscription's kept events the caller may see (its
/// role may subscribe to the subscription's URI, and each event's authid
/// and authrole lists let it), filters ANDed, oldest first unless
/// `reverse`, at most `limit`.
fn get_events(realm: &Realm, st: &RealmState, sid: Id, args: &Args, kwargs: &Dict) -> Result<List, Failure> {
    let id = args.id(0, "subscription")?;
    let caller = st.sessions.get(&sid).ok_or_else(|| no_such_session(sid))?;
    let Some(sub) = st.broker.subscriptions().get(&id) else {
        return Err((
            error_uri::NO_SUCH_SUBSCRIPTION,
            format!("no subscription with ID {id} exists on this realm"),
        ));
    };
    match realm.check(&caller.authrole, Action::Subscribe, &sub.uri) {
        Verdict::Allow => {}
        _ => {
            return Err((
                error_uri::NOT_AUTHORIZED,
                format!(
                    "role {:?} may not subscribe to {:?} (statically), so it may not read its history",
                    caller.authrole, sub.uri
                ),
            ))
        }
    }
    let Some(history) = &sub.history else {
        return Err((
            error_uri::HISTORY_UNAVAILABLE,
            format!(
                "no event history is kept for subscription {id} ({:?}): see RouterConfig::event_history",
                sub.uri
            ),
        ));
    };
    let f = HistoryFilter::from_kwargs(kwargs)?;
    let events: Vec<&crate::broker::HistoryEvent> = history.events.iter().collect();
    // Publication bounds are positions in the history (IDs are not ordered).
    let position = |p: Option<Id>| -> Result<Option<usize>, Failure> {
        match p {
            None => Ok(None),
            Some(p) => events
                .iter()
                .position(|e| e.publication == p)
                .map(Some)
                .ok_or_else(|| invalid(format!("publication {p} is not in the history"))),
        }
    };
    let (from, after, before, until) = (
        position(f.from_publication)?,
        position(f.after_publication)?,
        position(f.before_publication)?,
        position(f.until_publication)?,
    );
    let mut picked: Vec<Value> = Vec::new();
    let mut indices: Vec<usize> = (0..events.len()).collect();
    if f.reverse {
        indices.reverse();
    }
    for i in indices {
        if picked.len() >= f.limit.unwrap_or(usize::MAX) {
            break;
        }
        let e = events[i];
        let millis = millis_of(e.time);
        let in_range = from.is_none_or(|p| i >= p)
            && after.is_none_or(|p| i > p)
            && before.is_none_or(|p| i < p)
            && until.is_none_or(|p| i <= p)
            && f.from_time.is_none_or(|t| millis >= t)
            && f.after_time.is_none_or(|t| millis > t)
            && f.before_time.is_none_or(|t| millis < t)
            && f.until_time.is_none_or(|t| millis <= t);
        let topic = e.details.topic.as_deref().unwrap_or(&sub.uri);
        let on_topic = f.topic.as_deref().is_none_or(|t| t == topic);
        if !in_range || !on_topic || !crate::broker::eligible(&e.options, Some(caller)) {
            continue;
        }
        let Ok((args, kwargs)) = e.payload.to_values() else {
            continue; // checked on arrival: not expected
        };
        let mut d = Dict::new();
        d.insert("timestamp".into(), Value::Str(iso8601(e.time)));
        d.insert("subscription".into(), Value::UInt(id));
        d.insert("publication".into(), Value::UInt(e.publication));
        d.insert("details".into(), Value::Dict(e.details.to_dict()));
        d.insert("args".into(), Value::List(args));
        d.insert("kwargs".into(), Value::Dict(kwargs));
        picked.push(Value::Dict(d));
    }
    Ok(vec![Value::List(picked)])
}

/// The keyword arguments of `get_events`; times as milliseconds since 1970.
#[derive(Debug, Default)]
struct HistoryFilter {
    reverse: bool,
    limit: Option<usize>,
    topic: Option<String>,
    from_publication: Option<Id>,
    after_publication: Option<Id>,
    before_publication: Option<Id>,
    until_publication: Option<Id>,
    from_time: Option<i64>,
    after_time: Option<i64>,
    before_time: Option<i64>,
    until_time: Option<i64>,
}

impl HistoryFilter {
    fn from_kwargs(kwargs: &Dict) -> Result<HistoryFilter, Failure> {
        let id = |k: &str| match kwargs.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| invalid(format!("{k} must be a publication ID"))),
        };
        let time = |k: &str| match kwargs.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) => parse_rfc3339(s)
                .map(Some)
                .ok_or_else(|| invalid(format!("{k}: {s:?} is no RFC 3339 timestamp"))),
            Some(other) => Err(invalid(format!(
                "{k} must be an RFC 3339 string, not {}",
                other.kind()
            ))),
        };
        Ok(HistoryFilter {
            reverse: match kwargs.get("reverse") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(invalid(format!(
                        "reverse must be a boolean, not {}",
                        other.kind()
                    )))
                }
            },
            limit: match kwargs.get("limit") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_u64() {
                    Some(n) if n > 0 => Some(n as usize),
                    _ => return Err(invalid("limit must be a positive integer".into())),
                },
            },
            topic: match kwargs.get("topic") {
                None | Some(Value::Null) => None,
                Some(Value::Str(t)) => Some(t.clone()),
                Some(other) => return Err(invalid(format!("topic must be a URI, not {}", other.kind()))),
            },
            from_publication: id("from_publication")?,
            after_publication: id("after_publication")?,
            before_publication: id("before_publication")?,
            until_publication: id("until_publication")?,
            from_time: time("from_time")?,
            after_time: time("after_time")?,
            before_time: time("before_time")?,
            until_time: time("until_time")?,
        })
    }
}

fn millis_of(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Milliseconds since 1970 of an RFC 3339 timestamp
/// (`2026-11-30T08:02:12.123Z`, `...+01:00`; fractions past milliseconds
/// are cut).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s[start..i.min(start + 3)];
        millis = digits.parse::<i64>().ok()? * 10_i64.pow(3 - digits.len() as u32);
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let m = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if *sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

/// A session's details: `wamp.session.get` and `wamp.session.on_join`.
pub(crate) fn session_details(s: &SessionEntry) -> Dict {
    let mut d = Dict::new();
    d.insert("session".into(), Value::UInt(s.id));
    d.insert("authid".into(), Value::Str(s.authid.clone()));
    d.insert("authrole".into(), Value::Str(s.authrole.clone()));
    d.insert("authmethod".into(), Value::Str(s.authmethod.into()));
    d.insert("authprovider".into(), Value::Str(s.authprovider.into()));
    d.insert("transport".into(), Value::Dict(s.transport.to_dict()));
    d
}

/// A registration's details: `wamp.registration.get` and `on_create`.
pub(crate) fn registration_details(id: Id, r: &Registration) -> Dict {
    let mut d = Dict::new();
    d.insert("id".into(), Value::UInt(id));
    d.insert("created".into(), Value::Str(iso8601(r.created)));
    d.insert("uri".into(), Value::Str(r.uri.clone()));
    d.insert("match".into(), Value::Str(r.policy.as_str().into()));
    d.insert("invoke".into(), Value::Str(r.invoke.as_str().into()));
    d
}

/// A subscription's details: `wamp.subscription.get` and `on_create`.
pub(crate) fn subscription_details(id: Id, s: &Subscription) -> Dict {
    let mut d = Dict::new();
    d.insert("id".into(), Value::UInt(id));
    d.insert("created".into(), Value::Str(iso8601(s.created)));
    d.insert("uri".into(), Value::Str(s.uri.clone()));
    d.insert("match".into(), Value::Str(s.policy.as_str().into()));
    d
}

fn ids(ids: impl IntoIterator<Item = Id>) -> Value {
    Value::List(ids.into_iter().map(Value::UInt).collect())
}

fn nullable(id: Option<Id>) -> Value {
    id.map_or(Value::Null, Value::UInt)
}

/// `{"exact": [..], "prefix": [..], "wildcard": [..]}`.
fn by_policy(entries: impl Iterator<Item = (Id, MatchPolicy)>) -> Value {
    let mut lists: [(MatchPolicy, List); 3] = [
        (MatchPolicy::Exact, vec![]),
        (MatchPolicy::Prefix, vec![]),
        (MatchPolicy::Wildcard, vec![]),
    ];
    for (id, policy) in entries {
        if let Some((_, l)) = lists.iter_mut().find(|(p, _)| *p == policy) {
            l.push(Value::UInt(id));
        }
    }
    Value::Dict(
        lists
            .into_iter()
            .map(|(p, l)| (p.as_str().to_owned(), Value::List(l)))
            .collect(),
    )
}

/// A meta call's positional arguments, read with errors that name them.
struct Args(List);

impl Args {
    fn id(&self, i: usize, name: &str) -> Result<Id, Failure> {
        self.0
            .get(i)
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid(format!("argument {i} ({name}) must be an ID")))
    }

    fn string(&self, i: usize, name: &str) -> Result<&str, Failure> {
        self.0
            .get(i)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("argument {i} ({name}) must be a string")))
    }

    /// The optional reason of a revocation: positional argument `i` or
    /// keyword `reason` (Crossbar.io takes either).
    fn reason(&self, i: usize, kwargs: &Dict) -> Result<Option<String>, Failure> {
        match self.0.get(i).or_else(|| kwargs.get("reason")) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(r)) => Ok(Some(r.clone())),
            Some(other) => Err(invalid(format!("reason must be a string, not {}", other.kind()))),
        }
    }

    /// The optional list of authroles of `count` and `list`.
    fn authroles(&self) -> Result<Option<Vec<String>>, Failure> {
        match self.0.first() {
            None | Some(Value::Null) => Ok(None),
            Some(Value::List(l)) => l
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| invalid("filter_authroles must be a list of strings".into())),
            Some(other) => Err(invalid(format!(
                "filter_authroles must be a list of strings, not {}",
                other.kind()
            ))),
        }
    }

    /// The `match` of the optional options dict of `lookup` (exact by default).
    fn match_policy(&self, i: usize) -> Result<MatchPolicy, Failure> {
        let m = match self.0.get(i) {
            None | Some(Value::Null) => return Ok(MatchPolicy::Exact),
            Some(Value::Dict(d)) => d.get("match"),
            Some(other) => return Err(invalid(format!("options must be a dict, not {}", other.kind()))),
        };
        match m {
            None | Some(Value::Null) => Ok(MatchPolicy::Exact),
            Some(Value::Str(s)) => {
                MatchPolicy::parse(s).ok_or_else(|| invalid(format!("unknown match policy {s:?}")))
            }
            Some(other) => Err(invalid(format!("match must be a string, not {}", other.kind()))),
        }
    }
}

fn invalid(message: String) -> Failure {
    (error_uri::INVALID_ARGUMENT, message)
}

/// `2026-11-30T08:02:12.123Z`: UTC, milliseconds, as ISO 8601 (the
/// spec's `time_created|iso_8601_string`).
pub(crate) fn iso8601(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso8601_dates() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day of a century year) 12:34:56.789
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(iso8601(t), "2000-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_796_083_200); // 2026-12-01
        assert_eq!(iso8601(t), "2026-12-01T00:00:00.000Z");
    }

    #[test]
    fn rfc3339_reads_what_iso8601_writes() {
        for ms in [0_u64, 951_827_696_789, 1_796_083_200_123] {
            let t = UNIX_EPOCH + Duration::from_millis(ms);
            assert_eq!(parse_rfc3339(&iso8601(t)), Some(ms as i64));
        }
        assert_eq!(
            parse_rfc3339("2026-11-30T09:02:12.5+01:00"),
            parse_rfc3339("2026-11-30T08:02:12.500Z")
        );
        assert_eq!(parse_rfc3339("2026-11-30T08:02:12Z"), Some(1_796_025_732_000));
        for bad in [
            "2026-11-30",
            "2026-13-30T08:02:12Z",
            "2026-11-30T08:02:12",
            "2026-11-30T08:02:12.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_meta_procedures_are_taken() {
        assert_eq!(procedure("wamp.session.count"), Some(Procedure::SessionCount));
        assert_eq!(
            procedure("wamp.subscription.match"),
            Some(Procedure::SubscriptionMatch)
        );
        assert_eq!(procedure("wamp.session.nothing"), None);
        assert_eq!(procedure("com.example.wamp.session.count"), None);
    }
}
