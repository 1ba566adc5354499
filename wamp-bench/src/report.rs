//! The results of one run: a row per stack, the memory figures, and the
//! targets of the issue evaluated against them, rendered as Markdown (for
//! people) and JSON (for tracking over time).
//!
//! Nothing here measures anything; workloads fill in [`Row`]s and
//! [`Memory`], and [`Report::evaluate`] derives every target from them, so a
//! new workload only has to fill a row (with a stable [`Row::id`]) to take
//! part in the table and, if a target names it, in the targets.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

/// Stable row IDs the targets refer to. Kept in one place so a renamed row
/// cannot silently turn a target into "skipped".
pub mod ids {
    /// Bare WebSocket echo, the transport ceiling.
    pub const CEILING: &str = "ceiling.ws_echo";
    /// Bare WebSocket echo with a write and flush per frame: how the
    /// issue's anchor figure was taken.
    pub const CEILING_PER_FRAME: &str = "ceiling.ws_echo_per_frame";
    /// Our client and router over WebSocket + JSON.
    pub const WS_JSON: &str = "ours.ws_json";
    /// Our client and router over WebSocket + MessagePack.
    pub const WS_MSGPACK: &str = "ours.ws_msgpack";
    /// Our client and router over RawSocket + MessagePack.
    pub const RAWSOCKET: &str = "ours.rawsocket_msgpack";
    /// Our client and the embedded router in-process.
    pub const LOCAL: &str = "ours.local";
    /// Typed stubs (`#[wamp::service]` clients) in-process.
    pub const TYPED: &str = "ours.typed";
    /// Autobahn|Python clients against Crossbar.io.
    pub const AUTOBAHN: &str = "crossbar.autobahn";
    /// Our client against Crossbar.io.
    pub const OURS_ON_CROSSBAR: &str = "crossbar.ours_client";
    /// An unrelated publisher/subscriber pair alone and during a burst at
    /// a slow reader, our router over WebSocket + JSON ([`super::Burst`]).
    pub const BURST: &str = "ours.burst";
    /// The batched echo with its server in another process.
    pub const PROCESS_ECHO: &str = "process.ws_echo";
    /// Our client against `wamp router` in another process, WebSocket + JSON.
    pub const PROCESS_WS_JSON: &str = "process.ws_json";
    /// The same, with the router on one thread and the client on a
    /// current-thread runtime.
    pub const PROCESS_WS_JSON_ONE_THREAD: &str = "process.ws_json_1thread";
    /// Our client process against `wamp router` in another process
    /// (section "Rust peers").
    pub const PEER_OURS: &str = "peers.ours";
    /// battler-wamp's client process against battler-wamp's router process.
    pub const PEER_BATTLER: &str = "peers.battler";
    /// battler-wamp's client process against `wamp router`.
    pub const PEER_BATTLER_ON_OURS: &str = "peers.battler_client_on_ours";
    /// wamp_async's client process against `wamp router`.
    pub const PEER_WAMP_ASYNC_ON_OURS: &str = "peers.wamp_async_client_on_ours";
}

/// Stable target IDs ([`TargetResult::id`](crate::report::TargetResult::id)), for tracking targets
/// across runs whatever their wording.
pub mod target_ids {
    /// Pipelined calls, WebSocket+JSON vs the echo with a flush per frame.
    pub const VS_ECHO_PER_FRAME: &str = "pipelined_vs_echo_per_frame";
    /// Pipelined calls, WebSocket+JSON vs the batched echo.
    pub const VS_ECHO_BATCHED: &str = "pipelined_vs_echo_batched";
    /// Sequential call p50 vs the echo's.
    pub const SEQ_P50_VS_ECHO: &str = "seq_p50_vs_echo";
    /// Pipelined calls, ours vs Crossbar.io + Autobahn|Python.
    pub const PIPELINED_VS_AUTOBAHN: &str = "pipelined_vs_autobahn";
    /// Events (1 subscriber), ours vs Crossbar.io + Autobahn|Python.
    pub const EVENTS_VS_AUTOBAHN: &str = "events_vs_autobahn";
    /// Deliveries/s to 100 subscribers vs the 1-subscriber event rate.
    pub const FANOUT_100_VS_1: &str = "fanout_100_vs_1";
    /// Deliveries/s to 1,000 subscribers vs the 1-subscriber event rate.
    pub const FANOUT_1000_VS_1: &str = "fanout_1000_vs_1";
    /// Pipelined calls, in-process vs WebSocket+JSON.
    pub const LOCAL_VS_WS_JSON: &str = "local_vs_ws_json";
    /// Typed stub calls vs untyped, in-process.
    pub const TYPED_VS_UNTYPED: &str = "typed_vs_untyped";
    /// An unrelated pair's event rate during a burst vs alone.
    pub const BYSTANDER_DURING_BURST: &str = "bystander_during_burst";
    /// Router memory per idle session.
    pub const ROUTER_MEMORY: &str = "router_memory_per_session";
    /// Router memory per idle session at 50,000 sessions (issue 13's goal).
    pub const SESSIONS_KIB: &str = "sessions_kib";
    /// Calls with a 64 KiB argument, MB/s vs the echo of frames that size
    /// (the worse of the text and binary rows).
    pub const PAYLOAD_64K_VS_ECHO: &str = "payload_64k_vs_echo";
    /// The same with a 1 MiB argument.
    pub const PAYLOAD_1M_VS_ECHO: &str = "payload_1m_vs_echo";
    /// Sequential call p50, router in its own process, vs twice the echo
    /// p50 between two processes.
    pub const SEQ_VS_ECHO_PROCESS: &str = "seq_vs_echo_process";
    /// Pipelined calls/s, router in its own process, vs the batched echo
    /// between two processes.
    pub const PIPELINED_VS_ECHO_PROCESS: &str = "pipelined_vs_echo_process";
    /// CPU per call with 120,000 registrations in the realm vs with one.
    pub const MATCH_SCALE_CALLS: &str = "match_scale_calls";
    /// CPU per event with 120,000 subscriptions in the realm vs with one.
    pub const MATCH_SCALE_EVENTS: &str = "match_scale_events";
    /// Pipelined calls/s, our client and router vs the best other Rust
    /// stack's own client and router (battler-wamp), each in processes of
    /// their own.
    pub const VS_BEST_RUST_PEER_CALLS: &str = "vs_best_rust_peer_calls";
    /// Events/s to one subscriber, the same comparison.
    pub const VS_BEST_RUST_PEER_EVENTS: &str = "vs_best_rust_peer_events";
}

/// Latency figures from a sequential workload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    /// Median round trip, microseconds.
    pub p50_us: f64,
    /// 99th percentile round trip, microseconds.
    pub p99_us: f64,
    /// Round trips per second (one at a time).
    pub per_s: f64,
    /// How many round trips were measured.
    pub count: usize,
}

impl Latency {
    /// Figures from per-operation samples taken over `elapsed` of wall time.
    pub fn from_samples(mut samples: Vec<Duration>, elapsed: Duration) -> Latency {
        samples.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        Latency {
            p50_us: percentile(&samples, 50.0).map_or(f64::NAN, us),
            p99_us: percentile(&samples, 99.0).map_or(f64::NAN, us),
            per_s: samples.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            count: samples.len(),
        }
    }
}

