//! The WAMP workloads, written once against [`wamp::Session`] so the very
//! same code measures our client on the embedded router (every transport)
//! and our client on Crossbar.io: only the [`Endpoint`] differs.
//!
//! - calls: a callee session registers `com.bench.add2` (returns the sum of
//!   its two arguments), a caller session calls it one at a time (latency
//!   samples) and then with 256 calls in flight (throughput);
//! - events: one publisher session publishes unacknowledged events as fast
//!   as the router lets it, N subscriber sessions count what they receive
//!   (N = 1, 100 and, for our stack, 1,000);
//! - burst: an unrelated publisher/subscriber pair's event rate alone, and
//!   while another publisher floods a subscriber that reads slowly (the
//!   router holds the flood's publisher back; nobody should be closed and
//!   the pair should hardly notice).
//!
//! Every loop is bounded by time ([`Timing`]); nothing asserts on speed.

use std::future::{Future, IntoFuture};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use wamp::router::Router;
use wamp::{
    CallResult, Payload, RegisterOptions, Serializer, Session, SessionConfig, SubscribeOptions, Subscription,
};

use crate::report::{fmt_num, Latency, Row};

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
/// Subscriber sessions of the large fan-out workload (our stack only).
pub const FANOUT_LARGE: usize = 1000;
/// Sessions joining (connect, HELLO, SUBSCRIBE) at once while a fan-out
/// workload sets up: 1,000 one after the other would take seconds over a
/// socket.
const JOINING: usize = 16;
/// The topic flooded at a slow reader by the burst workload.
pub const FLOOD_TOPIC: &str = "com.bench.flood";
/// The slow reader of the burst workload sleeps [`SLOW_PAUSE`] every this
/// many events.
pub const SLOW_EVERY: u64 = 64;
/// See [`SLOW_EVERY`].
pub const SLOW_PAUSE: Duration = Duration::from_millis(1);
/// The burst workload's flood publisher counts as held back by the router
/// once none of its publishes went through for this long.
pub const HELD_BACK_AFTER: Duration = Duration::from_millis(50);
/// How long the burst workload waits for the flood's publisher to be held
/// back before it measures anyway.
const HOLD_BACK_WAIT: Duration = Duration::from_secs(5);
/// Most seconds measured by each window of the burst workload.
pub const BURST_MEASURE: Duration = Duration::from_secs(1);
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
    stat_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// utime + stime from the text of a `/proc/<pid>/stat`.
fn stat_cpu(stat: &str) -> Option<Duration> {
    // Fields after the command name (which may contain spaces) start at
    // field 3; utime and stime are fields 14 and 15, in clock ticks
    // (USER_HZ, 100 on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time used so far by the process `pid` (`/proc/<pid>/stat`), as
/// [`process_cpu`] reads it for this one: a router in a child process.
pub fn pid_cpu(pid: u32) -> Option<Duration> {
    stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Whether the throughput loops print `window start` and `window end` on
/// stdout as their measured windows start and end: set by a client child
/// of `--peers` ([`crate::peers`]), whose parent reads the router process's
/// CPU time at those moments.
static WINDOW_MARKERS: AtomicBool = AtomicBool::new(false);

/// Makes the throughput loops print their window markers (see
/// [`WINDOW_MARKERS`]).
pub fn print_window_markers() {
    WINDOW_MARKERS.store(true, Ordering::Relaxed);
}

fn window_marker(what: &str) {
    if WINDOW_MARKERS.load(Ordering::Relaxed) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "window {what}");
        let _ = out.flush();
    }
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

    /// The same, measuring at most `most` (the warm-up a quarter of what
    /// is measured, at most as before): for the workloads that cost
    /// seconds to set up, such as 1,000 subscriber sessions.
    pub fn capped(self, most: Duration) -> Timing {
        let measure = self.measure.min(most);
        Timing {
            warmup: self.warmup.min(measure / 4),
            measure,
        }
    }

    /// One of `rounds` that share this timing (warm-up and measure split
    /// evenly): for workloads that take turns with their anchor.
    pub fn split(self, rounds: u32) -> Timing {
        let rounds = rounds.max(1);
        Timing {
            warmup: self.warmup / rounds,
            measure: self.measure / rounds,
        }
    }
}

/// Operations per second over the window counting actually ran, from the
/// clock reads that opened and closed it (the nominal window when one is
/// missing).
pub fn per_second(counted: u64, opened: Option<Instant>, closed: Option<Instant>, timing: Timing) -> f64 {
    let window = match (opened, closed) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => timing.measure,
    };
    counted as f64 / window.as_secs_f64()
}

