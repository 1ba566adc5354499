//! `wamp call`, `publish`, `subscribe`, `register`, `describe` and `keygen`
//! as users run them: the same checks against `wamp router` (the binary) and
//! against Crossbar.io, with a real command registered, credentials of
//! every kind, and bad input.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use wamp::{ApplicationError, CallResult, Payload, Session};
use wamp_tests::python::{venv_python, Crossbar};

const LIMIT: Duration = Duration::from_secs(30);

/// Runs `wamp ARGS` to its end (at most [`LIMIT`]).
async fn wamp(args: &[&str]) -> Output {
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
    tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("wamp {args:?} did not finish within {LIMIT:?}"))
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts the exit code and returns stdout.
fn expect(out: &Output, code: i32, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: stdout {:?} stderr {:?}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Starts a long-running `wamp ARGS` and waits until it says `ready` on stderr.
async fn start_ready(args: &[&str], ready: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start wamp");
    let stderr = child.stderr.take().unwrap();
    wait_line(stderr, ready, args).await;
    child
}

/// Reads `stream` until a line contains `needle`; the rest is echoed to
/// the test's stderr in the background.
async fn wait_line(stream: impl AsyncRead + Unpin + Send + 'static, needle: &str, what: &[&str]) {
    let mut lines = BufReader::new(stream).lines();
    loop {
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{what:?}: no {needle:?} within {LIMIT:?}"))
            .unwrap()
            .unwrap_or_else(|| panic!("{what:?} ended before saying {needle:?}"));
        eprintln!("  | {line}");
        if line.contains(needle) {
            break;
        }
    }
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("  | {line}");
        }
    });
}

async fn finish(child: Child) -> Output {
    tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("the command ends by itself")
        .unwrap()
}