/// The nearest-rank percentile of sorted samples (`p` in `0..=100`): the
/// smallest sample with at least `p`% of the samples at or below it. No
/// interpolation, so the figure is always a latency that was observed.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// One stack's figures. `None` means "not measured" (not applicable,
/// skipped, or failed: the note says which).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    /// Stable key (see [`ids`]) for targets and for tracking across runs.
    pub id: String,
    /// What the row measures, for people.
    pub label: String,
    /// Sequential round trip, median, microseconds.
    pub seq_p50_us: Option<f64>,
    /// Sequential round trip, 99th percentile, microseconds.
    pub seq_p99_us: Option<f64>,
    /// Sequential round trips per second.
    pub seq_per_s: Option<f64>,
    /// Round trips per second with 256 in flight.
    pub pipelined_per_s: Option<f64>,
    /// Process CPU microseconds per pipelined round trip (client and router
    /// together): steadier than rates on a shared machine.
    pub pipelined_cpu_us: Option<f64>,
    /// Events per second, one publisher to one subscriber.
    pub events_per_s: Option<f64>,
    /// Process CPU microseconds per event, one subscriber.
    pub events_cpu_us: Option<f64>,
    /// Deliveries per second (all subscribers together), one publisher to 100 subscribers.
    pub fanout_per_s: Option<f64>,
    /// Process CPU microseconds per delivery, 100 subscribers.
    pub fanout_cpu_us: Option<f64>,
    /// Deliveries per second (all subscribers together), one publisher to
    /// 1,000 subscribers (our stack only; a shorter window).
    pub fanout_1000_per_s: Option<f64>,
    /// Process CPU microseconds per delivery, 1,000 subscribers.
    pub fanout_1000_cpu_us: Option<f64>,
    /// Events published but not yet delivered (summed over subscribers)
    /// when the publisher stopped, 1 subscriber: what the queues and socket
    /// buffers between them held.
    pub events_backlog: Option<u64>,
    /// The same, 100 subscribers.
    pub fanout_backlog: Option<u64>,
    /// The same, 1,000 subscribers.
    pub fanout_1000_backlog: Option<u64>,
    /// Caveats, skip reasons, errors.
    pub note: String,
}

impl Row {
    /// An empty row, to be filled by a workload.
    pub fn new(id: &str, label: &str) -> Row {
        Row {
            id: id.into(),
            label: label.into(),
            ..Default::default()
        }
    }

    /// A row with no figures and a reason.
    pub fn skipped(id: &str, label: &str, note: impl Into<String>) -> Row {
        Row {
            note: note.into(),
            ..Row::new(id, label)
        }
    }

    /// Fills the sequential columns.
    pub fn set_seq(&mut self, l: Latency) {
        self.seq_p50_us = Some(l.p50_us);
        self.seq_p99_us = Some(l.p99_us);
        self.seq_per_s = Some(l.per_s);
    }

    /// Appends to the note.
    pub fn add_note(&mut self, text: impl AsRef<str>) {
        append_note(&mut self.note, text.as_ref());
    }
}

/// Router memory per idle session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Memory {
    /// Sessions connected and joined.
    pub sessions: usize,
    /// Router process RSS growth per session, KiB.
    pub router_kib_per_session: Option<f64>,
    /// Sessions connected and joined per second (WebSocket handshake, HELLO, WELCOME).
    pub join_per_s: Option<f64>,
    /// Bench (client) process RSS growth per session, KiB: what our client
    /// costs per idle session, for information.
    pub client_kib_per_session: Option<f64>,
    /// How it was measured, caveats, skip reasons, errors.
    pub note: String,
}

/// An unrelated publisher/subscriber pair's event rate on our router, alone
/// and while another publisher floods a subscriber that reads slowly (its
/// queues congested, so the router holds that publisher back): what a
/// burst costs everyone else, and whether anyone was closed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Burst {
    /// Stable key ([`ids::BURST`]).
    pub id: String,
    /// What it measures, for people.
    pub label: String,
    /// The pair's events per second, alone.
    pub alone_per_s: Option<f64>,
    /// Process CPU microseconds per event, the pair alone.
    pub alone_cpu_us: Option<f64>,
    /// The pair's events per second during the flood.
    pub during_per_s: Option<f64>,
    /// Process CPU microseconds per event delivered on either topic
    /// during the flood (the pair's and the slow reader's).
    pub during_cpu_us: Option<f64>,
    /// Flood events the slow reader received per second, same window.
    pub flood_per_s: Option<f64>,
    /// Sessions taking part.
    pub sessions: usize,
    /// Sessions closed (or subscriptions ended) during the workload; `None`
    /// when it failed before it could tell.
    pub sessions_closed: Option<usize>,
    /// How it was measured, what was closed and why, errors.
    pub note: String,
}

/// Appends `text` to a note, `; `-separated.
fn append_note(note: &mut String, text: &str) {
    if !note.is_empty() {
        note.push_str("; ");
    }
    note.push_str(text);
}

/// Calls carrying one large argument through our router, which the callee
/// sends back, against a bare echo of frames of the same size
/// (`crate::payloads`). Rates are round trips per second; MB/s is that
/// times [`PayloadRow::bytes`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct PayloadRow {
    /// Stable key, `payload.<size>_<kind>`.
    pub id: String,
    /// What it measures, for people.
    pub label: String,
    /// The argument's size in bytes.
    pub bytes: usize,
    /// Echo round trips per second.
    pub echo_per_s: Option<f64>,
    /// Process CPU microseconds per echo round trip.
    pub echo_cpu_us: Option<f64>,
    /// Calls per second, the router forwarding payloads as they came.
    pub kept_per_s: Option<f64>,
    /// Process CPU microseconds per call (client and router), same.
    pub kept_cpu_us: Option<f64>,
    /// Calls per second, the router decoding and encoding every payload
    /// (how it worked before payloads were kept).
    pub decoded_per_s: Option<f64>,
    /// Process CPU microseconds per call, same.
    pub decoded_cpu_us: Option<f64>,
    /// Errors and caveats.
    pub note: String,
}

impl PayloadRow {
    /// Appends to the note.
    pub fn add_note(&mut self, text: impl AsRef<str>) {
        append_note(&mut self.note, text.as_ref());
    }

    fn mb_s(&self, per_s: Option<f64>) -> Option<f64> {
        per_s.map(|r| r * self.bytes as f64 / 1e6)
    }
}

/// Calls and events in a realm holding many registrations and
/// subscriptions (`crate::scale`), against a realm with one each;
/// in-process, so the difference is the router's matching.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scale {
    /// Registrations added (100,000 exact, 10,000 prefix, 10,000
    /// wildcard), and as many subscriptions.
    pub registrations: usize,
    /// Seconds to register them all (256 requests in flight).
    pub register_s: Option<f64>,
    /// Seconds to subscribe them all.
    pub subscribe_s: Option<f64>,
    /// Process memory per registration, bytes (router and the registering
    /// client's handler table).
    pub bytes_per_registration: Option<f64>,
    /// Process memory per subscription, bytes (router and client).
    pub bytes_per_subscription: Option<f64>,
    /// Pipelined calls per second, one registration (the median of the
    /// rounds, as every figure below).
    pub base_calls_per_s: Option<f64>,
    /// Process CPU microseconds per call, one registration.
    pub base_call_cpu_us: Option<f64>,
    /// Pipelined calls per second, the realm filled.
    pub scaled_calls_per_s: Option<f64>,
    /// Process CPU microseconds per call, the realm filled.
    pub scaled_call_cpu_us: Option<f64>,
    /// Events per second to one subscriber, one subscription.
    pub base_events_per_s: Option<f64>,
    /// Process CPU microseconds per event, one subscription.
    pub base_event_cpu_us: Option<f64>,
    /// Events per second, the realm filled.
    pub scaled_events_per_s: Option<f64>,
    /// Process CPU microseconds per event, the realm filled.
    pub scaled_event_cpu_us: Option<f64>,
    /// The router's pattern index alone: nanoseconds per lookup of the
    /// event workload's topic (all matches), with the workload's own URIs
    /// only and filled with the realm's patterns.
    pub index_event_ns: Option<(f64, f64)>,
    /// The same for the call workload's procedure (the best match).
    pub index_call_ns: Option<(f64, f64)>,
    /// The same for [`crate::scale::UNFILTERED_TOPIC`] (all matches).
    pub index_unfiltered_ns: Option<(f64, f64)>,
    /// Errors and caveats.
    pub note: String,
}

