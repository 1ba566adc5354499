//! `wamp router` as users run it: Autobahn|Python clients against it over
//! WebSocket (JSON, MessagePack and CBOR), our client over RawSocket, and a clean
//! exit on a signal.

use std::future::IntoFuture;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wamp::Payload;
use wamp_tests::python::{run_script, venv_python};

struct RouterProcess {
    child: Child,
    ws_url: String,
    rs_url: String,
}

async fn start_router() -> RouterProcess {
    start_router_with(&[]).await
}

async fn start_router_with(extra: &[&str]) -> RouterProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args([
            "router",
            "--ws",
            "127.0.0.1:0",
            "--rawsocket",
            "127.0.0.1:0",
            "--realm",
            "realm1",
        ])
        .args(["--realm", "realm2", "--log", "warn"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start wamp router");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut ws_url, mut rs_url) = (None, None);
    while ws_url.is_none() || rs_url.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("router prints its addresses")
            .unwrap()
            .expect("router exited early");
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some("listening"), Some("websocket"), Some(url)) => ws_url = Some(url.to_owned()),
            (Some("listening"), Some("rawsocket"), Some(url)) => rs_url = Some(url.to_owned()),
            _ => {}
        }
    }
    RouterProcess {
        child,
        ws_url: ws_url.unwrap(),
        rs_url: rs_url.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobahn_python_against_wamp_router() {
    let Some(python) = venv_python() else { return };
    let router = start_router().await;
    let mut failures = Vec::new();
    for serializer in ["json", "msgpack", "cbor"] {
        let args = [
            "--url",
            &router.ws_url,
            "--realm",
            "realm1",
            "--serializer",
            serializer,
        ];
        let (ok, out) = run_script(&python, "router_suite.py", &args, Duration::from_secs(300)).await;
        eprintln!("--- Autobahn|Python suite, {serializer} ---\n{out}");
        let summary = out
            .lines()
            .rev()
            .find(|l| l.contains(" passed, "))
            .unwrap_or("no summary");
        if !ok || !summary.ends_with(" 0 failed") {
            failures.push(format!("{serializer}: {summary}"));
        }
    }
    assert!(failures.is_empty(), "Autobahn|Python checks failed: {failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realms_are_served_and_isolated_over_rawsocket() {
    let router = start_router().await;
    let (a, b) = (
        wamp::Session::connect(&router.rs_url, "realm1").await.unwrap(),
        wamp::Session::connect(&router.ws_url, "realm2").await.unwrap(),
    );
    a.register("com.example.ping", Default::default(), |_| async {
        Ok(wamp::CallResult::new().with_arg("pong"))
    })
    .await
    .unwrap();
    let e = b.call("com.example.ping").await.unwrap_err();
    assert_eq!(
        e.uri(),
        Some("wamp.error.no_such_procedure"),
        "realms must be isolated"
    );
    let e = wamp::Session::connect(&router.ws_url, "nope").await.unwrap_err();
    assert!(
        matches!(&e, wamp::Error::JoinRefused { reason, .. } if reason == "wamp.error.no_such_realm"),
        "{e}"
    );
}

/// `--threads 1` runs the router on one thread (a current-thread runtime):
/// calls, progressive results and events still flow, over both transports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_thread_router_routes_calls_and_events() {
    let router = start_router_with(&["--threads", "1"]).await;
    let callee = wamp::Session::connect(&router.rs_url, "realm1").await.unwrap();
    let caller = wamp::Session::connect(&router.ws_url, "realm1").await.unwrap();
    callee
        .register("com.example.add", Default::default(), |inv| async move {
            Ok(wamp::CallResult::new().with_arg(inv.arg::<i64>(0)? + inv.arg::<i64>(1)?))
        })
        .await
        .unwrap();
    let mut events = callee
        .subscribe("com.example.tick", Default::default())
        .await
        .unwrap();
    let calls = (0..200i64).map(|i| {
        let caller = caller.clone();
        async move { caller.call("com.example.add").arg(i).arg(1).await.map(|r| (i, r)) }
    });
    let mut pending: tokio::task::JoinSet<_> = tokio::task::JoinSet::new();
    for call in calls {
        pending.spawn(call);
    }
    while let Some(outcome) = pending.join_next().await {
        let outcome = outcome.expect("the call task ends");
        let (i, result) = outcome.unwrap();
        assert_eq!(result.arg::<i64>(0).unwrap(), i + 1);
    }
    for i in 0..50 {
        caller
            .publish("com.example.tick")
            .arg(i)
            .acknowledge(true)
            .await
            .unwrap();
    }
    for i in 0..50 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event in time")
            .expect("the subscription is open");
        assert_eq!(event.arg::<i64>(0).unwrap(), i);
    }
}

