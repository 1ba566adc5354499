//! What every peer's workloads share: arguments, the measured window and its
//! markers, CPU time, the figures printed.

use std::cell::RefCell;
use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{json, Value};
use tokio::sync::Notify;

pub const USAGE: &str = "usage:
  wamp-bench-peers battler-router --ws ADDR [--realm REALM]
  wamp-bench-peers battler-client calls|events --url URL [--seconds S] [--inflight N] [--window N] [--realm REALM]";

/// The procedure and topic of the bench's workloads.
pub const PROCEDURE: &str = "com.bench.add2";
pub const TOPIC: &str = "com.bench.event";

/// How long what was published may take to arrive once the publisher stops.
pub const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Command-line arguments (no parser crate: a handful of flags).
#[derive(Debug)]
pub struct Args {
    pub command: String,
    /// `calls` or `events`, for the clients.
    pub workload: Option<String>,
    pub ws: String,
    pub url: String,
    pub realm: String,
    pub seconds: f64,
    pub inflight: usize,
    /// Events: at most this many published and not yet delivered (0:
    /// unthrottled).
    pub window: u64,
}

impl Args {
    pub fn parse(argv: &[String]) -> Result<Args, String> {
        let mut it = argv.iter();
        let command = it.next().ok_or("no command")?.clone();
        let mut args = Args {
            command,
            workload: None,
            ws: "127.0.0.1:0".into(),
            url: String::new(),
            realm: "realm1".into(),
            seconds: 2.0,
            inflight: 256,
            window: 0,
        };
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
            match a.as_str() {
                "--ws" => args.ws = value(a)?,
                "--url" => args.url = value(a)?,
                "--realm" => args.realm = value(a)?,
                "--seconds" => args.seconds = value(a)?.parse().map_err(|e| format!("--seconds: {e}"))?,
                "--window" => args.window = value(a)?.parse().map_err(|e| format!("--window: {e}"))?,
                "--inflight" => args.inflight = value(a)?.parse().map_err(|e| format!("--inflight: {e}"))?,
                w if !w.starts_with("--") && args.workload.is_none() => args.workload = Some(w.into()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(args)
    }

    /// Warm-up and measured window, as the bench's `Timing::new`: a quarter
    /// of the window, at most half a second.
    pub fn timing(&self) -> (Duration, Duration) {
        let measure = Duration::from_secs_f64(self.seconds.max(0.05));
        ((measure / 4).min(Duration::from_millis(500)), measure)
    }
}

/// CPU time used so far by this process (every thread), from
/// `/proc/self/stat` (utime + stime, in clock ticks of 10 ms).
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn cpu_us_per_op(start: Option<Duration>, end: Option<Duration>, ops: u64) -> Option<f64> {
    let (start, end) = (start?, end?);
    (ops > 0).then(|| end.saturating_sub(start).as_secs_f64() * 1e6 / ops as f64)
}

/// Tells the bench that the measured window starts or ends (it reads the
/// router's CPU time then).
pub fn marker(what: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "window {what}");
    let _ = out.flush();
}

/// The last line a client prints.
pub fn result(figures: Value) {
    println!("result {figures}");
}

fn percentile(sorted: &[Duration], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e6)
}

/// Calls one at a time for the measured window (after the warm-up): p50,
/// p99, calls/s and failures.
pub async fn sequential<F, Fut>(call: &F, warmup: Duration, measure: Duration) -> Value
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let warm_end = Instant::now() + warmup;
    while Instant::now() < warm_end {
        let _ = call().await;
    }
    let (mut samples, mut failed, mut first_error) = (Vec::with_capacity(1 << 16), 0u64, None);
    let start = Instant::now();
    let end = start + measure;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        match call().await {
            Ok(()) => samples.push(t0.elapsed()),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    samples.sort_unstable();
    json!({
        "p50_us": percentile(&samples, 50.0),
        "p99_us": percentile(&samples, 99.0),
        "per_s": samples.len() as f64 / elapsed,
        "ok": samples.len(),
        "failed": failed,
        "first_error": first_error,
    })
}