impl Scale {
    /// Appends to the note.
    pub fn add_note(&mut self, text: impl AsRef<str>) {
        append_note(&mut self.note, text.as_ref());
    }
}

/// One client stack against one router, each in a process of its own
/// (`crate::peers`): calls and events with failures and losses beside the
/// rates, and CPU per operation of either process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerRow {
    /// Stable key ([`ids::PEER_OURS`], ...).
    pub id: String,
    /// Which client against which router.
    pub label: String,
    /// Sequential call round trip, median, microseconds.
    pub seq_p50_us: Option<f64>,
    /// Sequential calls per second.
    pub seq_per_s: Option<f64>,
    /// Sequential calls that failed in their window.
    pub seq_failed: Option<u64>,
    /// Pipelined calls (256 in flight) answered per second.
    pub calls_per_s: Option<f64>,
    /// Pipelined calls that failed in the measured window.
    pub calls_failed: Option<u64>,
    /// The same per second.
    pub calls_failed_per_s: Option<f64>,
    /// Pipelined calls answered per second with 32 in flight
    /// (`crate::peers::FEW_IN_FLIGHT`: under the 48 pending YIELDs
    /// battler-wamp's router keeps per callee).
    pub few_calls_per_s: Option<f64>,
    /// Calls failed per second, the same run.
    pub few_calls_failed_per_s: Option<f64>,
    /// Client process CPU microseconds per pipelined call (caller and
    /// callee; failed calls counted as calls).
    pub call_client_cpu_us: Option<f64>,
    /// Router process CPU microseconds per pipelined call.
    pub call_router_cpu_us: Option<f64>,
    /// Events per second delivered to the one subscriber.
    pub events_per_s: Option<f64>,
    /// Events published in all (warm-up included).
    pub events_published: Option<u64>,
    /// Events published that never arrived (within 2 s after the
    /// publisher stopped).
    pub events_lost: Option<u64>,
    /// Client process CPU microseconds per delivered event (publisher and
    /// subscriber).
    pub event_client_cpu_us: Option<f64>,
    /// Router process CPU microseconds per delivered event.
    pub event_router_cpu_us: Option<f64>,
    /// Events per second delivered to the one subscriber, the publisher
    /// keeping at most 256 events outstanding (published, not yet
    /// delivered), as against Crossbar.io: what a stack that cannot take
    /// an unthrottled publisher sustains.
    pub paced_events_per_s: Option<f64>,
    /// Events published in all, paced.
    pub paced_events_published: Option<u64>,
    /// Events lost, paced.
    pub paced_events_lost: Option<u64>,
    /// Client process CPU microseconds per delivered event, paced.
    pub paced_event_client_cpu_us: Option<f64>,
    /// Router process CPU microseconds per delivered event, paced.
    pub paced_event_router_cpu_us: Option<f64>,
    /// How it ran, first failures, errors.
    pub note: String,
}

impl PeerRow {
    /// An empty row.
    pub fn new(id: &str, label: &str) -> PeerRow {
        PeerRow {
            id: id.into(),
            label: label.into(),
            ..Default::default()
        }
    }

    /// The row with a note.
    pub fn with_note(mut self, text: impl AsRef<str>) -> PeerRow {
        self.add_note(text);
        self
    }

    /// Appends to the note.
    pub fn add_note(&mut self, text: impl AsRef<str>) {
        append_note(&mut self.note, text.as_ref());
    }

    /// Fills the call columns from a client's `result` (`seq` and
    /// `pipelined` objects) and the router's CPU share over its window.
    pub fn set_calls(&mut self, run: &crate::peers::ClientRun) {
        let f = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        let u =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_f64).map(|x| x as u64);
        let seq = &run.result["seq"];
        self.seq_p50_us = f(seq, "p50_us");
        self.seq_per_s = f(seq, "per_s");
        self.seq_failed = u(seq, "failed");
        let p = &run.result["pipelined"];
        if let Some(e) = p.get("error").and_then(serde_json::Value::as_str) {
            self.add_note(format!("pipelined calls: {e}"));
        }
        self.calls_per_s = f(p, "per_s");
        self.calls_failed = u(p, "failed");
        self.calls_failed_per_s = f(p, "failed_per_s").or(self.calls_failed.map(|_| 0.0));
        self.call_client_cpu_us = f(p, "cpu_us");
        let attempted = self.calls_per_s.unwrap_or(0.0) + self.calls_failed_per_s.unwrap_or(0.0);
        self.call_router_cpu_us = run
            .router_cpu_share
            .filter(|_| attempted > 0.0)
            .map(|share| share * 1e6 / attempted);
        for (what, v) in [("sequential", seq), ("pipelined", p)] {
            if let Some(e) = v.get("first_error").and_then(serde_json::Value::as_str) {
                self.add_note(format!("first failed {what} call: {e}"));
            }
        }
    }

    /// Fills the columns of the pipelined calls with fewer in flight.
    pub fn set_few_calls(&mut self, run: &crate::peers::ClientRun) {
        let p = &run.result["pipelined"];
        let f = |k: &str| p.get(k).and_then(serde_json::Value::as_f64);
        if let Some(e) = p.get("error").and_then(serde_json::Value::as_str) {
            self.add_note(format!("pipelined calls, fewer in flight: {e}"));
        }
        self.few_calls_per_s = f("per_s");
        self.few_calls_failed_per_s = f("failed_per_s").or(self.few_calls_per_s.map(|_| 0.0));
        if let Some(e) = p.get("first_error").and_then(serde_json::Value::as_str) {
            self.add_note(format!("first failed call, fewer in flight: {e}"));
        }
    }

    /// The best pipelined calls/s answered, with 256 or fewer in flight.
    pub fn best_calls_per_s(&self) -> Option<f64> {
        match (self.calls_per_s, self.few_calls_per_s) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fills the event columns, unthrottled or `paced` ([`EVENT_WINDOW`]
    /// outstanding), from a client's `result` (`events` object).
    ///
    /// [`EVENT_WINDOW`]: crate::workload::EVENT_WINDOW
    pub fn set_events(&mut self, run: &crate::peers::ClientRun, paced: bool) {
        let e = &run.result["events"];
        let f = |k: &str| e.get(k).and_then(serde_json::Value::as_f64);
        let what = if paced {
            "paced events"
        } else {
            "unthrottled events"
        };
        let first_error = e.get("first_error").and_then(serde_json::Value::as_str);
        if let Some(err) = e.get("error").and_then(serde_json::Value::as_str) {
            let after = f("failed_after_s").map_or(String::new(), |s| format!(" after {} s", fmt_num(s, 2)));
            self.add_note(format!(
                "{what}: {err}{after} ({} published, {} delivered; first error: {})",
                fmt_num(f("published").unwrap_or(0.0), 0),
                fmt_num(f("delivered_total").unwrap_or(0.0), 0),
                first_error.unwrap_or("none")
            ));
            return;
        }
        let per_s = f("per_s");
        let router_cpu = run
            .router_cpu_share
            .zip(per_s)
            .filter(|&(_, r)| r > 0.0)
            .map(|(share, r)| share * 1e6 / r);
        let (lost, published) = (f("lost").map(|x| x as u64), f("published").map(|x| x as u64));
        if paced {
            (self.paced_events_per_s, self.paced_events_lost) = (per_s, lost);
            self.paced_events_published = published;
            (self.paced_event_client_cpu_us, self.paced_event_router_cpu_us) = (f("cpu_us"), router_cpu);
        } else {
            (self.events_per_s, self.events_lost, self.events_published) = (per_s, lost, published);
            (self.event_client_cpu_us, self.event_router_cpu_us) = (f("cpu_us"), router_cpu);
        }
        if let Some(missed) = f("missed_reported").filter(|&m| m > 0.0) {
            self.add_note(format!(
                "{what}: {} dropped by the client's own subscription channel (lagged)",
                fmt_num(missed, 0)
            ));
        }
        if let Some(err) = first_error {
            let after = f("failed_after_s").map_or(String::new(), |s| format!(" after {} s", fmt_num(s, 2)));
            self.add_note(format!(
                "{what}: publishing failed{after} ({} published by then; window cut to {} s): {err}",
                fmt_num(f("failed_after_published").unwrap_or(0.0), 0),
                fmt_num(f("window_s").unwrap_or(0.0), 2)
            ));
        }
    }

    /// The best event rate of a run without failures or losses:
    /// unthrottled, or else paced.
    pub fn best_events_per_s(&self) -> Option<f64> {
        let clean = |rate: Option<f64>, lost: Option<u64>| rate.filter(|_| lost == Some(0));
        clean(self.events_per_s, self.events_lost).or(clean(self.paced_events_per_s, self.paced_events_lost))
    }
}

/// Outcome of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Met.
    Pass,
    /// Not met.
    Miss,
    /// The thing to measure does not exist yet.
    Pending,
    /// A figure it needs was not measured in this run.
    Skipped,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Miss => "MISS",
            Status::Pending => "PENDING",
            Status::Skipped => "SKIPPED",
        }
    }
}

