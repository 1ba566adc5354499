//! Scenarios of the router's meta API (the spec's `meta_api_sessions.md`,
//! `meta_api_registrations.md`, `meta_api_subscriptions.md`), through the
//! typed client (`session.meta()`). Part of the scenario suite: run against
//! the embedded router over every transport and serializer, and against
//! Crossbar.io, which skips the few where it deviates from the spec (see
//! `tests/tests/crossbar.rs`).
//!
//! The router under test is shared by every scenario, and sessions of
//! earlier ones may still be leaving: scenarios look for their own sessions,
//! registrations and subscriptions, never at totals.

use std::time::Duration;

use wamp::meta::{Change, EventQuery, Kill, MetaEvent, MetaEvents, StoredEvent, TestamentScope};
use wamp::{
    error_uri, CallResult, Error, Id, InvokePolicy, MatchPolicy, Payload, RegisterOptions, Session,
    SubscribeOptions, Value,
};

use crate::{unique, Connector};

const WAIT: Duration = Duration::from_secs(10);

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// The next event of `events` that `pick` picks (others are about other
/// scenarios' sessions).
async fn next_where<T: MetaEvent + std::fmt::Debug>(
    events: &mut MetaEvents<T>,
    what: &str,
    pick: impl Fn(&T) -> bool,
) -> T {
    within(what, async {
        loop {
            let ev = events
                .next()
                .await
                .unwrap_or_else(|| panic!("session ended waiting for {what}"))
                .unwrap_or_else(|e| panic!("{what}: meta event does not read: {e}"));
            if pick(&ev) {
                return ev;
            }
        }
    })
    .await
}

/// The next changes concerning registration or subscription `id` (or, for
/// `Created`, its URI), `n` of them, in the order they came.
async fn changes_of(
    events: &mut MetaEvents<Change>,
    uri: &str,
    id: &mut Option<Id>,
    n: usize,
) -> Vec<Change> {
    let mut seen = Vec::new();
    while seen.len() < n {
        let ev = next_where(events, "meta event", |_| true).await;
        let ours = match &ev {
            Change::Created { details, .. } => details.uri == uri,
            Change::Added { id: i, .. } | Change::Removed { id: i, .. } | Change::Deleted { id: i, .. } => {
                Some(*i) == *id
            }
            _ => false,
        };
        if let Change::Created { details, .. } = &ev {
            if details.uri == uri {
                *id = Some(details.id);
            }
        }
        if ours {
            seen.push(ev);
        }
    }
    seen
}

fn uri_of(e: &Error) -> &str {
    e.uri().unwrap_or_else(|| panic!("expected an ERROR, got {e}"))
}

pub async fn meta_session_on_join_leave(c: &Connector) {
    let watcher = c().await;
    let meta = watcher.meta();
    let mut joins = meta.on_join().await.unwrap();
    let mut leaves = meta.on_leave().await.unwrap();
    let s = c().await;
    let sid = s.id();
    let joined = next_where(&mut joins, "on_join", |j| j.session == sid).await;
    assert_eq!(Some(&joined.authid), s.details().authid.as_ref());
    assert_eq!(Some(&joined.authrole), s.details().authrole.as_ref());
    assert_eq!(joined.authmethod, s.details().authmethod);
    s.leave().await.unwrap();
    next_where(&mut leaves, "on_leave", |l| l.session == sid).await;
    // A dropped connection is a leave too.
    let t = c().await;
    let tid = t.id();
    next_where(&mut joins, "on_join", |j| j.session == tid).await;
    t.disconnect();
    next_where(&mut leaves, "on_leave after a dropped connection", |l| {
        l.session == tid
    })
    .await;
}

/// `on_leave` carries the session's authid and authrole (the spec's three
/// positional arguments).
pub async fn meta_session_on_leave_details(c: &Connector) {
    let watcher = c().await;
    let mut leaves = watcher.meta().on_leave().await.unwrap();
    let s = c().await;
    let sid = s.id();
    s.leave().await.unwrap();
    let left = next_where(&mut leaves, "on_leave", |l| l.session == sid).await;
    assert_eq!(left.authid, s.details().authid);
    assert_eq!(left.authrole, s.details().authrole);
}

