//! The RPC and PubSub behaviours every router must give our client. Run
//! against the embedded router over each transport and serializer, and
//! against Crossbar.io: the same code, so a user can move between them.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{mpsc, Barrier};
use wamp::{
    ApplicationError, CallResult, CancelMode, Error, InvokePolicy, MatchPolicy, Payload, RegisterOptions,
    Session, SubscribeOptions,
};

use crate::meta_scenarios::*;
use crate::{unique, Connector};

/// Upper bound for any single wait in a scenario.
const WAIT: Duration = Duration::from_secs(10);
/// How long to wait for something that must NOT arrive.
const QUIET: Duration = Duration::from_millis(300);

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

fn opts(policy: MatchPolicy, invoke: InvokePolicy) -> RegisterOptions {
    RegisterOptions {
        match_policy: Some(policy),
        invoke: Some(invoke),
        ..Default::default()
    }
}

fn sub_opts(policy: MatchPolicy) -> SubscribeOptions {
    SubscribeOptions {
        match_policy: Some(policy),
        ..Default::default()
    }
}

/// Registers `uri` with a handler that answers with a fixed tag and the concrete procedure.
async fn tagged(s: &Session, uri: &str, policy: MatchPolicy, tag: &'static str) {
    s.register(uri, opts(policy, InvokePolicy::Single), move |inv| async move {
        Ok(CallResult::new().with_arg(tag).with_arg(inv.procedure.clone()))
    })
    .await
    .unwrap_or_else(|e| panic!("register {uri}: {e}"));
}

pub async fn call_args_kwargs(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.echo");
    callee
        .register(&uri, Default::default(), |inv| async move {
            Ok(CallResult::from_parts(inv.args, inv.kwargs))
        })
        .await
        .unwrap();
    let r = caller
        .call(&uri)
        .arg(1)
        .arg("two")
        .kwarg("three", 3.5)
        .await
        .unwrap();
    assert_eq!(r.arg::<i64>(0).unwrap(), 1);
    assert_eq!(r.arg::<String>(1).unwrap(), "two");
    assert_eq!(r.kwarg::<f64>("three").unwrap(), 3.5);
    assert_eq!(r.args.len(), 2);
}

pub async fn call_multi_results(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.math.complex.add");
    callee
        .register(&uri, Default::default(), |_| async {
            Ok(CallResult::new()
                .with_arg(1)
                .with_arg(2)
                .with_arg(3)
                .with_kwarg("a", 4))
        })
        .await
        .unwrap();
    let r = caller.call(&uri).await.unwrap();
    assert_eq!(r.args.len(), 3);
    assert_eq!((r.arg::<u8>(0).unwrap(), r.arg::<u8>(2).unwrap()), (1, 3));
    assert_eq!(r.kwarg::<i32>("a").unwrap(), 4);
}

pub async fn call_error_args_kwargs(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.myapp.checkname");
    callee
        .register(&uri, Default::default(), |_| async {
            Err(ApplicationError::new("com.myapp.error.reserved")
                .with_arg("x")
                .with_arg(1)
                .with_kwarg("detail", "y"))
        })
        .await
        .unwrap();
    let e = caller.call(&uri).await.unwrap_err();
    let app = e
        .application()
        .unwrap_or_else(|| panic!("expected application error, got {e}"));
    assert_eq!(app.error, "com.myapp.error.reserved");
    assert_eq!(app.arg::<String>(0).as_deref(), Some("x"));
    assert_eq!(app.arg::<i32>(1), Some(1));
    assert_eq!(app.kwargs["detail"].as_str(), Some("y"));
}

pub async fn call_no_such_procedure(c: &Connector) {
    let caller = c().await;
    let e = caller.call(unique("com.test.nobody")).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.no_such_procedure"), "{e}");
}

