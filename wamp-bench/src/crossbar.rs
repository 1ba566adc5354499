//! The reference stack: Crossbar.io (router) with Autobahn|Python (clients),
//! from the project's virtualenv (`scripts/setup-python.sh`), and our client
//! against the same Crossbar.io node.
//!
//! The Autobahn side runs `wamp-bench/python/autobahn_bench.py`, one mode per
//! process (callee and caller, or publisher and subscribers, in one asyncio
//! loop), which prints one JSON line of figures. Our client runs the very
//! same workload code as against our router ([`crate::workload`]), so the
//! two rows on Crossbar.io compare the client stacks, and the Autobahn row
//! against our WebSocket + JSON row compares the whole stacks.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use wamp::Serializer;

use crate::report::{ids, Row};
use crate::workload::{self, Endpoint, Pace, Plan, Timing, EVENT_WINDOW, FANOUT};

const AUTOBAHN_LABEL: &str = "Crossbar.io + Autobahn|Python (WebSocket + JSON)";
const OURS_LABEL: &str = "our client -> Crossbar.io (WebSocket + JSON)";

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("wamp-bench has a parent")
        .to_path_buf()
}

/// Runs the Autobahn|Python workloads and ours against a fresh Crossbar.io
/// node; skipped (with a message) when the virtualenv is absent. `filter`
/// selects the rows by ID as in [`crate::ours::run`].
pub async fn run(timing: Timing, filter: &str) -> Vec<Row> {
    let (want_autobahn, want_ours) = (
        ids::AUTOBAHN.contains(filter),
        ids::OURS_ON_CROSSBAR.contains(filter),
    );
    if !(want_autobahn || want_ours) {
        return Vec::new();
    }
    let python = workspace_root().join(".venv/bin/python");
    if !python.exists() {
        let note = format!(
            "skipped: no virtualenv at {} (run scripts/setup-python.sh)",
            python.display()
        );
        eprintln!("[bench] Crossbar.io {note}");
        return vec![
            Row::skipped(ids::AUTOBAHN, AUTOBAHN_LABEL, note.clone()),
            Row::skipped(ids::OURS_ON_CROSSBAR, OURS_LABEL, note),
        ];
    }
    eprintln!("[bench] starting Crossbar.io");
    let started = Instant::now();
    let node = match Node::start(&python).await {
        Ok(n) => n,
        Err(e) => {
            let note = format!("Crossbar.io did not start: {e}");
            eprintln!("[bench] {note}");
            return vec![
                Row::skipped(ids::AUTOBAHN, AUTOBAHN_LABEL, note.clone()),
                Row::skipped(ids::OURS_ON_CROSSBAR, OURS_LABEL, note),
            ];
        }
    };
    eprintln!(
        "[bench] Crossbar.io up at {} after {:.1} s",
        node.ws_url,
        started.elapsed().as_secs_f64()
    );
    let mut rows = Vec::new();
    if want_autobahn {
        rows.push(autobahn_row(&python, &node.ws_url, timing).await);
    }
    if want_ours {
        let endpoint = Endpoint::Url {
            url: node.ws_url.clone(),
            serializer: Serializer::Json,
        };
        let row = workload::isolated(move || async move {
            let plan = Plan {
                large_fanout: false,
                pace: Pace::Window(EVENT_WINDOW),
                calls: true,
            };
            let mut row = workload::row(ids::OURS_ON_CROSSBAR, OURS_LABEL, &endpoint, timing, plan).await;
            row.add_note(format!(
                "events: at most {EVENT_WINDOW} outstanding per subscriber (Crossbar.io does not hold publishers back)"
            ));
            row
        });
        rows.push(row.await);
    }
    node.stop().await;
    rows
}

/// The Autobahn|Python figures, one script run per workload.
async fn autobahn_row(python: &Path, url: &str, timing: Timing) -> Row {
    let mut row = Row::new(ids::AUTOBAHN, AUTOBAHN_LABEL);
    let fanout = FANOUT.to_string();
    let runs: [(&str, Vec<&str>); 4] = [
        ("seq", vec!["--mode", "seq"]),
        ("pipelined", vec!["--mode", "pipelined"]),
        ("events", vec!["--mode", "events", "--subscribers", "1"]),
        ("fan-out", vec!["--mode", "events", "--subscribers", &fanout]),
    ];
    for (name, args) in runs {
        eprintln!("[bench] Autobahn|Python: {name}");
        match autobahn(python, url, &args, timing).await {
            Ok(v) => {
                let num = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
                match name {
                    "seq" => {
                        row.seq_p50_us = num("p50_us");
                        row.seq_p99_us = num("p99_us");
                        row.seq_per_s = num("calls_per_s");
                    }
                    "pipelined" => row.pipelined_per_s = num("calls_per_s"),
                    "events" => row.events_per_s = num("events_per_s"),
                    _ => row.fanout_per_s = num("events_per_s"),
                }
            }
            Err(e) => row.add_note(format!("{name} failed: {e}")),
        }
    }
    row.add_note("one asyncio process per workload (both ends in one loop)");
    row
}

/// Runs `autobahn_bench.py` once; returns its JSON line.
async fn autobahn(
    python: &Path,
    url: &str,
    args: &[&str],
    timing: Timing,
) -> Result<serde_json::Value, String> {
    let script = workspace_root().join("wamp-bench/python/autobahn_bench.py");
    let child = Command::new(python)
        .arg(&script)
        .args(["--url", url, "--serializer", "json", "--n", "10000000"])
        .args(["--seconds", &timing.measure.as_secs_f64().to_string()])
        .args(["--warmup", &timing.warmup.as_secs_f64().to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start {}: {e}", script.display()))?;
    let limit = timing.warmup + timing.measure + Duration::from_secs(60);
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| format!("no result within {limit:?}"))?
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rev().find(|l| l.trim_start().starts_with('{'));
    match (out.status.success(), last) {
        (true, Some(line)) => serde_json::from_str(line).map_err(|e| format!("bad JSON {line:?}: {e}")),
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            Err(format!(
                "exit {}: {}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ))
        }
    }
}

/// A Crossbar.io node started by `tests/python/crossbar_node.py`.
struct Node {
    child: Child,
    dir: PathBuf,
    ws_url: String,
}

impl Node {
    async fn start(python: &Path) -> Result<Node, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let dir = std::env::temp_dir().join(format!("wamp-bench-crossbar-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let log = std::fs::File::create(dir.join("crossbar.log")).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(python)
            .arg(workspace_root().join("tests/python/crossbar_node.py"))
            .args(["--port", &port.to_string(), "--no-rawsocket", "--dir"])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start crossbar_node.py: {e}"))?;
        let node = Node {
            child,
            dir,
            ws_url: format!("ws://127.0.0.1:{port}/ws"),
        };
        // Crossbar.io takes a few seconds (more on a busy machine) to start.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(node);
            }
            if Instant::now() >= deadline {
                let log = std::fs::read_to_string(node.dir.join("crossbar.log")).unwrap_or_default();
                node.stop().await;
                return Err(format!("port {port} not open after 90 s; log: {log}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM (the controller stops its workers), then SIGKILL after 15 s.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            if tokio::time::timeout(Duration::from_secs(15), self.child.wait())
                .await
                .is_err()
            {
                let _ = self.child.kill().await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