pub async fn meta_session_count_list_get(c: &Connector) {
    let (a, b) = (c().await, c().await);
    let meta = a.meta();
    let list = meta.sessions(None).await.unwrap();
    assert!(list.contains(&a.id()) && list.contains(&b.id()), "{list:?}");
    let role = b.details().authrole.clone().expect("an authrole");
    let with_role = meta.sessions(Some(&[role.as_str()])).await.unwrap();
    assert!(with_role.contains(&b.id()), "{with_role:?}");
    assert!(meta.session_count(None).await.unwrap() >= 2);
    assert!(meta.session_count(Some(&[role.as_str()])).await.unwrap() >= 1);
    let nobody = unique("role.nobody");
    assert_eq!(meta.session_count(Some(&[nobody.as_str()])).await.unwrap(), 0);
    assert_eq!(
        meta.sessions(Some(&[nobody.as_str()])).await.unwrap(),
        Vec::<Id>::new()
    );

    let info = meta.session(b.id()).await.unwrap();
    assert_eq!(info.session, b.id());
    assert_eq!(Some(&info.authid), b.details().authid.as_ref());
    assert_eq!(Some(&info.authrole), b.details().authrole.as_ref());

    let bid = b.id();
    b.leave().await.unwrap();
    let e = within("get of a gone session", async {
        loop {
            match meta.session(bid).await {
                Err(e) => return e,
                // Its leave may still be on its way through the router.
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await;
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_SESSION);
    assert!(!meta.sessions(None).await.unwrap().contains(&bid));
}

pub async fn meta_session_kill(c: &Connector) {
    let (killer, victim, other) = (c().await, c().await, c().await);
    let meta = killer.meta();
    let mut leaves = meta.on_leave().await.unwrap();
    meta.kill(
        victim.id(),
        Kill::new()
            .reason("com.example.close.maintenance")
            .message("back soon"),
    )
    .await
    .unwrap();
    match within("the victim's end", victim.closed()).await {
        Error::SessionClosed { reason, message } => {
            assert_eq!(reason, "com.example.close.maintenance");
            assert_eq!(message.as_deref(), Some("back soon"));
        }
        e => panic!("killed session ended with {e}"),
    }
    next_where(&mut leaves, "on_leave of the killed", |l| {
        l.session == victim.id()
    })
    .await;
    let e = meta.session(victim.id()).await.unwrap_err();
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_SESSION);

    // Nobody is left to kill under that ID.
    let e = meta.kill(victim.id(), Kill::new()).await.unwrap_err();
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_SESSION);
    assert!(killer.is_open() && other.is_open());
    killer.call("wamp.session.count").await.unwrap();
}

/// Without a reason, the killed session's GOODBYE says `wamp.close.killed`.
pub async fn meta_session_kill_default_reason(c: &Connector) {
    let (killer, victim) = (c().await, c().await);
    killer.meta().kill(victim.id(), Kill::new()).await.unwrap();
    match within("the victim's end", victim.closed()).await {
        Error::SessionClosed { reason, message } => {
            assert_eq!(reason, error_uri::CLOSE_KILLED);
            assert_eq!(message, None);
        }
        e => panic!("killed session ended with {e}"),
    }
}

/// The spec: the caller's own session is no *other* session, so killing
/// it is `wamp.error.no_such_session`; an invalid reason is
/// `wamp.error.invalid_uri` and kills nobody.
pub async fn meta_session_kill_spares_the_caller(c: &Connector) {
    let (a, b) = (c().await, c().await);
    let e = a.meta().kill(a.id(), Kill::new()).await.unwrap_err();
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_SESSION);
    assert!(a.is_open());
    let e = a
        .meta()
        .kill(b.id(), Kill::new().reason("not a uri!"))
        .await
        .unwrap_err();
    assert_eq!(uri_of(&e), error_uri::INVALID_URI);
    assert!(a.meta().sessions(None).await.unwrap().contains(&b.id()));
    assert!(b.is_open());
}