pub async fn register_duplicate(c: &Connector) {
    let (a, b) = (c().await, c().await);
    let uri = unique("com.test.dup");
    a.register(&uri, Default::default(), |_| async { Ok(CallResult::new()) })
        .await
        .unwrap();
    let e = b
        .register(&uri, Default::default(), |_| async { Ok(CallResult::new()) })
        .await
        .unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.procedure_already_exists"), "{e}");
}

async fn register_longop(callee: &Session, uri: &str) {
    callee
        .register(uri, Default::default(), |inv| async move {
            let n: u32 = inv.arg(0)?;
            let progress = inv
                .progress
                .as_ref()
                .ok_or_else(|| ApplicationError::new("com.test.error.no_progress"))?;
            for i in 0..n {
                progress
                    .send(CallResult::new().with_arg(i))
                    .await
                    .map_err(|e| ApplicationError::new("com.test.error.send").with_arg(e.to_string()))?;
            }
            Ok(CallResult::new().with_arg(n))
        })
        .await
        .unwrap();
}

pub async fn progressive_results(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.myapp.longop");
    register_longop(&callee, &uri).await;
    // As a stream.
    let mut handle = caller.call(&uri).arg(3).progressive().start().await.unwrap();
    let mut seen = Vec::new();
    while let Some(p) = within("progress", handle.progress()).await {
        seen.push(p.arg::<u32>(0).unwrap());
    }
    assert_eq!(seen, vec![0, 1, 2]);
    assert_eq!(
        within("final", handle.result())
            .await
            .unwrap()
            .arg::<u32>(0)
            .unwrap(),
        3
    );
    // Through a callback.
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    let r = caller
        .call(&uri)
        .arg(2)
        .on_progress(move |p| sink.lock().unwrap().push(p.arg::<u32>(0).unwrap()))
        .await
        .unwrap();
    assert_eq!(r.arg::<u32>(0).unwrap(), 2);
    assert_eq!(*got.lock().unwrap(), vec![0, 1]);
}

/// A handler that reports when it starts and when it is dropped (interrupted).
async fn register_slow(callee: &Session, uri: &str) -> (mpsc::Receiver<()>, mpsc::Receiver<()>) {
    let (started_tx, started) = mpsc::channel(8);
    let (dropped_tx, dropped) = mpsc::channel(8);
    callee
        .register(uri, Default::default(), move |_| {
            let (started_tx, dropped_tx) = (started_tx.clone(), dropped_tx.clone());
            async move {
                struct OnDrop(mpsc::Sender<()>);
                impl Drop for OnDrop {
                    fn drop(&mut self) {
                        let _ = self.0.try_send(());
                    }
                }
                let _guard = OnDrop(dropped_tx);
                let _ = started_tx.send(()).await;
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(CallResult::new())
            }
        })
        .await
        .unwrap();
    (started, dropped)
}

pub async fn cancel_kill_interrupts_callee(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.slow");
    let (mut started, mut dropped) = register_slow(&callee, &uri).await;
    let handle = caller.call(&uri).start().await.unwrap();
    within("handler start", started.recv()).await;
    let e = within("cancel", handle.cancel(CancelMode::Kill))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Canceled), "expected Canceled, got {e}");
    within("callee interrupt", dropped.recv()).await;
}

pub async fn cancel_by_drop(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.slow");
    let (mut started, mut dropped) = register_slow(&callee, &uri).await;
    let mut call = Box::pin(caller.call(&uri).into_future());
    tokio::select! {
        _ = &mut call => panic!("slow call finished"),
        _ = started.recv() => {}
    }
    drop(call);
    within("callee interrupt after drop", dropped.recv()).await;
    // The session is fine afterwards.
    assert!(caller.is_open());
}

pub async fn call_timeout(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.slow");
    let (_started, mut dropped) = register_slow(&callee, &uri).await;
    let e = caller
        .call(&uri)
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "expected Timeout, got {e}");
    within("callee interrupt after timeout", dropped.recv()).await;
}

