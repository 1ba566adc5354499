//! `wamp sessions`, `wamp registrations` and `wamp subscriptions` as users
//! run them, against `wamp router` (the binary) and against Crossbar.io: a
//! Rust session registers and subscribes, the commands must list it.

use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wamp::{CallResult, MatchPolicy, RegisterOptions, Session, SubscribeOptions};
use wamp_tests::python::{venv_python, Crossbar};
use wamp_tests::unique;

const LIMIT: Duration = Duration::from_secs(30);

/// Runs `wamp ARGS` to its end and returns its stdout as JSON, after
/// checking that it succeeded.
async fn wamp_json(args: &[&str]) -> Json {
    let child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(args)
        .env_remove("WAMP_URL")
        .env_remove("WAMP_REALM")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start wamp");
    let out: Output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("wamp {args:?} did not finish within {LIMIT:?}"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wamp {args:?}: {:?}, stdout {stdout:?} stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("wamp {args:?} printed no JSON ({e}): {stdout:?}"))
}

/// `wamp router` on a free port: its WebSocket URL.
async fn start_router(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--ws", "127.0.0.1:0", "--log", "warn"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start wamp router");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .expect("router prints its address")
            .unwrap()
            .expect("router exited early");
        if let ["listening", "websocket", url] = line.split_whitespace().collect::<Vec<_>>()[..] {
            return (child, url.to_owned());
        }
    }
}

fn entry_with<'a>(list: &'a Json, key: &str, value: &Json) -> Option<&'a Json> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .find(|e| &e[key] == value)
}

async fn suite(url: &str) {
    let backend = Session::connect(url, "realm1").await.unwrap();
    let proc = unique("com.clitest.meta.proc");
    let topic = unique("com.clitest.meta.topic");
    backend
        .register(&proc, RegisterOptions::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap();
    let prefix = SubscribeOptions {
        match_policy: Some(MatchPolicy::Prefix),
        ..Default::default()
    };
    let _sub = backend.subscribe(format!("{topic}."), prefix).await.unwrap();
    let me = Json::from(backend.id());

    let sessions = wamp_json(&["sessions", "--url", url]).await;
    let mine = entry_with(&sessions, "session", &me).unwrap_or_else(|| panic!("{me} not in {sessions}"));
    assert_eq!(mine["authid"].as_str(), backend.details().authid.as_deref());
    // The command's own session is listed too: at least two.
    assert!(sessions.as_array().unwrap().len() >= 2, "{sessions}");
    let role = backend.details().authrole.clone().unwrap();
    let with_role = wamp_json(&["sessions", "--role", &role, "--url", url]).await;
    assert!(entry_with(&with_role, "session", &me).is_some(), "{with_role}");
    let nobody = wamp_json(&["sessions", "--role", "nobody-has-this-role", "--url", url]).await;
    assert_eq!(nobody, Json::Array(vec![]));

    let regs = wamp_json(&["registrations", "--url", url, "--pretty"]).await;
    let reg =
        entry_with(&regs, "uri", &Json::from(proc.clone())).unwrap_or_else(|| panic!("{proc} not in {regs}"));
    assert_eq!(reg["match"], "exact");
    assert_eq!(reg["callees"], Json::Array(vec![me.clone()]));

    let subs = wamp_json(&["subscriptions", "--url", url]).await;
    let pattern = format!("{topic}.");
    let sub = entry_with(&subs, "uri", &Json::from(pattern.clone()))
        .unwrap_or_else(|| panic!("{pattern} not in {subs}"));
    assert_eq!(sub["match"], "prefix");
    assert_eq!(sub["subscribers"], Json::Array(vec![me.clone()]));

    backend.leave().await.unwrap();
    let regs = wamp_json(&["registrations", "--url", url]).await;
    assert!(
        entry_with(&regs, "uri", &Json::from(proc.clone())).is_none(),
        "{regs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_subcommands_against_wamp_router() {
    let (_router, url) = start_router(&[]).await;
    suite(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_subcommands_against_crossbar() {
    let Some(python) = venv_python() else { return };
    let node = Crossbar::start(&python).await;
    suite(&node.ws_url).await;
}

/// `wamp router --event-history URI=LIMIT` keeps that many events of a
/// prefix (a URI ending in a dot) or a topic; a bad one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_keeps_the_event_history_it_is_told() {
    use wamp::meta::EventQuery;
    let (_router, url) = start_router(&[
        "--event-history",
        "com.clitest.history.=3",
        "--event-history",
        "com.clitest.state=1",
    ])
    .await;
    let s = Session::connect(&url, "realm1").await.unwrap();
    let meta = s.meta();
    for n in 0..5 {
        s.publish("com.clitest.history.x")
            .arg(n)
            .acknowledge(true)
            .await
            .unwrap();
        s.publish("com.clitest.state")
            .arg(n)
            .acknowledge(true)
            .await
            .unwrap();
    }
    let prefix = meta
        .lookup_subscription("com.clitest.history.", MatchPolicy::Prefix)
        .await
        .unwrap()
        .expect("a history subscription for the prefix");
    let kept: Vec<u64> = meta
        .get_events(prefix, EventQuery::new())
        .await
        .unwrap()
        .iter()
        .map(|e| e.args[0].as_u64().unwrap())
        .collect();
    assert_eq!(kept, [2, 3, 4]);
    let state = meta
        .lookup_subscription("com.clitest.state", MatchPolicy::Exact)
        .await
        .unwrap()
        .expect("a history subscription for the topic");
    assert_eq!(meta.get_events(state, EventQuery::new()).await.unwrap().len(), 1);
    s.leave().await.unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args([
            "router",
            "--ws",
            "127.0.0.1:0",
            "--event-history",
            "com.clitest.x=0",
        ])
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(LIMIT, out).await.unwrap().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit"), "{out:?}");
}
