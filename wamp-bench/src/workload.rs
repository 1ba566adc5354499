//! The WAMP workloads, written once against [`wamp::Session`] so the very
//! same code measures our client on the embedded router (every transport)
//! and our client on Crossbar.io: only the [`Endpoint`] differs.
//!
//! - calls: a callee session registers `com.bench.add2` (returns the sum of
//!   its two arguments), a caller session calls it one at a time (latency
//!   samples) and then with 256 calls in flight (throughput);
//! - events: one publisher session publishes unacknowledged events, N
//!   subscriber sessions count what they receive (N = 1 and N = 100).
//!
//! Every loop is bounded by time ([`Timing`]); nothing asserts on speed.

use std::cell::RefCell;
use std::future::{Future, IntoFuture};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use wamp::router::Router;
use wamp::{CallResult, Payload, RegisterOptions, Serializer, Session, SessionConfig, SubscribeOptions};

use crate::report::{Latency, Row};

/// The realm every workload joins (Crossbar's test node serves `realm1`).
pub const REALM: &str = "realm1";
/// The procedure of the call workloads.
pub const PROCEDURE: &str = "com.bench.add2";
/// The topic of the event workloads.
pub const TOPIC: &str = "com.bench.event";
/// Calls kept in flight by the pipelined workloads.
pub const IN_FLIGHT: usize = 256;
/// Subscriber sessions of the fan-out workload.
pub const FANOUT: usize = 100;
/// The time, read from the clock once every [`Clock::EVERY`] operations:
/// at over a million calls per second, one clock read per operation would
/// be a few percent of what is measured. The window's ends move by at most
/// that many operations, a few microseconds at full speed.
pub struct Clock {
    now: Instant,
    ops: u32,
}

impl Clock {
    const EVERY: u32 = 32;

    pub fn new() -> Self {
        Clock {
            now: Instant::now(),
            ops: 0,
        }
    }

    /// The time as of at most `EVERY` operations ago; call once per operation.
    pub fn tick(&mut self) -> Instant {
        self.ops += 1;
        if self.ops == Self::EVERY {
            self.ops = 0;
            self.now = Instant::now();
        }
        self.now
    }
}

/// CPU time used so far by this whole process (every thread: client,
/// router, runtime), from `/proc/self/stat`; `None` where that is not
/// available. CPU time per operation is the figure that stays meaningful
/// on a shared machine, where wall-clock rates move with the neighbours.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start at
    // field 3; utime and stime are fields 14 and 15, in clock ticks
    // (USER_HZ, 100 on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Microseconds of process CPU time per operation between two readings.
pub fn cpu_us_per_op(start: Option<Duration>, end: Option<Duration>, ops: u64) -> Option<f64> {
    let (start, end) = (start?, end?);
    (ops > 0).then(|| end.saturating_sub(start).as_secs_f64() * 1e6 / ops as f64)
}

/// How long each workload warms up and then measures.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Run but do not count (connections, allocator and caches settle).
    pub warmup: Duration,
    /// Run and count.
    pub measure: Duration,
}

impl Timing {
    /// `seconds` measured per workload, after a warm-up of a quarter of
    /// that (at most half a second).
    pub fn new(seconds: f64) -> Timing {
        let measure = Duration::from_secs_f64(seconds.max(0.05));
        Timing {
            warmup: (measure / 4).min(Duration::from_millis(500)),
            measure,
        }
    }
}