pub async fn pattern_precedence(c: &Connector) {
    let (a, b, caller) = (c().await, c().await, c().await);
    let p = unique("com.pat");
    tagged(&a, &format!("{p}.a.get"), MatchPolicy::Exact, "exact").await;
    tagged(&a, &format!("{p}."), MatchPolicy::Prefix, "prefix").await;
    tagged(&b, &format!("{p}.b."), MatchPolicy::Prefix, "longer-prefix").await;
    tagged(&b, &format!("{p}..get"), MatchPolicy::Wildcard, "wildcard").await;
    let q = unique("com.pat2");
    tagged(&b, &format!("{q}..get"), MatchPolicy::Wildcard, "wildcard").await;
    let cases = [
        (format!("{p}.a.get"), "exact"),
        (format!("{p}.c.get"), "prefix"),
        (format!("{p}.b.get"), "longer-prefix"),
        (format!("{p}.b.x.y"), "longer-prefix"),
        (format!("{q}.item.get"), "wildcard"),
    ];
    for (uri, want) in cases {
        let r = caller
            .call(&uri)
            .await
            .unwrap_or_else(|e| panic!("call {uri}: {e}"));
        assert_eq!(r.arg::<String>(0).unwrap(), want, "{uri}");
        assert_eq!(r.arg::<String>(1).unwrap(), uri, "concrete procedure in details");
    }
    let e = caller.call(format!("{q}.item.put")).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.no_such_procedure"));
}

pub async fn shared_registrations(c: &Connector) {
    let (a, b, caller) = (c().await, c().await, c().await);
    for (policy, expect) in [
        (InvokePolicy::RoundRobin, vec!["a", "b", "a", "b"]),
        (InvokePolicy::First, vec!["a", "a", "a", "a"]),
        (InvokePolicy::Last, vec!["b", "b", "b", "b"]),
    ] {
        let uri = unique("com.test.shared");
        for (s, tag) in [(&a, "a"), (&b, "b")] {
            s.register(&uri, opts(MatchPolicy::Exact, policy), move |_| async move {
                Ok(CallResult::new().with_arg(tag))
            })
            .await
            .unwrap_or_else(|e| panic!("shared register {}: {e}", policy.as_str()));
        }
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(caller.call(&uri).await.unwrap().arg::<String>(0).unwrap());
        }
        assert_eq!(got, expect, "invoke policy {}", policy.as_str());
    }
    // Random: both callees answer eventually; mixing policies is refused.
    let uri = unique("com.test.random");
    for (s, tag) in [(&a, "a"), (&b, "b")] {
        s.register(
            &uri,
            opts(MatchPolicy::Exact, InvokePolicy::Random),
            move |_| async move { Ok(CallResult::new().with_arg(tag)) },
        )
        .await
        .unwrap();
    }
    let mut seen = HashMap::new();
    for _ in 0..64 {
        *seen
            .entry(caller.call(&uri).await.unwrap().arg::<String>(0).unwrap())
            .or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 2, "random picked only {seen:?} in 64 calls");
    let e = caller
        .register(
            &uri,
            opts(MatchPolicy::Exact, InvokePolicy::RoundRobin),
            |_| async { Ok(CallResult::new()) },
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.uri(),
        Some("wamp.error.procedure_exists_with_different_invocation_policy")
    );
}

pub async fn caller_disclosure(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.whoami");
    callee
        .register(&uri, Default::default(), |inv| async move {
            Ok(CallResult::new().with_arg(inv.details.caller))
        })
        .await
        .unwrap();
    let r = caller.call(&uri).disclose_me().await.unwrap();
    assert_eq!(r.arg::<Option<u64>>(0).unwrap(), Some(caller.id()));
}