/// The median of some figures (the upper middle of an even count), if any.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
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
    isolated_on(tokio::runtime::Builder::new_multi_thread, f).await
}

/// Like [`isolated`], on a current-thread runtime: every task of the
/// workload on one thread, as a client built with
/// `#[tokio::main(flavor = "current_thread")]` runs.
pub async fn isolated_current_thread<F, Fut, T>(f: F) -> T
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    isolated_on(tokio::runtime::Builder::new_current_thread, f).await
}

async fn isolated_on<F, Fut, T>(builder: fn() -> tokio::runtime::Builder, f: F) -> T
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let run = tokio::task::spawn_blocking(move || {
        let runtime = builder()
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

/// How an event publisher goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// As fast as the router lets it: our router holds a publisher back
    /// while a subscriber's queue is congested.
    Unthrottled,
    /// At most this many events outstanding (published, not yet received)
    /// per subscriber: for a router that does not hold publishers back
    /// (Crossbar.io buffers whatever comes, and a run would measure its
    /// backlog, for minutes).
    Window(u64),
}

/// Most events outstanding per subscriber with [`Pace::Window`] on
/// Crossbar.io (as all event workloads had before our router held
/// publishers back).
pub const EVENT_WINDOW: u64 = 256;

/// What [`row`] runs besides the calls and the events to 1 and 100
/// subscribers.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Also the fan-out to [`FANOUT_LARGE`] subscribers, measuring for
    /// [`LARGE_FANOUT_MEASURE`] at most.
    pub large_fanout: bool,
    /// How the event publishers go.
    pub pace: Pace,
    /// Also the call workloads (false where they are measured elsewhere,
    /// in turns with another stack's).
    pub calls: bool,
}

/// A row's sequential and pipelined figures: each the median of the
/// rounds that ran.
pub fn fill_calls(row: &mut Row, rounds: &[(Latency, Rate)]) {
    let seq = |f: fn(&Latency) -> f64| median(rounds.iter().map(|r| f(&r.0)));
    row.seq_p50_us = seq(|l| l.p50_us);
    row.seq_p99_us = seq(|l| l.p99_us);
    row.seq_per_s = seq(|l| l.per_s);
    let pipelined: Vec<Rate> = rounds.iter().map(|r| r.1).collect();
    if let Some(r) = Rate::median(&pipelined) {
        row.pipelined_per_s = Some(r.per_s);
        row.pipelined_cpu_us = r.cpu_us;
    }
}

/// Runs every workload against `endpoint` and fills a row. A failing
/// workload leaves its columns empty and says why in the note; the others
/// still run.
pub async fn row(id: &str, label: &str, endpoint: &Endpoint, timing: Timing, plan: Plan) -> Row {
    let mut row = Row::new(id, label);
    if plan.calls {
        eprintln!("[bench] {label}: calls");
        match calls(endpoint, timing, Api::Untyped).await {
            Ok(c) => {
                row.set_seq(c.seq);
                row.pipelined_per_s = Some(c.pipelined.per_s);
                row.pipelined_cpu_us = c.pipelined.cpu_us;
            }
            Err(e) => row.add_note(format!("calls failed: {e}")),
        }
    }
    // The one-subscriber rate anchors the fan-out targets, so the counts
    // take turns in short windows (the 1,000-subscriber one, which costs
    // seconds to set up, once in the middle) and each figure is the median
    // of its windows: a drift in the machine's speed then falls on all of
    // them alike.
    let window = timing.split(ROUNDS);
    let mut order = Vec::new();
    for round in 0..ROUNDS {
        order.push((1, window));
        if plan.large_fanout && round == ROUNDS / 2 {
            order.push((FANOUT_LARGE, timing.capped(LARGE_FANOUT_MEASURE)));
        }
        order.push((FANOUT, window));
    }
    let mut runs: Vec<(usize, Vec<EventFigures>)> = Vec::new();
    let mut errors = std::collections::BTreeSet::new();
    for (subscribers, timing) in order {
        eprintln!("[bench] {label}: events, {}", subscribers_text(subscribers));
        match events(endpoint, timing, subscribers, plan.pace).await {
            Ok(f) => match runs.iter_mut().find(|(n, _)| *n == subscribers) {
                Some((_, v)) => v.push(f),
                None => runs.push((subscribers, vec![f])),
            },
            Err(e) => _ = errors.insert(format!("events to {} failed: {e}", subscribers_text(subscribers))),
        }
    }
    for e in errors {
        row.add_note(e);
    }
    let mut in_flight = Vec::new();
    let mut not_drained = Vec::new();
    for (subscribers, windows) in runs {
        let rates: Vec<Rate> = windows.iter().map(|f| f.rate).collect();
        let Some(rate) = Rate::median(&rates) else {
            continue;
        };
        let backlog = median(windows.iter().map(|f| f.backlog as f64)).unwrap_or(0.0) as u64;
        let (per_s, cpu_us, backlog_slot) = match subscribers {
            1 => (
                &mut row.events_per_s,
                &mut row.events_cpu_us,
                &mut row.events_backlog,
            ),
            FANOUT => (
                &mut row.fanout_per_s,
                &mut row.fanout_cpu_us,
                &mut row.fanout_backlog,
            ),
            _ => (
                &mut row.fanout_1000_per_s,
                &mut row.fanout_1000_cpu_us,
                &mut row.fanout_1000_backlog,
            ),
        };
        (*per_s, *cpu_us, *backlog_slot) = (Some(rate.per_s), rate.cpu_us, Some(backlog));
        let what = subscribers_text(subscribers);
        in_flight.push(format!("{} to {what}", fmt_count(backlog)));
        if windows.iter().any(|f| !f.drained) {
            not_drained.push(what);
        }
    }
    row.add_note(format!(
        "events: each figure the median of {ROUNDS} windows of {:.2} s, the subscriber counts taking turns{}",
        window.measure.as_secs_f64(),
        if plan.large_fanout {
            " (1,000 subscribers once, between them)"
        } else {
            ""
        }
    ));
    if !in_flight.is_empty() {
        row.add_note(format!(
            "deliveries in flight when the publisher stopped: {}",
            in_flight.join(", ")
        ));
    }
    if !not_drained.is_empty() {
        row.add_note(format!(
            "not delivered within {} s after it ({}): disconnected",
            DRAIN_WAIT.as_secs(),
            not_drained.join(", ")
        ));
    }
    row
}