/// Runs a workload on a runtime of its own (multi-threaded, like
/// `#[tokio::main]`), shut down afterwards.
///
/// Shutting the runtime down drops every task the workload left behind, so
/// one row cannot slow down the next: a transport task that outlives its
/// connection (as RawSocket writers do at the time of writing, spinning once
/// their reader has ended) would otherwise keep burning CPU through every
/// later workload in this process.
pub async fn isolated<F, Fut, T>(f: F) -> T
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let run = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime for the workload");
        let out = runtime.block_on(f());
        runtime.shutdown_background();
        out
    });
    match run.await {
        Ok(out) => out,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Where sessions come from.
#[derive(Clone)]
pub enum Endpoint {
    /// The embedded router, in-process (no sockets, no serialization).
    Local(Router),
    /// A router behind a URL (`ws://` or `rs://`) with one serializer.
    Url {
        /// The router's URL.
        url: String,
        /// The only serializer offered.
        serializer: Serializer,
    },
}

impl Endpoint {
    /// A new joined session.
    pub async fn session(&self) -> Result<Session, String> {
        match self {
            Endpoint::Local(router) => Session::join_local(router, REALM)
                .await
                .map_err(|e| format!("join in-process: {e}")),
            Endpoint::Url { url, serializer } => {
                let config = SessionConfig {
                    serializers: vec![*serializer],
                    ..Default::default()
                };
                Session::connect_with(url, REALM, config)
                    .await
                    .map_err(|e| format!("connect {url}: {e}"))
            }
        }
    }
}

/// Runs every workload against `endpoint` and fills a row. A failing
/// workload leaves its columns empty and says why in the note; the others
/// still run.
pub async fn row(id: &str, label: &str, endpoint: &Endpoint, timing: Timing) -> Row {
    let mut row = Row::new(id, label);
    eprintln!("[bench] {label}: calls");
    match calls(endpoint, timing, Api::Untyped).await {
        Ok(c) => {
            row.set_seq(c.seq);
            row.pipelined_per_s = Some(c.pipelined.per_s);
            row.pipelined_cpu_us = c.pipelined.cpu_us;
        }
        Err(e) => row.add_note(format!("calls failed: {e}")),
    }
    eprintln!("[bench] {label}: events, 1 subscriber");
    match events(endpoint, timing, 1).await {
        Ok(r) => {
            row.events_per_s = Some(r.per_s);
            row.events_cpu_us = r.cpu_us;
        }
        Err(e) => row.add_note(format!("events failed: {e}")),
    }
    eprintln!("[bench] {label}: events, {FANOUT} subscribers");
    match events(endpoint, timing, FANOUT).await {
        Ok(r) => {
            row.fanout_per_s = Some(r.per_s);
            row.fanout_cpu_us = r.cpu_us;
        }
        Err(e) => row.add_note(format!("fan-out failed: {e}")),
    }
    row
}

/// A throughput figure.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Operations per second.
    pub per_s: f64,
    /// Process CPU microseconds per operation, when it could be read.
    pub cpu_us: Option<f64>,
}

/// Results of the call workloads.
#[derive(Debug, Clone, Copy)]
pub struct CallFigures {
    /// One call at a time.
    pub seq: Latency,
    /// Calls with [`IN_FLIGHT`] in flight.
    pub pipelined: Rate,
}

/// How the call workloads register and call `add2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `Session::register` with a closure, `Session::call` with `.arg()`s.
    Untyped,
    /// A `#[wamp::service]` attached, called through its generated client.
    Typed,
}

/// `add2` as a typed service: what [`Api::Typed`] registers and calls.
pub struct Adder;