/// `lanes` calls in flight, each lane starting its next call when its last
/// one completes, failed or not; completions counted inside the measured
/// window, with this process's CPU time over it. All lanes are futures of
/// one task, as in the bench's own loop.
pub async fn pipelined<F, Fut>(call: &F, lanes: usize, warmup: Duration, measure: Duration) -> Value
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    #[derive(Default)]
    struct Window {
        ok: u64,
        failed: u64,
        failed_total: u64,
        first_error: Option<String>,
        started: Option<(Instant, Option<Duration>)>,
        ended: Option<(Instant, Option<Duration>)>,
    }
    let measure_start = Instant::now() + warmup;
    let end = measure_start + measure;
    let window = RefCell::new(Window::default());
    let lane = || async {
        loop {
            let outcome = call().await;
            let now = Instant::now();
            let mut w = window.borrow_mut();
            if let Err(e) = &outcome {
                w.failed_total += 1;
                if w.first_error.is_none() {
                    w.first_error = Some(e.clone());
                }
            }
            if now >= end {
                if w.ended.is_none() {
                    w.ended = Some((now, process_cpu()));
                    marker("end");
                }
                return;
            }
            if now >= measure_start {
                if w.started.is_none() {
                    w.started = Some((now, process_cpu()));
                    marker("start");
                }
                match outcome {
                    Ok(()) => w.ok += 1,
                    Err(_) => w.failed += 1,
                }
            }
        }
    };
    join_all((0..lanes).map(|_| lane())).await;
    let w = window.into_inner();
    let (Some((t0, cpu0)), Some((t1, cpu1))) = (w.started, w.ended) else {
        return json!({ "error": "the window saw no completed call", "first_error": w.first_error });
    };
    let secs = (t1 - t0).as_secs_f64();
    json!({
        "per_s": w.ok as f64 / secs,
        "ok": w.ok,
        "failed": w.failed,
        "failed_per_s": w.failed as f64 / secs,
        "failed_total": w.failed_total,
        "first_error": w.first_error,
        "cpu_us": cpu_us_per_op(cpu0, cpu1, w.ok + w.failed),
        "lanes": lanes,
    })
}

/// Deliveries counted by a subscriber, and events it is known to have
/// missed (its stack said so).
#[derive(Default)]
pub struct Deliveries {
    pub received: AtomicU64,
    pub missed: AtomicU64,
    /// Woken at each delivery, for a paced publisher.
    pub arrived: Notify,
}

impl Deliveries {
    /// Counts a delivery.
    pub fn count(&self) {
        self.received.fetch_add(1, Ordering::AcqRel);
        self.arrived.notify_one();
    }
}

/// Publishes as fast as `publish` returns (with `window` > 0, with at most
/// that many events published and not yet delivered), until the end of the window;
/// deliveries/s within the window, with this process's CPU time per
/// delivery, then waits up to [`DRAIN_WAIT`] for the rest and reports what
/// never arrived.
pub async fn events<F, Fut>(
    publish: F,
    deliveries: &Deliveries,
    window: u64,
    warmup: Duration,
    measure: Duration,
) -> Value
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let received = || deliveries.received.load(Ordering::Acquire);
    let measure_start = Instant::now() + warmup;
    let end = measure_start + measure;
    let (mut published, mut failed, mut first_error) = (0u64, 0u64, None);
    let mut failed_at = None;
    let mut base = None;
    let started = Instant::now();
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if base.is_none() && now >= measure_start {
            base = Some((now, received(), process_cpu()));
            marker("start");
        }
        if window > 0 && failed == 0 {
            let owed = || published.saturating_sub(received() + deliveries.missed.load(Ordering::Acquire));
            let mut timed_out = false;
            while owed() >= window && !timed_out {
                timed_out = tokio::time::timeout(Duration::from_millis(100), deliveries.arrived.notified())
                    .await
                    .is_err();
            }
            if timed_out && owed() >= window {
                failed += 1;
                first_error = Some(format!("no delivery for 100 ms with {window} events owed"));
                failed_at = Some((started.elapsed(), published, received()));
                break;
            }
        }
        match publish().await {
            Ok(()) => published += 1,
            Err(e) => {
                failed += 1;
                if first_error.is_none() {
                    first_error = Some(e);
                    failed_at = Some((started.elapsed(), published, received()));
                }
                if failed > 1000 {
                    break;
                }
            }
        }
    }
    let (t1, got, cpu1) = (Instant::now(), received(), process_cpu());
    marker("end");
    let Some((t0, base_count, cpu0)) = base else {
        return json!({
            "error": "publishing failed during the warm-up",
            "first_error": first_error,
            "published": published,
            "delivered_total": received(),
            "failed_after_s": failed_at.map(|f| f.0.as_secs_f64()),
        });
    };
    let backlog = published.saturating_sub(got);
    let deadline = Instant::now() + DRAIN_WAIT;
    while received() + deliveries.missed.load(Ordering::Acquire) < published && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let delivered = got - base_count;
    json!({
        "per_s": delivered as f64 / (t1 - t0).as_secs_f64(),
        "delivered": delivered,
        "cpu_us": cpu_us_per_op(cpu0, cpu1, delivered),
        "published": published,
        "publish_failed": failed,
        "first_error": first_error,
        "backlog": backlog,
        "lost": published.saturating_sub(received()),
        "missed_reported": deliveries.missed.load(Ordering::Acquire),
        // When publishing first failed: seconds after the first publish,
        // events published and delivered by then.
        "failed_after_s": failed_at.map(|f| f.0.as_secs_f64()),
        "failed_after_published": failed_at.map(|f| f.1),
        "failed_after_delivered": failed_at.map(|f| f.2),
        "window_s": (t1 - t0).as_secs_f64(),
        "paced_window": window,
    })
}
