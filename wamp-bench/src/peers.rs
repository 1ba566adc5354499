//! The closest Rust peers, every router and every client in a process of its
//! own: our client against `wamp router`, battler-wamp's client against
//! battler-wamp's router, battler-wamp's and wamp_async's clients against
//! `wamp router`.
//!
//! The peers live in cargo projects of their own, outside the workspace
//! (their dependencies are not the workspace's), built here on demand:
//! `wamp-bench/peers/`, whose binary `wamp-bench-peers` runs battler-wamp's
//! router (`battler-router`, with the limits that would stop a benchmark
//! lifted) and its clients (`battler-client calls|events`), and
//! `wamp-bench/peers/wamp-async/` (`wamp-bench-wamp-async client
//! calls|events`; a lock file of its own, as it pins `rmp` 0.8.11). Our
//! client runs as this binary re-executed with `--client-child
//! calls|events`, the very workload code of the other rows
//! ([`crate::workload`]).
//!
//! Each client prints `window start` and `window end` as its measured
//! window starts and ends (the router's CPU time is read from
//! `/proc/<pid>/stat` then), and last `result {json}`: rates, failures, its
//! own CPU time per operation. Workloads as everywhere: `com.bench.add2(2,
//! 3)` one at a time, then [`IN_FLIGHT`] and [`FEW_IN_FLIGHT`] in flight;
//! one publisher, unacknowledged, unthrottled and then with
//! [`EVENT_WINDOW`] outstanding, to one subscriber.

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use wamp::Serializer;

use crate::crossbar::workspace_root;
use crate::memory::{spawn_router, RouterProcess};
use crate::report::{ids, PeerRow};
use crate::workload::{self, on_worker, pid_cpu, Api, Endpoint, Pace, Timing, EVENT_WINDOW, IN_FLIGHT};

/// The peers' cargo project (battler-wamp), relative to the workspace root.
const PROJECT: &str = "wamp-bench/peers";
/// Its binary.
const BINARY: &str = "wamp-bench-peers";
/// wamp_async's project (a lock file of its own: it pins `rmp` 0.8.11).
const WAMP_ASYNC_PROJECT: &str = "wamp-bench/peers/wamp-async";
/// Its binary.
const WAMP_ASYNC_BINARY: &str = "wamp-bench-wamp-async";

/// Where a project's binary is built (the project's own target directory,
/// whatever `CARGO_TARGET_DIR` says).
fn binary_of(project: &str, binary: &str) -> PathBuf {
    workspace_root().join(project).join("target/release").join(binary)
}

fn binary() -> PathBuf {
    binary_of(PROJECT, BINARY)
}

/// Whether the peers' binary has been built before: `--all` runs the
/// peers only then (a first build takes minutes).
pub fn built() -> bool {
    binary().is_file()
}

/// How to run the peers, for `--all`'s note when they have not been built.
pub const HOW_TO_RUN: &str =
    "`cargo run --release -p wamp-bench -- --peers` (it builds wamp-bench/peers and \
     wamp-bench/peers/wamp-async first: about 5 minutes on 2 cores the first time)";

/// Builds a peers' project: `Err` with the end of cargo's output when it
/// fails, so the rows can say why.
async fn build(project: &str) -> Result<(), String> {
    let root = workspace_root();
    let manifest = root.join(project).join("Cargo.toml");
    let target = root.join(project).join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "[bench] peers: cargo build --release --locked --manifest-path {}",
        manifest.display()
    );
    let started = Instant::now();
    let out = Command::new(cargo)
        .args(["build", "--release", "--locked", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let said = if tail.is_empty() {
            String::new()
        } else {
            format!(": {}", tail.join(" / "))
        };
        return Err(format!("cargo build of {project} failed ({}){said}", out.status));
    }
    eprintln!(
        "[bench] peers: {project} built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Calls in flight of the second pipelined run: under the 48 YIELDs
/// battler-wamp's router keeps pending per callee, so its calls do not
/// fail for that.
pub const FEW_IN_FLIGHT: usize = 32;

/// Which client a row runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    Ours,
    Battler,
    WampAsync,
}

/// Which router a row runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Router {
    Ours,
    Battler,
}

