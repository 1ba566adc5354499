//! `wamp router`: the embedded router behind WebSocket and RawSocket
//! listeners (TCP, TLS, Unix socket) until Ctrl-C (or SIGTERM), then
//! GOODBYE to every session. `--config FILE` reads the file format of
//! `wamp::config`, shared with the components that join the router: the
//! router takes its transports and realms and checks its components.

use std::time::Duration;

use wamp::config::ConfigFile;
use wamp::router::web::WebRoot;
use wamp::router::{FlowSettings, Router, TlsServerConfig};

#[derive(clap::Args, Debug)]
pub(crate) struct RouterArgs {
    /// WebSocket listener address (repeatable). Default 127.0.0.1:8080 when no listener is given.
    #[arg(long = "ws", value_name = "HOST:PORT")]
    ws: Vec<String>,
    /// RawSocket (TCP) listener address (repeatable).
    #[arg(long = "rawsocket", value_name = "HOST:PORT")]
    rawsocket: Vec<String>,
    /// WebSocket-over-TLS listener address (repeatable); needs --cert and --key.
    #[arg(long = "wss", value_name = "HOST:PORT")]
    wss: Vec<String>,
    /// RawSocket-over-TLS listener address (repeatable); needs --cert and --key.
    #[arg(long = "rss", value_name = "HOST:PORT")]
    rss: Vec<String>,
    /// TLS certificate chain (PEM: the server certificate first, then intermediates).
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<std::path::PathBuf>,
    /// TLS private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<std::path::PathBuf>,
    /// RawSocket listener on a Unix socket at PATH (repeatable). A stale socket
    /// file nobody listens on is replaced; the file is removed on exit.
    #[arg(long = "unix", value_name = "PATH")]
    unix: Vec<std::path::PathBuf>,
    /// Serve the static files of DIR on the WebSocket listeners (--ws, --wss), as
    /// Crossbar.io's web transport does: WAMP at /ws, every other path a file of DIR.
    #[arg(long, value_name = "DIR")]
    web: Option<std::path::PathBuf>,
    /// Configuration file (TOML: transports, realms, roles, permissions,
    /// authentication; its `[[components]]` are checked, not run); flags add to it.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Open realm to serve: anonymous, allowed everything (repeatable).
    /// Default realm1 when neither --realm nor a config file names a realm.
    #[arg(long = "realm", value_name = "NAME")]
    realm: Vec<String>,
    /// Largest message accepted, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message_size: usize,
    /// High-water mark of each session's outgoing queue, in messages:
    /// whoever fills it past this is held back (default 1024).
    #[arg(long, value_name = "N")]
    queue_messages: Option<usize>,
    /// High-water mark of each session's outgoing queue, in bytes (default 8 MiB).
    #[arg(long, value_name = "BYTES")]
    queue_bytes: Option<usize>,
    /// Milliseconds a congested queue may make no progress (its peer stopped
    /// reading) before the session is closed with wamp.close.stalled (default 5000).
    #[arg(long, value_name = "MS")]
    stall_timeout_ms: Option<u64>,
    /// Most calls one session may have pending; beyond, the router reads
    /// nothing new from it until one is answered (default 1024).
    #[arg(long, value_name = "N")]
    max_pending_calls: Option<usize>,
    /// Keep the last LIMIT events of a topic for wamp.subscription.get_events
    /// (event history); a URI ending in a dot is a prefix (repeatable)
    #[arg(long, value_name = "URI=LIMIT", value_parser = wamp::router::EventHistory::parse)]
    event_history: Vec<wamp::router::EventHistory>,
    /// Log filter (tracing EnvFilter syntax), overridden by RUST_LOG.
    #[arg(long, default_value = "info")]
    log: String,
    /// Threads routing messages (default: one per core). `--threads 1` runs
    /// the whole router on one thread: the lowest latency for a lightly
    /// loaded router (no hand-off between threads per message), and one
    /// core at most under load.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
}

impl RouterArgs {
    /// The number of runtime threads asked for with `--threads`.
    pub(crate) fn threads(&self) -> Option<usize> {
        self.threads.map(usize::from)
    }
}