/// Disclosure is opt-in on our router. (Crossbar.io decides it by router
/// configuration instead, so this scenario is router policy, not protocol.)
pub async fn no_disclosure_by_default(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.whoami");
    callee
        .register(&uri, Default::default(), |inv| async move {
            Ok(CallResult::new().with_arg(inv.details.caller))
        })
        .await
        .unwrap();
    let r = caller.call(&uri).await.unwrap();
    assert_eq!(
        r.arg::<Option<u64>>(0).unwrap(),
        None,
        "caller disclosed without asking"
    );
    let topic = unique("com.test.anon");
    let mut s = callee.subscribe(&topic, Default::default()).await.unwrap();
    caller.publish(&topic).acknowledge(true).await.unwrap();
    let ev = within("event", s.next()).await.unwrap();
    assert_eq!(ev.details.publisher, None, "publisher disclosed without asking");
}

pub async fn handler_panic_keeps_session(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.panic");
    callee
        .register(&uri, Default::default(), |inv| async move {
            if inv.arg::<bool>(0)? {
                panic!("boom");
            }
            Ok(CallResult::new().with_arg("fine"))
        })
        .await
        .unwrap();
    let e = caller.call(&uri).arg(true).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.runtime_error"), "{e}");
    let r = caller.call(&uri).arg(false).await.unwrap();
    assert_eq!(r.arg::<String>(0).unwrap(), "fine");
    // Wrong argument type: a clear invalid_argument error naming the position.
    let e = caller.call(&uri).arg("not a bool").await.unwrap_err();
    let app = e.application().expect("application error");
    assert_eq!(app.error, "wamp.error.invalid_argument");
    assert!(app.message().unwrap().contains("positional argument 0"), "{app}");
    // A handler that panics before it even returns its future.
    let eager = unique("com.test.panic_eager");
    callee
        .register(&eager, Default::default(), |inv| {
            if inv.arg::<bool>(0).unwrap_or(false) {
                panic!("eager boom");
            }
            async move { Ok(CallResult::new().with_arg("fine")) }
        })
        .await
        .unwrap();
    let e = caller.call(&eager).arg(true).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.runtime_error"), "{e}");
    assert!(e.to_string().contains("eager boom"), "{e}");
    let r = caller.call(&eager).arg(false).await.unwrap();
    assert_eq!(r.arg::<String>(0).unwrap(), "fine");
}

pub async fn handlers_run_concurrently(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.rendezvous");
    // Two invocations that can only finish together: sequential handling would deadlock.
    let barrier = Arc::new(Barrier::new(2));
    callee
        .register(&uri, Default::default(), move |_| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                Ok(CallResult::new().with_arg(true))
            }
        })
        .await
        .unwrap();
    let (x, y) = within("two concurrent calls", async {
        tokio::join!(caller.call(&uri).into_future(), caller.call(&uri).into_future())
    })
    .await;
    assert!(x.unwrap().arg::<bool>(0).unwrap() && y.unwrap().arg::<bool>(0).unwrap());
}

/// A handler that calls procedures itself, down a chain 40 deep (each
/// level calls the next through the router), while another caller calls
/// the top concurrently: nothing deadlocks and every answer is right, on
/// every transport (in-process calls are routed as they are sent, so this
/// is where re-entrant routing would show).
pub async fn nested_calls(c: &Connector) {
    const DEPTH: u64 = 40;
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.countdown");
    let target = uri.clone();
    callee
        .register(&uri, Default::default(), move |inv| {
            let target = target.clone();
            async move {
                let n: u64 = inv.arg(0)?;
                if n == 0 {
                    return Ok(CallResult::new().with_arg(0u64));
                }
                let below =
                    inv.session.call(&target).arg(n - 1).await.map_err(|e| {
                        ApplicationError::new("com.test.error.nested").with_arg(e.to_string())
                    })?;
                Ok(CallResult::new().with_arg(n + below.arg::<u64>(0)?))
            }
        })
        .await
        .unwrap();
    let (a, b) = within("nested calls", async {
        tokio::join!(
            caller.call(&uri).arg(DEPTH).into_future(),
            caller.call(&uri).arg(DEPTH / 2).into_future()
        )
    })
    .await;
    assert_eq!(a.unwrap().arg::<u64>(0).unwrap(), DEPTH * (DEPTH + 1) / 2);
    assert_eq!(
        b.unwrap().arg::<u64>(0).unwrap(),
        (DEPTH / 2) * (DEPTH / 2 + 1) / 2
    );
}