#[tokio::test]
async fn zero_threads_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--threads", "0"])
        .output()
        .await
        .expect("run wamp router");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--threads"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_cleanly_on_signal_and_says_goodbye() {
    let mut router = start_router().await;
    let session = wamp::Session::connect(&router.ws_url, "realm1").await.unwrap();
    let pid = router.child.id().expect("router pid");
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    assert!(status.unwrap().success());
    let end = tokio::time::timeout(Duration::from_secs(10), session.closed())
        .await
        .expect("session closed");
    assert!(
        matches!(&end, wamp::Error::SessionClosed { reason, .. } if reason == "wamp.close.system_shutdown"),
        "{end}"
    );
    let code = tokio::time::timeout(Duration::from_secs(10), router.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(code.success(), "router exit status {code}");
}

async fn start_router_on(port: u16) -> Child {
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..50 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
            .args(["router", "--ws", &addr, "--log", "warn"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start wamp router");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        if let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await {
            if line.starts_with("listening") {
                return child;
            }
        }
        // The port may still be held by the killed process for a moment.
        let _ = child.wait().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("wamp router could not listen on {addr}");
}

/// The component registers `procedure`, answering `answer`, on every join.
fn answering(
    component: wamp::component::Component,
    procedure: &'static str,
    answer: &'static str,
) -> wamp::component::Component {
    component.on_join(move |s| async move {
        s.register(procedure, Default::default(), move |_| async move {
            Ok(wamp::CallResult::new().with_arg(answer))
        })
        .await
        .expect("register on join");
    })
}

/// A component survives `kill -9` of the router process: calls while it is
/// down fail at once with a clear error, and after the restart it rejoins,
/// registers again, and calls succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_survives_router_kill_and_restart() {
    use wamp::component::{Component, ReconnectPolicy, Transport};

    let port = wamp_tests::python::free_port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let mut router = start_router_on(port).await;
    let policy = ReconnectPolicy {
        initial_retry_delay: Duration::from_millis(100),
        retry_delay_jitter: 0.0,
        max_retry_delay: Duration::from_millis(500),
        ..Default::default()
    };
    let handle = answering(
        Component::new("realm1").transport(Transport::new(&url).reconnect(policy)),
        "com.example.ping",
        "pong",
    )
    .start();
    let first = tokio::time::timeout(Duration::from_secs(10), handle.ready())
        .await
        .unwrap()
        .unwrap();
    let caller = wamp::Session::connect(&url, "realm1").await.unwrap();
    assert_eq!(
        caller.call("com.example.ping").await.unwrap().args[0].as_str(),
        Some("pong")
    );

    router.start_kill().unwrap();
    let _ = router.wait().await;
    let e = tokio::time::timeout(
        Duration::from_secs(5),
        caller.call("com.example.ping").into_future(),
    )
    .await
    .expect("no hang while the router is down")
    .unwrap_err();
    assert!(e.is_session_gone(), "{e}");
    tokio::time::timeout(Duration::from_secs(5), first.closed())
        .await
        .unwrap();
    assert!(matches!(handle.session(), Err(wamp::Error::NotConnected)));

    let _router2 = start_router_on(port).await;
    let second = tokio::time::timeout(Duration::from_secs(15), handle.ready())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(first.id(), second.id());
    let caller = wamp::Session::connect(&url, "realm1").await.unwrap();
    assert_eq!(
        caller.call("com.example.ping").await.unwrap().args[0].as_str(),
        Some("pong")
    );
    handle.leave().await.unwrap();
}

/// Starts `wamp router --config FILE` and returns it with the URL of its
/// first (WebSocket) listener.
async fn start_router_with_config(file: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--log", "warn", "--config"])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line
        .strip_prefix("listening websocket ")
        .expect("a listening line")
        .to_owned();
    (child, url)
}

/// A file with a WebSocket listener at `endpoint` and the realm `shop`:
/// frontend `joe` may call and subscribe under `com.shop.`, backend `svc`
/// may do anything there (both with tickets).
fn shop_file(endpoint: &str) -> String {
    format!(
        r#"
[[transports]]
type = "websocket"
endpoint = "{endpoint}"

[[realms]]
name = "shop"

[[realms.roles]]
name = "frontend"
permissions = [{{ uri = "com.shop.", match = "prefix", allow = ["call", "subscribe"] }}]

[[realms.roles]]
name = "backend"
permissions = [{{ uri = "com.shop.", match = "prefix", allow = ["call", "register", "publish", "subscribe"] }}]

[realms.auth.ticket.joe]
ticket = "joe-ticket"
role = "frontend"

[realms.auth.ticket.svc]
ticket = "svc-ticket"
role = "backend"
"#
    )
}