/// The rows, in this order: ours, battler-wamp's own stack, battler-wamp's
/// client against our router, wamp_async's client against our router.
pub async fn run(timing: Timing) -> Vec<PeerRow> {
    let rows = [
        (
            ids::PEER_OURS,
            "our client -> `wamp router`",
            Client::Ours,
            Router::Ours,
        ),
        (
            ids::PEER_BATTLER,
            "battler-wamp client -> battler-wamp router",
            Client::Battler,
            Router::Battler,
        ),
        (
            ids::PEER_BATTLER_ON_OURS,
            "battler-wamp client -> `wamp router`",
            Client::Battler,
            Router::Ours,
        ),
        (
            ids::PEER_WAMP_ASYNC_ON_OURS,
            "wamp_async client -> `wamp router`",
            Client::WampAsync,
            Router::Ours,
        ),
    ];
    let battler = build(PROJECT).await;
    let wamp_async = build(WAMP_ASYNC_PROJECT).await;
    for e in [&battler, &wamp_async]
        .into_iter()
        .filter_map(|r| r.as_ref().err())
    {
        eprintln!("[bench] peers: {e}");
    }
    let mut out = Vec::new();
    for (id, label, client, router_kind) in rows {
        let mut row = PeerRow::new(id, label);
        // Our own row needs neither project.
        let needs = [
            (
                client == Client::Battler || router_kind == Router::Battler,
                &battler,
            ),
            (client == Client::WampAsync, &wamp_async),
        ];
        if let Some(Err(e)) = needs
            .iter()
            .find(|(needed, built)| *needed && built.is_err())
            .map(|n| n.1)
        {
            out.push(row.with_note(e));
            continue;
        }
        eprintln!("[bench] peers: {label}");
        let mut router = match spawn(router_kind).await {
            Ok((r, how)) => {
                row.add_note(format!("router: {how}"));
                r
            }
            Err(e) => {
                out.push(row.with_note(format!("no router process: {e}")));
                continue;
            }
        };
        let command = |args: &[&str], url: &str| -> Command {
            let seconds = timing.measure.as_secs_f64().to_string();
            // `calls N`: N in flight; `events N`: N outstanding.
            let (lanes, window) = match args {
                ["calls", n] => (n.to_string(), None),
                [_, n] => (IN_FLIGHT.to_string(), Some(*n)),
                _ => (IN_FLIGHT.to_string(), None),
            };
            let mut cmd;
            match client {
                Client::Ours => {
                    cmd = Command::new(std::env::current_exe().unwrap_or_else(|_| "wamp-bench".into()));
                    cmd.args([
                        "--client-child",
                        args[0],
                        "--client-url",
                        url,
                        "--seconds",
                        &seconds,
                    ]);
                    if let Some(window) = window {
                        cmd.args(["--client-window", window]);
                    }
                }
                Client::Battler | Client::WampAsync => {
                    if client == Client::Battler {
                        cmd = Command::new(binary());
                        cmd.arg("battler-client");
                    } else {
                        cmd = Command::new(binary_of(WAMP_ASYNC_PROJECT, WAMP_ASYNC_BINARY));
                        cmd.arg("client");
                    }
                    cmd.args([args[0], "--url", url, "--seconds", &seconds]);
                    cmd.args(["--inflight", &lanes]);
                    if let Some(window) = window {
                        cmd.args(["--window", window]);
                    }
                }
            }
            cmd
        };
        let limit = timing.warmup * 2 + timing.measure * 2 + Duration::from_secs(30);
        let (window, few) = (EVENT_WINDOW.to_string(), FEW_IN_FLIGHT.to_string());
        let runs: [(&str, &[&str]); 4] = [
            ("calls", &["calls"]),
            ("calls, fewer in flight", &["calls", &few]),
            ("events", &["events"]),
            ("paced events", &["events", &window]),
        ];
        for (i, (what, args)) in runs.into_iter().enumerate() {
            // A router of its own per workload: what one workload left
            // behind (a backlog, a broken session) cannot slow the next.
            if i > 0 {
                router.stop().await;
                router = match spawn(router_kind).await {
                    Ok((r, _)) => r,
                    Err(e) => {
                        row.add_note(format!("{what}: no router process: {e}"));
                        break;
                    }
                };
            }
            match run_client(command(args, &router.url), router.pid(), limit).await {
                Ok(run) if i == 0 => row.set_calls(&run),
                Ok(run) if i == 1 => row.set_few_calls(&run),
                Ok(run) => row.set_events(&run, i == 3),
                Err(e) => row.add_note(format!("{what} failed: {e}")),
            }
        }
        router.stop().await;
        out.push(row);
    }
    out
}

/// A router process: `wamp router` (or this binary as a bare router), or
/// battler-wamp's with its limits lifted; and how it was started.
async fn spawn(router: Router) -> Result<(RouterProcess, String), String> {
    match router {
        Router::Ours => spawn_router().await,
        Router::Battler => {
            let mut cmd = Command::new(binary());
            cmd.args([
                "battler-router",
                "--ws",
                "127.0.0.1:0",
                "--realm",
                workload::REALM,
            ]);
            let how = "wamp-bench-peers battler-router (no rate limit, 16 MiB messages)".to_string();
            RouterProcess::spawn(cmd, "listening websocket ")
                .await
                .map(|r| (r, how))
        }
    }
}

