//! The examples as users run them against `wamp router`: the browser
//! example in headless Chromium (Autobahn|JS, served by `wamp router
//! --web`), and a backend that answers again after the router is killed
//! and started again on the same port.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wamp::Session;
use wamp_tests::python::{free_port, workspace_root};

/// `wamp router ARGS`; returns it with its `host:port` once it listens.
async fn router(args: &[&str]) -> Option<(Child, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .arg("router")
        .args(args)
        .args(["--log", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start wamp router");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await {
        if let Some(url) = line.strip_prefix("listening websocket ws://") {
            let addr = url.trim_end_matches("/ws").to_owned();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Some((child, addr));
        }
    }
    None
}

/// Why the browser test cannot run here, after trying the setup script.
fn browser_missing() -> Option<String> {
    let web = workspace_root().join("examples/web");
    let ready = || web.join("node_modules/playwright-core").is_dir() && chromium().is_some();
    if ready() {
        return None;
    }
    let out = std::process::Command::new(workspace_root().join("scripts/setup-web.sh")).output();
    match out {
        Ok(o) if o.status.success() && ready() => None,
        Ok(o) => Some(format!(
            "scripts/setup-web.sh failed ({}): {}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Some(format!("scripts/setup-web.sh cannot run: {e}")),
    }
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    path.exists().then_some(path)
}

/// The browser example end to end: the page served by `wamp router --web
/// examples/web` joins with Autobahn|JS, calls the Rust catalog service
/// (a result and an error URI on the page) and shows a live event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_example_in_headless_chromium() {
    if let Some(why) = browser_missing() {
        eprintln!("\n!!!!!!!!\n!!! SKIPPED the browser test: {why}\n!!!!!!!!\n");
        return;
    }
    let web = workspace_root().join("examples/web");
    let (_router, addr) = router(&["--ws", "127.0.0.1:0", "--web", web.to_str().unwrap()])
        .await
        .expect("router listens");
    let backend = wamp_examples::backend_component(
        "web",
        &format!("ws://{addr}/ws"),
        "realm1",
        Duration::from_millis(200),
        wamp_examples::web::backend,
    )
    .start();
    tokio::time::timeout(Duration::from_secs(20), backend.ready())
        .await
        .expect("backend joins")
        .unwrap();

    let run = Command::new("node")
        .arg(web.join("test/e2e.js"))
        .arg(format!("http://{addr}/"))
        .env("CHROMIUM", chromium().unwrap())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the browser test ends within 120 s")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser e2e failed: {}", out.status);
    assert!(stdout.contains("call result on the page: banana"), "{stdout}");
    assert!(stdout.contains("browser e2e: ok"), "{stdout}");
    backend.leave().await.unwrap();
}

/// `wamp router` on a given port, retrying while the port is still held
/// by a process just killed.
async fn router_on(port: u16) -> Child {
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..50 {
        if let Some((child, _)) = router(&["--ws", &addr]).await {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("wamp router could not listen on {addr}");
}

/// Calls `com.timeservice.now` until it answers, at most `limit`.
async fn answers_within(url: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), Session::connect(url, "realm1")).await
        {
            let r = s.call("com.timeservice.now").await;
            let _ = s.leave().await;
            if let Ok(r) = r {
                assert!(r.args[0].as_str().is_some_and(|t| t.ends_with('Z')), "{r:?}");
                return start.elapsed();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the backend did not answer within {limit:?}");
}

/// An example backend (a Component with Autobahn's reconnect defaults)
/// answers again within seconds after `wamp router` is killed and started
/// again on the same port, with no restart of the backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_backend_survives_router_restart() {
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let mut first = router_on(port).await;
    let backend = wamp_examples::backend_component(
        "rpc_timeservice",
        &url,
        "realm1",
        Duration::from_secs(1),
        wamp_examples::rpc_timeservice::backend,
    )
    .start();
    answers_within(&url, Duration::from_secs(10)).await;

    first.start_kill().unwrap();
    let _ = first.wait().await;
    let _second = router_on(port).await;
    let took = answers_within(&url, Duration::from_secs(15)).await;
    eprintln!("the backend answered again {took:?} after the router restarted");
    backend.leave().await.unwrap();
}
