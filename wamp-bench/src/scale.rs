//! Matching at scale: calls and events routed by a realm holding 100,000
//! exact, 10,000 prefix and 10,000 wildcard registrations (and as many
//! subscriptions), against the same realm with only the workload's own
//! registration and subscription. In-process (no sockets, no serializer),
//! so what changes is the router's matching. Also: the time to register and
//! subscribe them all, and the process memory they take.

use std::time::Instant;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use wamp::router::{Router, RouterConfig};
use wamp::{CallResult, MatchPolicy, RegisterOptions, Session, SubscribeOptions, Subscription};

use crate::memory::vm_rss_kib;
use crate::report::Scale;
use crate::workload::{self, Api, Endpoint, Pace, Timing, REALM};

/// Exact, prefix and wildcard patterns added, of each kind.
pub const COUNTS: [(MatchPolicy, usize); 3] = [
    (MatchPolicy::Exact, 100_000),
    (MatchPolicy::Prefix, 10_000),
    (MatchPolicy::Wildcard, 10_000),
];

/// Registration (or subscription) requests in flight while filling.
const FILL_IN_FLIGHT: usize = 256;

/// The `i`th pattern of a kind. Half of the prefixes and wildcards share
/// the workload's `com.bench.` components, so a lookup walks past them.
fn pattern(policy: MatchPolicy, i: usize) -> String {
    let branch = if i.is_multiple_of(2) { "bench" } else { "scale" };
    match policy {
        MatchPolicy::Exact => format!("com.{branch}.exact.{i}"),
        MatchPolicy::Prefix => format!("com.{branch}.p{i}."),
        MatchPolicy::Wildcard => format!("com.{branch}..w{i}"),
    }
}

/// The figures with one registration and subscription, then with the
/// realm filled.
pub async fn run(timing: Timing) -> Scale {
    let mut scale = Scale {
        registrations: COUNTS.iter().map(|(_, n)| n).sum(),
        ..Default::default()
    };
    if let Err(e) = measure(&mut scale, timing).await {
        scale.add_note(e);
    }
    scale
}

async fn measure(scale: &mut Scale, timing: Timing) -> Result<(), String> {
    let router = Router::new(RouterConfig::default().realm(REALM));
    let endpoint = Endpoint::Local(router.clone());
    let (calls, events) = figures(&endpoint, timing).await?;
    (scale.base_call_cpu_us, scale.base_calls_per_s) = (calls.cpu_us, Some(calls.per_s));
    (scale.base_event_cpu_us, scale.base_events_per_s) = (events.cpu_us, Some(events.per_s));

    let filler = endpoint.session().await?;
    let rss = vm_rss_kib(None);
    let started = Instant::now();
    register_all(&filler).await?;
    scale.register_s = Some(started.elapsed().as_secs_f64());
    let rss_registered = vm_rss_kib(None);
    let started = Instant::now();
    let subscriptions = subscribe_all(&filler).await?;
    scale.subscribe_s = Some(started.elapsed().as_secs_f64());
    let rss_subscribed = vm_rss_kib(None);
    let per = |a: Option<u64>, b: Option<u64>| {
        Some((b?.saturating_sub(a?)) as f64 * 1024.0 / scale.registrations as f64)
    };
    scale.bytes_per_registration = per(rss, rss_registered);
    scale.bytes_per_subscription = per(rss_registered, rss_subscribed);

    let (calls, events) = figures(&endpoint, timing).await?;
    (scale.scaled_call_cpu_us, scale.scaled_calls_per_s) = (calls.cpu_us, Some(calls.per_s));
    (scale.scaled_event_cpu_us, scale.scaled_events_per_s) = (events.cpu_us, Some(events.per_s));
    drop(subscriptions);
    workload::leave_all(vec![filler]).await;
    router.shutdown();
    Ok(())
}

/// Pipelined calls and one subscriber's events, with whatever the realm
/// holds besides.
async fn figures(endpoint: &Endpoint, timing: Timing) -> Result<(workload::Rate, workload::Rate), String> {
    let calls = workload::calls(endpoint, timing, Api::Untyped).await?;
    let events = workload::events(endpoint, timing, 1, Pace::Unthrottled).await?;
    Ok((calls.pipelined, events.rate))
}

fn patterns() -> impl Iterator<Item = (MatchPolicy, String)> {
    COUNTS
        .into_iter()
        .flat_map(|(policy, n)| (0..n).map(move |i| (policy, pattern(policy, i))))
}

async fn register_all(session: &Session) -> Result<(), String> {
    stream::iter(patterns())
        .map(|(policy, uri)| async move {
            let options = RegisterOptions {
                match_policy: Some(policy),
                ..Default::default()
            };
            session
                .register(&uri, options, |_| async { Ok(CallResult::new()) })
                .await
                .map_err(|e| format!("register {uri}: {e}"))
        })
        .buffer_unordered(FILL_IN_FLIGHT)
        .try_for_each(|_| async { Ok(()) })
        .await
}

async fn subscribe_all(session: &Session) -> Result<Vec<Subscription>, String> {
    stream::iter(patterns())
        .map(|(policy, uri)| async move {
            let options = SubscribeOptions {
                match_policy: Some(policy),
                ..Default::default()
            };
            session
                .subscribe(&uri, options)
                .await
                .map_err(|e| format!("subscribe {uri}: {e}"))
        })
        .buffer_unordered(FILL_IN_FLIGHT)
        .try_collect()
        .await
}