/// A count for a note: `950`, `95k`, `3.2M`.
fn fmt_count(n: u64) -> String {
    match n {
        0..=9_999 => fmt_num(n as f64, 0),
        10_000..=999_499 => format!("{}k", fmt_num(n as f64 / 1e3, 0)),
        _ => format!("{}M", fmt_num(n as f64 / 1e6, 1)),
    }
}

/// Most seconds measured by the fan-out to [`FANOUT_LARGE`] subscribers:
/// joining and leaving 1,000 sessions costs more than the measurement, so
/// it measures a shorter window to keep a whole run near two minutes.
pub const LARGE_FANOUT_MEASURE: Duration = Duration::from_secs(1);

/// Rounds in which a target's figure and its anchor take turns, each
/// measuring a share of `--seconds` (the machine is shared and its speed
/// drifts over seconds): the as-deployed calls and their echo, the
/// large-payload calls and theirs, one and [`FANOUT`] subscribers.
pub const ROUNDS: u32 = 3;

/// `1 subscriber`, `100 subscribers`.
fn subscribers_text(n: usize) -> String {
    if n == 1 {
        "1 subscriber".to_string()
    } else {
        format!("{} subscribers", fmt_num(n as f64, 0))
    }
}

/// A throughput figure.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Operations per second.
    pub per_s: f64,
    /// Process CPU microseconds per operation, when it could be read.
    pub cpu_us: Option<f64>,
}

impl Rate {
    /// The medians of rounds' rates and CPU figures, if any round ran.
    pub fn median(rounds: &[Rate]) -> Option<Rate> {
        Some(Rate {
            per_s: median(rounds.iter().map(|r| r.per_s))?,
            cpu_us: median(rounds.iter().filter_map(|r| r.cpu_us)),
        })
    }
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
    calls_with_lanes(endpoint, timing, api, IN_FLIGHT).await
}

/// [`calls`] with `lanes` calls in flight when pipelined.
pub async fn calls_with_lanes(
    endpoint: &Endpoint,
    timing: Timing,
    api: Api,
    lanes: usize,
) -> Result<CallFigures, String> {
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
            call_figures(timing, lanes, || {
                caller.call(PROCEDURE).arg(2).arg(3).into_future().map(|r| {
                    r.map_err(|e| e.to_string())?
                        .arg::<i64>(0)
                        .map_err(|e| e.to_string())
                })
            })
            .await
        }
        Api::Typed => {
            call_figures(timing, lanes, || {
                client
                    .add2(2, 3)
                    .into_future()
                    .map(|r| r.map_err(|e| e.to_string()))
            })
            .await
        }
    };
    leave_all(vec![caller, callee]).await;
    outcome
}