pub async fn meta_registration_api(c: &Connector) {
    let (watcher, c1, c2) = (c().await, c().await, c().await);
    let meta = watcher.meta();
    let mut changes = meta.registration_changes().await.unwrap();
    let uri = unique("com.test.meta.proc");
    let shared = RegisterOptions {
        invoke: Some(InvokePolicy::RoundRobin),
        ..Default::default()
    };
    let reg1 = c1
        .register(&uri, shared.clone(), |_| async { Ok(CallResult::new()) })
        .await
        .unwrap();
    let mut id = None;
    let seen = changes_of(&mut changes, &uri, &mut id, 2).await;
    let rid = id.expect("on_create names the registration");
    match &seen[..] {
        [Change::Created { session, details }, Change::Added { session: s2, id: i2 }] => {
            assert_eq!((*session, *s2, *i2), (c1.id(), c1.id(), rid));
            assert_eq!(details.match_policy, "exact");
            assert_eq!(details.invoke.as_deref(), Some("roundrobin"));
            assert!(!details.created.is_empty());
        }
        other => panic!("expected on_create then on_register, got {other:?}"),
    }
    let reg2 = c2
        .register(&uri, shared, |_| async { Ok(CallResult::new()) })
        .await
        .unwrap();
    let seen = changes_of(&mut changes, &uri, &mut id, 1).await;
    assert_eq!(
        seen,
        vec![Change::Added {
            session: c2.id(),
            id: rid
        }]
    );

    assert!(meta.registrations().await.unwrap().exact.contains(&rid));
    assert_eq!(
        meta.lookup_registration(&uri, MatchPolicy::Exact).await.unwrap(),
        Some(rid)
    );
    assert_eq!(
        meta.lookup_registration(&uri, MatchPolicy::Prefix).await.unwrap(),
        None
    );
    assert_eq!(meta.match_registration(&uri).await.unwrap(), Some(rid));
    assert_eq!(
        meta.match_registration(&unique("com.test.meta.none"))
            .await
            .unwrap(),
        None
    );
    let details = meta.registration(rid).await.unwrap();
    assert_eq!((details.id, details.uri.as_str()), (rid, uri.as_str()));
    let mut callees = meta.callees(rid).await.unwrap();
    callees.sort_unstable();
    let mut expected = vec![c1.id(), c2.id()];
    expected.sort_unstable();
    assert_eq!(callees, expected);
    assert_eq!(meta.count_callees(rid).await.unwrap(), 2);

    reg1.unregister().await.unwrap();
    let seen = changes_of(&mut changes, &uri, &mut id, 1).await;
    assert_eq!(
        seen,
        vec![Change::Removed {
            session: Some(c1.id()),
            id: rid
        }]
    );
    assert_eq!(meta.count_callees(rid).await.unwrap(), 1);
    reg2.unregister().await.unwrap();
    // The last callee goes: on_unregister, then on_delete.
    let seen = changes_of(&mut changes, &uri, &mut id, 2).await;
    assert_eq!(
        seen,
        vec![
            Change::Removed {
                session: Some(c2.id()),
                id: rid
            },
            Change::Deleted {
                session: Some(c2.id()),
                id: rid
            }
        ]
    );
    for e in [
        meta.registration(rid).await.unwrap_err(),
        meta.callees(rid).await.unwrap_err(),
        meta.count_callees(rid).await.unwrap_err(),
    ] {
        assert_eq!(uri_of(&e), error_uri::NO_SUCH_REGISTRATION);
    }
    assert_eq!(
        meta.lookup_registration(&uri, MatchPolicy::Exact).await.unwrap(),
        None
    );
}