/// One target of the issue, evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    /// Stable key ([`target_ids`]).
    pub id: String,
    /// What is compared.
    pub name: String,
    /// The goal, e.g. `>= 0.50x`.
    pub goal: String,
    /// The figures compared, human-readable.
    pub measured: String,
    /// The ratio the goal applies to.
    pub ratio: Option<f64>,
    /// PASS / MISS / PENDING / SKIPPED.
    pub status: Status,
}

/// Which way a ratio must go.
#[derive(Debug, Clone, Copy)]
enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

impl Goal {
    fn text(self) -> String {
        match self {
            Goal::AtLeast(x) => format!(">= {x}x"),
            Goal::AtMost(x) => format!("<= {x}x"),
        }
    }

    fn met(self, r: f64) -> bool {
        match self {
            Goal::AtLeast(x) => r >= x,
            Goal::AtMost(x) => r <= x,
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    /// Wall time of the whole run, seconds.
    pub elapsed_s: f64,
    /// Measured seconds per workload (after warm-up).
    pub seconds_per_workload: f64,
    /// CPUs available to the process.
    pub cpus: usize,
    /// `/proc/loadavg` (1, 5, 15 minutes) when the run started and ended: on
    /// a shared machine, a load near the CPU count means noisy figures.
    pub loadavg_start: String,
    /// See `loadavg_start`.
    pub loadavg_end: String,
    /// Size of the CALL frame the echo ceiling echoes.
    pub payload_bytes: usize,
    /// Throughput and latency rows.
    pub rows: Vec<Row>,
    /// Router memory, when measured.
    pub memory: Option<Memory>,
    /// The unrelated pair during a burst, when measured.
    pub burst: Option<Burst>,
    /// Large payloads, when measured.
    pub payloads: Vec<PayloadRow>,
    /// Matching at scale, when measured.
    pub scale: Option<Scale>,
    /// The Rust peers, each client and router in a process of its own,
    /// when measured (`--peers`).
    pub peers: Vec<PeerRow>,
    /// Why the Rust peers were not measured, when `--all` skipped them.
    pub peers_note: String,
    /// The targets, filled by [`Report::evaluate`].
    pub targets: Vec<TargetResult>,
}

impl Report {
    /// The row with this ID.
    pub fn row(&self, id: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.id == id)
    }

    fn get(&self, id: &str, f: impl Fn(&Row) -> Option<f64>) -> Option<f64> {
        self.row(id).and_then(f).filter(|v| v.is_finite())
    }

    /// Evaluates every target of the issue against the rows. Never fails:
    /// a missing figure makes a target SKIPPED.
    pub fn evaluate(&mut self) {
        use ids::*;
        use target_ids as t_id;
        let mut t = Vec::new();
        let pipe = |r: &Row| r.pipelined_per_s;
        let events = |r: &Row| r.events_per_s;

        t.push(ratio_target(
            t_id::VS_ECHO_PER_FRAME,
            "pipelined calls/s, WebSocket+JSON vs bare echo round trips/s, a flush per frame (the issue's anchor)",
            self.get(WS_JSON, pipe),
            self.get(CEILING_PER_FRAME, pipe),
            "/s",
            Goal::AtLeast(0.5),
        ));
        t.push(ratio_target(
            t_id::VS_ECHO_BATCHED,
            "pipelined calls/s, WebSocket+JSON vs bare echo round trips/s, batched (the transport's limit)",
            self.get(WS_JSON, pipe),
            self.get(CEILING, pipe),
            "/s",
            Goal::AtLeast(0.5),
        ));
        t.push(ratio_target(
            t_id::SEQ_P50_VS_ECHO,
            "sequential call p50, WebSocket+JSON vs bare echo round trip p50",
            self.get(WS_JSON, |r| r.seq_p50_us),
            self.get(CEILING, |r| r.seq_p50_us),
            " us",
            Goal::AtMost(2.5),
        ));
        t.push(ratio_target(
            t_id::PIPELINED_VS_AUTOBAHN,
            "pipelined calls/s, ours (WebSocket+JSON) vs Crossbar.io + Autobahn|Python",
            self.get(WS_JSON, pipe),
            self.get(AUTOBAHN, pipe),
            "/s",
            Goal::AtLeast(25.0),
        ));
        t.push(ratio_target(
            t_id::EVENTS_VS_AUTOBAHN,
            "events/s (1 subscriber), ours (WebSocket+JSON) vs Crossbar.io + Autobahn|Python",
            self.get(WS_JSON, events),
            self.get(AUTOBAHN, events),
            "/s",
            Goal::AtLeast(25.0),
        ));
        t.push(ratio_target(
            t_id::FANOUT_100_VS_1,
            "deliveries/s to 100 subscribers vs 1-subscriber events/s (WebSocket+JSON)",
            self.get(WS_JSON, |r| r.fanout_per_s),
            self.get(WS_JSON, events),
            "/s",
            Goal::AtLeast(3.0),
        ));
        t.push(ratio_target(
            t_id::FANOUT_1000_VS_1,
            "deliveries/s to 1,000 subscribers vs 1-subscriber events/s (WebSocket+JSON)",
            self.get(WS_JSON, |r| r.fanout_1000_per_s),
            self.get(WS_JSON, events),
            "/s",
            Goal::AtLeast(4.0),
        ));
        t.push(ratio_target(
            t_id::LOCAL_VS_WS_JSON,
            "pipelined calls/s, in-process vs WebSocket+JSON",
            self.get(LOCAL, pipe),
            self.get(WS_JSON, pipe),
            "/s",
            Goal::AtLeast(5.0),
        ));
        let typed = ratio_target(
            t_id::TYPED_VS_UNTYPED,
            "pipelined calls/s, typed stubs vs untyped (in-process)",
            self.get(TYPED, pipe),
            self.get(LOCAL, pipe),
            "/s",
            Goal::AtLeast(0.9),
        );
        t.push(match self.row(TYPED) {
            Some(r) if r.pipelined_per_s.is_none() => TargetResult {
                measured: r.note.clone(),
                status: Status::Pending,
                ..typed
            },
            _ => typed,
        });
        t.push(self.burst_target());
        t.push(ratio_target(
            t_id::SEQ_VS_ECHO_PROCESS,
            "sequential call p50, router in its own process, vs twice the echo p50 between two processes",
            self.get(PROCESS_WS_JSON, |r| r.seq_p50_us),
            self.get(PROCESS_ECHO, |r| r.seq_p50_us.map(|p| 2.0 * p)),
            " us",
            Goal::AtMost(1.5),
        ));
        t.push(ratio_target(
            t_id::PIPELINED_VS_ECHO_PROCESS,
            "pipelined calls/s, router in its own process, vs the batched echo between two processes",
            self.get(PROCESS_WS_JSON, pipe),
            self.get(PROCESS_ECHO, pipe),
            "/s",
            Goal::AtLeast(0.25),
        ));
        t.push(self.payload_target(t_id::PAYLOAD_64K_VS_ECHO, "64k", "64 KiB"));
        t.push(self.payload_target(t_id::PAYLOAD_1M_VS_ECHO, "1m", "1 MiB"));
        let scale = self.scale.as_ref();
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        t.push(ratio_target(
            t_id::MATCH_SCALE_CALLS,
            "CPU per call with 120,000 registrations in the realm vs one (in-process, one thread)",
            finite(scale.and_then(|s| s.scaled_call_cpu_us)),
            finite(scale.and_then(|s| s.base_call_cpu_us)),
            " us",
            Goal::AtMost(1.2),
        ));
        t.push(ratio_target(
            t_id::MATCH_SCALE_EVENTS,
            "CPU per event with 120,000 subscriptions in the realm vs one (in-process, one thread)",
            finite(scale.and_then(|s| s.scaled_event_cpu_us)),
            finite(scale.and_then(|s| s.base_event_cpu_us)),
            " us",
            Goal::AtMost(1.2),
        ));
        let peer = |id: &str, f: fn(&PeerRow) -> Option<f64>| {
            self.peers
                .iter()
                .find(|r| r.id == id)
                .and_then(f)
                .filter(|v| v.is_finite())
        };
        let battler = self.peers.iter().find(|r| r.id == PEER_BATTLER);
        let battler_few = battler.is_some_and(|b| b.best_calls_per_s() != b.calls_per_s);
        let mut calls = self.peer_target(
            t_id::VS_BEST_RUST_PEER_CALLS,
            "pipelined calls/s answered (256 in flight), our client and router vs battler-wamp's (the closest Rust \
             peer; the better of 256 and 32 in flight), each in processes of their own",
            peer(PEER_OURS, |r| r.calls_per_s),
            battler.and_then(PeerRow::best_calls_per_s),
            if battler_few {
                None
            } else {
                peer(PEER_BATTLER, |r| r.calls_failed.map(|n| n as f64))
            },
            "failed",
        );
        if battler_few && calls.ratio.is_some() {
            calls
                .measured
                .push_str(" (battler-wamp with 32 in flight: more answered than with 256)");
        }
        t.push(calls);
        let battler_paced = battler.is_some_and(|b| b.best_events_per_s() != b.events_per_s);
        let mut events = self.peer_target(
            t_id::VS_BEST_RUST_PEER_EVENTS,
            "events/s delivered to 1 subscriber, our client and router (unthrottled publisher) vs battler-wamp's \
             (unthrottled, or where that failed or lost events, 256 outstanding), each in processes of their own",
            peer(PEER_OURS, |r| r.events_per_s),
            battler.and_then(PeerRow::best_events_per_s),
            None,
            "lost",
        );
        if battler_paced && events.ratio.is_some() {
            events
                .measured
                .push_str(" (battler-wamp paced: unthrottled, it failed or lost events)");
        }
        t.push(events);
        t.push(self.memory_target(t_id::ROUTER_MEMORY, "router memory per idle session", 20.0));
        t.push(self.memory_target(
            t_id::SESSIONS_KIB,
            "router memory per idle session, at 50,000 sessions where the open-files limit allows (the count is in the memory table)",
            12.0,
        ));
        self.targets = t;
    }

    /// Ours vs the Rust peer's own stack, at least 2x, with the peer's
    /// failures (or losses) beside its figure.
    fn peer_target(
        &self,
        id: &str,
        name: &str,
        ours: Option<f64>,
        peer: Option<f64>,
        peer_failed: Option<f64>,
        failed_word: &str,
    ) -> TargetResult {
        let mut target = ratio_target(id, name, ours, peer, "/s", Goal::AtLeast(2.0));
        if let (Some(n), Some(_)) = (peer_failed, target.ratio) {
            let _ = write!(
                target.measured,
                " (battler-wamp: {} {failed_word})",
                fmt_num(n, 0)
            );
        }
        if target.status == Status::Skipped && !self.peers_note.is_empty() {
            target.measured = self.peers_note.clone();
        }
        target
    }

    /// Router memory per idle session against a limit in KiB.
    fn memory_target(&self, id: &str, name: &str, limit: f64) -> TargetResult {
        let memory = self.memory.as_ref();
        let target = TargetResult {
            id: id.into(),
            name: name.into(),
            goal: format!("<= {limit} KiB"),
            measured: "not measured".into(),
            ratio: None,
            status: Status::Skipped,
        };
        match memory.and_then(|m| m.router_kib_per_session) {
            Some(k) => TargetResult {
                measured: format!(
                    "{} KiB ({} sessions)",
                    fmt_num(k, 2),
                    fmt_num(memory.map_or(0, |m| m.sessions) as f64, 0)
                ),
                ratio: Some(k / limit),
                status: if k <= limit { Status::Pass } else { Status::Miss },
                ..target
            },
            None => target,
        }
    }

    /// Calls with a large argument vs the echo, MB/s: the worse of the
    /// text and binary rows of that size.
    fn payload_target(&self, id: &str, size: &str, size_text: &str) -> TargetResult {
        let prefix = format!("payload.{size}_");
        let worst = self
            .payloads
            .iter()
            .filter(|r| r.id.starts_with(&prefix))
            .filter_map(|r| {
                Some((
                    r,
                    r.mb_s(r.kept_per_s)?,
                    r.mb_s(r.echo_per_s).filter(|e| *e > 0.0)?,
                ))
            })
            .min_by(|a, b| (a.1 / a.2).total_cmp(&(b.1 / b.2)));
        let mut target = ratio_target(
            id,
            &format!("MB/s of calls with a {size_text} argument vs the echo's with frames that size (the worse of text and binary)"),
            worst.map(|w| w.1),
            worst.map(|w| w.2),
            " MB/s",
            Goal::AtLeast(0.4),
        );
        if let Some((row, ..)) = worst {
            let _ = write!(target.measured, " ({})", row.label);
        }
        target
    }

    /// The unrelated pair's rate during the burst vs alone; a MISS
    /// whatever the ratio if a session was closed.
    fn burst_target(&self) -> TargetResult {
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        let b = self.burst.as_ref();
        let mut target = ratio_target(
            target_ids::BYSTANDER_DURING_BURST,
            "events/s of an unrelated pair during a burst at a slow reader vs alone (WebSocket+JSON)",
            finite(b.and_then(|b| b.during_per_s)),
            finite(b.and_then(|b| b.alone_per_s)),
            "/s",
            Goal::AtLeast(0.5),
        );
        if let Some(closed) = b.and_then(|b| b.sessions_closed).filter(|&n| n > 0) {
            let sessions = b.map_or(0, |b| b.sessions);
            let _ = write!(target.measured, "; {closed} of {sessions} sessions closed");
            target.status = Status::Miss;
        }
        target
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# wamp-bench");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Run at unix time {}, {:.0} s in all, {} CPUs, load average {} at the start and {} at the end \
             (other processes compete for the CPUs when it nears {}). {} s measured per workload after a \
             warm-up. Everything on 127.0.0.1, client and router in one process. The echo ceiling \
             (tokio-tungstenite, default settings as in our transports) echoes a {}-byte text frame, the \
             size of the JSON CALL `com.bench.add2(2, 3)`, twice: batched (feed what is ready, flush \
             once, as our transports write) and with a write and flush per frame (the plain echo, how \
             the issue's anchor of about 140,000 round trips/s was taken). Pipelined: 256 calls in flight. Events: \
             unacknowledged publishes, unthrottled: the router's flow control holds the publisher back while a \
             subscriber's queue is congested (nobody is closed for being slow). The 1,000-subscriber fan-out \
             (our stack only) measures at most 1 s.",
            self.started_unix,
            self.elapsed_s,
            self.cpus,
            self.loadavg_start,
            self.loadavg_end,
            self.cpus,
            self.seconds_per_workload,
            self.payload_bytes
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "## Throughput and latency");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "| Stack | seq p50 us | seq p99 us | seq calls/s | pipelined calls/s | CPU us/call | events/s (1 sub) | CPU us/event | deliveries/s (100 subs) | CPU us/delivery | deliveries/s (1,000 subs) | CPU us/delivery | Note |"
        );
        let _ = writeln!(
            s,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&r.label),
                opt(r.seq_p50_us, 1),
                opt(r.seq_p99_us, 1),
                opt(r.seq_per_s, 0),
                opt(r.pipelined_per_s, 0),
                opt(r.pipelined_cpu_us, 2),
                opt(r.events_per_s, 0),
                opt(r.events_cpu_us, 2),
                opt(r.fanout_per_s, 0),
                opt(r.fanout_cpu_us, 2),
                opt(r.fanout_1000_per_s, 0),
                opt(r.fanout_1000_cpu_us, 2),
                cell(&r.note)
            );
        }
        if let Some(b) = &self.burst {
            let _ = writeln!(s);
            let _ = writeln!(s, "## An unrelated pair during a burst");
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "| Stack | pair alone events/s | CPU us/event | pair during burst events/s | ratio | flood events/s to the slow reader | CPU us/event (both topics) | sessions closed | Note |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
            let ratio = b
                .during_per_s
                .zip(b.alone_per_s)
                .filter(|&(_, alone)| alone > 0.0)
                .map(|(during, alone)| format!("{}x", fmt_num(during / alone, 2)));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&b.label),
                opt(b.alone_per_s, 0),
                opt(b.alone_cpu_us, 2),
                opt(b.during_per_s, 0),
                ratio.unwrap_or_else(|| "–".into()),
                opt(b.flood_per_s, 0),
                opt(b.during_cpu_us, 2),
                b.sessions_closed
                    .map_or("–".into(), |n| format!("{n} of {}", b.sessions)),
                cell(&b.note)
            );
        }
        if !self.payloads.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "## Large payloads");
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "Calls whose callee sends the argument back, {} in flight, vs a bare echo of the CALL frame. \
                 \"kept\": the router forwards payloads as their senders encoded them; \"decoded\": the same \
                 router decoding and re-encoding them (before). Ratios: kept MB/s over echo MB/s (0.5x is the ceiling: \
                 four hops against two). The three take turns in {} rounds, each figure the median of its rounds.",
                crate::payloads::LANES,
                crate::workload::ROUNDS
            );
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "| Payload | echo MB/s | CPU us/echo | kept MB/s | CPU us/call | vs echo | decoded MB/s | CPU us/call | kept vs decoded | Note |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            for r in &self.payloads {
                let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) if b > 0.0 => format!("{}x", fmt_num(a / b, 2)),
                    _ => "–".into(),
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    cell(&r.label),
                    opt(r.mb_s(r.echo_per_s), 1),
                    opt(r.echo_cpu_us, 0),
                    opt(r.mb_s(r.kept_per_s), 1),
                    opt(r.kept_cpu_us, 0),
                    ratio(r.kept_per_s, r.echo_per_s),
                    opt(r.mb_s(r.decoded_per_s), 1),
                    opt(r.decoded_cpu_us, 0),
                    ratio(r.kept_per_s, r.decoded_per_s),
                    cell(&r.note)
                );
            }
        }
        if let Some(sc) = &self.scale {
            let _ = writeln!(s);
            let _ = writeln!(s, "## Matching at scale");
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "In-process, on a current-thread runtime (the routing's CPU, without hand-offs between threads): a \
                 realm holding {} registrations and as many subscriptions (100,000 exact, 10,000 \
                 prefix, 10,000 wildcard) besides the workload's own, against a realm (of a second router in the same \
                 process) with the workload's own only; the two measured in turns, {} rounds, medians. Registered in \
                 {} s ({} bytes each), subscribed in {} s ({} bytes each; process memory, router and client).",
                fmt_num(sc.registrations as f64, 0),
                crate::scale::SCALE_ROUNDS,
                opt(sc.register_s, 2),
                opt(sc.bytes_per_registration, 0),
                opt(sc.subscribe_s, 2),
                opt(sc.bytes_per_subscription, 0),
            );
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "| Realm | calls/s | CPU us/call | events/s | CPU us/event | Note |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|---|");
            let _ = writeln!(
                s,
                "| one registration and subscription | {} | {} | {} | {} | |",
                opt(sc.base_calls_per_s, 0),
                opt(sc.base_call_cpu_us, 2),
                opt(sc.base_events_per_s, 0),
                opt(sc.base_event_cpu_us, 2),
            );
            let _ = writeln!(
                s,
                "| filled | {} | {} | {} | {} | {} |",
                opt(sc.scaled_calls_per_s, 0),
                opt(sc.scaled_call_cpu_us, 2),
                opt(sc.scaled_events_per_s, 0),
                opt(sc.scaled_event_cpu_us, 2),
                cell(&sc.note)
            );
            if let (Some((event_one, event_filled)), Some((call_one, call_filled))) =
                (sc.index_event_ns, sc.index_call_ns)
            {
                let _ = writeln!(s);
                let _ = writeln!(
                    s,
                    "The router's pattern index alone, outside any session (the fastest of {} batches of {} \
                     lookups): an event's topic, all matches, {event_filled:.0} ns filled against {event_one:.0} ns \
                     with the workload's own URIs only; a call's procedure, the best match, {call_filled:.0} ns \
                     against {call_one:.0} ns.",
                    crate::scale::INDEX_BATCHES,
                    fmt_num(crate::scale::INDEX_LOOKUPS as f64, 0),
                );
                if let Some((one, filled)) = sc.index_unfiltered_ns {
                    let _ = writeln!(
                        s,
                        "A topic that the index's filters spare nothing (`{}`: a `.` where some prefixes end, and the \
                         wildcards' number of components), all matches: {filled:.0} ns filled against {one:.0} ns.",
                        crate::scale::UNFILTERED_TOPIC,
                    );
                }
            }
        }
        if !self.peers.is_empty() || !self.peers_note.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "## Rust peers");
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "Every router and every client in a process of its own, WebSocket + JSON, the workloads above: \
                 calls one at a time, then {} in flight, then 32 (calls/s counts the answered ones; failed ones beside \
                 them); one publisher, unacknowledged and unthrottled, to one subscriber (lost: published, never \
                 delivered within 2 s after the publisher stopped). CPU per operation of the client process \
                 (caller and callee, or publisher and subscriber) and of the router process, over the same \
                 window. battler-wamp's router runs with its per-connection limits lifted (no message rate \
                 limit, 16 MiB messages and frames, no connection caps, no idle timeout).",
                crate::workload::IN_FLIGHT
            );
            if !self.peers_note.is_empty() {
                let _ = writeln!(s);
                let _ = writeln!(s, "{}", self.peers_note);
            }
            if !self.peers.is_empty() {
                let _ = writeln!(s);
                let _ = writeln!(
                    s,
                    "| Client -> router | seq p50 us | seq calls/s | pipelined calls/s | failed/s | client CPU us/call | router CPU us/call | calls/s, 32 in flight | failed/s | events/s | lost | client CPU us/event | router CPU us/event | events/s, 256 outstanding | lost | client CPU us/event | router CPU us/event | Note |"
                );
                let _ = writeln!(
                    s,
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
                );
                for r in &self.peers {
                    let lost = |lost: Option<u64>, published: Option<u64>| match (lost, published) {
                        (Some(l), Some(p)) => format!("{} of {}", fmt_num(l as f64, 0), fmt_num(p as f64, 0)),
                        (Some(l), None) => fmt_num(l as f64, 0),
                        _ => "–".into(),
                    };
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                        cell(&r.label),
                        opt(r.seq_p50_us, 1),
                        opt(r.seq_per_s, 0),
                        opt(r.calls_per_s, 0),
                        opt(r.calls_failed_per_s, 0),
                        opt(r.call_client_cpu_us, 2),
                        opt(r.call_router_cpu_us, 2),
                        opt(r.few_calls_per_s, 0),
                        opt(r.few_calls_failed_per_s, 0),
                        opt(r.events_per_s, 0),
                        lost(r.events_lost, r.events_published),
                        opt(r.event_client_cpu_us, 2),
                        opt(r.event_router_cpu_us, 2),
                        opt(r.paced_events_per_s, 0),
                        lost(r.paced_events_lost, r.paced_events_published),
                        opt(r.paced_event_client_cpu_us, 2),
                        opt(r.paced_event_router_cpu_us, 2),
                        cell(&r.note)
                    );
                }
            }
        }
        if let Some(m) = &self.memory {
            let _ = writeln!(s);
            let _ = writeln!(s, "## Router memory per idle session");
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "| Sessions | router KiB/session | joined sessions/s | client KiB/session | Note |"
            );
            let _ = writeln!(s, "|---:|---:|---:|---:|---|");
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                fmt_num(m.sessions as f64, 0),
                opt(m.router_kib_per_session, 2),
                opt(m.join_per_s, 0),
                opt(m.client_kib_per_session, 2),
                cell(&m.note)
            );
        }
        if !self.targets.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "## Targets");
            let _ = writeln!(s);
            let _ = writeln!(s, "| ID | Target | Goal | Measured | Ratio | Result |");
            let _ = writeln!(s, "|---|---|---|---|---:|---|");
            for t in &self.targets {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    t.id,
                    cell(&t.name),
                    t.goal,
                    cell(&t.measured),
                    t.ratio.map_or("–".into(), |r| format!("{}x", fmt_num(r, 2))),
                    t.status.as_str()
                );
            }
        }
        s
    }
}