#[wamp::service]
impl Adder {
    #[wamp::procedure("com.bench.add2")]
    async fn add2(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

/// The call workloads: sequential, then pipelined, on one callee/caller pair.
pub async fn calls(endpoint: &Endpoint, timing: Timing, api: Api) -> Result<CallFigures, String> {
    let callee = endpoint.session().await?;
    match api {
        Api::Untyped => callee
            .register(PROCEDURE, RegisterOptions::default(), |inv| async move {
                Ok(CallResult::new().with_arg(inv.arg::<i64>(0)? + inv.arg::<i64>(1)?))
            })
            .await
            .map(drop),
        Api::Typed => callee.attach(Adder).await.map(drop),
    }
    .map_err(|e| format!("register: {e}"))?;
    let caller = endpoint.session().await?;
    let client = AdderClient::new(caller.clone());
    let outcome = match api {
        Api::Untyped => {
            call_figures(timing, || {
                caller.call(PROCEDURE).arg(2).arg(3).into_future().map(|r| {
                    r.map_err(|e| e.to_string())?
                        .arg::<i64>(0)
                        .map_err(|e| e.to_string())
                })
            })
            .await
        }
        Api::Typed => call_figures(timing, || client.add2(2, 3).map(|r| r.map_err(|e| e.to_string()))).await,
    };
    leave_all(vec![caller, callee]).await;
    outcome
}

/// Sequential, then pipelined calls of `add2(2, 3)`, each started by
/// `start_call`.
async fn call_figures<F, Fut>(timing: Timing, start_call: F) -> Result<CallFigures, String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<i64, String>>,
{
    // One checked call first: a wrong answer would make every figure meaningless.
    let sum = start_call().await.map_err(|e| format!("call: {e}"))?;
    if sum != 5 {
        return Err(format!("{PROCEDURE}(2, 3) returned {sum}"));
    }
    let seq = sequential_calls(&start_call, timing).await?;
    let pipelined = pipelined_calls(&start_call, timing).await?;
    Ok(CallFigures { seq, pipelined })
}

/// One call at a time: a latency sample per call.
async fn sequential_calls<F, Fut>(start_call: &F, timing: Timing) -> Result<Latency, String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<i64, String>>,
{
    let warm_end = Instant::now() + timing.warmup;
    while Instant::now() < warm_end {
        start_call().await?;
    }
    let mut samples = Vec::with_capacity(1 << 16);
    let start = Instant::now();
    let end = start + timing.measure;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        start_call().await?;
        samples.push(t0.elapsed());
    }
    Ok(Latency::from_samples(samples, start.elapsed()))
}

/// [`IN_FLIGHT`] calls in flight: as many lanes, each starting its next
/// call when its last one completes (the lanes are long-lived futures, so
/// the harness allocates nothing per call). Counts completions inside the
/// measured window only; calls still in flight at its end are awaited (not
/// counted) so the session is idle afterwards.
async fn pipelined_calls<F, Fut>(start_call: &F, timing: Timing) -> Result<Rate, String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<i64, String>>,
{
    struct Window {
        clock: Clock,
        counted: u64,
        cpu_start: Option<Duration>,
        cpu_end: Option<Duration>,
    }
    let measure_start = Instant::now() + timing.warmup;
    let end = measure_start + timing.measure;
    let window = RefCell::new(Window {
        clock: Clock::new(),
        counted: 0,
        cpu_start: None,
        cpu_end: None,
    });
    let lane = || async {
        loop {
            start_call().await.map_err(|e| format!("pipelined call: {e}"))?;
            let mut w = window.borrow_mut();
            let now = w.clock.tick();
            if now >= end {
                if w.cpu_end.is_none() {
                    w.cpu_end = process_cpu();
                }
                return Ok::<_, String>(());
            }
            if now >= measure_start {
                if w.counted == 0 {
                    w.cpu_start = process_cpu();
                }
                w.counted += 1;
            }
        }
    };
    try_join_all((0..IN_FLIGHT).map(|_| lane())).await?;
    let w = window.into_inner();
    Ok(Rate {
        per_s: w.counted as f64 / timing.measure.as_secs_f64(),
        cpu_us: cpu_us_per_op(w.cpu_start, w.cpu_end, w.counted),
    })
}

/// A counter on its own cache line: subscribers on different cores must not
/// slow each other down through false sharing.
#[repr(align(64))]
#[derive(Default)]
struct Counter(AtomicU64);

struct EventCounters {
    received: Vec<Counter>,
    /// Set when a subscription stream ended early (session closed).
    lost: AtomicBool,
}

impl EventCounters {
    fn min(&self) -> u64 {
        self.received
            .iter()
            .map(|c| c.0.load(Ordering::Acquire))
            .min()
            .unwrap_or(0)
    }