/// A callee that leaves is removed from its registrations with the same
/// events as an UNREGISTER, naming it.
pub async fn meta_registration_removed_on_leave(c: &Connector) {
    let (watcher, callee) = (c().await, c().await);
    let mut changes = watcher.meta().registration_changes().await.unwrap();
    let uri = unique("com.test.meta.leaving");
    callee
        .register(&uri, RegisterOptions::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap();
    let mut id = None;
    changes_of(&mut changes, &uri, &mut id, 2).await;
    let rid = id.expect("on_create names the registration");
    let cid = callee.id();
    callee.disconnect();
    let seen = changes_of(&mut changes, &uri, &mut id, 2).await;
    assert_eq!(
        seen,
        vec![
            Change::Removed {
                session: Some(cid),
                id: rid
            },
            Change::Deleted {
                session: Some(cid),
                id: rid
            }
        ]
    );
}

/// `wamp.registration.match` follows the dealer's precedence: exact, then
/// the longest prefix, then a wildcard.
pub async fn meta_registration_match(c: &Connector) {
    let (callee, watcher) = (c().await, c().await);
    let base = unique("com.test.meta.m");
    let reg = |uri: String, policy: MatchPolicy| {
        let callee = callee.clone();
        async move {
            let options = RegisterOptions {
                match_policy: Some(policy),
                ..Default::default()
            };
            callee
                .register(&uri, options, |_| async { Ok(CallResult::new()) })
                .await
                .unwrap()
        }
    };
    let wild = reg(format!("{base}..run"), MatchPolicy::Wildcard).await;
    let prefix = reg(format!("{base}."), MatchPolicy::Prefix).await;
    let exact = reg(format!("{base}.a.run"), MatchPolicy::Exact).await;
    let meta = watcher.meta();
    let best = |uri: String| {
        let meta = watcher.meta();
        async move { meta.match_registration(&uri).await.unwrap() }
    };
    assert_eq!(best(format!("{base}.a.run")).await, Some(exact.id));
    assert_eq!(best(format!("{base}.b.run")).await, Some(prefix.id));
    let list = meta.registrations().await.unwrap();
    assert!(list.exact.contains(&exact.id));
    assert!(list.prefix.contains(&prefix.id));
    assert!(list.wildcard.contains(&wild.id));
    assert_eq!(
        meta.lookup_registration(&format!("{base}..run"), MatchPolicy::Wildcard)
            .await
            .unwrap(),
        Some(wild.id)
    );
    prefix.unregister().await.unwrap();
    assert_eq!(best(format!("{base}.b.run")).await, Some(wild.id));
}

pub async fn meta_subscription_api(c: &Connector) {
    let (watcher, s1, s2) = (c().await, c().await, c().await);
    let meta = watcher.meta();
    let mut changes = meta.subscription_changes().await.unwrap();
    let topic = unique("com.test.meta.topic");
    let sub1 = s1.subscribe(&topic, SubscribeOptions::default()).await.unwrap();
    let mut id = None;
    let seen = changes_of(&mut changes, &topic, &mut id, 2).await;
    let sid = id.expect("on_create names the subscription");
    match &seen[..] {
        [Change::Created { session, details }, Change::Added { session: s, id: i }] => {
            assert_eq!((*session, *s, *i), (s1.id(), s1.id(), sid));
            assert_eq!(details.match_policy, "exact");
            assert_eq!(details.uri, topic);
        }
        other => panic!("expected on_create then on_subscribe, got {other:?}"),
    }
    let sub2 = s2.subscribe(&topic, SubscribeOptions::default()).await.unwrap();
    let seen = changes_of(&mut changes, &topic, &mut id, 1).await;
    assert_eq!(
        seen,
        vec![Change::Added {
            session: s2.id(),
            id: sid
        }]
    );

    assert!(meta.subscriptions().await.unwrap().exact.contains(&sid));
    assert_eq!(
        meta.lookup_subscription(&topic, MatchPolicy::Exact)
            .await
            .unwrap(),
        Some(sid)
    );
    assert_eq!(
        meta.lookup_subscription(&topic, MatchPolicy::Prefix)
            .await
            .unwrap(),
        None
    );
    assert_eq!(meta.subscription(sid).await.unwrap().uri, topic);
    let mut subscribers = meta.subscribers(sid).await.unwrap();
    subscribers.sort_unstable();
    let mut expected = vec![s1.id(), s2.id()];
    expected.sort_unstable();
    assert_eq!(subscribers, expected);
    assert_eq!(meta.count_subscribers(sid).await.unwrap(), 2);

    sub1.unsubscribe().await.unwrap();
    let seen = changes_of(&mut changes, &topic, &mut id, 1).await;
    assert_eq!(
        seen,
        vec![Change::Removed {
            session: Some(s1.id()),
            id: sid
        }]
    );
    sub2.unsubscribe().await.unwrap();
    let seen = changes_of(&mut changes, &topic, &mut id, 2).await;
    assert_eq!(
        seen,
        vec![
            Change::Removed {
                session: Some(s2.id()),
                id: sid
            },
            Change::Deleted {
                session: Some(s2.id()),
                id: sid
            }
        ]
    );
    for e in [
        meta.subscription(sid).await.unwrap_err(),
        meta.subscribers(sid).await.unwrap_err(),
        meta.count_subscribers(sid).await.unwrap_err(),
    ] {
        assert_eq!(uri_of(&e), error_uri::NO_SUCH_SUBSCRIPTION);
    }
}

/// `wamp.subscription.match` gives every subscription an event on the
/// topic reaches: exact, prefix and wildcard; none for a topic nobody
/// subscribed to.
pub async fn meta_subscription_match(c: &Connector) {
    let (subscriber, watcher) = (c().await, c().await);
    // Outside com.test.: other scenarios subscribe to a prefix of that.
    let base = unique("net.example.meta.s");
    let sub = |topic: String, policy: MatchPolicy| {
        let subscriber = subscriber.clone();
        async move {
            let options = SubscribeOptions {
                match_policy: Some(policy),
                ..Default::default()
            };
            subscriber.subscribe(&topic, options).await.unwrap()
        }
    };
    let exact = sub(format!("{base}.a.on_x"), MatchPolicy::Exact).await;
    let prefix = sub(format!("{base}."), MatchPolicy::Prefix).await;
    let wild = sub(format!("{base}..on_x"), MatchPolicy::Wildcard).await;
    let _elsewhere = sub(format!("{base}.b.on_y"), MatchPolicy::Exact).await;
    let meta = watcher.meta();
    let mut found = meta.match_subscriptions(&format!("{base}.a.on_x")).await.unwrap();
    found.sort_unstable();
    let mut expected = vec![exact.id, prefix.id, wild.id];
    expected.sort_unstable();
    assert_eq!(found, expected);
    assert_eq!(
        meta.match_subscriptions(&format!("{base}.c.on_z")).await.unwrap(),
        vec![prefix.id]
    );
    assert_eq!(
        meta.match_subscriptions(&unique("net.example.meta.nothing"))
            .await
            .unwrap(),
        Vec::<Id>::new()
    );
    assert!(meta.subscriptions().await.unwrap().prefix.contains(&prefix.id));
}

/// `wamp.subscription.list` has the wildcard subscriptions too.
pub async fn meta_subscription_list_wildcard(c: &Connector) {
    let (subscriber, watcher) = (c().await, c().await);
    let options = SubscribeOptions {
        match_policy: Some(MatchPolicy::Wildcard),
        ..Default::default()
    };
    let wild = subscriber
        .subscribe(format!("{}..on_x", unique("net.example.meta.w")), options)
        .await
        .unwrap();
    let list = watcher.meta().subscriptions().await.unwrap();
    assert!(list.wildcard.contains(&wild.id), "{list:?}");
    assert!(list.contains(wild.id));
}

async fn leave_testament(s: &Session, topic: &str, arg: &str, scope: TestamentScope) {
    let mut kwargs = wamp::Dict::new();
    kwargs.insert("from".into(), Value::UInt(s.id()));
    s.meta()
        .add_testament(
            topic,
            vec![Value::Str(arg.into())],
            kwargs,
            Default::default(),
            scope,
        )
        .await
        .unwrap_or_else(|e| panic!("add_testament {arg}: {e}"));
}

async fn next_arg(sub: &mut wamp::Subscription, what: &str) -> String {
    let ev = within(what, sub.next())
        .await
        .unwrap_or_else(|| panic!("session ended waiting for {what}"));
    ev.arg::<String>(0).unwrap()
}

/// A session whose connection drops has its testament published, with its
/// arguments and keyword arguments.
pub async fn testament_on_lost_connection(c: &Connector) {
    let (watcher, s) = (c().await, c().await);
    let topic = unique("com.test.testament");
    let mut sub = watcher
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    leave_testament(&s, &topic, "seeya", TestamentScope::Destroyed).await;
    let sid = s.id();
    s.disconnect();
    let ev = within("the testament", sub.next()).await.expect("an event");
    assert_eq!(ev.arg::<String>(0).unwrap(), "seeya");
    assert_eq!(ev.kwarg::<Id>("from").unwrap(), sid);
}

/// A killed session's testament is published too.
pub async fn testament_on_kill(c: &Connector) {
    let (watcher, s) = (c().await, c().await);
    let topic = unique("com.test.testament");
    let mut sub = watcher
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    leave_testament(&s, &topic, "killed", TestamentScope::Destroyed).await;
    watcher.meta().kill(s.id(), Kill::new()).await.unwrap();
    assert_eq!(next_arg(&mut sub, "the testament").await, "killed");
}

/// Testaments are published in the order added, the detached ones before
/// the destroyed ones (the spec, for a router without session resumption),
/// also after a GOODBYE; flushed ones never.
pub async fn testament_order_and_flush(c: &Connector) {
    let (watcher, s) = (c().await, c().await);
    let topic = unique("com.test.testament");
    let mut sub = watcher
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    leave_testament(&s, &topic, "flushed-detached", TestamentScope::Detached).await;
    leave_testament(&s, &topic, "flushed-destroyed", TestamentScope::Destroyed).await;
    s.meta().flush_testaments(TestamentScope::Detached).await.unwrap();
    s.meta()
        .flush_testaments(TestamentScope::Destroyed)
        .await
        .unwrap();
    leave_testament(&s, &topic, "x1", TestamentScope::Destroyed).await;
    leave_testament(&s, &topic, "d1", TestamentScope::Detached).await;
    leave_testament(&s, &topic, "x2", TestamentScope::Destroyed).await;
    leave_testament(&s, &topic, "d2", TestamentScope::Detached).await;
    s.leave().await.unwrap();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(next_arg(&mut sub, "a testament").await);
    }
    assert_eq!(got, ["d1", "d2", "x1", "x2"]);
}

