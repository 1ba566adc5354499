//! The router and its components from one configuration file
//! (`wamp::config`): the embedded router from the file's router sections
//! with the authentication fixture's users (ticket, WAMP-CRA plain and
//! salted, cryptosign), components built by `Component::from_config_file`
//! from the same file that register and call, a component with a wrong
//! secret refused; the `component_config` example; and a component from a
//! TOML file joining Crossbar.io with the fixture's users.

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use serde_json::Value as Json;
use wamp::component::{Component, ComponentHandle};
use wamp::config::ConfigFile;
use wamp::router::Router;
use wamp::{Error, Session};
use wamp_tests::fixture::{fixture, fixture_path, str_at as s};
use wamp_tests::python::{free_port, venv_python, workspace_root, Crossbar};
use wamp_tests::{init_tracing, TempDir};

/// The environment variable the `joe` component reads its ticket from.
const JOE_TICKET_VAR: &str = "WAMP_CONFIG_TEST_JOE_TICKET";

/// Sets [`JOE_TICKET_VAR`] once, as every test's first step: no other
/// thread of this binary can be reading the environment while it changes.
fn set_environment(fx: &Json) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var(JOE_TICKET_VAR, s(fx, &["ticket", "joe", "ticket"])));
}

/// The fixture's realm, roles and users as the router sections of a file,
/// with a WebSocket listener at `endpoint`.
fn router_sections(fx: &Json, endpoint: &str) -> String {
    let mut out = format!(
        "[[transports]]\ntype = \"websocket\"\nendpoint = \"{endpoint}\"\n\n[[realms]]\nname = \"{}\"\n",
        s(fx, &["realm"])
    );
    for (role, permissions) in fx["roles"].as_object().unwrap() {
        let rules: Vec<String> = permissions
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let allow: Vec<String> = p["allow"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(_, on)| on.as_bool() == Some(true))
                    .map(|(action, _)| format!("{action:?}"))
                    .collect();
                format!(
                    "{{ uri = {:?}, match = {:?}, allow = [{}] }}",
                    s(p, &["uri"]),
                    s(p, &["match"]),
                    allow.join(", ")
                )
            })
            .collect();
        out += &format!(
            "\n[[realms.roles]]\nname = {role:?}\npermissions = [{}]\n",
            rules.join(", ")
        );
    }
    for (authid, u) in fx["ticket"].as_object().unwrap() {
        out += &format!(
            "\n[realms.auth.ticket.{authid}]\nticket = {:?}\nrole = {:?}\n",
            s(u, &["ticket"]),
            s(u, &["role"])
        );
    }
    for (authid, u) in fx["wampcra"].as_object().unwrap() {
        out += &format!(
            "\n[realms.auth.wampcra.{authid}]\nsecret = {:?}\nrole = {:?}\n",
            s(u, &["secret"]),
            s(u, &["role"])
        );
        if let Some(salt) = u["salt"].as_str() {
            out += &format!(
                "salt = {salt:?}\niterations = {}\nkeylen = {}\n",
                u["iterations"], u["keylen"]
            );
        }
    }
    for (authid, u) in fx["cryptosign"].as_object().unwrap() {
        out += &format!(
            "\n[realms.auth.cryptosign.{authid}]\nauthorized_keys = [{:?}]\nrole = {:?}\n",
            s(u, &["public_key"]),
            s(u, &["role"])
        );
    }
    out
}

/// A `[[components]]` entry joining the fixture's realm at `url` as
/// `authid`, offering `auth` (an inline TOML table).
fn component(fx: &Json, name: &str, url: &str, authid: &str, auth: &str) -> String {
    format!(
        "\n[[components]]\nname = {name:?}\nrealm = {:?}\nauthid = {authid:?}\nauth = {auth}\n\
         transports = [{{ url = {url:?}, initial_retry_delay = 0.1, retry_delay_jitter = 0 }}]\n",
        s(fx, &["realm"])
    )
}

