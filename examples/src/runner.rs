//! The `main` of every example binary: where the router is, and what runs
//! in-process when there is none.

use std::future::Future;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use wamp::component::{Component, Transport};
use wamp::router::{Router, RouterConfig};
use wamp::Session;

use crate::{init_logging, realm, Backend, BoxError, Target};

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

/// Runs a backend until Ctrl-C, as a [`Component`]: on the router in
/// `WAMP_URL`, or (without it) on an embedded router listening for
/// WebSocket clients at [`listen_addr`], so that frontends in other
/// processes (ours or Autobahn's) can connect. See [`backend_component`].
pub async fn run_backend<F, Fut>(name: &str, start: F) -> Result<(), BoxError>
where
    F: Fn(Session, Duration) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Backend, BoxError>> + Send + 'static,
{
    init_logging();
    let interval = interval_from_env(DEFAULT_INTERVAL);
    // The embedded router, if any, lives as long as this function.
    let (url, _router) = match std::env::var("WAMP_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let router = Router::new(RouterConfig::default().realm(realm()));
            let addr = listen_addr();
            let listener = router
                .listen_websocket(addr.as_str())
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e} (set WAMP_LISTEN to another port)"))?;
            let url = format!("ws://{}/ws", listener.local_addr());
            println!("{name} backend: embedded router listening on {url}");
            println!("run a frontend with WAMP_URL={url}");
            (url, Some(router))
        }
    };
    println!(
        "{name} backend: router at {url}, realm {}; Ctrl-C to stop",
        realm()
    );
    backend_component(name, &url, &realm(), interval, start)
        .run()
        .await?;
    Ok(())
}

/// A backend as a [`Component`], the way to run a service that must stay
/// up: it joins `realm` at `url` with Autobahn's reconnect policy, runs
/// `start` on every new session (registering and subscribing everything
/// again), and drops what `start` made (its publishing tasks) when the
/// session is lost. Killing the router and starting it again on the same
/// port costs the backend a few seconds, not a restart.
pub fn backend_component<F, Fut>(
    name: &str,
    url: &str,
    realm: &str,
    interval: Duration,
    start: F,
) -> Component
where
    F: Fn(Session, Duration) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Backend, BoxError>> + Send + 'static,
{
    let start = Arc::new(start);
    let running: Arc<Mutex<Option<Backend>>> = Arc::default();
    let (ready_name, leave_name) = (name.to_owned(), name.to_owned());
    let on_leave = running.clone();
    Component::new(realm)
        .transport(Transport::new(url))
        .on_join(move |session| {
            let (start, running, name) = (start.clone(), running.clone(), ready_name.clone());
            async move {
                match start(session.clone(), interval).await {
                    Ok(backend) => {
                        *running.lock().unwrap_or_else(|p| p.into_inner()) = Some(backend);
                        println!("{name} backend ready (session {})", session.id());
                    }
                    Err(e) => eprintln!(
                        "{name} backend: setting up on session {} failed: {e}",
                        session.id()
                    ),
                }
            }
        })
        .on_leave(move |_details, why| {
            // Dropping the backend stops its tasks; its registrations went
            // with the session.
            drop(on_leave.lock().unwrap_or_else(|p| p.into_inner()).take());
            let name = leave_name.clone();
            async move { println!("{name} backend: session ended ({why})") }
        })
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