/// One publication to five subscriber sessions of one subscription (the
/// router shares one encoded EVENT among them) and to a prefix subscriber
/// (another subscription, its own EVENT with the topic): all get the same
/// payload and publication ID.
pub async fn pubsub_fan_out(c: &Connector) {
    let topic = unique("com.test.fan");
    let mut subs = Vec::new();
    for _ in 0..5 {
        let s = c().await;
        let sub = s.subscribe(&topic, Default::default()).await.unwrap();
        subs.push((s, sub));
    }
    let prefix_session = c().await;
    let mut prefix = prefix_session
        .subscribe("com.test.", sub_opts(MatchPolicy::Prefix))
        .await
        .unwrap();
    let publisher = c().await;
    let publication = publisher
        .publish(&topic)
        .arg("fan")
        .arg(vec![1, 2, 3])
        .kwarg("k", "v")
        .acknowledge(true)
        .await
        .unwrap()
        .expect("acknowledged publish returns an ID");
    for (_, sub) in &mut subs {
        let ev = within("fan-out event", sub.next()).await.unwrap();
        assert_eq!(ev.publication, publication);
        assert_eq!(ev.topic, topic);
        assert_eq!(ev.arg::<String>(0).unwrap(), "fan");
        assert_eq!(ev.arg::<Vec<u32>>(1).unwrap(), vec![1, 2, 3]);
        assert_eq!(ev.kwarg::<String>("k").unwrap(), "v");
    }
    // Other scenarios may publish under the prefix meanwhile: find ours.
    loop {
        let ev = within("prefix event", prefix.next()).await.unwrap();
        if ev.publication == publication {
            assert_eq!(ev.topic, topic);
            assert_eq!(ev.arg::<String>(0).unwrap(), "fan");
            break;
        }
    }
}

pub async fn pubsub_basic(c: &Connector) {
    let (sub, publisher) = (c().await, c().await);
    let topic = unique("com.myapp.topic1");
    let mut s = sub.subscribe(&topic, Default::default()).await.unwrap();
    let publication = publisher
        .publish(&topic)
        .arg("Hello")
        .kwarg("n", 7)
        .acknowledge(true)
        .await
        .unwrap();
    let publication = publication.expect("acknowledged publish returns an ID");
    let ev = within("event", s.next()).await.unwrap();
    assert_eq!(ev.publication, publication);
    assert_eq!(ev.arg::<String>(0).unwrap(), "Hello");
    assert_eq!(ev.kwarg::<u32>("n").unwrap(), 7);
    assert_eq!(ev.topic, topic);
    // The subscription's events share their topic rather than each copying it.
    publisher
        .publish(&topic)
        .arg("again")
        .acknowledge(true)
        .await
        .unwrap();
    let again = within("second event", s.next()).await.unwrap();
    assert_eq!(again.arg::<String>(0).unwrap(), "again");
    assert!(std::ptr::eq(ev.topic.as_str(), again.topic.as_str()));
}

async fn nothing_arrives(s: &mut wamp::Subscription, why: &str) {
    if let Ok(Some(ev)) = tokio::time::timeout(QUIET, s.next()).await {
        panic!("{why}: unexpected event {ev:?}");
    }
}

