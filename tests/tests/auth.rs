//! Authentication and authorization: every method against our router
//! (in-process and over WebSocket), wrong credentials, several methods
//! offered at once, role permissions, dynamic authenticators and
//! authorizers, realm isolation; our client against Crossbar.io with the
//! same users (tests/python/auth_fixture.json), and Autobahn|Python
//! against our router.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value as Json;
use wamp::auth::{Credentials, CryptosignKey};
use wamp::proto::uri::MatchPolicy;
use wamp::router::auth::{
    Allow, AuthMethod, CryptosignUser, Method, Permission, RealmConfig, Role, TicketUser,
};
use wamp::router::{Router, RouterConfig};
use wamp::{
    ApplicationError, CallResult, Dict, Error, Payload, RegisterOptions, Serializer, Session, SessionConfig,
    SubscribeOptions, Value,
};
use wamp_tests::fixture::{fixture, fixture_path, fixture_realm, str_at as s};
use wamp_tests::python::{run_script, venv_python, Crossbar};
use wamp_tests::{init_tracing, unique};

const NOT_AUTHORIZED: &str = "wamp.error.not_authorized";

// --- the fixture shared with Crossbar.io and Autobahn|Python ---------------

/// A router with the fixture's realm and an open `realm1`.
fn fixture_router() -> Router {
    Router::new(
        RouterConfig::default()
            .realm("realm1")
            .realm_with(fixture_realm(&fixture())),
    )
}

fn as_user(authid: &str, credentials: Credentials) -> SessionConfig {
    SessionConfig::default()
        .with_authid(authid)
        .with_credentials(credentials)
}

fn alice_key(fx: &Json) -> Credentials {
    Credentials::cryptosign_hex(s(fx, &["cryptosign", "alice", "private_key"])).unwrap()
}

fn stranger_key(fx: &Json) -> Credentials {
    Credentials::cryptosign_hex(s(fx, &["stranger_private_key"])).unwrap()
}

/// The reason of a refused join.
fn refusal(r: Result<Session, Error>) -> String {
    match r {
        Err(Error::JoinRefused { reason, .. }) => reason,
        Err(e) => panic!("expected JoinRefused, got {e}"),
        Ok(s) => panic!("joined as {:?} where a refusal was expected", s.details().authid),
    }
}

fn error_uri(e: Error) -> String {
    e.uri()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("expected an application error, got {e}"))
}