/// After a flush, a session that goes publishes nothing: the next event
/// on the topic is somebody else's.
pub async fn testament_flushed_is_not_published(c: &Connector) {
    let (watcher, s, marker) = (c().await, c().await, c().await);
    let topic = unique("com.test.testament");
    let mut sub = watcher
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    leave_testament(&s, &topic, "flushed", TestamentScope::Destroyed).await;
    s.meta()
        .flush_testaments(TestamentScope::Destroyed)
        .await
        .unwrap();
    let sid = s.id();
    s.disconnect();
    // Once its leave is known, anything it left would have been published.
    within("its leave", async {
        while watcher.meta().sessions(None).await.unwrap().contains(&sid) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    marker
        .publish(&topic)
        .arg("marker")
        .acknowledge(true)
        .await
        .unwrap();
    assert_eq!(next_arg(&mut sub, "the marker").await, "marker");
}

/// `wamp.registration.remove_callee`: the callee is removed as by an
/// UNREGISTER (same meta events), calls find nobody; unknown sessions and
/// registrations are errors.
pub async fn revoke_callee(c: &Connector) {
    let (admin, callee, caller) = (c().await, c().await, c().await);
    let meta = admin.meta();
    let mut changes = meta.registration_changes().await.unwrap();
    let uri = unique("com.test.meta.revoked");
    let reg = callee
        .register(&uri, RegisterOptions::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap();
    let mut id = Some(reg.id);
    changes_of(&mut changes, &uri, &mut id, 2).await;
    meta.remove_callee(reg.id, callee.id(), Some("moving to another callee"))
        .await
        .unwrap();
    let seen = changes_of(&mut changes, &uri, &mut id, 2).await;
    assert_eq!(
        seen,
        vec![
            Change::Removed {
                session: Some(callee.id()),
                id: reg.id
            },
            Change::Deleted {
                session: Some(callee.id()),
                id: reg.id
            }
        ]
    );
    let e = caller.call(&uri).await.unwrap_err();
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_PROCEDURE);
    let e = meta.remove_callee(reg.id, callee.id(), None).await.unwrap_err();
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_REGISTRATION);
    let e = meta.remove_callee(reg.id, 1, None).await.unwrap_err();
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_SESSION);
    assert!(callee.is_open());
}