pub async fn pubsub_exclude_me(c: &Connector) {
    let s = c().await;
    let topic = unique("com.test.me");
    let mut sub = s.subscribe(&topic, Default::default()).await.unwrap();
    s.publish(&topic).arg(1).acknowledge(true).await.unwrap();
    nothing_arrives(&mut sub, "publisher excluded by default").await;
    s.publish(&topic)
        .arg(2)
        .exclude_me(false)
        .acknowledge(true)
        .await
        .unwrap();
    let ev = within("own event", sub.next()).await.unwrap();
    assert_eq!(ev.arg::<i32>(0).unwrap(), 2);
}

pub async fn pubsub_exclude_eligible(c: &Connector) {
    let (s1, s2, s3, publisher) = (c().await, c().await, c().await, c().await);
    let topic = unique("com.test.lists");
    let mut subs = Vec::new();
    for s in [&s1, &s2, &s3] {
        subs.push(s.subscribe(&topic, Default::default()).await.unwrap());
    }
    publisher
        .publish(&topic)
        .arg("ex")
        .exclude(vec![s2.id()])
        .acknowledge(true)
        .await
        .unwrap();
    assert_eq!(
        within("s1", subs[0].next())
            .await
            .unwrap()
            .arg::<String>(0)
            .unwrap(),
        "ex"
    );
    assert_eq!(
        within("s3", subs[2].next())
            .await
            .unwrap()
            .arg::<String>(0)
            .unwrap(),
        "ex"
    );
    nothing_arrives(&mut subs[1], "excluded session").await;
    publisher
        .publish(&topic)
        .arg("el")
        .eligible(vec![s1.id()])
        .acknowledge(true)
        .await
        .unwrap();
    assert_eq!(
        within("s1", subs[0].next())
            .await
            .unwrap()
            .arg::<String>(0)
            .unwrap(),
        "el"
    );
    nothing_arrives(&mut subs[1], "not eligible").await;
    nothing_arrives(&mut subs[2], "not eligible").await;
    // By authrole: every anonymous session has the role "anonymous".
    let role = s1.details().authrole.clone().expect("authrole in WELCOME");
    let by_role = |roles: Vec<String>| wamp::PublishOptions {
        eligible_authrole: Some(roles),
        acknowledge: Some(true),
        ..Default::default()
    };
    publisher
        .publish(&topic)
        .arg("role")
        .options(by_role(vec![role]))
        .await
        .unwrap();
    for s in subs.iter_mut() {
        assert_eq!(
            within("by role", s.next())
                .await
                .unwrap()
                .arg::<String>(0)
                .unwrap(),
            "role"
        );
    }
    publisher
        .publish(&topic)
        .arg("none")
        .options(by_role(vec!["nobody".into()]))
        .await
        .unwrap();
    nothing_arrives(&mut subs[0], "role not eligible").await;
}

pub async fn pubsub_publisher_disclosure(c: &Connector) {
    let (sub, publisher) = (c().await, c().await);
    let topic = unique("com.test.disclose");
    let mut s = sub.subscribe(&topic, Default::default()).await.unwrap();
    publisher
        .publish(&topic)
        .disclose_me()
        .acknowledge(true)
        .await
        .unwrap();
    let ev = within("event", s.next()).await.unwrap();
    assert_eq!(ev.details.publisher, Some(publisher.id()));
}

pub async fn pubsub_patterns(c: &Connector) {
    let (sub, publisher) = (c().await, c().await);
    let base = unique("com.myapp");
    let mut prefix = sub
        .subscribe(format!("{base}."), sub_opts(MatchPolicy::Prefix))
        .await
        .unwrap();
    let mut wild = sub
        .subscribe(format!("{base}..on_concert"), sub_opts(MatchPolicy::Wildcard))
        .await
        .unwrap();
    let concert = format!("{base}.berlin.on_concert");
    publisher
        .publish(&concert)
        .arg("hi")
        .acknowledge(true)
        .await
        .unwrap();
    let (p, w) = (
        within("prefix", prefix.next()).await.unwrap(),
        within("wildcard", wild.next()).await.unwrap(),
    );
    assert_eq!(
        (p.topic.as_str(), w.topic.as_str()),
        (concert.as_str(), concert.as_str())
    );
    assert_eq!(p.details.topic.as_deref(), Some(concert.as_str()));
    let other = format!("{base}.a.b.other");
    publisher.publish(&other).acknowledge(true).await.unwrap();
    assert_eq!(within("prefix 2", prefix.next()).await.unwrap().topic, other);
    nothing_arrives(&mut wild, "wildcard must not match").await;
}