fn dict(pairs: &[(&str, Value)]) -> Dict {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

// --- every method against our router ---------------------------------------

#[tokio::test]
async fn each_method_joins_with_its_identity() {
    let fx = fixture();
    let router = fixture_router();
    let realm = s(&fx, &["realm"]);
    let cases = [
        (
            "joe",
            Credentials::ticket(s(&fx, &["ticket", "joe", "ticket"])),
            "ticket",
            "frontend",
        ),
        (
            "peter",
            Credentials::wampcra(s(&fx, &["wampcra", "peter", "secret"])),
            "wampcra",
            "backend",
        ),
        (
            "salty",
            Credentials::wampcra(s(&fx, &["wampcra", "salty", "secret"])),
            "wampcra",
            "frontend",
        ),
        ("alice", alice_key(&fx), "cryptosign", "backend"),
    ];
    for (authid, credentials, method, role) in cases {
        let session = Session::join_local_with(&router, realm, as_user(authid, credentials))
            .await
            .unwrap_or_else(|e| panic!("{authid} ({method}): {e}"));
        let d = session.details();
        assert_eq!(d.realm, realm);
        assert_eq!(d.authid.as_deref(), Some(authid));
        assert_eq!(d.authrole.as_deref(), Some(role), "{authid}");
        assert_eq!(d.authmethod.as_deref(), Some(method), "{authid}");
        assert_eq!(d.authprovider.as_deref(), Some("static"), "{authid}");
        session.leave().await.unwrap();
    }
}

#[tokio::test]
async fn cryptosign_identifies_the_user_by_key() {
    // No authid in HELLO: the router finds the user whose key signed.
    let fx = fixture();
    let router = fixture_router();
    let config = SessionConfig::default().with_credentials(alice_key(&fx));
    let session = Session::join_local_with(&router, s(&fx, &["realm"]), config)
        .await
        .unwrap();
    assert_eq!(session.details().authid.as_deref(), Some("alice"));
}

#[tokio::test]
async fn authextra_flows_to_welcome_and_session_details() {
    let extra = dict(&[("tier", Value::Str("gold".into())), ("quota", Value::UInt(7))]);
    let key = CryptosignKey::generate();
    let realm = RealmConfig::new("extras")
        .auth(AuthMethod::ticket([(
            "joe",
            TicketUser::new("t", "user").extra(extra.clone()),
        )]))
        .auth(AuthMethod::cryptosign([(
            "carol",
            CryptosignUser::new(key.public_key_hex(), "user").extra(extra.clone()),
        )]))
        .role(Role::full_access("user"));
    let router = Router::new(RouterConfig::default().realm_with(realm));
    let joe = Session::join_local_with(&router, "extras", as_user("joe", Credentials::ticket("t")))
        .await
        .unwrap();
    assert_eq!(joe.details().authextra, extra);
    let carol = Session::join_local_with(
        &router,
        "extras",
        as_user("carol", Credentials::Cryptosign(key.clone())),
    )
    .await
    .unwrap();
    assert_eq!(carol.details().authextra, extra);

    // Handlers see the caller's session details through the session they get.
    joe.register(
        "com.extras.whoami",
        RegisterOptions::default(),
        |inv| async move {
            let d = inv.session.details();
            Ok(CallResult::new()
                .with_arg(d.authid.clone())
                .with_arg(d.authmethod.clone())
                .with_arg(Value::Dict(d.authextra.clone())))
        },
    )
    .await
    .unwrap();
    let r = carol.call("com.extras.whoami").await.unwrap();
    assert_eq!(r.arg::<String>(0).unwrap(), "joe");
    assert_eq!(r.arg::<String>(1).unwrap(), "ticket");
    assert_eq!(r.args[2], Value::Dict(extra));
}

#[tokio::test]
async fn wrong_credentials_are_refused_without_a_session() {
    let fx = fixture();
    let router = fixture_router();
    let realm = s(&fx, &["realm"]);
    let cases: Vec<(&str, SessionConfig)> = vec![
        (
            "wrong ticket",
            as_user("joe", Credentials::ticket("not-the-ticket")),
        ),
        ("unknown ticket user", as_user("nobody", Credentials::ticket("x"))),
        (
            "wrong wampcra secret",
            as_user("peter", Credentials::wampcra("not-the-secret")),
        ),
        (
            "salted user, unsalted secret",
            as_user(
                "salty",
                Credentials::wampcra(s(&fx, &["wampcra", "peter", "secret"])),
            ),
        ),
        ("wrong cryptosign key", as_user("alice", stranger_key(&fx))),
        (
            "unknown key, no authid",
            SessionConfig::default().with_credentials(stranger_key(&fx)),
        ),
        (
            "wampcra without authid",
            SessionConfig::default().with_credentials(Credentials::wampcra("x")),
        ),
    ];
    for (label, config) in cases {
        let reason = refusal(Session::join_local_with(&router, realm, config).await);
        assert_eq!(reason, NOT_AUTHORIZED, "{label}");
    }
    assert_eq!(router.realm(realm).unwrap().session_count(), 0);

    // Nothing the realm accepts, and a realm that does not exist.
    let anonymous = refusal(Session::join_local(&router, realm).await);
    assert_eq!(anonymous, "wamp.error.no_auth_method");
    let missing = refusal(
        Session::join_local_with(&router, "no.such.realm", as_user("joe", Credentials::ticket("x"))).await,
    );
    assert_eq!(missing, "wamp.error.no_such_realm");
}

#[tokio::test]
async fn several_methods_offered_at_once() {
    let fx = fixture();
    let router = fixture_router();
    let realm = s(&fx, &["realm"]);

    // The router takes the first offered method it has: cryptosign here.
    let config = SessionConfig::default()
        .with_authid("alice")
        .with_credentials(alice_key(&fx))
        .with_credentials(Credentials::ticket("unused"));
    let session = Session::join_local_with(&router, realm, config).await.unwrap();
    assert_eq!(session.details().authmethod.as_deref(), Some("cryptosign"));

    // Methods the realm does not have are skipped: ticket is used.
    let ticket_only = RealmConfig::new("ticket-only")
        .auth(AuthMethod::ticket([("joe", TicketUser::new("t", "user"))]))
        .role(Role::full_access("user"));
    router.add_realm_with(ticket_only);
    let config = SessionConfig::default()
        .with_authid("joe")
        .with_credentials(Credentials::Anonymous)
        .with_credentials(Credentials::wampcra("unused"))
        .with_credentials(Credentials::ticket("t"));
    let session = Session::join_local_with(&router, "ticket-only", config)
        .await
        .unwrap();
    assert_eq!(session.details().authmethod.as_deref(), Some("ticket"));
    assert_eq!(session.details().authrole.as_deref(), Some("user"));

    // A refusal by the chosen method is final (no fall-through, as Crossbar).
    let config = SessionConfig::default()
        .with_authid("peter")
        .with_credentials(Credentials::ticket("peter has no ticket"))
        .with_credentials(Credentials::wampcra(s(&fx, &["wampcra", "peter", "secret"])));
    assert_eq!(
        refusal(Session::join_local_with(&router, realm, config).await),
        NOT_AUTHORIZED
    );
}

#[tokio::test]
async fn open_realms_stay_anonymous_with_full_access() {
    let router = Router::new(RouterConfig::default().realm("realm1"));
    let session = Session::join_local(&router, "realm1").await.unwrap();
    let d = session.details();
    assert_eq!(d.authmethod.as_deref(), Some("anonymous"));
    assert_eq!(d.authrole.as_deref(), Some("anonymous"));
    session
        .register("any.thing", RegisterOptions::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap();
    session.publish("any.topic").acknowledge(true).await.unwrap();
}

#[tokio::test]
async fn every_method_over_websocket_and_each_serializer() {
    let fx = fixture();
    let router = fixture_router();
    let ws = router.listen_websocket("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", ws.local_addr());
    for serializer in [Serializer::Json, Serializer::MsgPack, Serializer::Cbor] {
        let users = [
            ("joe", Credentials::ticket(s(&fx, &["ticket", "joe", "ticket"]))),
            (
                "salty",
                Credentials::wampcra(s(&fx, &["wampcra", "salty", "secret"])),
            ),
            ("alice", alice_key(&fx)),
        ];
        for (authid, credentials) in users {
            let config = SessionConfig {
                serializers: vec![serializer],
                ..as_user(authid, credentials)
            };
            let session = Session::connect_with(&url, s(&fx, &["realm"]), config)
                .await
                .unwrap_or_else(|e| panic!("{authid} over {serializer:?}: {e}"));
            assert_eq!(session.details().authid.as_deref(), Some(authid));
            session.leave().await.unwrap();
        }
        let config = SessionConfig {
            serializers: vec![serializer],
            ..as_user("joe", Credentials::ticket("wrong"))
        };
        let reason = refusal(Session::connect_with(&url, s(&fx, &["realm"]), config).await);
        assert_eq!(reason, NOT_AUTHORIZED);
    }
}

// --- authorization -----------------------------------------------------------

#[tokio::test]
async fn roles_allow_only_their_permissions() {
    let fx = fixture();
    let router = fixture_router();
    let realm = s(&fx, &["realm"]);
    // joe (frontend): call and subscribe under com.example.; alice (backend): everything there.
    let joe = Session::join_local_with(
        &router,
        realm,
        as_user("joe", Credentials::ticket(s(&fx, &["ticket", "joe", "ticket"]))),
    )
    .await
    .unwrap();
    let alice = Session::join_local_with(&router, realm, as_user("alice", alice_key(&fx)))
        .await
        .unwrap();

    let denied = joe
        .register("com.example.add", RegisterOptions::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap_err();
    assert_eq!(error_uri(denied.clone()), NOT_AUTHORIZED);
    let message = denied.application().unwrap().message().unwrap().to_owned();
    assert!(
        message.contains("authrole=frontend") && message.contains("com.example.add"),
        "{message}"
    );

    alice
        .register("com.example.add", RegisterOptions::default(), |inv| async move {
            Ok(CallResult::new().with_arg(inv.arg::<i64>(0)? + inv.arg::<i64>(1)?))
        })
        .await
        .unwrap();
    let sum = joe.call("com.example.add").arg(2).arg(3).await.unwrap();
    assert_eq!(sum.arg::<i64>(0).unwrap(), 5);

    // Outside com.example. nothing matches: denied, even for backend.
    let e = alice.call("org.other.proc").await.unwrap_err();
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
    let e = alice
        .subscribe("org.other.topic", SubscribeOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error_uri(e), NOT_AUTHORIZED);

    // Publish: refused with an ERROR when acknowledged, dropped otherwise.
    let mut events = alice
        .subscribe("com.example.news", SubscribeOptions::default())
        .await
        .unwrap();
    let e = joe
        .publish("com.example.news")
        .arg(1)
        .acknowledge(true)
        .await
        .unwrap_err();
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
    joe.publish("com.example.news").arg(2).await.unwrap();
    // Round trips through joe's and then alice's sessions: had the event
    // been routed, it would be in alice's queue by now.
    joe.call("com.example.add").arg(0).arg(0).await.unwrap();
    alice.call("com.example.add").arg(0).arg(0).await.unwrap();
    let leaked = tokio::time::timeout(Duration::from_millis(200), events.next()).await;
    assert!(leaked.is_err(), "a denied publish was delivered: {leaked:?}");

    // Subscribing is allowed for joe, also with a pattern inside its prefix.
    let mut joe_events = joe
        .subscribe(
            "com.example.",
            SubscribeOptions {
                match_policy: Some(MatchPolicy::Prefix),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    alice
        .publish("com.example.news")
        .arg(3)
        .acknowledge(true)
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), joe_events.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.arg::<i64>(0).unwrap(), 3);
}

#[tokio::test]
async fn pattern_permissions_pick_the_best_match() {
    let reader = Allow {
        call: true,
        subscribe: true,
        ..Allow::NONE
    };
    let role = Role::new("ops")
        .permit(Permission::prefix("com.app.", reader))
        .permit(Permission::exact("com.app.admin.reset", Allow::NONE))
        .permit(Permission::wildcard(
            "com.app..status",
            Allow {
                publish: true,
                ..reader
            },
        ));
    let realm = RealmConfig::new("patterns")
        .auth(AuthMethod::ticket([
            ("ops", TicketUser::new("ops-t", "ops")),
            ("root", TicketUser::new("root-t", "root")),
        ]))
        .role(role)
        .role(Role::full_access("root"));
    let router = Router::new(RouterConfig::default().realm_with(realm));
    let ops = Session::join_local_with(&router, "patterns", as_user("ops", Credentials::ticket("ops-t")))
        .await
        .unwrap();
    let root = Session::join_local_with(
        &router,
        "patterns",
        as_user("root", Credentials::ticket("root-t")),
    )
    .await
    .unwrap();
    for uri in ["com.app.list", "com.app.admin.reset"] {
        root.register(uri, RegisterOptions::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap();
    }
    ops.call("com.app.list").await.unwrap(); // prefix
    let e = ops.call("com.app.admin.reset").await.unwrap_err(); // exact beats prefix
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
    ops.publish("com.app.db.status").acknowledge(true).await.unwrap(); // wildcard
    let e = ops
        .publish("com.app.db.metrics")
        .acknowledge(true)
        .await
        .unwrap_err();
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
    let e = ops.call("com.other.list").await.unwrap_err(); // no match
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
}

// --- dynamic authentication ------------------------------------------------------

#[tokio::test]
async fn dynamic_authenticator_decides_every_method() {
    init_tracing();
    let carol = CryptosignKey::generate();
    let carol_pub = carol.public_key_hex();
    let dynamic = RealmConfig::new("dyn")
        .auth(AuthMethod::dynamic(
            Method::Ticket,
            "control",
            "com.control.authenticate",
        ))
        .auth(AuthMethod::dynamic(
            Method::WampCra,
            "control",
            "com.control.authenticate",
        ))
        .auth(AuthMethod::dynamic(
            Method::Cryptosign,
            "control",
            "com.control.authenticate",
        ))
        .auth(AuthMethod::dynamic(
            Method::Anonymous,
            "control",
            "com.control.authenticate",
        ))
        .role(Role::full_access("user"))
        .role(Role::full_access("guest"));
    let router = Router::new(RouterConfig::default().realm("control").realm_with(dynamic));

    // Before the authenticator is registered: the dealer's error refuses.
    let early = as_user("joe", Credentials::ticket("letmein"));
    assert_eq!(
        refusal(Session::join_local_with(&router, "dyn", early).await),
        "wamp.error.no_such_procedure"
    );

    let seen: Arc<Mutex<Vec<(String, String, Dict)>>> = Arc::default();
    let control = Session::join_local(&router, "control").await.unwrap();
    let log = seen.clone();
    control
        .register(
            "com.control.authenticate",
            RegisterOptions::default(),
            move |inv| {
                let log = log.clone();
                let carol_pub = carol_pub.clone();
                async move {
                    let realm: String = inv.arg(0)?;
                    let authid: Option<String> = inv.arg(1)?;
                    let details: Dict = inv.arg(2)?;
                    let authid = authid.unwrap_or_default();
                    log.lock().unwrap().push((realm, authid.clone(), details.clone()));
                    let method = details["authmethod"].as_str().unwrap_or_default().to_owned();
                    let principal = match (method.as_str(), authid.as_str()) {
                        ("ticket", "joe") => {
                            if details.get("ticket").and_then(Value::as_str) != Some("letmein") {
                                return Err(ApplicationError::new("com.control.error.bad_ticket")
                                    .with_arg("wrong ticket"));
                            }
                            serde_json::json!({"role": "user", "extra": {"greeting": "hi joe"}})
                        }
                        ("ticket", "ghost") => serde_json::json!({"role": "no-such-role"}),
                        ("wampcra", "peter") => serde_json::json!({"role": "user", "secret": "cra-secret"}),
                        ("wampcra", "salty") => serde_json::json!({
                            "role": "user", "secret": "pw", "salt": "nacl", "iterations": 50, "keylen": 32
                        }),
                        ("cryptosign", _) => {
                            serde_json::json!({"role": "user", "authid": "carol", "pubkey": carol_pub})
                        }
                        ("anonymous", _) => serde_json::json!("guest"),
                        _ => return Err(ApplicationError::new(NOT_AUTHORIZED).with_arg("unknown user")),
                    };
                    Ok(CallResult::new().with_arg(principal))
                }
            },
        )
        .await
        .unwrap();

    let hello_extra = dict(&[("client", Value::Str("rs".into()))]);
    let joe = Session::join_local_with(
        &router,
        "dyn",
        as_user("joe", Credentials::ticket("letmein")).with_authextra(hello_extra.clone()),
    )
    .await
    .unwrap();
    let d = joe.details();
    assert_eq!(
        (
            d.authid.as_deref(),
            d.authrole.as_deref(),
            d.authmethod.as_deref(),
            d.authprovider.as_deref()
        ),
        (Some("joe"), Some("user"), Some("ticket"), Some("dynamic"))
    );
    assert_eq!(d.authextra, dict(&[("greeting", Value::Str("hi joe".into()))]));
    {
        let seen = seen.lock().unwrap();
        let (realm, authid, details) = seen.last().unwrap();
        assert_eq!((realm.as_str(), authid.as_str()), ("dyn", "joe"));
        assert_eq!(details["ticket"], Value::Str("letmein".into()));
        assert_eq!(details["authextra"], Value::Dict(hello_extra));
        assert_eq!(details["session"].as_u64(), Some(joe.id()));
        assert_eq!(
            details["transport"].as_dict().unwrap()["type"],
            Value::Str("local".into())
        );
    }

    let peter = Session::join_local_with(
        &router,
        "dyn",
        as_user("peter", Credentials::wampcra("cra-secret")),
    )
    .await
    .unwrap();
    assert_eq!(peter.details().authmethod.as_deref(), Some("wampcra"));
    let salty = Session::join_local_with(&router, "dyn", as_user("salty", Credentials::wampcra("pw")))
        .await
        .unwrap();
    assert_eq!(salty.details().authprovider.as_deref(), Some("dynamic"));
    let carol_session = Session::join_local_with(
        &router,
        "dyn",
        SessionConfig::default().with_credentials(Credentials::Cryptosign(carol)),
    )
    .await
    .unwrap();
    assert_eq!(carol_session.details().authid.as_deref(), Some("carol"));
    let guest = Session::join_local_with(
        &router,
        "dyn",
        SessionConfig::default().with_credentials(Credentials::Anonymous),
    )
    .await
    .unwrap();
    assert_eq!(guest.details().authrole.as_deref(), Some("guest"));

    // Refusals: the authenticator's own error, a wrong secret, an unknown role.
    let wrong = as_user("joe", Credentials::ticket("nope"));
    match Session::join_local_with(&router, "dyn", wrong).await {
        Err(Error::JoinRefused { reason, message }) => {
            assert_eq!(reason, "com.control.error.bad_ticket");
            assert_eq!(message.as_deref(), Some("wrong ticket"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let wrong = as_user("peter", Credentials::wampcra("not-it"));
    assert_eq!(
        refusal(Session::join_local_with(&router, "dyn", wrong).await),
        NOT_AUTHORIZED
    );
    let stranger = SessionConfig::default()
        .with_authid("mallory")
        .with_credentials(Credentials::Cryptosign(CryptosignKey::generate()));
    assert_eq!(
        refusal(Session::join_local_with(&router, "dyn", stranger).await),
        NOT_AUTHORIZED
    );
    let ghost = as_user("ghost", Credentials::ticket("x"));
    assert_eq!(
        refusal(Session::join_local_with(&router, "dyn", ghost).await),
        "wamp.error.no_such_role"
    );
    assert_eq!(router.realm("dyn").unwrap().session_count(), 5);
}

// --- dynamic authorization -------------------------------------------------------

#[tokio::test]
async fn dynamic_authorizer_decides_each_action() {
    init_tracing();
    let realm = RealmConfig::new("dynz")
        .auth(AuthMethod::ticket([(
            "authz",
            TicketUser::new("authz-t", "authorizer"),
        )]))
        .auth(AuthMethod::anonymous("guest"))
        .role(Role::full_access("authorizer"))
        .role(Role::dynamic("guest", "com.authz.authorize"));
    let router = Router::new(RouterConfig::default().realm_with(realm));
    let authz = Session::join_local_with(&router, "dynz", as_user("authz", Credentials::ticket("authz-t")))
        .await
        .unwrap();
    let asked: Arc<Mutex<Vec<(Dict, String, String)>>> = Arc::default();
    // Holds back the decision on com.public.slowauth until the test says so.
    let gate = Arc::new(tokio::sync::Notify::new());
    let log = asked.clone();
    let held = gate.clone();
    authz
        .register("com.authz.authorize", RegisterOptions::default(), move |inv| {
            let log = log.clone();
            let held = held.clone();
            async move {
                let session: Dict = inv.arg(0)?;
                let uri: String = inv.arg(1)?;
                let action: String = inv.arg(2)?;
                let _options: Dict = inv.arg(3)?;
                log.lock().unwrap().push((session, uri.clone(), action.clone()));
                if uri.starts_with("com.broken.") {
                    return Err(ApplicationError::new("com.authz.error.oops").with_arg("authorizer broke"));
                }
                if uri == "com.public.slowauth" {
                    held.notified().await;
                }
                let allow = uri.starts_with("com.public.") || action == "subscribe";
                // Both answer shapes: a bare boolean, and {"allow": bool}.
                if uri.ends_with(".dict") {
                    Ok(CallResult::new().with_arg(serde_json::json!({ "allow": allow })))
                } else {
                    Ok(CallResult::new().with_arg(allow))
                }
            }
        })
        .await
        .unwrap();

    let guest = Session::join_local(&router, "dynz").await.unwrap();
    let other = Session::join_local(&router, "dynz").await.unwrap();
    guest
        .register("com.public.echo", RegisterOptions::default(), |inv| async move {
            Ok(CallResult::new().with_arg(inv.arg::<String>(0)?))
        })
        .await
        .unwrap();
    let r = other.call("com.public.echo").arg("hi").await.unwrap();
    assert_eq!(r.arg::<String>(0).unwrap(), "hi");

    let e = guest
        .register("com.private.x", RegisterOptions::default(), |_| async {
            Ok(CallResult::new())
        })
        .await
        .unwrap_err();
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
    let e = guest.call("com.private.dict").await.unwrap_err();
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
    let e = guest.call("com.public.dict").await.unwrap_err();
    assert_eq!(error_uri(e), "wamp.error.no_such_procedure"); // allowed, then routed
    guest
        .subscribe("com.private.news", SubscribeOptions::default())
        .await
        .unwrap();
    let e = guest
        .publish("com.private.news")
        .acknowledge(true)
        .await
        .unwrap_err();
    assert_eq!(error_uri(e), NOT_AUTHORIZED);
    let e = guest.call("com.broken.x").await.unwrap_err();
    assert_eq!(error_uri(e.clone()), "wamp.error.authorization_failed");
    assert!(e.to_string().contains("com.authz.error.oops"), "{e}");

    {
        let asked = asked.lock().unwrap();
        let (session, uri, action) = asked.iter().find(|(_, u, _)| u == "com.private.x").unwrap();
        assert_eq!(action, "register");
        assert_eq!(uri, "com.private.x");
        assert_eq!(session["session"].as_u64(), Some(guest.id()));
        assert_eq!(session["authrole"], Value::Str("guest".into()));
        assert_eq!(session["authmethod"], Value::Str("anonymous".into()));
        assert_eq!(session["realm"], Value::Str("dynz".into()));
        // The authorizer's own session (static role) is never asked about.
        assert!(asked
            .iter()
            .all(|(s, _, _)| s["authrole"] != Value::Str("authorizer".into())));
    }

    // While guest waits for a slow authorization, it still answers an
    // invocation: its YIELD is not stuck behind the pending CALL.
    let slow = {
        let guest = guest.clone();
        tokio::spawn(async move { guest.call("com.public.slowauth").await })
    };
    let asked_about = |uri: &str| asked.lock().unwrap().iter().any(|(_, u, _)| u == uri);
    while !asked_about("com.public.slowauth") {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let quick = tokio::time::timeout(
        Duration::from_secs(10),
        other.call("com.public.echo").arg("still here"),
    )
    .await
    .expect("the echo answered while guest's own call waited for authorization")
    .unwrap();
    assert_eq!(quick.arg::<String>(0).unwrap(), "still here");
    assert!(!slow.is_finished());
    gate.notify_one();
    let e = slow.await.unwrap().unwrap_err();
    assert_eq!(error_uri(e), "wamp.error.no_such_procedure");
}

// --- realms are isolated -------------------------------------------------------------

#[tokio::test]
async fn realms_are_isolated() {
    let realm = |name: &str, user: &str, ticket: &str| {
        RealmConfig::new(name)
            .auth(AuthMethod::ticket([(user, TicketUser::new(ticket, "member"))]))
            .role(Role::full_access("member"))
    };
    let router = Router::new(
        RouterConfig::default()
            .realm_with(realm("red", "ruby", "red-t"))
            .realm_with(realm("blue", "bob", "blue-t")),
    );
    // Users of one realm are unknown in the other.
    let wrong_realm = as_user("ruby", Credentials::ticket("red-t"));
    assert_eq!(
        refusal(Session::join_local_with(&router, "blue", wrong_realm).await),
        NOT_AUTHORIZED
    );

    let ruby = Session::join_local_with(&router, "red", as_user("ruby", Credentials::ticket("red-t")))
        .await
        .unwrap();
    let bob = Session::join_local_with(&router, "blue", as_user("bob", Credentials::ticket("blue-t")))
        .await
        .unwrap();
    let topic = unique("com.shared.topic");
    let mut blue_events = bob
        .subscribe(topic.clone(), SubscribeOptions::default())
        .await
        .unwrap();
    let mut red_events = ruby
        .subscribe(topic.clone(), SubscribeOptions::default())
        .await
        .unwrap();
    let ruby2 = Session::join_local_with(&router, "red", as_user("ruby", Credentials::ticket("red-t")))
        .await
        .unwrap();
    ruby2
        .publish(topic.clone())
        .arg("red only")
        .acknowledge(true)
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), red_events.next())
        .await
        .unwrap();
    assert_eq!(got.unwrap().arg::<String>(0).unwrap(), "red only");
    bob.publish(unique("com.flush")).acknowledge(true).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(200), blue_events.next())
            .await
            .is_err()
    );

    // A procedure in red is not callable from blue.
    ruby.register("com.shared.proc", RegisterOptions::default(), |_| async {
        Ok(CallResult::new())
    })
    .await
    .unwrap();
    let e = bob.call("com.shared.proc").await.unwrap_err();
    assert_eq!(error_uri(e), "wamp.error.no_such_procedure");
}

// --- interoperability ---------------------------------------------------------------

/// Our client against Crossbar.io configured from the same fixture.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_crossbar_with_the_same_users() {
    init_tracing();
    let Some(python) = venv_python() else { return };
    let fx = fixture();
    let path = fixture_path();
    let node = Crossbar::start_with(&python, &["--auth", &path]).await;
    let realm = s(&fx, &["realm"]);
    for (url, serializer) in [
        (&node.ws_url, Serializer::Json),
        (&node.rs_url, Serializer::MsgPack),
    ] {
        let config = |authid: &str, credentials: Credentials| SessionConfig {
            serializers: vec![serializer],
            ..as_user(authid, credentials)
        };
        let cases = [
            (
                "joe",
                Credentials::ticket(s(&fx, &["ticket", "joe", "ticket"])),
                "ticket",
                "frontend",
            ),
            (
                "peter",
                Credentials::wampcra(s(&fx, &["wampcra", "peter", "secret"])),
                "wampcra",
                "backend",
            ),
            (
                "salty",
                Credentials::wampcra(s(&fx, &["wampcra", "salty", "secret"])),
                "wampcra",
                "frontend",
            ),
            ("alice", alice_key(&fx), "cryptosign", "backend"),
        ];
        let mut sessions = Vec::new();
        for (authid, credentials, method, role) in cases {
            let session = Session::connect_with(url, realm, config(authid, credentials))
                .await
                .unwrap_or_else(|e| panic!("{authid} at {url}: {e}"));
            let d = session.details();
            assert_eq!(d.authid.as_deref(), Some(authid));
            assert_eq!(d.authrole.as_deref(), Some(role));
            assert_eq!(d.authmethod.as_deref(), Some(method));
            assert_eq!(d.authprovider.as_deref(), Some("static"));
            sessions.push(session);
        }
        for (label, authid, credentials) in [
            ("wrong ticket", "joe", Credentials::ticket("wrong")),
            ("wrong secret", "peter", Credentials::wampcra("wrong")),
            ("wrong salted secret", "salty", Credentials::wampcra("wrong")),
            ("wrong key", "alice", stranger_key(&fx)),
            ("unknown user", "nobody", Credentials::ticket("x")),
        ] {
            let reason = refusal(Session::connect_with(url, realm, config(authid, credentials)).await);
            assert_eq!(reason, NOT_AUTHORIZED, "{label} at {url}");
        }
        let reason = refusal(Session::connect_with(url, realm, SessionConfig::default()).await);
        assert_eq!(reason, "wamp.error.no_auth_method");

        // Permissions: frontend may call but not register; backend may both.
        let (joe, alice) = (&sessions[0], &sessions[3]);
        let proc_uri = unique("com.example.add");
        let e = joe
            .register(proc_uri.clone(), RegisterOptions::default(), |_| async {
                Ok(CallResult::new())
            })
            .await
            .unwrap_err();
        assert_eq!(error_uri(e), NOT_AUTHORIZED);
        alice
            .register(proc_uri.clone(), RegisterOptions::default(), |inv| async move {
                Ok(CallResult::new().with_arg(inv.arg::<i64>(0)? * 2))
            })
            .await
            .unwrap();
        assert_eq!(
            joe.call(proc_uri).arg(21).await.unwrap().arg::<i64>(0).unwrap(),
            42
        );
        let e = joe
            .publish("com.example.news")
            .acknowledge(true)
            .await
            .unwrap_err();
        assert_eq!(error_uri(e), NOT_AUTHORIZED);
        for session in sessions {
            session.leave().await.unwrap();
        }
    }
}

/// Autobahn|Python (tests/python/auth_client.py) against our router.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobahn_python_authenticates_against_our_router() {
    init_tracing();
    let Some(python) = venv_python() else { return };
    let router = fixture_router();
    let ws = router.listen_websocket("127.0.0.1:0").await.unwrap();
    let rs = router.listen_rawsocket("127.0.0.1:0").await.unwrap();
    let path = fixture_path();
    let mut failures = Vec::new();
    for (url, serializer) in [
        (format!("ws://{}/ws", ws.local_addr()), "json"),
        (format!("ws://{}/ws", ws.local_addr()), "msgpack"),
        (format!("rs://{}", rs.local_addr()), "cbor"),
    ] {
        let args = ["--url", &url, "--fixture", &path, "--serializer", serializer];
        let (ok, out) = run_script(&python, "auth_client.py", &args, Duration::from_secs(120)).await;
        eprintln!("--- auth_client.py {url} {serializer} ---\n{out}");
        if !ok {
            failures.push(format!("{url} {serializer}"));
        }
    }
    assert!(
        failures.is_empty(),
        "Autobahn|Python auth checks failed: {failures:?}"
    );
}