    fn total(&self) -> u64 {
        self.received.iter().map(|c| c.0.load(Ordering::Acquire)).sum()
    }
}

/// One publisher, `subscribers` subscriber sessions: total deliveries per
/// second (for one subscriber, events per second).
pub async fn events(endpoint: &Endpoint, timing: Timing, subscribers: usize) -> Result<Rate, String> {
    let counters = Arc::new(EventCounters {
        received: (0..subscribers).map(|_| Counter::default()).collect(),
        lost: AtomicBool::new(false),
    });
    let mut sessions = Vec::with_capacity(subscribers + 1);
    let mut readers = Vec::with_capacity(subscribers);
    let setup = async {
        for i in 0..subscribers {
            let s = endpoint.session().await?;
            let mut sub = s
                .subscribe(TOPIC, SubscribeOptions::default())
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
            sessions.push(s);
            let c = counters.clone();
            readers.push(tokio::spawn(async move {
                while sub.next().await.is_some() {
                    c.received[i].0.fetch_add(1, Ordering::AcqRel);
                }
                c.lost.store(true, Ordering::Release);
            }));
        }
        endpoint.session().await
    };
    let publisher = match setup.await {
        Ok(p) => p,
        Err(e) => {
            readers.iter().for_each(|r| r.abort());
            leave_all(sessions).await;
            return Err(e);
        }
    };
    let outcome = publish_unthrottled(&publisher, &counters, timing).await;
    // Let everything published arrive, so no session is torn down mid-stream.
    if let Ok((_, published)) = &outcome {
        let deadline = Instant::now() + Duration::from_secs(5);
        while counters.min() < *published
            && Instant::now() < deadline
            && !counters.lost.load(Ordering::Acquire)
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let lost = counters.lost.load(Ordering::Acquire);
    readers.iter().for_each(|r| r.abort());
    sessions.push(publisher);
    leave_all(sessions).await;
    let (rate, _) = outcome?;
    if lost {
        return Err("a subscriber session ended during the run".into());
    }
    Ok(rate)
}

/// Publishes as fast as the router lets the publisher go (its flow control
/// holds the publisher back while a subscriber's queue is congested) until
/// the end of the measured window; returns (deliveries in the measured
/// window, events published).
async fn publish_unthrottled(
    publisher: &Session,
    counters: &EventCounters,
    timing: Timing,
) -> Result<(Rate, u64), String> {
    let measure_start = Instant::now() + timing.warmup;
    let end = measure_start + timing.measure;
    let mut base: Option<(Instant, u64, Option<Duration>)> = None;
    let mut published = 0u64;
    let mut clock = Clock::new();
    loop {
        let now = clock.tick();
        if now >= end {
            break;
        }
        if base.is_none() && now >= measure_start {
            base = Some((Instant::now(), counters.total(), process_cpu()));
        }
        if published % 1024 == 0 && counters.lost.load(Ordering::Acquire) {
            return Err("a subscriber session ended during the run".into());
        }
        publisher
            .publish(TOPIC)
            .arg(2)
            .arg(3)
            .await
            .map_err(|e| format!("publish: {e}"))?;
        published += 1;
    }
    let t1 = Instant::now();
    let delivered = counters.total();
    let cpu_end = process_cpu();
    let (t0, base_count, cpu_start) = base.ok_or("the warm-up took the whole run")?;
    let delivered = delivered.saturating_sub(base_count);
    let rate = Rate {
        per_s: delivered as f64 / (t1 - t0).as_secs_f64(),
        cpu_us: cpu_us_per_op(cpu_start, cpu_end, delivered),
    };
    Ok((rate, published))
}

/// Leaves every session concurrently (GOODBYE and its answer), so tearing
/// down 100 sessions takes one round trip rather than a hundred.
pub async fn leave_all(sessions: Vec<Session>) {
    let leaving: FuturesUnordered<_> = sessions
        .iter()
        .map(|s| async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), s.leave()).await;
        })
        .collect();
    leaving.collect::<()>().await;
}
