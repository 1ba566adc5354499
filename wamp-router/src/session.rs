//! One client connection in the router: the HELLO/WELCOME opening, the
//! message loop, and the closing (GOODBYE, ABORT, transport loss, overflow,
//! router shutdown). Whatever way a session ends, the realm forgets it and
//! everything it owned.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use wamp_proto::transport::Connection;
use wamp_proto::{error_uri, id, Dict, HelloDetails, IdSequence, Message, Value, WelcomeDetails};

use crate::realm::SessionEntry;
use crate::RouterInner;

/// How long the router waits to hand a closing message to a peer's queue.
const CLOSE_SEND_TIMEOUT: Duration = Duration::from_secs(2);

async fn send_closing(conn: &Connection, msg: Message) {
    let _ = tokio::time::timeout(CLOSE_SEND_TIMEOUT, conn.sender.send(msg)).await;
}

/// Serves one connection until its session ends.
pub(crate) async fn run(router: Arc<RouterInner>, mut conn: Connection) {
    let peer = conn.peer.clone().unwrap_or_else(|| conn.kind.to_string());
    let mut shutdown = router.shutdown.subscribe();
    if *shutdown.borrow() {
        return;
    }
    let first = tokio::select! {
        m = tokio::time::timeout(router.config.hello_timeout, conn.receiver.recv()) => m,
        _ = shutdown.changed() => return,
    };
    let (realm_name, details) = match first {
        Ok(Some(Message::Hello { realm, details })) => (realm, details),
        Ok(Some(other)) => {
            let msg = format!("expected HELLO, got {}", other.message_type());
            tracing::debug!(%peer, "{msg}");
            return send_closing(&conn, Message::abort(error_uri::PROTOCOL_VIOLATION, msg)).await;
        }
        Ok(None) => return,
        Err(_) => {
            let msg = "no HELLO received in time";
            return send_closing(&conn, Message::abort(error_uri::PROTOCOL_VIOLATION, msg)).await;
        }
    };
    let Some(realm) = router.realm(&realm_name) else {
        let msg = format!("no realm {realm_name:?} on this router");
        return send_closing(&conn, Message::abort(error_uri::NO_SUCH_REALM, msg)).await;
    };
    if let Some(methods) = &details.authmethods {
        if !methods.is_empty() && !methods.iter().any(|m| m == "anonymous") {
            let msg =
                format!("none of the offered authentication methods {methods:?} is enabled (anonymous is)");
            return send_closing(&conn, Message::abort("wamp.error.no_auth_method", msg)).await;
        }
    }

    let sid = id::random_id();
    let authid = details
        .authid
        .clone()
        .unwrap_or_else(|| format!("anonymous-{sid}"));
    let authrole = "anonymous".to_owned();
    let kill = Arc::new(Notify::new());
    realm.join(SessionEntry {
        id: sid,
        tx: conn.sender.clone(),
        kill: kill.clone(),
        authid: authid.clone(),
        authrole: authrole.clone(),
        callee_cancels: feature(&details, "callee", "call_canceling"),
        invocation_ids: IdSequence::new(),
    });
    let welcome = WelcomeDetails {
        roles: Some(router_roles()),
        realm: Some(realm_name.clone()),
        authid: Some(authid),
        authrole: Some(authrole),
        authmethod: Some("anonymous".into()),
        authprovider: Some("static".into()),
        agent: Some(concat!("wamp-rs-router/", env!("CARGO_PKG_VERSION")).into()),
        ..Default::default()
    };
    if conn
        .sender
        .send(Message::Welcome {
            session: sid,
            details: welcome,
        })
        .await
        .is_err()
    {
        realm.leave(sid);
        return;
    }
    tracing::debug!(session = sid, realm = %realm_name, %peer, "session joined");

    loop {
        let msg = tokio::select! {
            m = conn.receiver.recv() => m,
            _ = conn.closer.closed() => None,
            _ = kill.notified() => {
                send_closing(&conn, Message::abort(error_uri::CLOSE_REALM, "session could not keep up with its messages")).await;
                break;
            }
            _ = shutdown.changed() => {
                send_closing(&conn, Message::goodbye(error_uri::SYSTEM_SHUTDOWN)).await;
                break;
            }
        };
        match msg {
            None => {
                if let Some(reason) = conn.close_reason.get() {
                    tracing::debug!(session = sid, "connection ended: {reason}");
                    if let wamp_proto::transport::TransportError::Decode(e) = reason {
                        // The socket may still be writable: say why we stop.
                        send_closing(
                            &conn,
                            Message::abort(error_uri::PROTOCOL_VIOLATION, e.to_string()),
                        )
                        .await;
                    }
                }
                break;
            }
            Some(Message::Goodbye { .. }) => {
                send_closing(&conn, Message::goodbye(error_uri::GOODBYE_AND_OUT)).await;
                break;
            }
            Some(Message::Abort { .. }) => break,
            Some(m) => {
                if let Err(v) = realm.handle(sid, m) {
                    tracing::debug!(session = sid, "protocol violation: {}", v.0);
                    send_closing(&conn, Message::abort(error_uri::PROTOCOL_VIOLATION, v.0)).await;
                    break;
                }
            }
        }
    }
    realm.leave(sid);
    tracing::debug!(session = sid, "session left");
}

/// Whether HELLO announces `role.features.name = true`.
fn feature(details: &HelloDetails, role: &str, name: &str) -> bool {
    let Some(roles) = &details.roles else { return false };
    roles
        .get(role)
        .and_then(Value::as_dict)
        .and_then(|r| r.get("features"))
        .and_then(Value::as_dict)
        .and_then(|f| f.get(name))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The roles and features the router announces in WELCOME.
fn router_roles() -> Dict {
    let features = |names: &[&str]| {
        let f: Dict = names
            .iter()
            .map(|n| ((*n).to_owned(), Value::Bool(true)))
            .collect();
        let mut role = Dict::new();
        role.insert("features".into(), Value::Dict(f));
        Value::Dict(role)
    };
    let mut roles = Dict::new();
    roles.insert(
        "broker".into(),
        features(&[
            "publisher_identification",
            "publisher_exclusion",
            "subscriber_blackwhite_listing",
            "pattern_based_subscription",
        ]),
    );
    roles.insert(
        "dealer".into(),
        features(&[
            "caller_identification",
            "pattern_based_registration",
            "shared_registration",
            "progressive_call_results",
            "call_canceling",
            "call_timeout",
        ]),
    );
    roles
}
