//! `wamp-bench`: our WAMP stack measured side by side with the transport
//! ceiling and with Crossbar.io + Autobahn|Python, in one run, with the
//! issue's targets printed as ratios (PASS/MISS, never asserted).
//!
//! ```text
//! cargo run --release -p wamp-bench -- --all
//! ```
//!
//! Workload families, one module each: [`ceiling`] (bare WebSocket echo),
//! [`ours`] (our client and embedded router over every transport),
//! [`crossbar`] (Crossbar.io with Autobahn|Python, and our client on it),
//! [`memory`] (router memory per idle session, in a child process),
//! [`peers`] (battler-wamp and wamp_async, the closest Rust peers, every
//! router and client in a process of its own). The WAMP
//! workloads themselves live in [`workload`], shared by `ours` and
//! `crossbar`; [`report`] turns the figures into Markdown and JSON, written
//! to `bench-results/` (git-ignored).

mod ceiling;
mod crossbar;
mod memory;
mod ours;
mod payloads;
mod peers;
mod process;
mod report;
mod scale;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

use crate::report::Report;
use crate::workload::Timing;

#[derive(Parser, Debug)]
#[command(
    name = "wamp-bench",
    about = "Benchmarks of the wamp SDK against the transport ceiling and Crossbar.io",
    after_help = "With no workload flag, runs everything (same as --all)."
)]
struct Args {
    /// Run every workload family.
    #[arg(long)]
    all: bool,
    /// Bare WebSocket echo: the ceiling.
    #[arg(long)]
    ceiling: bool,
    /// Our client and embedded router: WebSocket+JSON, WebSocket+MessagePack, RawSocket, in-process.
    #[arg(long)]
    ours: bool,
    /// Crossbar.io with Autobahn|Python, and our client against Crossbar.io (needs .venv).
    #[arg(long)]
    crossbar: bool,
    /// Router memory per idle session (router in a child process).
    #[arg(long)]
    memory: bool,
    /// Calls with a 64 KiB and a 1 MiB argument vs an echo of frames that size.
    #[arg(long)]
    payloads: bool,
    /// Calls and events with 120,000 registrations and subscriptions in the realm.
    #[arg(long)]
    scale: bool,
    /// `wamp router` in its own process, our client in this one, against an
    /// echo between two processes.
    #[arg(long)]
    process: bool,
    /// The closest Rust peers (battler-wamp), its client and router and
    /// ours, each in a process of its own; builds wamp-bench/peers first.
    /// `--all` runs it only once that project has been built.
    #[arg(long)]
    peers: bool,
    /// Seconds measured per workload (after a warm-up of a quarter of that, at most 0.5 s).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Only the stacks whose row ID contains this (e.g. `ws_json`, `local`,
    /// `autobahn`, `1m_text`): for profiling one stack at a time.
    #[arg(long, value_name = "SUBSTRING")]
    filter: Option<String>,
    /// Sessions connected for the memory measurement (fewer, with a note, where
    /// the open-files limit is lower).
    #[arg(long, default_value_t = 50_000)]
    sessions: usize,
    /// Where to write the Markdown and JSON results (default: `<workspace>/bench-results`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Internal: run as the bare router child of the memory measurement.
    #[arg(long, hide = true)]
    router_child: bool,
    /// Internal: run as the echo server child of the process measurement.
    #[arg(long, hide = true)]
    echo_child: bool,
    /// Internal: run as our client child of the peers measurement (`calls` or `events`).
    #[arg(long, hide = true, value_name = "WORKLOAD")]
    client_child: Option<String>,
    /// Internal: the router URL of `--client-child`.
    #[arg(long, hide = true, value_name = "URL")]
    client_url: Option<String>,
    /// Internal: `--client-child calls` with this many calls in flight.
    #[arg(long, hide = true, default_value_t = workload::IN_FLIGHT)]
    client_inflight: usize,
    /// Internal: `--client-child events` with at most this many events outstanding (0: unthrottled).
    #[arg(long, hide = true, default_value_t = 0)]
    client_window: u64,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.router_child {
        return memory::router_child();
    }
    if args.echo_child {
        return ceiling::echo_child();
    }
    if let Some(workload) = &args.client_child {
        let url = args.client_url.as_deref().unwrap_or("");
        return peers::client_child(
            workload,
            url,
            args.seconds,
            args.client_inflight,
            args.client_window,
        );
    }
    if !(args.ceiling
        || args.ours
        || args.crossbar
        || args.memory
        || args.payloads
        || args.scale
        || args.process
        || args.peers)
    {
        args.all = true;
    }
    if args.all {
        (args.ceiling, args.ours, args.crossbar, args.memory) = (true, true, true, true);
        (args.payloads, args.scale, args.process) = (true, true, true);
    }
    // `--all` takes the Rust peers only once their project has been built
    // (its first build takes minutes): `--peers` builds it.
    let peers_skipped = args.all && !args.peers && !peers::built();
    args.peers |= args.all && !peers_skipped;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wamp-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut report = runtime.block_on(run(&args));
    if peers_skipped {
        report.peers_note = format!(
            "Rust peers skipped: wamp-bench/peers is not built yet; run {}",
            peers::HOW_TO_RUN
        );
        eprintln!("[bench] {}", report.peers_note);
        report.evaluate();
    }
    let markdown = report.markdown();
    println!("{markdown}");
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crossbar::workspace_root().join("bench-results"));
    match write_results(&out, &report, &markdown) {
        Ok(paths) => {
            eprintln!("[bench] wrote {paths}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wamp-bench: cannot write results to {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

/// Runs the selected workload families, each row on a runtime of its own
/// ([`workload::isolated`]), in an order that keeps them from disturbing
/// each other: our stack first, Crossbar.io (a heavy Python process) after
/// it, memory (10,000 connections) last.
async fn run(args: &Args) -> Report {
    let started = Instant::now();
    let timing = Timing::new(args.seconds);
    let mut report = Report {
        started_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        seconds_per_workload: timing.measure.as_secs_f64(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        payload_bytes: ceiling::call_frame().len(),
        loadavg_start: loadavg(),
        ..Default::default()
    };
    if args.ceiling {
        report
            .rows
            .extend(workload::isolated(move || ceiling::run(timing)).await);
    }
    let filter = args.filter.as_deref().unwrap_or("");
    if args.ours {
        let (rows, burst) = ours::run(timing, filter).await;
        report.rows.extend(rows);
        report.burst = burst;
    }
    if args.process {
        report.rows.extend(process::run(timing).await);
    }
    if args.peers {
        // Within `--all`, half a second per workload (their ratios are
        // several times the goal) keeps the whole run near two minutes;
        // `--peers` alone measures the full `--seconds`.
        let timing = if args.all {
            Timing::new(timing.measure.as_secs_f64().min(0.5))
        } else {
            timing
        };
        report.peers = peers::run(timing).await;
    }
    if args.payloads {
        // Within `--all`, half a second per workload is plenty at these
        // sizes (hundreds of megabytes) and keeps the run near two minutes;
        // `--payloads` alone measures the full `--seconds` (for profiling).
        let timing = if args.all {
            Timing::new(timing.measure.as_secs_f64().min(0.5))
        } else {
            timing
        };
        report.payloads = payloads::run(timing, filter).await;
    }
    if args.scale {
        // Five rounds of 0.3 s per realm (`scale::SCALE_ROUNDS`): CPU per
        // event varies too much over windows much shorter.
        let short = Timing::new(timing.measure.as_secs_f64().min(1.5));
        report.scale = Some(workload::isolated(move || scale::run(short)).await);
    }
    if args.crossbar {
        report.rows.extend(crossbar::run(timing, filter).await);
    }
    if args.memory {
        let sessions = args.sessions;
        report.memory = Some(workload::isolated(move || memory::run(sessions)).await);
    }
    report.elapsed_s = started.elapsed().as_secs_f64();
    report.loadavg_end = loadavg();
    report.evaluate();
    report
}

/// The 1, 5 and 15 minute load averages, e.g. `1.91 1.70 1.07`.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Writes `bench-<unix time>.{md,json}` and `latest.{md,json}` into `dir`.
fn write_results(dir: &std::path::Path, report: &Report, markdown: &str) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    let stem = format!("bench-{}", report.started_unix);
    for name in [stem.as_str(), "latest"] {
        std::fs::write(dir.join(format!("{name}.md")), markdown)?;
        std::fs::write(dir.join(format!("{name}.json")), &json)?;
    }
    Ok(format!(
        "{} and .json (also latest.md, latest.json)",
        dir.join(format!("{stem}.md")).display()
    ))
}