/// The component's first session, or how it ended without one.
async fn ready(handle: &ComponentHandle) -> Result<Session, Error> {
    match tokio::time::timeout(Duration::from_secs(10), handle.ready()).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err(_)) => Err(handle.join().await.err().unwrap_or(Error::NotConnected)),
        Err(_) => panic!("the component neither joined nor stopped within 10 s"),
    }
}

/// Who a session is: authid, authrole, authmethod.
fn identity(session: &Session) -> (Option<&str>, Option<&str>, Option<&str>) {
    let d = session.details();
    (
        d.authid.as_deref(),
        d.authrole.as_deref(),
        d.authmethod.as_deref(),
    )
}

struct Adder;

#[wamp::service(prefix = "com.example")]
impl Adder {
    #[wamp::procedure("add2")]
    async fn add2(&self, a: i64, b: i64) -> i64 {
        a.saturating_add(b)
    }
}

/// Every method of the fixture, from the file its router reads: the
/// cryptosign backend (key in a file) registers, ticket (secret from the
/// environment) and WAMP-CRA (plain and salted) frontends call; a wrong
/// ticket in the file is refused and leaves no session behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_join_the_router_of_their_own_file() {
    let fx = fixture();
    set_environment(&fx);
    init_tracing();
    let dir = TempDir::new("config-components");
    let key_file = dir.write(
        "alice.key",
        &format!(
            "private-key-ed25519: {}\n",
            s(&fx, &["cryptosign", "alice", "private_key"])
        ),
    );
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let mut text = router_sections(&fx, &format!("127.0.0.1:{port}"));
    let cra = |user: &str| {
        format!(
            "{{ wampcra = {{ secret = {:?} }} }}",
            s(&fx, &["wampcra", user, "secret"])
        )
    };
    let key_auth = format!(
        "{{ cryptosign = {{ private_key_file = {:?} }} }}",
        key_file.display().to_string()
    );
    text += &component(&fx, "backend", &url, "alice", &key_auth);
    text += &component(
        &fx,
        "joe",
        &url,
        "joe",
        &format!("{{ ticket_env = {JOE_TICKET_VAR:?} }}"),
    );
    text += &component(&fx, "peter", &url, "peter", &cra("peter"));
    text += &component(&fx, "salty", &url, "salty", &cra("salty"));
    text += &component(&fx, "intruder", &url, "joe", "{ ticket = \"not-joe's-ticket\" }");
    let path = dir.write("wamp.toml", &text);

    let file = ConfigFile::load(&path).unwrap();
    let router = Router::new(file.router_config());
    assert_eq!(file.listen(&router).await.unwrap(), std::slice::from_ref(&url));
    let realm = s(&fx, &["realm"]);

    let backend = Component::from_config_file(&path, "backend")
        .unwrap()
        .service(Adder)
        .start();
    let session = ready(&backend).await.unwrap();
    assert_eq!(
        identity(&session),
        (Some("alice"), Some("backend"), Some("cryptosign"))
    );

    let mut frontends = Vec::new();
    for (name, role, method) in [
        ("joe", "frontend", "ticket"),
        ("peter", "backend", "wampcra"),
        ("salty", "frontend", "wampcra"),
    ] {
        let handle = Component::from_config_file(&path, name).unwrap().start();
        let session = ready(&handle).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(identity(&session), (Some(name), Some(role), Some(method)));
        let sum = AdderClient::new(session).add2(20, 22).await.unwrap();
        assert_eq!(sum, 42, "{name}");
        frontends.push(handle);
    }
    assert_eq!(router.realm(realm).unwrap().session_count(), 4);

    // A wrong secret: refused at join, which is fatal (no retrying), no session.
    let intruder = Component::from_config_file(&path, "intruder").unwrap().start();
    match ready(&intruder).await {
        Err(Error::JoinRefused { reason, .. }) => assert_eq!(reason, "wamp.error.not_authorized"),
        other => panic!("the intruder was not refused: {other:?}"),
    }
    assert_eq!(router.realm(realm).unwrap().session_count(), 4);

    for handle in frontends {
        handle.leave().await.unwrap();
    }
    backend.leave().await.unwrap();
    router.shutdown();
}

