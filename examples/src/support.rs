//! What the examples share: a transcript of what they printed (so tests can
//! check it), a handle to a running backend, and periodic tasks.

use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use wamp::{Attached, CallError, Registration, WampError};

/// The error type of the examples' `backend` and `frontend` functions.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Lines an example printed, kept for whoever runs it (a test compares
/// them with what Autobahn's example would print). Clones share the lines.
#[derive(Clone, Default)]
pub struct Transcript {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    /// Prints a line and records it.
    pub fn say(&self, line: impl Into<String>) {
        let line = line.into();
        println!("{line}");
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }

    /// Everything said so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A running backend: what it registered and subscribed, its periodic
/// tasks (publishers), and what it printed. Dropping it stops the tasks;
/// [`stop`](Self::stop) also unregisters.
#[derive(Default)]
pub struct Backend {
    log: Transcript,
    attached: Vec<Attached>,
    registrations: Vec<Registration>,
    tasks: Vec<JoinHandle<()>>,
}

impl Backend {
    /// A backend printing to `log`.
    pub fn new(log: Transcript) -> Self {
        Backend {
            log,
            attached: Vec::new(),
            registrations: Vec::new(),
            tasks: Vec::new(),
        }
    }

    /// Keeps an attached service.
    pub fn with_attached(mut self, attached: Attached) -> Self {
        self.attached.push(attached);
        self
    }

    /// Keeps a procedure registered with the untyped API.
    pub fn with_registration(mut self, registration: Registration) -> Self {
        self.registrations.push(registration);
        self
    }

    /// Keeps a background task (stopped with the backend).
    pub fn with_task(mut self, task: JoinHandle<()>) -> Self {
        self.tasks.push(task);
        self
    }

    /// What the backend printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.lines()
    }

    /// Stops the tasks and unregisters everything (the session stays open).
    pub async fn stop(mut self) -> Result<(), wamp::Error> {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        for attached in self.attached.drain(..) {
            attached.detach().await?;
        }
        for registration in self.registrations.drain(..) {
            registration.unregister().await?;
        }
        Ok(())
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Runs `step(0)`, `step(1)`, ... every `interval` (the first at once), like
/// Autobahn's publishing loops, until a step fails (the session is gone).
pub fn spawn_periodic<F, Fut>(interval: Duration, mut step: F) -> JoinHandle<()>
where
    F: FnMut(u64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), wamp::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        for counter in 0.. {
            if let Err(e) = step(counter).await {
                tracing::warn!("periodic task stopped: {e}");
                return;
            }
            tokio::time::sleep(interval).await;
        }
    })
}

/// A failed typed call as one line: the error URI and the typed error for
/// declared errors (`com.myapp.error.mixed_case MixedCase("a", "A")`), the
/// URI with its args/kwargs for others.
pub fn describe_call_error<E: WampError + Debug>(e: &CallError<E>) -> String {
    match e {
        CallError::Service(s) => format!("{} {s:?}", s.to_application_error().error),
        CallError::Application(a) => a.to_string(),
        CallError::Session(e) => e.to_string(),
        CallError::InvalidResult(m) => format!("unexpected result: {m}"),
    }
}
