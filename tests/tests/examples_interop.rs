//! The examples of `examples/` (Autobahn|Python's WAMP examples in Rust):
//!
//! - `in_process::*`: each backend with its frontend on the embedded router,
//!   no Python needed (with the examples that have no Autobahn counterpart);
//! - `autobahn_on_embedded_router`: our backend with Autobahn|Python's
//!   frontend (`tests/python/examples/<name>_frontend.py`, which checks what
//!   it receives), and Autobahn's backend with our frontend, on our router;
//! - `autobahn_on_crossbar`: the same pairs on Crossbar.io.
//!
//! Our frontends' transcripts are checked value by value by each example's
//! `check`. The examples' unit of time (Autobahn's one second) is shortened
//! for speed.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Semaphore};
use wamp::router::{Router, RouterConfig};
use wamp::Session;
use wamp_examples::{Backend, BoxError};
use wamp_tests::python::{run_script, venv_python, workspace_root, Crossbar};

/// The examples' unit of time in these tests.
const INTERVAL: Duration = Duration::from_millis(100);
/// The same for the Python scripts (`--interval`, seconds).
const PY_INTERVAL: &str = "0.1";
/// How long one side of a pair may take.
const PAIR_LIMIT: Duration = Duration::from_secs(60);
/// Pairs (lanes, on Crossbar) running at once: each starts a Python process.
const PARALLEL: usize = 4;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// An example's `backend` function: starts it on a session.
type StartBackend = fn(Session, Duration) -> BoxFuture<Result<Backend, BoxError>>;
/// An example's `frontend` function: runs it, returns what it printed.
type RunFrontend = fn(Session, Duration) -> BoxFuture<Result<Vec<String>, BoxError>>;

/// One example: its module's `backend` and `frontend`, how to check the
/// frontend's transcript, and its lane (examples sharing URIs share a lane
/// and never run at once on a shared router).
struct Example {
    name: &'static str,
    lane: &'static str,
    backend: StartBackend,
    frontend: RunFrontend,
    /// Checks the frontend's transcript, value by value.
    check: fn(&[String]) -> Result<(), String>,
}

macro_rules! example {
    ($module:ident, $lane:expr) => {
        Example {
            name: stringify!($module),
            lane: $lane,
            backend: |s, i| Box::pin(wamp_examples::$module::backend(s, i)),
            frontend: |s, i| Box::pin(wamp_examples::$module::frontend(s, i)),
            check: wamp_examples::$module::check,
        }
    };
    ($module:ident) => {
        example!($module, stringify!($module))
    };
}

fn examples() -> Vec<Example> {
    vec![
        example!(rpc_timeservice),
        example!(rpc_slowsquare),
        example!(rpc_arguments),
        example!(rpc_complex),
        example!(rpc_errors),
        example!(rpc_progress),
        example!(rpc_options),
        // The prefix com.myapp. would take calls meant for the get_name wildcards.
        example!(rpc_patterns, "com.myapp.*"),
        example!(rpc_suffix, "com.myapp.*"),
        example!(pubsub_basic, "com.myapp.topic1"),
        example!(pubsub_options, "com.myapp.topic1"),
        example!(pubsub_unsubscribe, "com.myapp.topic1"),
        example!(pubsub_complex),
        example!(pubsub_patterns),
    ]
}

/// Examples with no Autobahn counterpart, run in-process only:
/// `rpc_stream_sum` streams a call's input, which Autobahn|Python and
/// Crossbar.io do not do (progressive call invocations).
fn rust_only() -> Vec<Example> {
    vec![example!(rpc_stream_sum)]
}

fn router() -> Router {
    Router::new(RouterConfig::default().realm("realm1"))
}

/// Each backend with its frontend, in-process: the examples without Python.
mod in_process {
    use super::*;

    async fn run(name: &str) {
        let example = examples()
            .into_iter()
            .chain(rust_only())
            .find(|e| e.name == name)
            .expect("an example");
        let router = router();
        let backend_session = Session::join_local(&router, "realm1").await.unwrap();
        let backend = (example.backend)(backend_session.clone(), INTERVAL)
            .await
            .unwrap();
        let frontend_session = Session::join_local(&router, "realm1").await.unwrap();
        let lines = tokio::time::timeout(PAIR_LIMIT, (example.frontend)(frontend_session.clone(), INTERVAL))
            .await
            .expect("the frontend finishes")
            .unwrap();
        (example.check)(&lines).unwrap();
        let backend_lines = backend.lines();
        match name {
            // The backend saw who called: the frontend disclosed itself.
            "rpc_options" => {
                let from = format!("square called from: {}", frontend_session.id());
                assert_eq!(
                    backend_lines.iter().filter(|l| **l == from).count(),
                    3,
                    "{backend_lines:#?}"
                );
            }
            // exclude_me = false: the backend got its own events.
            "pubsub_options" => {
                assert!(
                    backend_lines.iter().any(|l| l.starts_with("Got event: ")),
                    "{backend_lines:#?}"
                )
            }
            _ => {}
        }
        backend.stop().await.unwrap();
    }

    macro_rules! in_process_tests {
        ($($name:ident),*) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                run(stringify!($name)).await
            }
        )*};
    }

    in_process_tests!(
        rpc_timeservice,
        rpc_slowsquare,
        rpc_arguments,
        rpc_complex,
        rpc_errors,
        rpc_progress,
        rpc_options,
        rpc_patterns,
        rpc_suffix,
        pubsub_basic,
        pubsub_options,
        pubsub_unsubscribe,
        pubsub_complex,
        pubsub_patterns,
        rpc_stream_sum
    );
}

