//! TLS (`wss://`, `rss://`) and Unix-socket (`rs://unix:/path`) transports
//! end to end: a test CA and server certificate are made at test time
//! (rcgen), the router listens with them, our client trusts the CA; a
//! client that trusts another CA (or the system roots) fails with a TLS
//! error, never a hang. Autobahn|Python connects over TLS too when the
//! virtualenv is there.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use wamp::proto::transport::tls::{TlsClientConfig, TlsConfigError, TlsServerConfig};
use wamp::proto::transport::{TransportError, TransportKind};
use wamp::router::Router;
use wamp::{
    CallResult, Error, Payload, RegisterOptions, Serializer, Session, SessionConfig, SubscribeOptions,
};
use wamp_tests::python::{run_script, venv_python};
use wamp_tests::{init_tracing, scenarios, url_connector, Connector};

const REALM: &str = "realm1";
/// No connection attempt in these tests may take longer than this.
const LIMIT: Duration = Duration::from_secs(15);

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "wamp-{tag}-{}-{}",
            std::process::id(),
            wamp::proto::id::random_id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A test CA and a server certificate it signed, as PEM files.
struct Pki {
    dir: TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    /// A fresh CA and a server certificate for `names` (DNS names or IP addresses).
    fn new(tag: &str, names: &[&str]) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("wamp-rs test CA {tag}"));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, &ca_key);

        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer).unwrap();

        let dir = TempDir::new(&format!("tls-{tag}"));
        let (ca, cert_path, key_path) = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&ca, ca_cert.pem()).unwrap();
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        Pki {
            dir,
            ca,
            cert: cert_path,
            key: key_path,
        }
    }

    fn server(&self) -> TlsServerConfig {
        TlsServerConfig::from_pem_files(&self.cert, &self.key).expect("load test certificate and key")
    }

    fn client(&self, serializer: Serializer) -> SessionConfig {
        let mut config = SessionConfig {
            serializers: vec![serializer],
            ..Default::default()
        };
        config.transport.tls = Some(TlsClientConfig::with_ca_file(&self.ca).expect("load test CA"));
        config
    }
}

fn router() -> Router {
    Router::new(wamp_tests::suite_router_config(REALM))
}

fn connector(url: String, config: SessionConfig) -> Connector {
    Arc::new(move || -> Pin<Box<dyn Future<Output = Session> + Send>> {
        let (url, config) = (url.clone(), config.clone());
        Box::pin(async move {
            Session::connect_with(&url, REALM, config)
                .await
                .unwrap_or_else(|e| panic!("cannot join {REALM} at {url}: {e}"))
        })
    })
}

async fn connect(url: &str, config: SessionConfig) -> Result<Session, Error> {
    tokio::time::timeout(LIMIT, Session::connect_with(url, REALM, config))
        .await
        .unwrap_or_else(|_| panic!("connecting to {url} hung"))
}

/// A call and a publish between two sessions.
async fn round_trip(a: &Session, b: &Session) {
    let tag = wamp::proto::id::random_id();
    let proc = format!("com.tls.add2.t{tag}");
    let topic = format!("com.tls.hello.t{tag}");
    a.register(&proc, RegisterOptions::default(), |inv| async move {
        Ok(CallResult::new().with_arg(inv.arg::<i64>(0)? + inv.arg::<i64>(1)?))
    })
    .await
    .expect("register");
    let sum = b.call(&proc).arg(2).arg(3).await.expect("call");
    assert_eq!(sum.arg::<i64>(0).unwrap(), 5);

    let mut events = a
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .expect("subscribe");
    b.publish(&topic)
        .arg("over TLS")
        .acknowledge(true)
        .await
        .expect("publish");
    let event = tokio::time::timeout(LIMIT, events.next())
        .await
        .expect("event in time")
        .expect("an event");
    assert_eq!(event.arg::<String>(0).unwrap(), "over TLS");
}

