//! Router memory per idle session, and how fast sessions join.
//!
//! The router runs in a child process (the `wamp` binary next to this one,
//! `wamp router --ws 127.0.0.1:0`, or this binary re-executed as a bare
//! router when `wamp` has not been built), so its resident set is not mixed
//! with the clients'. This process connects N WebSocket + JSON sessions
//! (64 handshakes at a time), and the growth of the child's `VmRSS`
//! (`/proc/<pid>/status`) divided by N is the cost of an idle session:
//! socket buffers in user space, transport tasks and queues, the realm's
//! entry. The wall time to connect and join them gives sessions/s (client
//! and router share the machine, so it is a lower bound for the router).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wamp::{Serializer, Session, SessionConfig};

use crate::report::Memory;
use crate::workload::REALM;

/// Handshakes in flight at once while connecting the sessions.
const CONNECT_CONCURRENCY: usize = 64;
/// File descriptors each process keeps for itself besides the sessions'.
const FD_MARGIN: usize = 256;

/// Measures the router's memory per idle session with `wanted` sessions.
pub async fn run(wanted: usize) -> Memory {
    let mut memory = Memory::default();
    let fd_limit = open_files_limit();
    let count = match fd_limit {
        Some(limit) if limit < wanted + FD_MARGIN => {
            let n = limit.saturating_sub(FD_MARGIN).max(1);
            memory.note = format!(
                "open-files limit {limit} (ulimit -n) allows {n} sessions, not {wanted}; raise it for the full count; "
            );
            n
        }
        _ => wanted,
    };
    memory.sessions = count;
    match fd_limit {
        Some(limit) if count == wanted => memory.note.push_str(&format!(
            "ulimit -n {limit}: enough, as client and router are separate processes of ~{count} fds each; "
        )),
        _ => {}
    }
    match measure(count, &mut memory).await {
        Ok(()) => {}
        Err(e) => {
            memory.note.push_str(&format!("failed: {e}"));
            memory.router_kib_per_session = None;
        }
    }
    memory
}

async fn measure(count: usize, memory: &mut Memory) -> Result<(), String> {
    let (mut router, how) = spawn_router().await?;
    let pid = router.child.id().ok_or("router exited at once")?;
    memory
        .note
        .push_str(&format!("router: {how}; RSS from /proc/{pid}/status VmRSS"));
    let result = async {
        let config = SessionConfig {
            serializers: vec![Serializer::Json],
            ..Default::default()
        };
        // One session first, so the baseline includes what the first
        // connection allocates once (runtime workers, realm tables).
        let first = Session::connect_with(&router.url, REALM, config.clone())
            .await
            .map_err(|e| format!("first session: {e}"))?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let router_before = vm_rss_kib(Some(pid)).ok_or("cannot read the router's VmRSS")?;
        let client_before = vm_rss_kib(None);

        eprintln!("[bench] memory: connecting {count} sessions");
        let start = Instant::now();
        let mut sessions = Vec::with_capacity(count);
        let mut connecting = FuturesUnordered::new();
        let mut launched = 0;
        while sessions.len() < count {
            while launched < count && connecting.len() < CONNECT_CONCURRENCY {
                connecting.push(Session::connect_with(&router.url, REALM, config.clone()));
                launched += 1;
            }
            match connecting.next().await {
                Some(Ok(s)) => sessions.push(s),
                Some(Err(e)) => return Err(format!("session {} of {count}: {e}", sessions.len() + 1)),
                None => break,
            }
        }
        let joined_in = start.elapsed();
        // Let the router finish what it does after WELCOME before reading.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let router_after = vm_rss_kib(Some(pid)).ok_or("cannot read the router's VmRSS")?;
        let client_after = vm_rss_kib(None);
        memory.join_per_s = Some(count as f64 / joined_in.as_secs_f64());
        memory.router_kib_per_session =
            Some(router_after.saturating_sub(router_before) as f64 / count as f64);
        memory.client_kib_per_session = match (client_before, client_after) {
            (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 / count as f64),
            _ => None,
        };
        memory.note.push_str(&format!(
            " {router_before} KiB before, {router_after} KiB after; joined in {:.2} s",
            joined_in.as_secs_f64()
        ));
        for s in sessions.iter().chain(std::iter::once(&first)) {
            s.disconnect();
        }
        Ok(())
    }
    .await;
    router.stop().await;
    result
}