/// `wamp router` on free ports: its WebSocket and RawSocket URLs.
async fn start_router(extra: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args([
            "router",
            "--ws",
            "127.0.0.1:0",
            "--rawsocket",
            "127.0.0.1:0",
            "--log",
            "warn",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start wamp router");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut ws, mut rs) = (None, None);
    while ws.is_none() || rs.is_none() {
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .expect("router prints its addresses")
            .unwrap()
            .expect("router exited early");
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["listening", "websocket", url] => ws = Some(url.to_owned()),
            ["listening", "rawsocket", url] => rs = Some(url.to_owned()),
            _ => {}
        }
    }
    (child, ws.unwrap(), rs.unwrap())
}

struct Shop {
    names: Vec<String>,
}

#[derive(Debug, wamp::WampError)]
enum ShopError {
    #[wamp(uri = "com.clitest.shop.error.not_found")]
    NotFound { id: u64 },
}

#[wamp::service(prefix = "com.clitest.shop")]
impl Shop {
    #[wamp::procedure("item.<int:id>.get_name")]
    async fn get_name(&self, id: u64) -> Result<String, ShopError> {
        self.names
            .get(id as usize)
            .cloned()
            .ok_or(ShopError::NotFound { id })
    }

    #[wamp::topic("on_sale")]
    async fn on_sale(&self, _item: String) {}
}

/// Procedures only a program can provide: progressive results and a slow one.
async fn rust_backend(url: &str, realm: &str, tag: &str) -> Session {
    let s = Session::connect(url, realm).await.expect("backend joins");
    s.register(
        format!("com.clitest.{tag}.count"),
        Default::default(),
        |inv| async move {
            if let Some(p) = &inv.progress {
                for i in 1..=3 {
                    p.send(CallResult::new().with_arg(i))
                        .await
                        .map_err(|e| ApplicationError::new("com.clitest.error").with_arg(e.to_string()))?;
                }
            }
            Ok(CallResult::new().with_arg("done"))
        },
    )
    .await
    .unwrap();
    s.register(format!("com.clitest.{tag}.slow"), Default::default(), |_| async {
        tokio::time::sleep(Duration::from_secs(20)).await;
        Ok(CallResult::new())
    })
    .await
    .unwrap();
    s.register(
        format!("com.clitest.{tag}.add2"),
        Default::default(),
        |inv| async move { Ok(CallResult::new().with_arg(inv.arg::<i64>(0)? + inv.arg::<i64>(1)?)) },
    )
    .await
    .unwrap();
    s.attach(Shop {
        names: vec!["apple".into(), "pear".into()],
    })
    .await
    .unwrap();
    s
}

/// Every subcommand against one router (`ws` and `rs` URLs, realm1).
async fn suite(ws: &str, rs: &str) {
    let tag = format!("t{}", wamp::proto::id::random_id());
    let uri = |name: &str| format!("com.clitest.{tag}.{name}");
    let base = ["--url", ws, "--realm", "realm1"];
    let with = |more: &[&str]| -> Vec<String> { base.iter().chain(more).map(|s| s.to_string()).collect() };
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        wamp(&args).await
    };
    let _backend = rust_backend(ws, "realm1", &tag).await;

    // register runs a real command per call and answers with its stdout (JSON when it parses).
    let echo = uri("echo");
    let script = r#"printf '%s\n' "$WAMP_ARGS_JSON""#;
    let register = with(&["register", &echo, "--times", "2", "sh", "-c", script]);
    let register: Vec<&str> = register.iter().map(String::as_str).collect();
    let callee = start_ready(&register, "registered").await;
    let out = run(with(&["call", &echo, "2", r#"{"a":1}"#, "hello", "-1.5"])).await;
    assert_eq!(expect(&out, 0, "call echo").trim(), r#"[2,{"a":1},"hello",-1.5]"#);
    let out = run(with(&["call", &echo, "2", "--strings"])).await;
    assert_eq!(expect(&out, 0, "call echo --strings").trim(), r#"["2"]"#);
    let out = finish(callee).await;
    assert!(out.status.success(), "register --times 2 exits 0: {out:?}");
    assert!(
        text(&out.stdout).contains(r#"[2,{"a":1},"hello",-1.5]"#),
        "{out:?}"
    );

    // A failing command is an ERROR naming its exit status; the CLI exits 5.
    let fail = uri("fail");
    let register = with(&["register", &fail, "--times", "1", "sh", "-c", "echo oops; exit 3"]);
    let register: Vec<&str> = register.iter().map(String::as_str).collect();
    let callee = start_ready(&register, "registered").await;
    let out = run(with(&["call", &fail])).await;
    expect(&out, 5, "call of a failing command");
    let err = text(&out.stderr);
    assert!(
        err.starts_with("wamp.error.runtime_error: [")
            && err.contains("exit status 3")
            && err.contains(r#""exit_code":3"#),
        "{err}"
    );
    assert!(finish(callee).await.status.success());

    // subscribe --times N prints one JSON line per event, then exits 0.
    let topic = uri("news");
    let subscribe = with(&["subscribe", &topic, "--times", "2"]);
    let subscribe: Vec<&str> = subscribe.iter().map(String::as_str).collect();
    let subscriber = start_ready(&subscribe, "subscribed").await;
    let out = run(with(&[
        "publish",
        &topic,
        "1",
        "two",
        "--keyword",
        "k",
        r#"{"x":true}"#,
    ]))
    .await;
    expect(&out, 0, "publish");
    let out = run(with(&["publish", &topic])).await;
    expect(&out, 0, "publish without payload");
    let out = finish(subscriber).await;
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            r#"{"args":[1,"two"],"kwargs":{"k":{"x":true}}}"#,
            r#"{"args":[],"kwargs":{}}"#
        ],
        "{out:?}"
    );

    // A prefix subscription; Ctrl-C leaves cleanly with exit 0.
    let subscribe = with(&["subscribe", &uri("p"), "--match", "prefix"]);
    let subscribe: Vec<&str> = subscribe.iter().map(String::as_str).collect();
    let mut subscriber = start_ready(&subscribe, "subscribed").await;
    expect(
        &run(with(&["publish", &uri("p.q"), "7"])).await,
        0,
        "publish under a prefix",
    );
    let mut events = BufReader::new(subscriber.stdout.take().unwrap()).lines();
    let event = tokio::time::timeout(LIMIT, events.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.as_deref(), Some(r#"{"args":[7],"kwargs":{}}"#));
    let pid = subscriber.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(LIMIT, subscriber.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "Ctrl-C leaves with 0: {status}");

    // Progressive results as they come, then the final one.
    let out = run(with(&["call", &uri("count")])).await;
    assert_eq!(expect(&out, 0, "progressive call"), "1\n2\n3\n\"done\"\n");
    // --timeout
    let started = Instant::now();
    let out = run(with(&["call", &uri("slow"), "--timeout", "0.5"])).await;
    expect(&out, 5, "call with --timeout");
    assert!(text(&out.stderr).starts_with("wamp.error."), "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // An application error: URI and args on stderr, exit 5.
    let out = run(with(&["call", &uri("nobody")])).await;
    expect(&out, 5, "call of no procedure");
    assert!(
        text(&out.stderr).starts_with("wamp.error.no_such_procedure:"),
        "{out:?}"
    );
    let out = run(with(&["call", "com.clitest.shop.item.9.get_name"])).await;
    expect(&out, 5, "typed error");
    assert_eq!(
        text(&out.stderr).trim(),
        r#"com.clitest.shop.error.not_found: {"id":9}"#
    );
    // RawSocket with MessagePack, options after the subcommand.
    let out = wamp(&[
        "call",
        &uri("add2"),
        "2",
        "3",
        "--url",
        rs,
        "-r",
        "realm1",
        "--serializer",
        "msgpack",
    ])
    .await;
    assert_eq!(expect(&out, 0, "call over rawsocket").trim(), "5");
    let out = run(with(&[
        "--serializer",
        "cbor",
        "call",
        "com.clitest.shop.item.1.get_name",
        "--pretty",
    ]))
    .await;
    assert_eq!(expect(&out, 0, "typed call over cbor").trim(), "\"pear\"");

    // describe: the service's description, from its reflection procedure.
    let out = run(with(&["describe", "com.clitest.shop.item", "--compact"])).await;
    let d: serde_json::Value = serde_json::from_str(&expect(&out, 0, "describe")).unwrap();
    assert_eq!(d["name"], "Shop", "{d}");
    assert_eq!(
        d["procedures"][0]["uri"], "com.clitest.shop.item.<int:id>.get_name",
        "{d}"
    );
    assert_eq!(
        d["topics"],
        serde_json::json!([]),
        "only what is under the prefix: {d}"
    );
    let out = run(with(&["describe", "com.clitest.shop"])).await;
    let d: serde_json::Value = serde_json::from_str(&expect(&out, 0, "describe")).unwrap();
    assert_eq!(d["topics"][0]["uri"], "com.clitest.shop.on_sale", "{d}");
    let out = run(with(&["describe", &uri("none")])).await;
    expect(&out, 5, "describe where no service is");
    // Without a prefix: every attached service, found through the meta API.
    let out = run(with(&["describe", "--compact"])).await;
    let all: serde_json::Value = serde_json::from_str(&expect(&out, 0, "describe without a prefix")).unwrap();
    assert!(
        all.as_array()
            .is_some_and(|a| a.iter().any(|d| d["name"] == "Shop")),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommand_against_wamp_router() {
    let (_router, ws, rs) = start_router(&[]).await;
    suite(&ws, &rs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommand_against_crossbar() {
    let Some(python) = venv_python() else { return };
    let node = Crossbar::start(&python).await;
    suite(&node.ws_url, &node.rs_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_error() {
    let out = wamp(&["frobnicate"]).await;
    expect(&out, 2, "unknown subcommand");
    assert!(
        text(&out.stderr).contains("unrecognized subcommand 'frobnicate'"),
        "{out:?}"
    );

    // Nothing listens on a port that was free a moment ago.
    let port = wamp_tests::python::free_port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let started = Instant::now();
    let out = wamp(&["--url", &url, "call", "com.example.x"]).await;
    expect(&out, 1, "a URL that does not connect");
    assert!(
        text(&out.stderr).starts_with(&format!("wamp: cannot connect to {url}")),
        "{out:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let out = wamp(&[
        "--url",
        &format!("rs://127.0.0.1:{port}"),
        "subscribe",
        "com.example.x",
    ])
    .await;
    expect(&out, 1, "subscribe to a URL that does not connect");

    let out = wamp(&["--url", "http://127.0.0.1:1/", "call", "com.example.x"]).await;
    expect(&out, 2, "a URL of no WAMP transport");
    assert!(text(&out.stderr).contains("--url http://127.0.0.1:1/"), "{out:?}");
    let out = wamp(&["call", "com..x"]).await;
    expect(&out, 2, "an invalid URI");
    assert!(text(&out.stderr).contains("invalid URI \"com..x\""), "{out:?}");
    let out = wamp(&["publish", "com.example.x", "1", "{\"a\": 1"]).await;
    expect(&out, 2, "a JSON argument that does not parse");
    assert!(
        text(&out.stderr).contains("argument 2") && text(&out.stderr).contains("not valid JSON"),
        "{out:?}"
    );
    let out = wamp(&["call", "com.example.x", "--keyword", "k", "[1,"]).await;
    expect(&out, 2, "a JSON keyword argument that does not parse");
    let out = wamp(&["register", "com.example.x", "/no/such/program"]).await;
    expect(&out, 2, "a command that does not exist");
    let out = wamp(&["--ticket", "t", "call", "com.example.x"]).await;
    expect(&out, 2, "a ticket without --authid");
    let out = wamp(&["describe", "com.example", "--url", "ws://127.0.0.1:1/ws"]).await;
    expect(&out, 1, "describe where no router is");
    let out = wamp(&["--private-key", "zz", "call", "com.example.x"]).await;
    expect(&out, 2, "a private key that is no hex");
    let out = wamp(&["--url", "ws://127.0.0.1:1/ws", "router"]).await;
    expect(&out, 2, "client options on router");
}

#[tokio::test]
async fn keygen_writes_a_key_pair() {
    let out = wamp(&["keygen"]).await;
    let stdout = expect(&out, 0, "keygen");
    let tag = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
            .to_owned()
    };
    let (public, private) = (tag("public-key-ed25519: "), tag("private-key-ed25519: "));
    assert_eq!((public.len(), private.len()), (64, 64));
    let key = wamp::auth::CryptosignKey::from_hex(&private).unwrap();
    assert_eq!(key.public_key_hex(), public);

    let dir = wamp_tests::TempDir::new("keygen");
    let file = dir.path().join("client.key");
    let out = wamp(&["keygen", "-o", file.to_str().unwrap()]).await;
    let stdout = expect(&out, 0, "keygen -o");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.contains(stdout.trim()) && written.contains("private-key-ed25519: "),
        "{written} / {stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let out = wamp(&["keygen", "-o", file.to_str().unwrap()]).await;
    expect(&out, 2, "keygen does not overwrite a key");
    // Autobahn|Python reads the file.
    if let Some(python) = venv_python() {
        let script = "import sys\nfrom autobahn.wamp.cryptosign import CryptosignKey\n\
                      print(CryptosignKey.from_keyfile(sys.argv[1]).public_key())";
        let out = Command::new(python)
            .args(["-c", script])
            .arg(&file)
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(
            written.contains(&format!("public-key-ed25519: {}", text(&out.stdout).trim())),
            "{out:?}"
        );
    }
}

/// Ticket, WAMP-CRA (plain and salted) and cryptosign from the command line,
/// with the users of the authentication fixture, on `url` (realm authrealm).
async fn login_checks(url: &str) {
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(wamp_tests::python::workspace_root().join("tests/python/auth_fixture.json"))
            .unwrap(),
    )
    .unwrap();
    let s = |path: &[&str]| path.iter().fold(&fx, |v, k| &v[*k]).as_str().unwrap().to_owned();
    let base = ["--url", url, "-r", "authrealm"];
    let topic = format!("com.example.cli{}", wamp::proto::id::random_id());
    let run = |more: Vec<String>| {
        let args: Vec<String> = base.iter().map(|s| s.to_string()).chain(more).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            wamp(&args).await
        }
    };
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // joe (ticket, frontend): joins, and may not publish.
    let out = run(v(&[
        "--authid",
        "joe",
        "--ticket",
        &s(&["ticket", "joe", "ticket"]),
        "publish",
        &topic,
    ]))
    .await;
    expect(&out, 5, "ticket user publishing without permission");
    assert!(
        text(&out.stderr).starts_with("wamp.error.not_authorized"),
        "{out:?}"
    );
    let out = run(v(&["--authid", "joe", "--ticket", "wrong", "publish", &topic])).await;
    expect(&out, 1, "a wrong ticket");
    assert!(
        text(&out.stderr).contains("could not join realm authrealm"),
        "{out:?}"
    );
    // peter (WAMP-CRA, backend) and alice (cryptosign, backend) may publish.
    let out = run(v(&[
        "--authid",
        "peter",
        "--wampcra-secret",
        &s(&["wampcra", "peter", "secret"]),
        "publish",
        &topic,
    ]))
    .await;
    expect(&out, 0, "WAMP-CRA publish");
    let out = run(v(&[
        "--authid",
        "salty",
        "--wampcra-secret",
        &s(&["wampcra", "salty", "secret"]),
        "publish",
        &topic,
    ]))
    .await;
    expect(&out, 5, "salted WAMP-CRA user (frontend) joins, may not publish");
    let out = run(v(&[
        "--authid",
        "alice",
        "-k",
        &s(&["cryptosign", "alice", "private_key"]),
        "publish",
        &topic,
    ]))
    .await;
    expect(&out, 0, "cryptosign publish");
    let out = run(v(&[
        "--authid",
        "alice",
        "-k",
        &s(&["stranger_private_key"]),
        "publish",
        &topic,
    ]))
    .await;
    expect(&out, 1, "an unknown key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_against_wamp_router() {
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(wamp_tests::python::workspace_root().join("tests/python/auth_fixture.json"))
            .unwrap(),
    )
    .unwrap();
    let mut file = String::from(
        "[[realms]]\nname = \"authrealm\"\n\n[[realms.roles]]\nname = \"frontend\"\n\
         permissions = [{ uri = \"com.example.\", match = \"prefix\", allow = [\"call\", \"subscribe\"] }]\n\n\
         [[realms.roles]]\nname = \"backend\"\n\
         permissions = [{ uri = \"com.example.\", match = \"prefix\", allow = [\"call\", \"register\", \"publish\", \"subscribe\"] }]\n",
    );
    let u = &fx["ticket"]["joe"];
    file += &format!(
        "\n[realms.auth.ticket.joe]\nticket = {}\nrole = \"frontend\"\n",
        u["ticket"]
    );
    let u = &fx["wampcra"]["peter"];
    file += &format!(
        "\n[realms.auth.wampcra.peter]\nsecret = {}\nrole = \"backend\"\n",
        u["secret"]
    );
    let u = &fx["wampcra"]["salty"];
    file += &format!(
        "\n[realms.auth.wampcra.salty]\nsecret = {}\nsalt = {}\niterations = {}\nkeylen = {}\nrole = \"frontend\"\n",
        u["secret"], u["salt"], u["iterations"], u["keylen"]
    );
    let u = &fx["cryptosign"]["alice"];
    file += &format!(
        "\n[realms.auth.cryptosign.alice]\nauthorized_keys = [{}]\nrole = \"backend\"\n",
        u["public_key"]
    );
    let dir = wamp_tests::TempDir::new("cli-auth");
    let path = dir.write("router.toml", &file);
    let (_router, ws, _rs) = start_router(&["--config", path.to_str().unwrap()]).await;
    login_checks(&ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_against_crossbar() {
    let Some(python) = venv_python() else { return };
    let fixture = wamp_tests::python::workspace_root().join("tests/python/auth_fixture.json");
    let node = Crossbar::start_with(&python, &["--auth", fixture.to_str().unwrap()]).await;
    login_checks(&node.ws_url).await;
}
