//! Test support: ways to open sessions on a router (in-process, WebSocket,
//! RawSocket; ours or Crossbar.io), the scenario suite every router must
//! pass, and the project's Python virtualenv (Autobahn|Python, Crossbar.io).

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

/// A unique URI suffix, so scenarios sharing a router never collide.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}.t{}", wamp::proto::id::random_id())
}

/// Starts tracing output for a test binary once (honours RUST_LOG).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
