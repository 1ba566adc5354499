//! A router and its components from one configuration file
//! (`examples/component_config.toml`, format in [`wamp::config`]): the
//! router's realm, roles and users, and a backend (ticket) and a frontend
//! (WAMP-CRA) component, all in one process. The backend serves
//! `com.example.add2`; the frontend calls it, and is refused registering,
//! as its role says.

use std::path::Path;
use std::time::Duration;

use wamp::component::{Component, ComponentHandle};
use wamp::config::ConfigFile;
use wamp::router::Router;
use wamp::{RegisterOptions, Session};

use crate::{describe_call_error, expect, BoxError, Transcript};

/// How long a component may take to join.
const JOIN_LIMIT: Duration = Duration::from_secs(10);

/// The backend's service.
pub struct Calculator;

#[wamp::service(prefix = "com.example")]
impl Calculator {
    /// Adds two integers (saturating: no overflow to report in a demo).
    #[wamp::procedure("add2")]
    async fn add2(&self, a: i64, b: i64) -> i64 {
        a.saturating_add(b)
    }
}

/// Runs the router of the file at `path` with its listeners, then its
/// `backend` and `frontend` components on it; returns what it printed.
pub async fn run(path: &Path) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let file = ConfigFile::load(path)?;
    out.say(format!(
        "loaded {}: components {}",
        path.display(),
        file.component_names().join(", ")
    ));

    let router = Router::new(file.router_config());
    for url in file.listen(&router).await? {
        out.say(format!(
            "router: realms {}, listening on {url}",
            router.realm_names().join(", ")
        ));
    }

    let log = out.clone();
    let backend = Component::from_config(&file, "backend")?
        .service(Calculator)
        .on_join(move |session| {
            let line = format!("backend joined {}", who(&session));
            log.say(line);
            async {}
        })
        .start();
    ready(&backend).await?;

    let frontend = Component::from_config(&file, "frontend")?.start();
    let session = ready(&frontend).await?;
    out.say(format!("frontend joined {}", who(&session)));
    match CalculatorClient::new(session.clone()).add2(2, 3).await {
        Ok(sum) => out.say(format!("frontend: com.example.add2(2, 3) = {sum}")),
        Err(e) => out.say(format!(
            "frontend: com.example.add2 failed: {}",
            describe_call_error(&e)
        )),
    }
    let refused = session
        .register("com.example.steal", RegisterOptions::default(), |_| async {
            Ok(wamp::CallResult::new())
        })
        .await;
    match refused {
        Err(e) => out.say(format!(
            "frontend may not register com.example.steal: {}",
            e.uri().unwrap_or("?")
        )),
        Ok(_) => out.say("frontend registered com.example.steal, which its role forbids"),
    }

    frontend.leave().await?;
    backend.leave().await?;
    router.shutdown();
    out.say("done");
    Ok(out.lines())
}

/// Realm, authid, role and method of a session.
fn who(session: &Session) -> String {
    let d = session.details();
    let or_none = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    format!(
        "{} as {} (role {}, {})",
        d.realm,
        or_none(&d.authid),
        or_none(&d.authrole),
        or_none(&d.authmethod)
    )
}

/// The component's first session, or why it has none (a refused join,
/// say) within [`JOIN_LIMIT`].
async fn ready(handle: &ComponentHandle) -> Result<Session, BoxError> {
    match tokio::time::timeout(JOIN_LIMIT, handle.ready()).await {
        Ok(Ok(session)) => Ok(session),
        // The component stopped: its result says why.
        Ok(Err(_)) => Err(match handle.join().await {
            Err(e) => format!("the component stopped: {e}").into(),
            Ok(()) => "the component stopped before joining".into(),
        }),
        Err(_) => Err(format!("the component did not join within {JOIN_LIMIT:?}").into()),
    }
}

/// Checks what [`run`] printed for `examples/component_config.toml` (on any port).
pub fn check(lines: &[String]) -> Result<(), String> {
    let listening = lines.get(1).map(String::as_str).unwrap_or_default();
    expect::that(
        listening.starts_with("router: realms realm1, listening on ws://127.0.0.1:"),
        || format!("no listening line in {lines:#?}"),
    )?;
    let mut rest = lines.to_vec();
    rest.remove(1);
    let first = rest.first().cloned().unwrap_or_default();
    expect::that(first.ends_with(": components backend, frontend"), || {
        format!("no components line in {lines:#?}")
    })?;
    expect::lines(
        &rest[1..],
        &[
            "backend joined realm1 as backend-svc (role backend, ticket)",
            "frontend joined realm1 as frontend-user (role frontend, wampcra)",
            "frontend: com.example.add2(2, 3) = 5",
            "frontend may not register com.example.steal: wamp.error.not_authorized",
            "done",
        ],
    )
}
