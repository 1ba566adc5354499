//! `wamp router --web DIR`: static files beside the WebSocket endpoint on
//! the same port, with content types, 404s, and no way out of DIR.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `wamp router ARGS` and returns it with the first WebSocket
/// listener's `host:port`.
async fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .arg("router")
        .args(args)
        .args(["--log", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("router prints its address")
            .unwrap()
            .expect("router exited early");
        if let Some(url) = line.strip_prefix("listening websocket ws://") {
            let addr = url.strip_suffix("/ws").unwrap().to_owned();
            return (child, addr);
        }
    }
}

/// Sends one raw HTTP request; returns the status, the headers (lowercase
/// names) and the body.
async fn http(addr: &str, request: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("the router answers and closes")
        .unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

async fn get(addr: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n")).await
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn site(dir: &wamp_tests::TempDir) -> std::path::PathBuf {
    let root = dir.path().join("site");
    std::fs::create_dir_all(root.join("js")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><p>hello</p>").unwrap();
    std::fs::write(root.join("js/app.js"), "console.log(1);").unwrap();
    std::fs::write(root.join("style.css"), "p{}").unwrap();
    std::fs::write(root.join("data.json"), "{}").unwrap();
    std::fs::write(root.join("logo.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "top secret").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("escape.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        std::os::unix::fs::symlink(root.join("style.css"), root.join("inside.css")).unwrap();
    }
    root
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_files_beside_websocket() {
    let dir = wamp_tests::TempDir::new("web");
    let root = site(&dir);
    let (_router, addr) = start(&["--ws", "127.0.0.1:0", "--web", root.to_str().unwrap()]).await;

    for (path, ty) in [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/js/app.js", "text/javascript; charset=utf-8"),
        ("/style.css?v=2", "text/css; charset=utf-8"),
        ("/data.json", "application/json"),
        ("/logo.png", "image/png"),
    ] {
        let (status, headers, body) = get(&addr, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), Some(ty), "{path}");
        assert_eq!(
            header(&headers, "content-length"),
            Some(body.len().to_string().as_str())
        );
    }
    let (_, _, body) = get(&addr, "/").await;
    assert_eq!(body, b"<!doctype html><p>hello</p>");
    let (status, headers, _) = get(&addr, "/js").await;
    assert_eq!((status, header(&headers, "location")), (301, Some("/js/")));

    // Missing files, escapes, other methods.
    assert_eq!(get(&addr, "/missing.html").await.0, 404);
    assert_eq!(get(&addr, "/js/").await.0, 404, "a directory without index.html");
    assert_eq!(get(&addr, "/../secret.txt").await.0, 400);
    assert_eq!(get(&addr, "/js/../../secret.txt").await.0, 400);
    assert_eq!(get(&addr, "/%2e%2e/secret.txt").await.0, 400);
    assert_eq!(get(&addr, "/..%2fsecret.txt").await.0, 400);
    #[cfg(unix)]
    {
        assert_eq!(
            get(&addr, "/escape.txt").await.0,
            403,
            "a symlink out of the directory"
        );
        assert_eq!(
            get(&addr, "/up/secret.txt").await.0,
            403,
            "a symlinked directory out of it"
        );
        assert_eq!(
            get(&addr, "/inside.css").await.0,
            200,
            "a symlink that stays inside"
        );
    }
    let (status, headers, body) = http(
        &addr,
        &format!("HEAD /style.css HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
    )
    .await;
    assert_eq!(
        (status, header(&headers, "content-length"), body.len()),
        (200, Some("3"), 0)
    );
    assert_eq!(
        http(&addr, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .await
            .0,
        405
    );
    assert_eq!(get(&addr, "/ws").await.0, 426, "/ws is the WebSocket endpoint");
    assert_eq!(http(&addr, "NONSENSE\r\n\r\n").await.0, 400);

    // WAMP on the same port, at /ws.
    let url = format!("ws://{addr}/ws");
    let a = wamp::Session::connect(&url, "realm1").await.unwrap();
    a.register("com.web.ping", Default::default(), |_| async {
        Ok(wamp::CallResult::new().with_arg("pong"))
    })
    .await
    .unwrap();
    let b = wamp::Session::connect(&url, "realm1").await.unwrap();
    assert_eq!(
        b.call("com.web.ping").await.unwrap().args[0].as_str(),
        Some("pong")
    );
    let e = wamp::Session::connect(&format!("ws://{addr}/other"), "realm1")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("404"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_directory_from_the_config_file() {
    let dir = wamp_tests::TempDir::new("web-config");
    site(&dir);
    let file = dir.write(
        "router.toml",
        "[[transports]]\ntype = \"websocket\"\nendpoint = \"127.0.0.1:0\"\nweb = \"site\"\n",
    );
    let (_router, addr) = start(&["--config", file.to_str().unwrap(), "--realm", "realm1"]).await;
    let (status, _, body) = get(&addr, "/").await;
    assert_eq!(
        (status, body.as_slice()),
        (200, b"<!doctype html><p>hello</p>".as_slice())
    );
    wamp::Session::connect(&format!("ws://{addr}/ws"), "realm1")
        .await
        .unwrap();

    let bad = dir.write(
        "bad.toml",
        "[[transports]]\ntype = \"rawsocket\"\nendpoint = \"127.0.0.1:0\"\nweb = \"site\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--config", bad.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("transports.web"),
        "{out:?}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--ws", "127.0.0.1:0", "--web", "/no/such/dir"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--web"), "{out:?}");
}