/// `wamp router --config FILE`: transports, realms, roles and users from one
/// TOML file; authentication and permissions enforced as configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_from_a_config_file() {
    use wamp::auth::Credentials;
    use wamp::SessionConfig;

    let dir = wamp_tests::TempDir::new("router-config");
    let file = dir.write("router.toml", &shop_file("127.0.0.1:0"));
    let (_router, url) = start_router_with_config(&file).await;

    let join = |authid: &'static str, ticket: &'static str| {
        let url = url.clone();
        async move {
            let cfg = SessionConfig::default()
                .with_authid(authid)
                .with_credentials(Credentials::ticket(ticket));
            wamp::Session::connect_with(&url, "shop", cfg).await
        }
    };
    let backend = join("svc", "svc-ticket").await.unwrap();
    assert_eq!(backend.details().authrole.as_deref(), Some("backend"));
    backend
        .register("com.shop.price", Default::default(), |_| async {
            Ok(wamp::CallResult::new().with_arg(3))
        })
        .await
        .unwrap();
    let frontend = join("joe", "joe-ticket").await.unwrap();
    assert_eq!(
        frontend.call("com.shop.price").await.unwrap().args[0].as_u64(),
        Some(3)
    );
    let e = frontend
        .register("com.shop.steal", Default::default(), |_| async {
            Ok(wamp::CallResult::new())
        })
        .await
        .unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.not_authorized"), "{e}");
    let e = join("joe", "wrong").await.unwrap_err();
    assert!(
        matches!(&e, wamp::Error::JoinRefused { reason, .. } if reason == "wamp.error.not_authorized"),
        "{e}"
    );
}

/// Runs `wamp router --config` on a file `name` with `text`, which it must
/// refuse before listening; returns what it printed on stderr.
async fn refused_config(name: &str, text: &str) -> String {
    let dir = wamp_tests::TempDir::new("bad-config");
    let file = dir.write(name, text);
    let out = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--config"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A bad configuration file is refused with the key and line named.
#[tokio::test]
async fn bad_config_file_names_key_and_line() {
    let err = refused_config("router.toml", "[[realms]]\nname = \"r\"\nrolez = []\n").await;
    assert!(
        err.contains("rolez") && err.contains("line 3") && err.contains("router.toml"),
        "{err}"
    );
}

/// The router and a component from one file: `wamp router --config F`
/// serves the file's realm, and `Component::from_config_file(F, ..)` joins
/// it with the file's credentials and serves a procedure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_and_component_from_one_file() {
    use wamp::auth::Credentials;
    use wamp::component::Component;
    use wamp::SessionConfig;

    let port = wamp_tests::python::free_port();
    let dir = wamp_tests::TempDir::new("router-components");
    let components = format!(
        r#"
[[components]]
name = "pricing"
realm = "shop"
authid = "svc"
auth = {{ ticket = "svc-ticket" }}
transports = [{{ url = "ws://127.0.0.1:{port}/ws", initial_retry_delay = 0.1 }}]
"#
    );
    let file = dir.write(
        "wamp.toml",
        &(shop_file(&format!("127.0.0.1:{port}")) + &components),
    );
    let (_router, url) = start_router_with_config(&file).await;
    assert_eq!(url, format!("ws://127.0.0.1:{port}/ws"));

    let component = Component::from_config_file(&file, "pricing").unwrap();
    let pricing = answering(component, "com.shop.price", "3 EUR").start();
    let session = tokio::time::timeout(Duration::from_secs(10), pricing.ready())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.details().authid.as_deref(), Some("svc"));
    assert_eq!(session.details().authrole.as_deref(), Some("backend"));

    let cfg = SessionConfig::default()
        .with_authid("svc")
        .with_credentials(Credentials::ticket("svc-ticket"));
    let caller = wamp::Session::connect_with(&url, "shop", cfg).await.unwrap();
    assert_eq!(
        caller.call("com.shop.price").await.unwrap().args[0].as_str(),
        Some("3 EUR")
    );
    pricing.leave().await.unwrap();
}

/// `wamp router --config` checks the file's components too: a bad one is
/// refused with its key and line, before anything listens.
#[tokio::test]
async fn router_refuses_a_file_with_a_bad_component() {
    let err = refused_config(
        "wamp.toml",
        "[[realms]]\nname = \"r\"\n\n[[components]]\nname = \"c\"\nrealm = \"r\"\n\
         transports = [{ url = \"http://127.0.0.1:1/ws\" }]\n",
    )
    .await;
    assert!(
        err.contains("wamp.toml: line 7: `components.transports.url`") && err.contains("http://"),
        "{err}"
    );
}