/// `wamp.subscription.remove_subscriber`: our client announced
/// `subscription_revocation`, so it is told (UNSUBSCRIBED with request 0)
/// and its event stream ends; events go elsewhere only.
pub async fn revoke_subscriber(c: &Connector) {
    let (admin, subscriber, other, publisher) = (c().await, c().await, c().await, c().await);
    let topic = unique("com.test.meta.revoked");
    let mut revoked = subscriber
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    let mut kept = other
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    admin
        .meta()
        .remove_subscriber(revoked.id, subscriber.id(), Some("quota"))
        .await
        .unwrap();
    assert!(
        within("the end of the revoked stream", revoked.next())
            .await
            .is_none(),
        "a revoked subscription's stream ends"
    );
    publisher.publish(&topic).arg(1).acknowledge(true).await.unwrap();
    assert_eq!(
        within("the kept event", kept.next())
            .await
            .unwrap()
            .arg::<i32>(0)
            .unwrap(),
        1
    );
    assert_eq!(admin.meta().subscribers(kept.id).await.unwrap(), vec![other.id()]);
    let e = admin
        .meta()
        .remove_subscriber(kept.id, subscriber.id(), None)
        .await
        .unwrap_err();
    assert_eq!(uri_of(&e), error_uri::NO_SUCH_SUBSCRIPTION);
}