/// Runs a load generator as a task of its own on the runtime, as an
/// application's work runs, rather than in the future the benchmark's
/// `block_on` drives. On a multi-threaded runtime, that future runs on the
/// thread that called `block_on`, outside the worker pool: every wake-up
/// between it and the sessions' tasks would cross threads and be a system
/// call (measured with the router in another process: a third fewer
/// pipelined calls per second, and 30% more CPU per call).
///
/// The pair measured across processes, which stands for a deployed client,
/// runs both its clients this way: the echo's and ours. The rows in one
/// process keep their clients in the benchmark's own future, as they
/// always have, so that their figures compare with earlier runs.
pub(crate) async fn on_worker<T, W>(work: W) -> Result<T, String>
where
    T: Send + 'static,
    W: Future<Output = Result<T, String>> + Send + 'static,
{
    tokio::spawn(work)
        .await
        .map_err(|e| format!("the workload's task failed: {e}"))?
}

/// Sequential, then pipelined calls of `add2(2, 3)`, each started by
/// `start_call`.
async fn call_figures<F, Fut>(timing: Timing, lanes: usize, start_call: F) -> Result<CallFigures, String>
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
    let pipelined = calls_in_lanes(&start_call, timing, lanes).await?;
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

/// `lanes` calls in flight ([`IN_FLIGHT`] in the call workloads), each lane
/// starting its next call when its last one completes (the lanes are
/// long-lived futures, so the harness allocates nothing per call); calls
/// still in flight when the window ends are awaited, not counted, so the
/// session is idle afterwards. Completions counted inside the measured window, with
/// the process's CPU time over it.
pub async fn calls_in_lanes<F, Fut, T>(start_call: &F, timing: Timing, lanes: usize) -> Result<Rate, String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    struct Window {
        clock: Clock,
        counted: u64,
        /// When counting started and stopped, as the clock read then: the
        /// window is these, not the nominal one (the clock is read every
        /// few operations, and at a few hundred calls per second that is
        /// a good part of a short window).
        opened: Option<Instant>,
        closed: Option<Instant>,
        cpu_start: Option<Duration>,
        cpu_end: Option<Duration>,
    }
    let measure_start = Instant::now() + timing.warmup;
    let end = measure_start + timing.measure;
    // A lock, not a `RefCell`, so that the lanes can run on a worker
    // ([`on_worker`]); they are polled by one task, so it is never contended.
    let window = std::sync::Mutex::new(Window {
        clock: Clock::new(),
        counted: 0,
        opened: None,
        closed: None,
        cpu_start: None,
        cpu_end: None,
    });
    let lane = || async {
        loop {
            start_call().await.map_err(|e| format!("pipelined call: {e}"))?;
            let mut w = window.lock().unwrap_or_else(|e| e.into_inner());
            let now = w.clock.tick();
            if now >= end {
                if w.cpu_end.is_none() {
                    w.cpu_end = process_cpu();
                    w.closed = Some(now);
                    window_marker("end");
                }
                return Ok::<_, String>(());
            }
            if now >= measure_start {
                if w.counted == 0 {
                    w.cpu_start = process_cpu();
                    w.opened = Some(now);
                    window_marker("start");
                }
                w.counted += 1;
            }
        }
    };
    try_join_all((0..lanes).map(|_| lane())).await?;
    let w = window.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(Rate {
        per_s: per_second(w.counted, w.opened, w.closed, timing),
        cpu_us: cpu_us_per_op(w.cpu_start, w.cpu_end, w.counted),
    })
}

/// A counter on its own cache line: subscribers on different cores must not
/// slow each other down through false sharing.
#[repr(align(64))]
#[derive(Default)]
struct Counter(AtomicU64);

/// What the subscribers of one topic received.
struct EventCounters {
    received: Vec<Counter>,
    /// Set when a subscription stream ended early (session closed).
    lost: AtomicBool,
    /// Set to make [`Reader::Slow`] subscribers read at full speed (to
    /// drain what is queued for them at the end of a workload).
    hurry: AtomicBool,
    /// Set by a [`Pace::Window`] publisher while it waits for deliveries;
    /// the subscribers then wake it through `arrived` (a relaxed load per
    /// event otherwise).
    waiting: AtomicBool,
    arrived: tokio::sync::Notify,
}

impl EventCounters {
    fn new(subscribers: usize) -> Arc<EventCounters> {
        Arc::new(EventCounters {
            received: (0..subscribers).map(|_| Counter::default()).collect(),
            lost: AtomicBool::new(false),
            hurry: AtomicBool::new(false),
            waiting: AtomicBool::new(false),
            arrived: tokio::sync::Notify::new(),
        })
    }

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

    fn lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    /// Waits until every subscriber has received `events` (at most
    /// `limit`, and not past a lost subscriber), so no session is torn down
    /// mid-stream. Whether they all did.
    async fn drain(&self, events: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.min() < events && Instant::now() < deadline && !self.lost() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        self.min() >= events
    }
}