/// An Autobahn|Python backend of `tests/python/examples/`, killed on drop.
struct PyBackend {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl PyBackend {
    /// Starts `<name>_backend.py` against `url` and waits until it is ready.
    async fn start(python: &Path, name: &str, url: &str) -> Result<PyBackend, String> {
        let script = workspace_root().join(format!("tests/python/examples/{name}_backend.py"));
        let mut child = Command::new(python)
            .arg(&script)
            .args(["--url", url, "--interval", PY_INTERVAL])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start {}: {e}", script.display()))?;
        let output = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = oneshot::channel();
        let mut ready_tx = Some(ready_tx);
        let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let out = output.clone();
        // Keep reading both pipes so the backend never blocks on a full one.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.ends_with(" backend ready") {
                    ready_tx.take().map(|tx| tx.send(()));
                }
                out.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let err = output.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                err.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let backend = PyBackend { child, output };
        match tokio::time::timeout(Duration::from_secs(30), ready_rx).await {
            Ok(Ok(())) => Ok(backend),
            _ => Err(format!(
                "{name}_backend.py did not get ready:\n{}",
                backend.output()
            )),
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Both directions of one example on the router at `url` (our sessions
/// join with `join`): our backend + Autobahn's frontend, then Autobahn's
/// backend + our frontend. Returns the failures, labelled.
async fn pair<J, JF>(python: &Path, example: &Example, url: &str, join: J, label: &str) -> Vec<String>
where
    J: Fn() -> JF,
    JF: Future<Output = Result<Session, wamp::Error>>,
{
    let mut failures = Vec::new();
    let name = example.name;
    let started = Instant::now();
    // 1. Our backend, Autobahn's frontend.
    match join().await {
        Ok(session) => match (example.backend)(session.clone(), INTERVAL).await {
            Ok(backend) => {
                let script = format!("examples/{name}_frontend.py");
                let args = ["--url", url, "--interval", PY_INTERVAL];
                let (ok, output) = run_script(python, &script, &args, PAIR_LIMIT).await;
                if !ok || !output.contains(" passed, 0 failed") {
                    failures.push(format!(
                        "[{label}] our {name} backend + Autobahn frontend:\n{output}"
                    ));
                }
                if let Err(e) = backend.stop().await {
                    failures.push(format!("[{label}] stopping our {name} backend: {e}"));
                }
                let _ = session.leave().await;
            }
            Err(e) => failures.push(format!("[{label}] our {name} backend did not start: {e}")),
        },
        Err(e) => failures.push(format!("[{label}] join for our {name} backend: {e}")),
    }
    // 2. Autobahn's backend, our frontend.
    match PyBackend::start(python, name, url).await {
        Ok(py) => {
            let outcome = match join().await {
                Ok(session) => {
                    let r =
                        tokio::time::timeout(PAIR_LIMIT, (example.frontend)(session.clone(), INTERVAL)).await;
                    let _ = session.leave().await;
                    match r {
                        Ok(Ok(lines)) => (example.check)(&lines),
                        Ok(Err(e)) => Err(format!("our frontend failed: {e}")),
                        Err(_) => Err(format!("our frontend did not finish within {PAIR_LIMIT:?}")),
                    }
                }
                Err(e) => Err(format!("join for our frontend: {e}")),
            };
            if let Err(e) = outcome {
                let log = py.output();
                failures.push(format!(
                    "[{label}] Autobahn {name} backend + our frontend: {e}\nbackend:\n{log}"
                ));
            }
            py.stop().await;
        }
        Err(e) => failures.push(format!("[{label}] {e}")),
    }
    eprintln!(
        "[{label}] {name}: {} in {:.1} s",
        if failures.is_empty() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    failures
}

fn report(label: &str, started: Instant, failures: Vec<String>) {
    eprintln!("[{label}] all pairs in {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Every pair on its own embedded router, a few at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobahn_on_embedded_router() {
    let Some(python) = venv_python() else { return };
    let started = Instant::now();
    let slots = Arc::new(Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for example in examples() {
        let (python, slots) = (python.clone(), slots.clone());
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await.expect("semaphore open");
            let router = router();
            let listener = router.listen_websocket("127.0.0.1:0").await.expect("listen");
            let url = format!("ws://{}/ws", listener.local_addr());
            // Our sessions join in-process; Autobahn's connect to the listener.
            let join = || Session::join_local(&router, "realm1");
            let failures = pair(&python, &example, &url, join, "embedded").await;
            router.shutdown();
            failures
        }));
    }
    let mut failures = Vec::new();
    for task in tasks {
        failures.extend(
            task.await
                .unwrap_or_else(|e| vec![format!("pair task failed: {e}")]),
        );
    }
    report("embedded", started, failures);
}

/// The same pairs on one Crossbar.io node; examples sharing URIs (a lane)
/// run one after the other, lanes concurrently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobahn_on_crossbar() {
    let Some(python) = venv_python() else { return };
    let started = Instant::now();
    let node = Crossbar::start(&python).await;
    eprintln!("[crossbar] node up in {:.1} s", started.elapsed().as_secs_f64());
    let mut lanes: BTreeMap<&str, Vec<Example>> = BTreeMap::new();
    for example in examples() {
        lanes.entry(example.lane).or_default().push(example);
    }
    let slots = Arc::new(Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for (_, lane) in lanes {
        let (python, slots, url) = (python.clone(), slots.clone(), node.ws_url.clone());
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await.expect("semaphore open");
            let mut failures = Vec::new();
            for example in &lane {
                let join = || Session::connect(&url, "realm1");
                failures.extend(pair(&python, example, &url, join, "crossbar").await);
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for task in tasks {
        failures.extend(
            task.await
                .unwrap_or_else(|e| vec![format!("lane task failed: {e}")]),
        );
    }
    drop(node);
    report("crossbar", started, failures);
}