/// The router child process and its WebSocket URL.
pub(crate) struct RouterProcess {
    child: Child,
    /// Where it listens.
    pub url: String,
}

impl RouterProcess {
    /// Starts `cmd` and reads the URL it prints after `prefix` (e.g.
    /// `listening websocket `); the child is killed when the handle is
    /// dropped.
    pub(crate) async fn spawn(mut cmd: Command, prefix: &'static str) -> Result<RouterProcess, String> {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start {}: {e}", cmd.as_std().get_program().to_string_lossy()))?;
        let url = announced_url(&mut child, prefix).await?;
        Ok(RouterProcess { child, url })
    }

    /// The child's process ID, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGTERM (the router says GOODBYE and exits), SIGKILL after 10 s.
    pub(crate) async fn stop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_err()
            {
                let _ = self.child.kill().await;
            }
        }
    }
}

/// Starts the router child and reads its `listening websocket ws://...` line.
pub(crate) async fn spawn_router() -> Result<(RouterProcess, String), String> {
    spawn_router_with(&[]).await
}

/// [`spawn_router`] with more `wamp router` options (ignored by the
/// fallback router child, which says so in its description).
pub(crate) async fn spawn_router_with(extra: &[&str]) -> Result<(RouterProcess, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let wamp: PathBuf = exe.with_file_name("wamp");
    let mut cmd;
    let how;
    if wamp.is_file() {
        cmd = Command::new(&wamp);
        cmd.args(["router", "--ws", "127.0.0.1:0", "--log", "warn"])
            .args(extra);
        how = format!("{} router --ws 127.0.0.1:0 {}", wamp.display(), extra.join(" "))
            .trim_end()
            .to_owned();
    } else {
        cmd = Command::new(&exe);
        cmd.arg("--router-child");
        how = format!(
            "{} --router-child (no {} yet: `cargo build --release -p wamp-cli` to use it)",
            exe.display(),
            wamp.display()
        );
    }
    let router = RouterProcess::spawn(cmd, "listening websocket ").await?;
    Ok((router, how))
}

/// Starts this binary as a bare echo server (`--echo-child`) and reads its
/// URL; the child is killed when the handle is dropped.
pub(crate) async fn spawn_echo() -> Result<RouterProcess, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&exe);
    cmd.arg("--echo-child");
    RouterProcess::spawn(cmd, "listening echo ").await
}

/// The URL a child prints after `prefix`, within 10 s; its stdout is then
/// drained so that it never blocks on a full pipe.
async fn announced_url(child: &mut Child, prefix: &'static str) -> Result<String, String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let find = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix(prefix) {
                return Some(url.trim().to_owned());
            }
        }
        None
    };
    let url = tokio::time::timeout(Duration::from_secs(10), find)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| format!("the child printed no `{}` line", prefix.trim()))?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(url)
}

/// The router child of [`spawn_router`] when the `wamp` binary is absent:
/// the embedded router alone, announcing itself as `wamp router` does.
pub fn router_child() -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("router child: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(async {
        let router = wamp::router::Router::new(wamp::router::RouterConfig::default().realm(REALM));
        match router.listen_websocket("127.0.0.1:0").await {
            Ok(l) => {
                println!("listening websocket ws://{}/ws", l.local_addr());
                // Runs until the parent's SIGTERM ends the process.
                std::future::pending::<()>().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("router child: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

/// `VmRSS` in KiB of a process (`None` = this one).
pub(crate) fn vm_rss_kib(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".into(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    parse_kib(&status, "VmRSS:")
}

/// The soft limit on open files (`ulimit -n`), from `/proc/self/limits`.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn parse_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\twamp\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_kib(status, "VmRSS:"), Some(12345));
        assert_eq!(parse_kib(status, "VmSwap:"), None);
        assert!(vm_rss_kib(None).is_some_and(|k| k > 0));
    }
}