/// Prints a line on stdout, ignoring errors: whoever started the router may
/// stop reading its output (a closed pipe) and the router must go on.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub(crate) async fn run_router(mut args: RouterArgs) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&args.log))
        .map_err(|e| format!("bad --log filter: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let file = match &args.config {
        Some(path) => Some(ConfigFile::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut config = file.as_ref().map(ConfigFile::router_config).unwrap_or_default();
    if file.as_ref().and_then(ConfigFile::max_message_size).is_none() {
        config.transport.max_message_size = args.max_message_size;
    }
    // Flags win over the file's [flow].
    let mut flow = FlowSettings::default();
    flow.queue_messages = args.queue_messages;
    flow.queue_bytes = args.queue_bytes;
    flow.stall_timeout = args.stall_timeout_ms.map(Duration::from_millis);
    flow.max_pending_calls = args.max_pending_calls;
    flow.apply_to(&mut config);
    // Flags add to the file's [[event_history]].
    config.event_history.extend(args.event_history.iter().cloned());
    if args.realm.is_empty() && config.realm_configs.is_empty() {
        args.realm.push("realm1".into());
    }
    let file_has_listeners = file.as_ref().is_some_and(|f| f.has_transports());
    if !file_has_listeners
        && args.ws.is_empty()
        && args.rawsocket.is_empty()
        && args.wss.is_empty()
        && args.rss.is_empty()
        && args.unix.is_empty()
    {
        args.ws.push("127.0.0.1:8080".into());
    }
    if args.web.is_some() && args.ws.is_empty() && args.wss.is_empty() {
        return Err("--web serves files beside a WebSocket listener: add --ws or --wss".into());
    }
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => {
            if args.wss.is_empty() && args.rss.is_empty() {
                return Err("--cert and --key are for TLS listeners: add --wss or --rss".into());
            }
            Some(TlsServerConfig::from_pem_files(cert, key).map_err(|e| format!("TLS: {e}"))?)
        }
        _ if !args.wss.is_empty() || !args.rss.is_empty() => {
            return Err("--wss and --rss need --cert FILE and --key FILE".into());
        }
        _ => None,
    };
    #[cfg(not(unix))]
    if !args.unix.is_empty() {
        return Err("--unix: Unix sockets are not supported on this platform".into());
    }
    let realm_names: Vec<String> = args
        .realm
        .iter()
        .cloned()
        .chain(config.realm_configs.iter().map(|r| r.name.clone()))
        .collect();
    config.realms = args.realm.clone();
    let router = Router::new(config);

    // Listening lines go to stdout so scripts (and tests binding port 0) can read the address.
    let web = match &args.web {
        Some(dir) => Some(WebRoot::new(dir).map_err(|e| format!("--web: {e}"))?),
        None => None,
    };
    for addr in &args.ws {
        let l = match &web {
            Some(web) => router.listen_web(addr.as_str(), None, web.clone()).await,
            None => router.listen_websocket(addr.as_str()).await,
        }
        .map_err(|e| format!("cannot listen on {addr} (WebSocket): {e}"))?;
        say!("listening websocket ws://{}/ws", l.local_addr());
        if let (Some(url), Some(web)) = (l.web_url(), &web) {
            say!("serving {} at {url}", web.dir().display());
        }
    }
    for addr in &args.rawsocket {
        let l = router
            .listen_rawsocket(addr.as_str())
            .await
            .map_err(|e| format!("cannot listen on {addr} (RawSocket): {e}"))?;
        say!("listening rawsocket rs://{}", l.local_addr());
    }
    if let Some(tls) = &tls {
        for addr in &args.wss {
            let l = match &web {
                Some(web) => {
                    router
                        .listen_web(addr.as_str(), Some(tls.clone()), web.clone())
                        .await
                }
                None => router.listen_websocket_tls(addr.as_str(), tls.clone()).await,
            }
            .map_err(|e| format!("cannot listen on {addr} (WebSocket over TLS): {e}"))?;
            say!("listening websocket {}", l.url());
            if let (Some(url), Some(web)) = (l.web_url(), &web) {
                say!("serving {} at {url}", web.dir().display());
            }
        }
        for addr in &args.rss {
            let l = router
                .listen_rawsocket_tls(addr.as_str(), tls.clone())
                .await
                .map_err(|e| format!("cannot listen on {addr} (RawSocket over TLS): {e}"))?;
            say!("listening rawsocket {}", l.url());
        }
    }
    #[cfg(unix)]
    for path in &args.unix {
        let l = router
            .listen_rawsocket_unix(path)
            .await
            .map_err(|e| format!("cannot listen on a Unix socket (RawSocket): {e}"))?;
        say!("listening rawsocket {}", l.url());
    }
    if let Some(file) = &file {
        for url in file.listen(&router).await.map_err(|e| e.to_string())? {
            let kind = if url.starts_with("ws") {
                "websocket"
            } else {
                "rawsocket"
            };
            say!("listening {kind} {url}");
        }
    }
    say!("realms {}", realm_names.join(","));
    tracing::info!("router running; Ctrl-C to stop");

    wait_for_signal().await;
    tracing::info!("shutting down: saying GOODBYE to all sessions");
    router.shutdown();
    // Give the writers a moment to flush the GOODBYEs.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
