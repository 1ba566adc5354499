//! Matching at scale: calls and events routed by a realm holding 100,000
//! exact, 10,000 prefix and 10,000 wildcard registrations (and as many
//! subscriptions), against a realm with only the workload's own
//! registration and subscription, the two measured in turns (five rounds,
//! medians). In-process (no sockets, no serializer) and on one thread, so
//! what changes is the router's matching. Also: the time to register and
//! subscribe them all, and the process memory they take.

use std::hint::black_box;
use std::time::Instant;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use wamp::router::matching::PatternIndex;
use wamp::router::{Router, RouterConfig};
use wamp::{CallResult, MatchPolicy, RegisterOptions, Session, SubscribeOptions, Subscription};

use crate::memory::vm_rss_kib;
use crate::report::Scale;
use crate::workload::{self, Api, Endpoint, Pace, Rate, Timing, REALM};

/// Exact, prefix and wildcard patterns added, of each kind.
pub const COUNTS: [(MatchPolicy, usize); 3] = [
    (MatchPolicy::Exact, 100_000),
    (MatchPolicy::Prefix, 10_000),
    (MatchPolicy::Wildcard, 10_000),
];

/// Registration (or subscription) requests in flight while filling.
const FILL_IN_FLIGHT: usize = 256;

/// Rounds of each realm's figures, taken in turns: more than the other
/// sections' three, because in-process CPU per event varies by a third
/// from window to window on a shared machine.
pub const SCALE_ROUNDS: u32 = 5;

/// Batches of [`INDEX_LOOKUPS`] lookups timed in the index alone; the
/// fastest counts (what the lookups cost when nothing else interfered).
pub const INDEX_BATCHES: usize = 20;

/// Lookups per timed batch.
pub const INDEX_LOOKUPS: usize = 100_000;

/// A topic that the index's filters do not spare a lookup: it has a `.`
/// where the prefixes sharing `com.bench.` end (one is hashed and looked
/// up) and the wildcards' four components (their tree is walked down to
/// a node of 5,000 children).
pub const UNFILTERED_TOPIC: &str = "com.bench.px.w1";

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
    index_figures(&mut scale);
    if let Err(e) = measure(&mut scale, timing).await {
        scale.add_note(e);
    }
    scale
}

async fn measure(scale: &mut Scale, timing: Timing) -> Result<(), String> {
    // Two realms in two routers of this process: one with the workload's
    // own registration and subscription only, one filled. They are measured
    // in turns, so that both meet the same moments of the machine's load.
    let empty = Router::new(RouterConfig::default().realm(REALM));
    let filled = Router::new(RouterConfig::default().realm(REALM));
    let (empty_at, filled_at) = (Endpoint::Local(empty.clone()), Endpoint::Local(filled.clone()));

    let filler = filled_at.session().await?;
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

    let round = timing.split(SCALE_ROUNDS);
    let mut empty_rounds = (Vec::new(), Vec::new());
    let mut filled_rounds = (Vec::new(), Vec::new());
    for _ in 0..SCALE_ROUNDS {
        for (at, rounds) in [(&empty_at, &mut empty_rounds), (&filled_at, &mut filled_rounds)] {
            let (calls, events) = figures(at, round).await?;
            rounds.0.push(calls);
            rounds.1.push(events);
        }
    }
    let median = |rounds: &[Rate]| Rate::median(rounds).map_or((None, None), |r| (r.cpu_us, Some(r.per_s)));
    (scale.base_call_cpu_us, scale.base_calls_per_s) = median(&empty_rounds.0);
    (scale.base_event_cpu_us, scale.base_events_per_s) = median(&empty_rounds.1);
    (scale.scaled_call_cpu_us, scale.scaled_calls_per_s) = median(&filled_rounds.0);
    (scale.scaled_event_cpu_us, scale.scaled_events_per_s) = median(&filled_rounds.1);
    drop(subscriptions);
    workload::leave_all(vec![filler]).await;
    empty.shutdown();
    filled.shutdown();
    Ok(())
}

/// Pipelined calls and one subscriber's events, with whatever the realm
/// holds besides, on a current-thread runtime of their own: every task of
/// the workload (clients and the router's sessions) on one thread, so the
/// CPU per operation is the routing's, without the hand-offs between
/// threads. On the default runtime those cost most of an in-process
/// event (measured on one host: 0.9 us of CPU per event on one thread,
/// 2.7-3.3 us on two) and vary by a third from window to window, which
/// hid a difference of a tenth.
async fn figures(endpoint: &Endpoint, timing: Timing) -> Result<(Rate, Rate), String> {
    let endpoint = endpoint.clone();
    workload::isolated_current_thread(move || async move {
        let calls = workload::calls(&endpoint, timing, Api::Untyped).await?;
        let events = workload::events(&endpoint, timing, 1, Pace::Unthrottled).await?;
        Ok((calls.pipelined, events.rate))
    })
    .await
}

fn patterns() -> impl Iterator<Item = (MatchPolicy, String)> {
    COUNTS
        .into_iter()
        .flat_map(|(policy, n)| (0..n).map(move |i| (policy, pattern(policy, i))))
}

/// The router's pattern index alone, outside any session: nanoseconds per
/// lookup of the workload's topic (every match, as the broker looks up
/// each event's) and procedure (the best match, as the dealer looks up each
/// call's), in an index of the workload's own URIs and in one filled with
/// the same patterns as the realm.
fn index_figures(scale: &mut Scale) {
    let own = |index: &mut PatternIndex| {
        index.insert(workload::TOPIC.into(), MatchPolicy::Exact, 1);
        index.insert(workload::PROCEDURE.into(), MatchPolicy::Exact, 2);
    };
    let mut one = PatternIndex::default();
    own(&mut one);
    let mut filled = PatternIndex::default();
    own(&mut filled);
    for (id, (policy, uri)) in (3..).zip(patterns()) {
        filled.insert(uri, policy, id);
    }
    let event = |index: &PatternIndex| index.all_matches(black_box(workload::TOPIC)).len();
    let call = |index: &PatternIndex| usize::from(index.best_match(black_box(workload::PROCEDURE)).is_some());
    scale.index_event_ns = Some((lookup_ns(&one, event), lookup_ns(&filled, event)));
    let unfiltered = |index: &PatternIndex| index.all_matches(black_box(UNFILTERED_TOPIC)).len();
    scale.index_unfiltered_ns = Some((lookup_ns(&one, unfiltered), lookup_ns(&filled, unfiltered)));
    scale.index_call_ns = Some((lookup_ns(&one, call), lookup_ns(&filled, call)));
}

/// Nanoseconds per `lookup`, the fastest of [`INDEX_BATCHES`].
fn lookup_ns(index: &PatternIndex, lookup: impl Fn(&PatternIndex) -> usize) -> f64 {
    (0..INDEX_BATCHES)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..INDEX_LOOKUPS {
                black_box(lookup(black_box(index)));
            }
            started.elapsed().as_secs_f64() * 1e9 / INDEX_LOOKUPS as f64
        })
        .fold(f64::INFINITY, f64::min)
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