/// A secret the file names but the environment lacks is an error at
/// build time naming the key and line; the router half of the same file
/// still loads.
#[tokio::test]
async fn a_missing_secret_names_its_key_and_line() {
    let fx = fixture();
    set_environment(&fx);
    let mut text = router_sections(&fx, "127.0.0.1:0");
    let lines_before = text.lines().count();
    text += &component(
        &fx,
        "ghost",
        "ws://127.0.0.1:1/ws",
        "joe",
        "{ ticket_env = \"WAMP_CONFIG_TEST_UNSET\" }",
    );
    let dir = TempDir::new("config-missing-secret");
    let path = dir.write("wamp.toml", &text);
    let file = ConfigFile::load(&path).unwrap();
    assert_eq!(file.router_config().realm_configs.len(), 1);
    let e = Component::from_config_file(&path, "ghost")
        .unwrap_err()
        .to_string();
    // After the router sections: a blank line, [[components]], name, realm, authid, auth.
    let line = lines_before + 6;
    assert!(
        e.contains(&format!("wamp.toml: line {line}: `components.auth.ticket_env`"))
            && e.contains("WAMP_CONFIG_TEST_UNSET is not set"),
        "{e}"
    );
    let e = Component::from_config_file(&path, "nobody")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no component named \"nobody\"") && e.contains("[\"ghost\"]"),
        "{e}"
    );
}

/// The `component_config` example with its file on a free port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_config_example() {
    set_environment(&fixture());
    let original = workspace_root().join("examples/component_config.toml");
    let text = std::fs::read_to_string(&original).unwrap();
    assert_eq!(
        text.matches("127.0.0.1:8080").count(),
        3,
        "the example's file changed: adapt this test"
    );
    let dir = TempDir::new("config-example");
    // A free port may be taken by a parallel test before the example binds
    // it: try another one then.
    let mut attempts = 0;
    let lines = loop {
        let path = dir.write(
            "component_config.toml",
            &text.replace("127.0.0.1:8080", &format!("127.0.0.1:{}", free_port())),
        );
        match wamp_examples::component_config::run(Path::new(&path)).await {
            Err(e) if attempts < 3 && e.to_string().contains("Address already in use") => attempts += 1,
            other => break other.unwrap(),
        }
    };
    wamp_examples::component_config::check(&lines).unwrap();
}

/// A component loaded from a TOML file joins Crossbar.io with the
/// fixture's ticket user, and a wrong ticket from a file is refused there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_from_a_file_joins_crossbar() {
    let fx = fixture();
    set_environment(&fx);
    init_tracing();
    let Some(python) = venv_python() else { return };
    let node = Crossbar::start_with(&python, &["--auth", &fixture_path()]).await;
    let joe = format!("{{ ticket_env = {JOE_TICKET_VAR:?} }}");
    let text = component(&fx, "joe", &node.ws_url, "joe", &joe)
        + &component(&fx, "intruder", &node.rs_url, "joe", "{ ticket = \"wrong\" }");
    let dir = TempDir::new("config-crossbar");
    let path = dir.write("wamp.toml", &text);

    let handle = Component::from_config_file(&path, "joe").unwrap().start();
    let session = ready(&handle).await.unwrap();
    assert_eq!(
        identity(&session),
        (Some("joe"), Some("frontend"), Some("ticket"))
    );
    handle.leave().await.unwrap();

    let intruder = Component::from_config_file(&path, "intruder").unwrap().start();
    match ready(&intruder).await {
        Err(Error::JoinRefused { reason, .. }) => assert_eq!(reason, "wamp.error.not_authorized"),
        other => panic!("Crossbar.io did not refuse the intruder: {other:?}"),
    }
}