fn get_retained(policy: MatchPolicy) -> SubscribeOptions {
    SubscribeOptions {
        match_policy: Some(policy),
        get_retained: Some(true),
        ..Default::default()
    }
}

/// Event retention: a subscriber asking for it gets the topic's most
/// recent retained event at once, marked `retained`; one that does not
/// ask gets nothing.
pub async fn retained_event(c: &Connector) {
    let (publisher, late, plain) = (c().await, c().await, c().await);
    let base = unique("com.test.retained");
    let topic = format!("{base}.a.temperature");
    for n in [1, 2] {
        publisher
            .publish(&topic)
            .arg(n)
            .retain(true)
            .acknowledge(true)
            .await
            .unwrap();
    }
    // Not retained: the retained event stays the second one.
    publisher.publish(&topic).arg(3).acknowledge(true).await.unwrap();
    let mut exact = late
        .subscribe(&topic, get_retained(MatchPolicy::Exact))
        .await
        .unwrap();
    let ev = within("the retained event", exact.next()).await.unwrap();
    assert_eq!(ev.arg::<i32>(0).unwrap(), 2);
    assert_eq!(ev.details.retained, Some(true));
    let mut sub = plain
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    publisher.publish(&topic).arg(4).acknowledge(true).await.unwrap();
    let ev = within("a live event", sub.next()).await.unwrap();
    assert_eq!(
        (ev.arg::<i32>(0).unwrap(), ev.details.retained),
        (4, None),
        "no retained event unasked"
    );
}

/// Prefix and wildcard subscriptions get the retained events of the topics
/// they match (the spec: what they would have received).
pub async fn retained_event_patterns(c: &Connector) {
    let (publisher, late) = (c().await, c().await);
    let base = unique("com.test.retained");
    let topic = format!("{base}.a.temperature");
    publisher
        .publish(&topic)
        .arg(2)
        .retain(true)
        .acknowledge(true)
        .await
        .unwrap();
    let mut prefix = late
        .subscribe(format!("{base}."), get_retained(MatchPolicy::Prefix))
        .await
        .unwrap();
    let ev = within("the retained event (prefix)", prefix.next())
        .await
        .unwrap();
    assert_eq!(
        (ev.arg::<i32>(0).unwrap(), ev.topic.as_str()),
        (2, topic.as_str())
    );
    let mut wild = late
        .subscribe(
            format!("{base}..temperature"),
            get_retained(MatchPolicy::Wildcard),
        )
        .await
        .unwrap();
    let ev = within("the retained event (wildcard)", wild.next())
        .await
        .unwrap();
    assert_eq!((ev.arg::<i32>(0).unwrap(), ev.details.retained), (2, Some(true)));
}

/// A retained event goes only to those who could have received it when it
/// was published: publisher exclusion and the black- and white-lists hold.
pub async fn retained_event_eligibility(c: &Connector) {
    let (publisher, allowed, excluded) = (c().await, c().await, c().await);
    let topic = unique("com.test.retained");
    publisher
        .publish(&topic)
        .arg("for you")
        .retain(true)
        .exclude(vec![excluded.id()])
        .acknowledge(true)
        .await
        .unwrap();
    let mut sub = excluded
        .subscribe(&topic, get_retained(MatchPolicy::Exact))
        .await
        .unwrap();
    let mut own = publisher
        .subscribe(&topic, get_retained(MatchPolicy::Exact))
        .await
        .unwrap();
    let mut ok = allowed
        .subscribe(&topic, get_retained(MatchPolicy::Exact))
        .await
        .unwrap();
    assert_eq!(
        within("the retained event", ok.next())
            .await
            .unwrap()
            .arg::<String>(0)
            .unwrap(),
        "for you"
    );
    // A marker from a third session: events arrive in order, so once it is
    // there, a retained event sent before it would have been seen.
    allowed
        .publish(&topic)
        .arg("marker")
        .acknowledge(true)
        .await
        .unwrap();
    for (s, who) in [(&mut sub, "the excluded"), (&mut own, "the publisher")] {
        let ev = within("the marker", s.next()).await.unwrap();
        assert_eq!(
            ev.arg::<String>(0).unwrap(),
            "marker",
            "{who} got the retained event"
        );
    }
}