/// Two subscriptions of one session to one topic (or one prefix) share
/// the router's subscription; each gets every event, with the concrete
/// topic and the payload.
pub async fn pubsub_two_local_subscribers(c: &Connector) {
    let (sub, publisher) = (c().await, c().await);
    let exact = unique("com.test.twice");
    let prefix = unique("com.test.twiceprefix");
    for (pattern, policy, published) in [
        (exact.clone(), MatchPolicy::Exact, exact.clone()),
        (prefix.clone(), MatchPolicy::Prefix, format!("{prefix}.leaf")),
    ] {
        let mut first = sub.subscribe(&pattern, sub_opts(policy)).await.unwrap();
        let mut second = sub.subscribe(&pattern, sub_opts(policy)).await.unwrap();
        assert_eq!(first.id, second.id, "one router subscription per pattern");
        for i in 0..3 {
            publisher
                .publish(&published)
                .arg(i)
                .acknowledge(true)
                .await
                .unwrap();
        }
        for (name, s) in [("first", &mut first), ("second", &mut second)] {
            for i in 0..3 {
                let ev = within(name, s.next()).await.unwrap();
                assert_eq!(ev.arg::<i32>(0).unwrap(), i, "{name} {policy:?}");
                assert_eq!(ev.topic, published, "{name} {policy:?}");
            }
        }
    }
}

pub async fn unsubscribe(c: &Connector) {
    let (sub, publisher) = (c().await, c().await);
    let topic = unique("com.test.unsub");
    let mut keep = sub.subscribe(&topic, Default::default()).await.unwrap();
    let gone = sub.subscribe(&topic, Default::default()).await.unwrap();
    assert_eq!(keep.id, gone.id, "one router subscription per topic");
    gone.unsubscribe().await.unwrap();
    publisher.publish(&topic).arg(1).acknowledge(true).await.unwrap();
    assert_eq!(
        within("kept", keep.next()).await.unwrap().arg::<i32>(0).unwrap(),
        1
    );
    let id = keep.id;
    let mut again = sub.subscribe(&topic, Default::default()).await.unwrap();
    assert_eq!(again.id, id);
    keep.unsubscribe().await.unwrap();
    again.next().now_or_never(); // nothing queued
    let last = again;
    last.unsubscribe().await.unwrap();
    publisher.publish(&topic).arg(2).acknowledge(true).await.unwrap();
    let mut check = sub
        .subscribe(unique("com.test.other"), Default::default())
        .await
        .unwrap();
    nothing_arrives(&mut check, "after unsubscribe").await;
}

pub async fn callee_lost(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.lost");
    let (mut started, _dropped) = register_slow(&callee, &uri).await;
    let call = tokio::spawn(caller.call(&uri).into_future());
    within("handler start", started.recv()).await;
    callee.disconnect();
    let e = within("caller error after callee loss", call)
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.uri().is_some(), "expected an ERROR from the router, got {e}");
    let e = caller.call(&uri).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.no_such_procedure"), "{e}");
}

pub async fn cleanup_on_leave(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.leave");
    callee
        .register(&uri, Default::default(), |_| async { Ok(CallResult::new()) })
        .await
        .unwrap();
    caller.call(&uri).await.unwrap();
    callee.leave().await.unwrap();
    assert!(!callee.is_open());
    let e = caller.call(&uri).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.no_such_procedure"), "{e}");
    let e = callee.call(&uri).await.unwrap_err();
    assert!(e.is_session_gone(), "request on a left session: {e}");
}

