//! Test support: ways to open sessions on a router (in-process, WebSocket,
//! RawSocket; ours or Crossbar.io), the scenario suite every router must
//! pass, the project's Python virtualenv (Autobahn|Python, Crossbar.io),
//! the authentication fixture, and temporary directories.

pub mod fixture;
pub mod meta_scenarios;
pub mod python;
pub mod scenarios;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use wamp::{Serializer, Session, SessionConfig};

/// Opens a new session on the router under test.
pub type Connector = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Session> + Send>> + Send + Sync>;

/// A connector for a socket URL (`ws://...` or `rs://...`) and serializer.
pub fn url_connector(url: String, realm: &str, serializer: Serializer) -> Connector {
    let realm = realm.to_owned();
    Arc::new(move || {
        let (url, realm) = (url.clone(), realm.clone());
        Box::pin(async move {
            let config = SessionConfig {
                serializers: vec![serializer],
                ..Default::default()
            };
            Session::connect_with(&url, &realm, config)
                .await
                .unwrap_or_else(|e| panic!("cannot join {realm} at {url}: {e}"))
        })
    })
}

/// A connector for in-process sessions on an embedded router.
pub fn local_connector(router: wamp::router::Router, realm: &str) -> Connector {
    let realm = realm.to_owned();
    Arc::new(move || {
        let (router, realm) = (router.clone(), realm.clone());
        Box::pin(async move {
            Session::join_local(&router, &realm)
                .await
                .expect("join in-process")
        })
    })
}

/// The configuration of a router the scenario suite runs against: an open
/// `realm`, and the event history that `meta_scenarios::event_history`
/// reads.
pub fn suite_router_config(realm: &str) -> wamp::router::RouterConfig {
    let history = format!(
        "{}={}",
        meta_scenarios::HISTORY_PREFIX,
        meta_scenarios::HISTORY_LIMIT
    );
    let history = wamp::router::EventHistory::parse(&history).expect("a valid event history");
    wamp::router::RouterConfig::default()
        .realm(realm)
        .event_history(history)
}

/// A unique URI suffix, so scenarios sharing a router never collide.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}.t{}", wamp::proto::id::random_id())
}

/// A directory of its own for one test, removed on drop.
pub struct TempDir {
    path: std::path::PathBuf,
}

impl TempDir {
    /// A new empty directory named after `label`, the process and a random
    /// number, so tests running at once never share one.
    pub fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "wamp-{label}-{}-{}",
            std::process::id(),
            wamp::proto::id::random_id()
        ));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Writes `text` to the file `name` in the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let file = self.path.join(name);
        std::fs::write(&file, text).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        file
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Starts tracing output for a test binary once (honours RUST_LOG).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