/// The sessions and reader tasks of a workload, ended together (readers
/// stopped, sessions left) however the workload went.
#[derive(Default)]
struct Cast {
    sessions: Vec<Session>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Cast {
    /// Stops the readers, then leaves every session (`graceful`) or drops
    /// their connections at once (with events still queued for them, the
    /// GOODBYEs would wait behind those).
    async fn end(self, graceful: bool) {
        self.readers.iter().for_each(|r| r.abort());
        if graceful {
            leave_all(self.sessions).await;
        } else {
            self.sessions.iter().for_each(Session::disconnect);
        }
    }
}

/// How a subscriber reads its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// Counts each event at once.
    Fast,
    /// Counts each event and sleeps [`SLOW_PAUSE`] every [`SLOW_EVERY`]
    /// events (until told to hurry): a consumer slower than an unthrottled
    /// publisher, whose queues fill up.
    Slow,
}

/// Joins `counters.received.len()` subscriber sessions on `topic`,
/// [`JOINING`] at a time, each with a task counting what it receives; all
/// go into `cast`, even when one of them fails to join (the first error is
/// returned).
async fn subscribe_all(
    cast: &mut Cast,
    endpoint: &Endpoint,
    topic: &str,
    counters: &Arc<EventCounters>,
    reader: Reader,
) -> Result<(), String> {
    let joined: Vec<Result<(usize, Session, Subscription), String>> =
        futures_util::stream::iter(0..counters.received.len())
            .map(|i| async move {
                let s = endpoint.session().await?;
                match s.subscribe(topic, SubscribeOptions::default()).await {
                    Ok(sub) => Ok((i, s, sub)),
                    Err(e) => {
                        let _ = tokio::time::timeout(Duration::from_secs(5), s.leave()).await;
                        Err(format!("subscribe: {e}"))
                    }
                }
            })
            .buffer_unordered(JOINING)
            .collect()
            .await;
    let mut first_error = None;
    for joined in joined {
        let (i, session, mut sub) = match joined {
            Ok(j) => j,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        cast.sessions.push(session);
        let c = counters.clone();
        cast.readers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while sub.next().await.is_some() {
                c.received[i].0.fetch_add(1, Ordering::SeqCst);
                if c.waiting.load(Ordering::SeqCst) {
                    c.arrived.notify_one();
                }
                n += 1;
                if reader == Reader::Slow && n.is_multiple_of(SLOW_EVERY) && !c.hurry.load(Ordering::Relaxed)
                {
                    tokio::time::sleep(SLOW_PAUSE).await;
                }
            }
            c.lost.store(true, Ordering::Release);
        }));
    }
    first_error.map_or(Ok(()), Err)
}

/// What [`events`] measured.
#[derive(Debug, Clone, Copy)]
pub struct EventFigures {
    /// Deliveries per second (all subscribers together) in the measured
    /// window, and process CPU per delivery.
    pub rate: Rate,
    /// Deliveries owed but not yet made when the publisher stopped: what
    /// sat in queues and socket buffers between it and its subscribers.
    pub backlog: u64,
    /// Whether the backlog arrived within [`DRAIN_WAIT`] (the sessions then
    /// leave with GOODBYE; otherwise they are disconnected, which takes no
    /// time, rather than wait for it). Not waited for when, at the
    /// window's rate, it could not arrive in that time.
    pub drained: bool,
}

/// How long [`events`] waits for the events still on their way when the
/// publisher stops.
pub const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// One publisher, `subscribers` subscriber sessions: total deliveries per
/// second (for one subscriber, events per second).
pub async fn events(
    endpoint: &Endpoint,
    timing: Timing,
    subscribers: usize,
    pace: Pace,
) -> Result<EventFigures, String> {
    let counters = EventCounters::new(subscribers);
    let mut cast = Cast::default();
    let outcome = async {
        subscribe_all(&mut cast, endpoint, TOPIC, &counters, Reader::Fast).await?;
        let publisher = endpoint.session().await?;
        cast.sessions.push(publisher.clone());
        let run = publish_events(&publisher, TOPIC, &counters, &[], timing, pace).await?;
        let backlog = (run.published * subscribers as u64).saturating_sub(counters.total());
        // Let what was published arrive, so no session is torn down
        // mid-stream, unless that would take long: not waited for at all
        // when, at the window's rate, it could not arrive in time.
        let hopeless = backlog as f64 > run.rate.per_s * DRAIN_WAIT.as_secs_f64();
        let drained = !hopeless && counters.drain(run.published, DRAIN_WAIT).await;
        Ok::<_, String>(EventFigures {
            rate: run.rate,
            backlog,
            drained,
        })
    }
    .await;
    let lost = counters.lost();
    cast.end(matches!(outcome, Ok(EventFigures { drained: true, .. })))
        .await;
    let figures = outcome?;
    if lost {
        return Err("a subscriber session ended during the run".into());
    }
    Ok(figures)
}