pub async fn unregister(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.unreg");
    let reg = callee
        .register(&uri, Default::default(), |_| async { Ok(CallResult::new()) })
        .await
        .unwrap();
    caller.call(&uri).await.unwrap();
    reg.unregister().await.unwrap();
    let e = caller.call(&uri).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.no_such_procedure"), "{e}");
    let e = callee.unregister(12345).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.no_such_registration"), "{e}");
}

pub async fn pending_fail_on_close(c: &Connector) {
    let (callee, caller) = (c().await, c().await);
    let uri = unique("com.test.pending");
    let (mut started, _dropped) = register_slow(&callee, &uri).await;
    let call = tokio::spawn(caller.call(&uri).into_future());
    within("handler start", started.recv()).await;
    caller.leave().await.unwrap();
    let e = within("pending call after leave", call)
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.is_session_gone(), "expected session-gone error, got {e}");
}

type Scenario = (
    &'static str,
    fn(&Connector) -> futures_util::future::BoxFuture<'_, ()>,
);

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        /// Every scenario, by name.
        pub fn all() -> Vec<Scenario> {
            vec![$((stringify!($name), |c| Box::pin($name(c)))),*]
        }
    };
}

scenarios!(
    call_args_kwargs,
    call_multi_results,
    call_error_args_kwargs,
    call_no_such_procedure,
    register_duplicate,
    progressive_results,
    cancel_kill_interrupts_callee,
    cancel_by_drop,
    call_timeout,
    pattern_precedence,
    shared_registrations,
    caller_disclosure,
    no_disclosure_by_default,
    handler_panic_keeps_session,
    handlers_run_concurrently,
    nested_calls,
    pubsub_basic,
    pubsub_fan_out,
    pubsub_exclude_me,
    pubsub_exclude_eligible,
    pubsub_publisher_disclosure,
    pubsub_patterns,
    pubsub_two_local_subscribers,
    unsubscribe,
    callee_lost,
    cleanup_on_leave,
    unregister,
    pending_fail_on_close,
    meta_session_on_join_leave,
    meta_session_on_leave_details,
    meta_session_count_list_get,
    meta_session_kill,
    meta_session_kill_default_reason,
    meta_session_kill_spares_the_caller,
    meta_registration_api,
    meta_registration_removed_on_leave,
    meta_registration_match,
    meta_subscription_api,
    meta_subscription_match,
    meta_subscription_list_wildcard,
    testament_on_lost_connection,
    testament_on_kill,
    testament_order_and_flush,
    testament_flushed_is_not_published,
    revoke_callee,
    revoke_subscriber,
    retained_event,
    retained_event_patterns,
    retained_event_eligibility,
    event_history,
);

/// Runs every scenario (except `skip`), each as its own task so one failure
/// does not hide the others; panics listing all failures.
pub async fn run_all(label: &str, c: Connector, skip: &[&str]) {
    let failures = Arc::new(AtomicUsize::new(0));
    let mut report = Vec::new();
    for (name, scenario) in all() {
        if skip.contains(&name) {
            eprintln!("[{label}] skip {name}");
            continue;
        }
        let c = c.clone();
        let outcome = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(30), scenario(&c))
                .await
                .map_err(|_| "timed out".to_string())
        })
        .await;
        let result = match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(join) => Err(match join.try_into_panic() {
                Ok(p) => p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panicked".into()),
                Err(e) => e.to_string(),
            }),
        };
        match result {
            Ok(()) => eprintln!("[{label}] ok   {name}"),
            Err(e) => {
                failures.fetch_add(1, Ordering::Relaxed);
                eprintln!("[{label}] FAIL {name}: {e}");
                report.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(
        report.is_empty(),
        "[{label}] {} scenario(s) failed:\n{}",
        report.len(),
        report.join("\n")
    );
}