/// What a client child printed: its result, and the router's CPU time over
/// its measured window.
pub struct ClientRun {
    /// The `result` line's JSON.
    pub result: Value,
    /// The router process's CPU seconds per second of wall time between
    /// `window start` and `window end` (as this process saw them): divided
    /// by the client's rate, the router's CPU per operation.
    pub router_cpu_share: Option<f64>,
}

/// Runs a client child to its end (at most `limit`), reading the router's
/// CPU time at its window markers.
async fn run_client(mut cmd: Command, router: Option<u32>, limit: Duration) -> Result<ClientRun, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start client: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let read = async {
        let mut lines = BufReader::new(stdout).lines();
        let (mut start, mut end, mut result) = (None, None, None);
        while let Ok(Some(line)) = lines.next_line().await {
            let cpu = || router.and_then(pid_cpu).map(|cpu| (Instant::now(), cpu));
            match line.trim() {
                "window start" => start = cpu(),
                "window end" => end = cpu(),
                l => {
                    if let Some(json) = l.strip_prefix("result ") {
                        result = serde_json::from_str::<Value>(json).ok();
                    } else if let Some(e) = l.strip_prefix("error ") {
                        return Err(e.to_owned());
                    }
                }
            }
        }
        let share = start.zip(end).and_then(|((t0, c0), (t1, c1))| {
            let wall = (t1 - t0).as_secs_f64();
            (wall > 0.0).then(|| c1.saturating_sub(c0).as_secs_f64() / wall)
        });
        Ok((result, share))
    };
    let outcome = tokio::time::timeout(limit, read).await;
    let status = match &outcome {
        Ok(_) => tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .ok(),
        Err(_) => None,
    };
    if status.is_none() {
        let _ = child.kill().await;
    }
    let stderr = errors.await.unwrap_or_default();
    let stderr_tail = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    match outcome {
        Err(_) => Err(format!("no result within {} s", limit.as_secs())),
        Ok(Err(e)) => Err(e),
        Ok(Ok((None, _))) => Err(format!("no result line; {stderr_tail}")),
        Ok(Ok((Some(result), router_cpu_share))) => Ok(ClientRun {
            result,
            router_cpu_share,
        }),
    }
}

fn pace(window: u64) -> Pace {
    match window {
        0 => Pace::Unthrottled,
        n => Pace::Window(n),
    }
}

/// Our client as a child of `--peers` (`--client-child calls|events
/// --client-url URL`): the workload code of every other row, over
/// WebSocket + JSON, printing the window markers and a `result` line of the
/// same shape as `wamp-bench-peers battler-client`'s.
pub fn client_child(workload: &str, url: &str, seconds: f64, lanes: usize, window: u64) -> ExitCode {
    workload::print_window_markers();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            println!("error cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let timing = Timing::new(seconds);
    let endpoint = Endpoint::Url {
        url: url.into(),
        serializer: Serializer::Json,
    };
    let result = rt.block_on(async {
        match workload {
            // In a task of its own, as a deployed client's work runs and as
            // the process pair's client does (`on_worker`).
            "calls" => {
                on_worker(
                    async move { workload::calls_with_lanes(&endpoint, timing, Api::Untyped, lanes).await },
                )
                .await
                .map(|c| {
                    json!({
                        "stack": "wamp",
                        "seq": {
                            "p50_us": c.seq.p50_us, "p99_us": c.seq.p99_us,
                            "per_s": c.seq.per_s, "ok": c.seq.count, "failed": 0,
                        },
                        "pipelined": {
                            "per_s": c.pipelined.per_s,
                            "ok": (c.pipelined.per_s * timing.measure.as_secs_f64()).round(),
                            "failed": 0,
                            "cpu_us": c.pipelined.cpu_us,
                            "lanes": lanes,
                        },
                    })
                })
            }
            "events" => on_worker(async move { workload::events(&endpoint, timing, 1, pace(window)).await })
                .await
                .map(|f| {
                    json!({
                        "stack": "wamp",
                        "events": {
                            "per_s": f.rate.per_s,
                            "delivered": (f.rate.per_s * timing.measure.as_secs_f64()).round(),
                            "cpu_us": f.rate.cpu_us,
                            "backlog": f.backlog,
                            // The router holds the publisher back rather
                            // than drop: whatever is owed arrives, unless
                            // it takes longer than the drain allows.
                            "lost": if f.drained { Some(0) } else { None },
                            "paced_window": window,
                        },
                    })
                }),
            other => Err(format!("unknown workload {other:?}")),
        }
    });
    rt.shutdown_background();
    match result {
        Ok(v) => {
            println!("result {v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("error {e}");
            ExitCode::FAILURE
        }
    }
}