/// A target on the ratio of two figures.
fn ratio_target(
    id: &str,
    name: &str,
    ours: Option<f64>,
    reference: Option<f64>,
    unit: &str,
    goal: Goal,
) -> TargetResult {
    let digits = if unit == " us" { 1 } else { 0 };
    match (ours, reference) {
        (Some(a), Some(b)) if b > 0.0 => {
            let r = a / b;
            TargetResult {
                id: id.into(),
                name: name.into(),
                goal: goal.text(),
                measured: format!("{}{unit} vs {}{unit}", fmt_num(a, digits), fmt_num(b, digits)),
                ratio: Some(r),
                status: if goal.met(r) { Status::Pass } else { Status::Miss },
            }
        }
        _ => TargetResult {
            id: id.into(),
            name: name.into(),
            goal: goal.text(),
            measured: "not measured".into(),
            ratio: None,
            status: Status::Skipped,
        },
    }
}

/// Text made safe for a Markdown table cell (`|` would end the cell).
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn opt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => fmt_num(v, digits),
        _ => "–".into(),
    }
}

/// A number with `digits` decimals and thin-space-free thousands separators
/// (`1,234,567.8`), so large rates stay readable in a table.
pub fn fmt_num(v: f64, digits: usize) -> String {
    let text = format!("{:.*}", digits, v.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7u32], 99.0), Some(7));
        assert_eq!(percentile::<u32>(&[], 50.0), None);
        // Three samples: the median is the middle one, p99 the largest.
        assert_eq!(percentile(&[1, 2, 3], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3], 99.0), Some(3));
    }

    #[test]
    fn latency_from_unsorted_samples() {
        let samples = [30u64, 10, 20, 40].map(Duration::from_micros).to_vec();
        let l = Latency::from_samples(samples, Duration::from_millis(2));
        assert_eq!(l.p50_us, 20.0);
        assert_eq!(l.p99_us, 40.0);
        assert_eq!(l.count, 4);
        assert_eq!(l.per_s, 2000.0);
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(fmt_num(1234567.0, 0), "1,234,567");
        assert_eq!(fmt_num(999.0, 0), "999");
        assert_eq!(fmt_num(1000.0, 0), "1,000");
        assert_eq!(fmt_num(12.345, 1), "12.3");
        assert_eq!(fmt_num(-1234.5, 1), "-1,234.5");
        assert_eq!(fmt_num(-0.001, 1), "0.0");
        assert_eq!(fmt_num(0.0, 2), "0.00");
    }

    fn sample_report() -> Report {
        let mut ceiling = Row::new(ids::CEILING, "bare WebSocket echo");
        ceiling.seq_p50_us = Some(20.0);
        ceiling.pipelined_per_s = Some(1_000_000.0);
        let mut per_frame = Row::new(ids::CEILING_PER_FRAME, "bare WebSocket echo, a flush per frame");
        per_frame.pipelined_per_s = Some(200_000.0);
        let mut ws = Row::new(ids::WS_JSON, "ours: WebSocket + JSON");
        ws.seq_p50_us = Some(60.0);
        ws.pipelined_per_s = Some(120_000.0);
        ws.events_per_s = Some(100_000.0);
        ws.fanout_per_s = Some(250_000.0);
        ws.fanout_1000_per_s = Some(450_000.0);
        ws.fanout_1000_cpu_us = Some(1.25);
        let mut local = Row::new(ids::LOCAL, "ours: in-process");
        local.pipelined_per_s = Some(700_000.0);
        Report {
            payload_bytes: 41,
            rows: vec![
                ceiling,
                per_frame,
                ws,
                local,
                Row::skipped(ids::TYPED, "ours: typed stubs", "pending typed macros"),
            ],
            memory: Some(Memory {
                sessions: 10_000,
                router_kib_per_session: Some(12.5),
                ..Default::default()
            }),
            burst: Some(Burst {
                id: ids::BURST.into(),
                label: "ours: burst".into(),
                alone_per_s: Some(100_000.0),
                alone_cpu_us: Some(4.0),
                during_per_s: Some(80_000.0),
                during_cpu_us: Some(3.5),
                flood_per_s: Some(50_000.0),
                sessions: 4,
                sessions_closed: Some(0),
                note: String::new(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn targets_pass_miss_pending_and_skipped() {
        let mut r = sample_report();
        r.evaluate();
        let status = |prefix: &str| {
            r.targets
                .iter()
                .find(|t| t.name.starts_with(prefix))
                .unwrap_or_else(|| panic!("no target {prefix}"))
                .status
        };
        // 120k / 200k = 0.6 >= 0.5
        assert_eq!(
            status("pipelined calls/s, WebSocket+JSON vs bare echo round trips/s, a flush"),
            Status::Pass
        );
        // 120k / 1M = 0.12 < 0.5
        assert_eq!(
            status("pipelined calls/s, WebSocket+JSON vs bare echo round trips/s, batched"),
            Status::Miss
        );
        // 60 / 20 = 3.0 > 2.5
        assert_eq!(status("sequential call p50"), Status::Miss);
        // no Crossbar row
        assert_eq!(
            status("pipelined calls/s, ours (WebSocket+JSON) vs Crossbar"),
            Status::Skipped
        );
        // 250k / 100k = 2.5 < 3
        assert_eq!(status("deliveries/s to 100"), Status::Miss);
        // 450k / 100k = 4.5 >= 4
        assert_eq!(status("deliveries/s to 1,000"), Status::Pass);
        // 80k / 100k = 0.8 >= 0.5, nobody closed
        assert_eq!(status("events/s of an unrelated pair"), Status::Pass);
        // 700k / 120k = 5.8 >= 5
        assert_eq!(status("pipelined calls/s, in-process"), Status::Pass);
        assert_eq!(status("pipelined calls/s, typed"), Status::Pending);
        assert_eq!(status("router memory"), Status::Pass);
        // Every target has a stable ID of its own.
        let mut ids: Vec<&str> = r.targets.iter().map(|t| t.id.as_str()).collect();
        assert!(ids.contains(&target_ids::FANOUT_1000_VS_1));
        assert!(ids.contains(&target_ids::BYSTANDER_DURING_BURST));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), r.targets.len());
    }

    #[test]
    fn a_closed_session_misses_the_burst_target() {
        let mut r = sample_report();
        if let Some(b) = r.burst.as_mut() {
            b.sessions_closed = Some(1);
        }
        r.evaluate();
        let t = r
            .targets
            .iter()
            .find(|t| t.id == target_ids::BYSTANDER_DURING_BURST)
            .expect("the burst target");
        assert_eq!(t.status, Status::Miss);
        assert!(t.measured.ends_with("; 1 of 4 sessions closed"), "{}", t.measured);
        // No burst measured: skipped.
        r.burst = None;
        r.evaluate();
        let t = r
            .targets
            .iter()
            .find(|t| t.id == target_ids::BYSTANDER_DURING_BURST)
            .expect("the burst target");
        assert_eq!(t.status, Status::Skipped);
    }

    #[test]
    fn peer_targets_compare_with_battlers_own_stack() {
        let mut r = sample_report();
        let mut ours = PeerRow::new(ids::PEER_OURS, "our client -> `wamp router`");
        ours.calls_per_s = Some(180_000.0);
        ours.events_per_s = Some(400_000.0);
        ours.events_lost = Some(0);
        let mut battler = PeerRow::new(ids::PEER_BATTLER, "battler-wamp client -> battler-wamp router");
        battler.calls_per_s = Some(10_000.0);
        battler.calls_failed = Some(12_000);
        // Unthrottled it lost events: the paced figure counts.
        battler.events_per_s = Some(300_000.0);
        battler.events_lost = Some(5);
        battler.paced_events_per_s = Some(250_000.0);
        battler.paced_events_lost = Some(0);
        r.peers = vec![ours, battler];
        r.evaluate();
        let target =
            |r: &Report, id: &str| r.targets.iter().find(|t| t.id == id).expect("the target").clone();
        let calls = target(&r, target_ids::VS_BEST_RUST_PEER_CALLS);
        assert_eq!(calls.status, Status::Pass);
        assert_eq!(calls.ratio, Some(18.0));
        assert!(
            calls.measured.ends_with("(battler-wamp: 12,000 failed)"),
            "{}",
            calls.measured
        );
        let events = target(&r, target_ids::VS_BEST_RUST_PEER_EVENTS);
        assert_eq!(events.ratio, Some(1.6));
        assert_eq!(events.status, Status::Miss);
        // More answered with 32 in flight: that figure counts.
        r.peers[1].few_calls_per_s = Some(20_000.0);
        r.evaluate();
        let calls = target(&r, target_ids::VS_BEST_RUST_PEER_CALLS);
        assert_eq!(calls.ratio, Some(9.0));
        assert!(calls.measured.contains("with 32 in flight"), "{}", calls.measured);
        let md = r.markdown();
        assert!(md.contains("## Rust peers"), "{md}");
        assert!(
            md.contains("| battler-wamp client -> battler-wamp router | – | – | 10,000 |"),
            "{md}"
        );
        // Not measured: skipped, with the reason `--all` gave.
        r.peers.clear();
        r.peers_note = "Rust peers skipped: not built".into();
        r.evaluate();
        let calls = target(&r, target_ids::VS_BEST_RUST_PEER_CALLS);
        assert_eq!(calls.status, Status::Skipped);
        assert_eq!(calls.measured, "Rust peers skipped: not built");
    }

    #[test]
    fn markdown_has_every_row_and_target() {
        let mut r = sample_report();
        r.evaluate();
        let md = r.markdown();
        assert!(
            md.contains("| bare WebSocket echo | 20.0 | – | – | 1,000,000 | – | – | – | – | – | – | – |  |"),
            "{md}"
        );
        assert!(md.contains(
            "| ours: typed stubs | – | – | – | – | – | – | – | – | – | – | – | pending typed macros |"
        ));
        assert!(
            md.contains("| ours: WebSocket + JSON | 60.0 | – | – | 120,000 | – | 100,000 | – | 250,000 | – | 450,000 | 1.25 |  |"),
            "{md}"
        );
        assert!(
            md.contains("| ours: burst | 100,000 | 4.00 | 80,000 | 0.80x | 50,000 | 3.50 | 0 of 4 |  |"),
            "{md}"
        );
        assert!(md.contains("| `fanout_1000_vs_1` | deliveries/s to 1,000 subscribers vs 1-subscriber events/s (WebSocket+JSON) | >= 4x | 450,000/s vs 100,000/s | 4.50x | PASS |"), "{md}");
        assert!(md.contains("| `seq_p50_vs_echo` | sequential call p50, WebSocket+JSON vs bare echo round trip p50 | <= 2.5x | 60.0 us vs 20.0 us | 3.00x | MISS |"), "{md}");
        assert!(md.contains("| `typed_vs_untyped` | pipelined calls/s, typed stubs vs untyped (in-process) | >= 0.9x | pending typed macros | – | PENDING |"), "{md}");
        assert!(md.contains("| 10,000 | 12.50 | – | – |  |"), "{md}");
        // JSON for tracking carries the same figures.
        let json = serde_json::to_value(&r).expect("serializable");
        assert_eq!(json["rows"][2]["pipelined_per_s"], 120_000.0);
        assert_eq!(json["targets"][0]["status"], "PASS");
        assert_eq!(json["targets"][0]["id"], target_ids::VS_ECHO_PER_FRAME);
        assert_eq!(json["burst"]["during_per_s"], 80_000.0);
    }
}