/// What [`publish_events`] measured.
struct Published {
    /// Deliveries counted by its `counters` per second of the measured
    /// window, and process CPU per delivery.
    rate: Rate,
    /// Deliveries counted by its `counters` in the measured window.
    delivered: u64,
    /// Events published in all (warm-up included).
    published: u64,
    /// What each of its `others` counted in the same window.
    others: Vec<u64>,
    /// The measured window.
    window: Duration,
    /// Process CPU time used in the window.
    cpu: Option<Duration>,
}

/// Publishes to `topic` until the end of the measured window, as fast as
/// the router lets the publisher go (its flow control holds the publisher
/// back while a subscriber's queue is congested), or as `pace` allows.
/// Counts the deliveries of `counters` (and what each of `others` counts)
/// within the window.
///
/// The clock is read at every publish until the window starts (the
/// warm-up is not measured), then once every [`Clock::EVERY`]. A publish
/// that a router holds back (Crossbar.io, which buffers, or ours at a
/// congested subscriber) races the window's start and end: the window
/// opens and closes on time even while it waits, which with 100 socket
/// subscribers can take longer than a window (the loopback socket buffers
/// hold tens of thousands of events each, drained at the subscribers'
/// pace), and the deliveries meanwhile count.
async fn publish_events(
    publisher: &Session,
    topic: &str,
    counters: &EventCounters,
    others: &[&EventCounters],
    timing: Timing,
    pace: Pace,
) -> Result<Published, String> {
    let others_total = || others.iter().map(|o| o.total()).collect::<Vec<_>>();
    // What the window counts from, taken as it opens.
    let open_window = |at: Instant| {
        window_marker("start");
        (at, counters.total(), others_total(), process_cpu())
    };
    let measure_start = Instant::now() + timing.warmup;
    let end = measure_start + timing.measure;
    let mut base: Option<(Instant, u64, Vec<u64>, Option<Duration>)> = None;
    let mut published = 0u64;
    let mut clock = Clock::new();
    'run: loop {
        let now = if base.is_none() {
            Instant::now()
        } else {
            clock.tick()
        };
        if now >= end {
            break;
        }
        if let Pace::Window(window) = pace {
            while published >= counters.min() + window {
                if counters.lost() {
                    return Err("a subscriber session ended during the run".into());
                }
                if Instant::now() >= end {
                    break 'run;
                }
                // Woken by the next delivery (the flag and the count are
                // both SeqCst, so a delivery after the check sees the flag;
                // the 1 ms timeout is a safety net).
                counters.waiting.store(true, Ordering::SeqCst);
                if published >= counters.min() + window {
                    let _ = tokio::time::timeout(Duration::from_millis(1), counters.arrived.notified()).await;
                }
                counters.waiting.store(false, Ordering::SeqCst);
            }
        }
        if base.is_none() && now >= measure_start {
            base = Some(open_window(now));
        }
        if published.is_multiple_of(1024) && counters.lost() {
            return Err("a subscriber session ended during the run".into());
        }
        let mut publish = std::pin::pin!(publisher.publish(topic).arg(2).arg(3).into_future());
        // Most publishes go through at once; only one held back takes a timer.
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(publish.as_mut().poll(cx))).await;
        let done = match first {
            std::task::Poll::Ready(done) => done,
            std::task::Poll::Pending => loop {
                let (opened, at) = match base {
                    None => (false, measure_start),
                    Some(_) => (true, end),
                };
                tokio::select! {
                    biased;
                    done = &mut publish => break done,
                    _ = tokio::time::sleep_until(at.into()) => {
                        if opened {
                            break 'run; // held back past the window's end
                        }
                        base = Some(open_window(Instant::now()));
                    }
                }
            },
        };
        done.map_err(|e| format!("publish: {e}"))?;
        published += 1;
    }
    let t1 = Instant::now();
    let (delivered, others_end, cpu_end) = (counters.total(), others_total(), process_cpu());
    window_marker("end");
    let (t0, base_count, others_base, cpu_start) = base.ok_or("the warm-up took the whole run")?;
    let delivered = delivered.saturating_sub(base_count);
    let window = t1 - t0;
    Ok(Published {
        rate: Rate {
            per_s: delivered as f64 / window.as_secs_f64(),
            cpu_us: cpu_us_per_op(cpu_start, cpu_end, delivered),
        },
        delivered,
        published,
        others: others_end
            .iter()
            .zip(&others_base)
            .map(|(e, b)| e.saturating_sub(*b))
            .collect(),
        window,
        cpu: cpu_start.zip(cpu_end).map(|(a, b)| b.saturating_sub(a)),
    })
}