/// The prefix whose events the routers of the suite keep (`HISTORY_LIMIT`
/// of them) for `event_history`.
pub const HISTORY_PREFIX: &str = "com.test.history.";
/// How many events of [`HISTORY_PREFIX`] the suite's routers keep.
pub const HISTORY_LIMIT: usize = 10;

/// Event history: the configured prefix has its subscription from the
/// start (a subscriber shares its ID); `wamp.subscription.get_events`
/// gives the last events kept, filtered (topic, reverse, limit,
/// publications, times); events published with session lists are not
/// kept, and authrole lists hold for the reader.
pub async fn event_history(c: &Connector) {
    let (publisher, reader) = (c().await, c().await);
    let meta = reader.meta();
    let hid = meta
        .lookup_subscription(HISTORY_PREFIX, MatchPolicy::Prefix)
        .await
        .unwrap()
        .expect("the history subscription exists before anyone subscribes");
    let topic = format!("{}.a", unique("com.test.history"));
    let mut publications = Vec::new();
    for n in 0..(HISTORY_LIMIT + 2) {
        let p = publisher.publish(&topic).arg(n).acknowledge(true).await.unwrap();
        publications.push(p.expect("a publication ID"));
    }
    // Neither kept (a session list) nor shown to this reader (its role excluded).
    publisher
        .publish(&topic)
        .arg("for one session")
        .eligible(vec![reader.id()])
        .acknowledge(true)
        .await
        .unwrap();
    let role = reader.details().authrole.clone().unwrap();
    let hidden = wamp::PublishOptions {
        exclude_authrole: Some(vec![role]),
        ..Default::default()
    };
    publisher
        .publish(&topic)
        .arg("not for this role")
        .options(hidden)
        .acknowledge(true)
        .await
        .unwrap();

    let sub = reader
        .subscribe(
            HISTORY_PREFIX,
            SubscribeOptions {
                match_policy: Some(MatchPolicy::Prefix),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(sub.id, hid);

    let q = || EventQuery::new().topic(topic.clone());
    let args = |events: &[StoredEvent]| -> Vec<Value> {
        events
            .iter()
            .map(|e| e.args.first().cloned().unwrap_or_default())
            .collect()
    };
    let n = |range: std::ops::Range<usize>| -> Vec<Value> { range.map(|n| Value::UInt(n as u64)).collect() };
    // The limit counts the hidden event too: the oldest three are gone.
    let all = meta.get_events(hid, q()).await.unwrap();
    assert_eq!(args(&all), n(3..HISTORY_LIMIT + 2), "{all:?}");
    let first = &all[0];
    assert_eq!((first.subscription, first.publication), (hid, publications[3]));
    assert_eq!(
        first.details.get("topic").and_then(Value::as_str),
        Some(topic.as_str())
    );
    assert!(!first.timestamp.is_empty());

    let newest = meta.get_events(hid, q().reverse().limit(2)).await.unwrap();
    assert_eq!(args(&newest), vec![Value::UInt(11), Value::UInt(10)]);
    let page = meta
        .get_events(hid, q().after_publication(publications[8]).limit(2))
        .await
        .unwrap();
    assert_eq!(args(&page), n(9..11));
    let mut until = q();
    until.until_publication = Some(publications[5]);
    assert_eq!(args(&meta.get_events(hid, until).await.unwrap()), n(3..6));
    let mut future = q();
    future.from_time = Some("2999-01-01T00:00:00Z".into());
    assert_eq!(meta.get_events(hid, future).await.unwrap(), vec![]);
    let mut past = q();
    past.after_time = Some("2000-01-01T00:00:00.000+01:00".into());
    assert_eq!(meta.get_events(hid, past).await.unwrap().len(), all.len());
    let other = meta
        .get_events(hid, EventQuery::new().topic(unique("com.test.history.none")))
        .await
        .unwrap();
    assert_eq!(other, vec![]);

    // A subscription without history says so.
    let plain = reader
        .subscribe(unique("com.test.nohistory"), SubscribeOptions::default())
        .await
        .unwrap();
    let e = meta.get_events(plain.id, EventQuery::new()).await.unwrap_err();
    assert_eq!(uri_of(&e), error_uri::HISTORY_UNAVAILABLE);
}
