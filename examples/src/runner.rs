//! The `main` of every example binary: where the router is, and what runs
//! in-process when there is none.

use std::future::Future;
use std::time::Duration;

use wamp::Session;

use crate::{init_logging, Backend, BoxError, Target};

/// The unit of time with a real router: Autobahn's examples use one second.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// The unit of time of a frontend demo that runs its backend in-process:
/// nobody watches two terminals, so it goes faster.
const DEMO_INTERVAL: Duration = Duration::from_millis(250);

/// The examples' unit of time (publishing period, progress step, pauses)
/// from `WAMP_INTERVAL_MS`, or `default`.
pub fn interval_from_env(default: Duration) -> Duration {
    std::env::var("WAMP_INTERVAL_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(default, Duration::from_millis)
}

/// Where a backend's embedded router listens: `WAMP_LISTEN` (a port, or
/// `host:port`), default `127.0.0.1:8080` (where Autobahn's examples look).
pub fn listen_addr() -> String {
    match std::env::var("WAMP_LISTEN") {
        Ok(v) if v.contains(':') => v,
        Ok(v) if !v.trim().is_empty() => format!("127.0.0.1:{}", v.trim()),
        _ => "127.0.0.1:8080".into(),
    }
}

/// Runs a backend until Ctrl-C: on the router in `WAMP_URL`, or (without
/// it) on an embedded router listening for WebSocket clients at
/// [`listen_addr`], so that frontends in other processes (ours or
/// Autobahn's) can connect.
pub async fn run_backend<F, Fut>(name: &str, start: F) -> Result<(), BoxError>
where
    F: FnOnce(Session, Duration) -> Fut,
    Fut: Future<Output = Result<Backend, BoxError>>,
{
    init_logging();
    let target = Target::from_env();
    let interval = interval_from_env(DEFAULT_INTERVAL);
    // Listeners run until the router shuts down; the handle is not needed.
    if let Target::Embedded(router) = &target {
        let addr = listen_addr();
        let listener = router
            .listen_websocket(addr.as_str())
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e} (set WAMP_LISTEN to another port)"))?;
        let url = format!("ws://{}/ws", listener.local_addr());
        println!("{name} backend: embedded router listening on {url}");
        println!("run a frontend with WAMP_URL={url}");
    }
    println!("{name} backend: {}", target.describe());
    let session = target.join().await?;
    let backend = start(session.clone(), interval).await?;
    println!("{name} backend ready (session {}); Ctrl-C to stop", session.id());
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        e = session.closed() => return Err(format!("session ended: {e}").into()),
    }
    backend.stop().await?;
    session.leave().await?;
    Ok(())
}

/// Runs a frontend to its end: against the router in `WAMP_URL` (where a
/// backend must be running), or (without it) on an embedded router with
/// the matching `backend` started in this process first. Then `check`s what
/// it printed: the exit status says whether the backend (ours, Autobahn's,
/// any other) behaved like Autobahn's.
pub async fn run_frontend<B, BFut, F, FFut>(
    name: &str,
    backend: B,
    frontend: F,
    check: fn(&[String]) -> Result<(), String>,
) -> Result<(), BoxError>
where
    B: FnOnce(Session, Duration) -> BFut,
    BFut: Future<Output = Result<Backend, BoxError>>,
    F: FnOnce(Session, Duration) -> FFut,
    FFut: Future<Output = Result<Vec<String>, BoxError>>,
{
    init_logging();
    let target = Target::from_env();
    println!("{name} frontend: {}", target.describe());
    let (interval, local) = match &target {
        Target::Embedded(_) => {
            let interval = interval_from_env(DEMO_INTERVAL);
            let session = target.join().await?;
            let running = backend(session.clone(), interval).await?;
            println!("{name} backend running in-process (session {})", session.id());
            (interval, Some((session, running)))
        }
        Target::Url(_) => (interval_from_env(DEFAULT_INTERVAL), None),
    };
    let session = target.join().await?;
    let outcome = frontend(session.clone(), interval).await;
    session.leave().await?;
    if let Some((session, running)) = local {
        running.stop().await?;
        session.leave().await?;
    }
    let lines = outcome?;
    check(&lines).map_err(|e| format!("{name} frontend: unexpected output: {e}"))?;
    println!("{name} frontend done: {} lines, as expected", lines.len());
    Ok(())
}