/// What the burst workload measured.
#[derive(Debug, Clone)]
pub struct BurstFigures {
    /// The unrelated pair alone: events/s, process CPU per event.
    pub alone: Rate,
    /// The pair while the flood runs: events/s, and process CPU per event
    /// delivered on either topic (the flood's work is in the same process).
    pub during: Rate,
    /// Flood events the slow reader received per second, in the same window.
    pub flood_per_s: f64,
    /// Flood events published per second, same window: about
    /// `flood_per_s` while the router holds the flood's publisher back.
    pub flood_sent_per_s: f64,
    /// Flood events published in all.
    pub flood_published: u64,
    /// When the router first held the flood's publisher back (its
    /// publishes stopped going through for [`HELD_BACK_AFTER`]): after how
    /// many events and how long. `None`: not within [`HOLD_BACK_WAIT`],
    /// the window was measured anyway.
    pub held_back: Option<(u64, Duration)>,
    /// Whether every event published on either topic arrived.
    pub all_delivered: bool,
    /// Sessions the workload joined.
    pub sessions: usize,
    /// Sessions that ended before the workload left them, and why; also
    /// subscriptions that ended and sessions the router no longer counts.
    pub closed: Vec<String>,
}

/// The burst workload, on our embedded `router` reached through `endpoint`:
/// an unrelated publisher/subscriber pair on [`TOPIC`] publishes
/// unthrottled, first alone, then while another publisher floods
/// [`FLOOD_TOPIC`] unthrottled at a subscriber that reads slowly
/// ([`Reader::Slow`]), whose queues stay congested so that the router
/// holds the flood's publisher back. Both windows are `timing`'s; nobody
/// should be closed, and the pair should keep most of its rate.
pub async fn burst(endpoint: &Endpoint, router: &Router, timing: Timing) -> Result<BurstFigures, String> {
    let mut cast = Cast::default();
    let outcome = burst_in(&mut cast, endpoint, router, timing).await;
    cast.end(true).await;
    outcome
}