fn expect_tls_error(result: Result<Session, Error>, what: &str) -> String {
    match result {
        Err(Error::Connect(TransportError::Tls(msg))) => {
            eprintln!("{what}: {msg}");
            msg
        }
        Err(e) => panic!("{what}: expected a TLS error, got {e:?}"),
        Ok(_) => panic!("{what}: connected, but should have failed"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_round_trip_with_test_ca() {
    init_tracing();
    let pki = Pki::new("wss", &["localhost"]);
    let r = router();
    let l = r.listen_websocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    assert!(l.is_tls());
    assert_eq!(l.url(), format!("wss://{}/ws", l.local_addr()));
    let url = format!("wss://localhost:{}/ws", l.local_addr().port());
    for serializer in [Serializer::Json, Serializer::MsgPack] {
        let a = connect(&url, pki.client(serializer))
            .await
            .expect("join over wss");
        let b = connect(&url, pki.client(serializer))
            .await
            .expect("join over wss");
        assert_eq!(a.details().transport, TransportKind::WebSocket);
        assert_eq!(a.details().serializer, Some(serializer));
        round_trip(&a, &b).await;
        a.leave().await.unwrap();
        b.leave().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_scenario_suite() {
    init_tracing();
    let pki = Pki::new("wss-suite", &["localhost"]);
    let r = router();
    let l = r.listen_websocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    let url = format!("wss://localhost:{}/ws", l.local_addr().port());
    scenarios::run_all("wss+json", connector(url, pki.client(Serializer::Json)), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_round_trip_with_test_ca() {
    init_tracing();
    let pki = Pki::new("rss", &["localhost", "127.0.0.1"]);
    let r = router();
    let l = r.listen_rawsocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    assert_eq!(l.url(), format!("rss://{}", l.local_addr()));
    // By name and by IP address (the certificate names both).
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("rss://{host}:{}", l.local_addr().port());
        let a = connect(&url, pki.client(Serializer::MsgPack))
            .await
            .expect("join over rss");
        let b = connect(&url, pki.client(Serializer::Json))
            .await
            .expect("join over rss");
        assert_eq!(a.details().transport, TransportKind::RawSocket);
        round_trip(&a, &b).await;
        a.leave().await.unwrap();
        b.leave().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificates_fail_with_a_tls_error() {
    init_tracing();
    let pki = Pki::new("server", &["localhost"]);
    let other = Pki::new("other", &["localhost"]);
    let r = router();
    let wss = r.listen_websocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    let rss = r.listen_rawsocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    let wss_url = format!("wss://localhost:{}/ws", wss.local_addr().port());
    let rss_url = format!("rss://localhost:{}", rss.local_addr().port());

    // Trusting another CA.
    for url in [&wss_url, &rss_url] {
        let msg = expect_tls_error(connect(url, other.client(Serializer::Json)).await, "wrong CA");
        assert!(msg.contains("invalid peer certificate"), "{msg}");
        assert!(msg.contains("UnknownIssuer"), "{msg}");
    }
    // The default: the system roots, which do not hold the test CA. (With
    // no system store at all, the error says so instead.)
    let msg = expect_tls_error(connect(&wss_url, SessionConfig::default()).await, "system roots");
    assert!(
        msg.contains("UnknownIssuer") || msg.contains("no system root certificates"),
        "{msg}"
    );
    // The right CA, the wrong name: the certificate is for localhost only.
    let ip_url = format!("wss://127.0.0.1:{}/ws", wss.local_addr().port());
    let msg = expect_tls_error(connect(&ip_url, pki.client(Serializer::Json)).await, "wrong name");
    assert!(msg.contains("not valid for name"), "{msg}");

    // The router goes on serving trusting clients.
    let s = connect(&wss_url, pki.client(Serializer::Json))
        .await
        .expect("join after failures");
    s.leave().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_plain_mismatches_fail_without_hanging() {
    init_tracing();
    let pki = Pki::new("mismatch", &["localhost"]);
    let r = router();
    let wss = r.listen_websocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    let ws = r.listen_websocket("127.0.0.1:0").await.unwrap();
    let rss = r.listen_rawsocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    let rs = r.listen_rawsocket("127.0.0.1:0").await.unwrap();

    // A plain client at a TLS listener.
    let plain_ws = format!("ws://localhost:{}/ws", wss.local_addr().port());
    let e = connect(&plain_ws, SessionConfig::default()).await.unwrap_err();
    eprintln!("ws:// at a wss listener: {e}");
    assert!(matches!(e, Error::Connect(_)), "{e:?}");
    let plain_rs = format!("rs://localhost:{}", rss.local_addr().port());
    let e = connect(&plain_rs, SessionConfig::default()).await.unwrap_err();
    eprintln!("rs:// at an rss listener: {e}");
    assert!(matches!(e, Error::Connect(_)), "{e:?}");

    // A TLS client at a plain listener.
    let tls_ws = format!("wss://localhost:{}/ws", ws.local_addr().port());
    expect_tls_error(
        connect(&tls_ws, pki.client(Serializer::Json)).await,
        "wss:// at a ws listener",
    );
    let tls_rs = format!("rss://localhost:{}", rs.local_addr().port());
    expect_tls_error(
        connect(&tls_rs, pki.client(Serializer::Json)).await,
        "rss:// at an rs listener",
    );
}

#[test]
fn certificate_and_key_errors_name_the_file() {
    let pki = Pki::new("errors", &["localhost"]);
    let other = Pki::new("errors-other", &["localhost"]);
    let missing = pki.dir.join("missing.pem");

    let e = TlsServerConfig::from_pem_files(&missing, &pki.key).unwrap_err();
    assert!(
        matches!(
            e,
            TlsConfigError::File {
                what: "certificate",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains(&missing.display().to_string()), "{e}");
    assert!(e.to_string().contains("cannot read"), "{e}");

    let e = TlsServerConfig::from_pem_files(&pki.cert, &missing).unwrap_err();
    assert!(
        matches!(
            e,
            TlsConfigError::File {
                what: "private key",
                ..
            }
        ),
        "{e:?}"
    );

    // The files swapped: no certificate in the key file, no key in the certificate file.
    let e = TlsServerConfig::from_pem_files(&pki.key, &pki.key).unwrap_err();
    assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
    assert!(e.to_string().contains(&pki.key.display().to_string()), "{e}");
    let e = TlsServerConfig::from_pem_files(&pki.cert, &pki.cert).unwrap_err();
    assert!(e.to_string().contains("holds no PEM private key"), "{e}");

    // Not PEM at all.
    let junk = pki.dir.join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = TlsServerConfig::from_pem_files(&junk, &pki.key).unwrap_err();
    assert!(e.to_string().contains("not valid PEM"), "{e}");

    // A key that does not belong to the certificate.
    let e = TlsServerConfig::from_pem_files(&pki.cert, &other.key).unwrap_err();
    assert!(matches!(e, TlsConfigError::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains(&other.key.display().to_string()), "{e}");
    eprintln!("mismatched key: {e}");

    // Client side.
    let e = TlsClientConfig::with_ca_file(&missing).unwrap_err();
    assert!(e.to_string().starts_with("CA certificate file"), "{e}");
    let e = TlsClientConfig::with_ca_file(&pki.key).unwrap_err();
    assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobahn_python_over_tls() {
    let Some(python) = venv_python() else { return };
    init_tracing();
    let pki = Pki::new("python", &["localhost"]);
    let r = router();
    let wss = r.listen_websocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    let rss = r.listen_rawsocket_tls("127.0.0.1:0", pki.server()).await.unwrap();
    let wss_url = format!("wss://localhost:{}/ws", wss.local_addr().port());
    let rss_url = format!("rss://localhost:{}", rss.local_addr().port());
    let ca = pki.ca.display().to_string();
    let limit = Duration::from_secs(120);
    let mut failures = Vec::new();
    for url in [&wss_url, &rss_url] {
        let args = ["--url", url.as_str(), "--realm", REALM, "--ca", ca.as_str()];
        let (ok, out) = run_script(&python, "tls_client.py", &args, limit).await;
        eprintln!("--- Autobahn|Python at {url} ---\n{out}");
        if !ok {
            failures.push(format!("{url}: {}", out.lines().last().unwrap_or("")));
        }
    }
    let args = ["--url", wss_url.as_str(), "--realm", REALM, "--expect-untrusted"];
    let (ok, out) = run_script(&python, "tls_client.py", &args, limit).await;
    eprintln!("--- Autobahn|Python at {wss_url}, untrusted ---\n{out}");
    if !ok {
        failures.push(format!("untrusted: {}", out.lines().last().unwrap_or("")));
    }
    assert!(failures.is_empty(), "Autobahn|Python over TLS: {failures:?}");
}

// ---------------------------------------------------------------------------
// Unix sockets
// ---------------------------------------------------------------------------

#[cfg(unix)]
mod unix {
    use super::*;

    /// A socket path in a fresh scratch directory (short enough for the
    /// 108-byte limit of socket paths).
    fn socket_path(tag: &str) -> (TempDir, PathBuf) {
        let dir = TempDir::new(tag);
        let path = dir.join("wamp.sock");
        (dir, path)
    }

    async fn wait_gone(path: &Path) -> bool {
        for _ in 0..100 {
            if !path.exists() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unix_socket_round_trip() {
        init_tracing();
        let (_dir, path) = socket_path("unix");
        let r = router();
        let l = r.listen_rawsocket_unix(&path).await.unwrap();
        assert_eq!(l.path(), path);
        assert_eq!(l.url(), format!("rs://unix:{}", path.display()));
        assert!(path.exists());
        for (serializer, url) in [
            (Serializer::Json, l.url()),
            (Serializer::MsgPack, format!("unix://{}", path.display())),
        ] {
            let config = SessionConfig {
                serializers: vec![serializer],
                ..Default::default()
            };
            let a = connect(&url, config.clone())
                .await
                .expect("join over a Unix socket");
            let b = connect(&url, config).await.expect("join over a Unix socket");
            assert_eq!(a.details().transport, TransportKind::RawSocket);
            assert_eq!(a.details().serializer, Some(serializer));
            round_trip(&a, &b).await;
            a.leave().await.unwrap();
            b.leave().await.unwrap();
        }
        l.stop();
        assert!(!path.exists(), "stop removes the socket file");
        let e = connect(&l.url(), SessionConfig::default()).await.unwrap_err();
        assert!(matches!(e, Error::Connect(TransportError::Io(_))), "{e:?}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unix_socket_scenario_suite() {
        init_tracing();
        let (_dir, path) = socket_path("unix-suite");
        let r = router();
        let l = r.listen_rawsocket_unix(&path).await.unwrap();
        scenarios::run_all(
            "rs+unix+msgpack",
            url_connector(l.url(), REALM, Serializer::MsgPack),
            &[],
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unix_socket_file_handling() {
        init_tracing();
        let (dir, path) = socket_path("unix-files");

        // A stale socket (its listener is gone) is replaced.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let r = router();
        let l = r
            .listen_rawsocket_unix(&path)
            .await
            .expect("replace a stale socket");
        let s = connect(&l.url(), SessionConfig::default()).await.expect("join");

        // A live socket is left alone.
        let other = router();
        let e = other.listen_rawsocket_unix(&path).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
        assert!(e.to_string().contains("another process is listening"), "{e}");
        assert!(s.is_open());

        // So is a file that is not a socket.
        let file = dir.join("not-a-socket");
        std::fs::write(&file, "data").unwrap();
        let e = other.listen_rawsocket_unix(&file).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");

        // Shutdown removes the socket file.
        r.shutdown();
        assert!(wait_gone(&path).await, "shutdown removes the socket file");
        let ended = tokio::time::timeout(LIMIT, s.closed())
            .await
            .expect("session ends");
        eprintln!("session ended: {ended}");
    }
}
