//! The project's Python virtualenv (`.venv`, made by
//! `scripts/setup-python.sh`) with Autobahn|Python and Crossbar.io, and
//! helpers to run them as real peers in tests.
//!
//! Without the virtualenv, interop tests print a skip message and pass,
//! unless `WAMP_REQUIRE_INTEROP=1` (set by `scripts/test.sh` and CI), where
//! a missing virtualenv is a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The virtualenv's Python, or `None` (after printing why) when interop
/// tests should be skipped.
pub fn venv_python() -> Option<PathBuf> {
    let python = workspace_root().join(".venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    let msg = format!(
        "no Python virtualenv at {}: run scripts/setup-python.sh to install Autobahn|Python and Crossbar.io",
        python.display()
    );
    if std::env::var_os("WAMP_REQUIRE_INTEROP").is_some_and(|v| v != "0") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED interop test: {msg}");
    None
}

/// A port that was free a moment ago (for peers that must be told a port).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// Waits until `port` accepts TCP connections.
pub async fn wait_for_port(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A Crossbar.io node started for one test, stopped (SIGTERM) on drop.
pub struct Crossbar {
    child: Child,
    dir: PathBuf,
    /// WebSocket URL of the node.
    pub ws_url: String,
    /// RawSocket URL of the node.
    pub rs_url: String,
}

impl Crossbar {
    /// Starts a node on free ports and waits until it accepts connections.
    pub async fn start(python: &Path) -> Crossbar {
        Self::start_with(python, &[]).await
    }

    /// Starts a node with more `crossbar_node.py` arguments (for example
    /// `--auth FIXTURE`).
    pub async fn start_with(python: &Path, node_args: &[&str]) -> Crossbar {
        // crossbar_node.py uses PORT for WebSocket and PORT+1 for RawSocket.
        let port = loop {
            let p = free_port();
            if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                break p;
            }
        };
        let dir = std::env::temp_dir().join(format!("wamp-crossbar-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create crossbar dir");
        let log = std::fs::File::create(dir.join("crossbar.log")).expect("crossbar log");
        let child = Command::new(python)
            .arg(workspace_root().join("tests/python/crossbar_node.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .args(node_args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("start crossbar_node.py");
        let node = Crossbar {
            child,
            dir,
            ws_url: format!("ws://127.0.0.1:{port}/ws"),
            rs_url: format!("rs://127.0.0.1:{}", port + 1),
        };
        if !wait_for_port(port, Duration::from_secs(90)).await
            || !wait_for_port(port + 1, Duration::from_secs(10)).await
        {
            let log = std::fs::read_to_string(node.dir.join("crossbar.log")).unwrap_or_default();
            panic!("Crossbar.io did not start on port {port}; its log:\n{log}");
        }
        node
    }
}

impl Drop for Crossbar {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            // SIGTERM lets the controller stop its worker processes.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a Python script of `tests/python/` with arguments; returns whether
/// it succeeded and everything it printed.
pub async fn run_script(python: &Path, script: &str, args: &[&str], limit: Duration) -> (bool, String) {
    let child = Command::new(python)
        .arg(workspace_root().join("tests/python").join(script))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {script}: {e}"));
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        }
        Ok(Err(e)) => (false, format!("{script} failed to run: {e}")),
        Err(_) => (false, format!("{script} did not finish within {limit:?}")),
    }
}