async fn burst_in(
    cast: &mut Cast,
    endpoint: &Endpoint,
    router: &Router,
    timing: Timing,
) -> Result<BurstFigures, String> {
    let at_router = || router.realm(REALM).map_or(0, |r| r.session_count());
    let (pair, slow) = (EventCounters::new(1), EventCounters::new(1));
    subscribe_all(cast, endpoint, TOPIC, &pair, Reader::Fast).await?;
    subscribe_all(cast, endpoint, FLOOD_TOPIC, &slow, Reader::Slow).await?;
    let publisher = endpoint.session().await?;
    cast.sessions.push(publisher.clone());
    let flooder = endpoint.session().await?;
    cast.sessions.push(flooder.clone());
    let named: Vec<(&str, Session)> = [
        "pair's subscriber",
        "slow reader",
        "pair's publisher",
        "flood's publisher",
    ]
    .into_iter()
    .zip(cast.sessions.iter().cloned())
    .collect();
    let joined = at_router();

    eprintln!("[bench] burst: the pair alone");
    let alone = publish_events(&publisher, TOPIC, &pair, &[], timing, Pace::Unthrottled).await?;
    pair.drain(alone.published, Duration::from_secs(5)).await;

    eprintln!("[bench] burst: the pair during a flood at a slow reader");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = EventCounters::new(1);
    let flood = tokio::spawn({
        let (flooder, stop, sent) = (flooder.clone(), stop.clone(), sent.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                flooder
                    .publish(FLOOD_TOPIC)
                    .arg(2)
                    .arg(3)
                    .await
                    .map_err(|e| format!("flood publish: {e}"))?;
                sent.received[0].0.fetch_add(1, Ordering::AcqRel);
            }
            Ok::<_, String>(())
        }
    });
    // Measure once the router holds the flood's publisher back (its
    // publishes stop going through for a while): before, the socket
    // buffers between it, the router and the slow reader are filling up.
    let flood_start = Instant::now();
    let mut held_back = None;
    let mut last = (sent.total(), Instant::now());
    while held_back.is_none() && flood_start.elapsed() < HOLD_BACK_WAIT && !flood.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let now = (sent.total(), Instant::now());
        if now.0 != last.0 {
            last = now;
        } else if now.1 - last.1 >= HELD_BACK_AFTER && now.0 > 0 {
            held_back = Some((now.0, last.1 - flood_start));
        }
    }
    let during = publish_events(
        &publisher,
        TOPIC,
        &pair,
        &[&slow, &sent],
        timing,
        Pace::Unthrottled,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    // The flood's last publish returns once the router reads from its
    // publisher again, when the slow reader is down to low water.
    let flood = tokio::time::timeout(Duration::from_secs(10), flood).await;
    // Everything published is queued somewhere on its way to the slow
    // reader: let it take the rest at full speed.
    slow.hurry.store(true, Ordering::Relaxed);
    let flood = match flood {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => Err(format!("flood task: {e}")),
        Err(_) => Err("the flood's publisher was still held back 10 s after the flood ended".into()),
    };
    let (flood_published, pair_total) = (
        sent.total(),
        alone.published + during.as_ref().map_or(0, |d| d.published),
    );
    let all_delivered = pair.drain(pair_total, Duration::from_secs(5)).await
        && slow.drain(flood_published, Duration::from_secs(15)).await;

    // Who was closed: sessions, subscriptions, and the router's count.
    let mut closed = Vec::new();
    for (name, session) in &named {
        if !session.is_open() {
            let why = tokio::time::timeout(Duration::from_millis(100), session.closed()).await;
            closed.push(match why {
                Ok(e) => format!("{name} closed: {e}"),
                Err(_) => format!("{name} closed"),
            });
        }
    }
    for (name, counters) in [("pair's", &pair), ("slow reader's", &slow)] {
        if counters.lost() {
            closed.push(format!("the {name} subscription ended"));
        }
    }
    let left = at_router();
    if left < joined {
        closed.push(format!("the router has {left} of the {joined} sessions left"));
    }
    let with_closed = |e: String| {
        if closed.is_empty() {
            e
        } else {
            format!("{e} ({})", closed.join("; "))
        }
    };
    let during = during.map_err(with_closed)?;
    flood.map_err(with_closed)?;
    if closed.is_empty() && !all_delivered {
        return Err(format!(
            "not every event arrived: pair {} of {pair_total}, slow reader {} of {flood_published}",
            pair.total(),
            slow.total()
        ));
    }
    let events = during.delivered + during.others[0];
    Ok(BurstFigures {
        alone: alone.rate,
        during: Rate {
            per_s: during.rate.per_s,
            cpu_us: during
                .cpu
                .filter(|_| events > 0)
                .map(|cpu| cpu.as_secs_f64() * 1e6 / events as f64),
        },
        flood_per_s: during.others[0] as f64 / during.window.as_secs_f64(),
        flood_sent_per_s: during.others[1] as f64 / during.window.as_secs_f64(),
        flood_published,
        held_back,
        all_delivered,
        sessions: named.len(),
        closed,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_short() {
        assert_eq!(fmt_count(950), "950");
        assert_eq!(fmt_count(9_999), "9,999");
        assert_eq!(fmt_count(95_400), "95k");
        assert_eq!(fmt_count(999_499), "999k");
        assert_eq!(fmt_count(999_500), "1.0M");
        assert_eq!(fmt_count(11_700_000), "11.7M");
    }

    #[test]
    fn medians_and_rates_over_the_window_counted() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0]), Some(4.0));
        assert_eq!(median(std::iter::empty()), None);
        let r = |per_s, cpu_us| Rate { per_s, cpu_us };
        let m = Rate::median(&[r(10.0, Some(5.0)), r(30.0, None), r(20.0, Some(7.0))]).unwrap();
        assert_eq!((m.per_s, m.cpu_us), (20.0, Some(7.0)));
        assert!(Rate::median(&[]).is_none());
        let timing = Timing::new(2.0);
        let t0 = Instant::now();
        // 300 operations counted over 1.5 s: 200/s, whatever the nominal window.
        let rate = per_second(300, Some(t0), Some(t0 + Duration::from_millis(1500)), timing);
        assert!((rate - 200.0).abs() < 1e-9);
        assert_eq!(per_second(300, None, Some(t0), timing), 150.0);
        let split = timing.split(3);
        assert!(timing.measure - split.measure * 3 < Duration::from_nanos(3));
        assert_eq!(split.warmup, timing.warmup / 3);
    }

    #[test]
    fn capped_timing() {
        let t = Timing::new(2.0).capped(Duration::from_secs(1));
        assert_eq!(t.measure, Duration::from_secs(1));
        assert_eq!(t.warmup, Duration::from_millis(250));
        let t = Timing::new(0.4).capped(Duration::from_secs(1));
        assert_eq!(t.measure, Duration::from_millis(400));
        assert_eq!(t.warmup, Duration::from_millis(100));
    }
}
