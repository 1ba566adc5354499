//! Typed services end to end on the embedded router: URI binding, typed
//! arguments, results, error mapping, stubs, topics and schemas.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wamp::router::{Router, RouterConfig};
use wamp::{ApplicationError, CallError, CallResult, InvocationDetails, ProgressSender, Service, Session};

#[derive(Debug, Clone, PartialEq, wamp::WampError)]
enum CatalogError {
    #[wamp(uri = "com.myapp.error.not_found")]
    NotFound { id: u64 },
    #[wamp(uri = "com.myapp.error.reserved")]
    Reserved(String),
    #[wamp(uri = "com.myapp.error.empty")]
    Empty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Item {
    id: u64,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Filter {
    min_len: usize,
    #[serde(default)]
    upper: bool,
}

struct Catalog {
    names: Vec<&'static str>,
    concerts: AtomicU32,
    last_concert: std::sync::Mutex<Option<(String, String, String, String)>>,
}

#[wamp::service(prefix = "com.myapp")]
impl Catalog {
    #[wamp::procedure("item.<int:id>.get_name")]
    async fn get_name(&self, id: u8, #[wamp(kwarg)] upper: Option<bool>) -> Result<String, CatalogError> {
        let name = self
            .names
            .get(id as usize)
            .ok_or(CatalogError::NotFound { id: id as u64 })?;
        Ok(if upper == Some(true) {
            name.to_uppercase()
        } else {
            name.to_string()
        })
    }

    #[wamp::procedure("<string:obj_type>.<int:id>.describe")]
    fn describe_obj(&self, obj_type: String, id: i64, details: InvocationDetails) -> String {
        format!("{obj_type} #{id} via {}", details.procedure.unwrap_or_default())
    }

    #[wamp::procedure("files.<suffix:path>")]
    async fn file(&self, path: String) -> String {
        format!("file {path}")
    }

    #[wamp::procedure("checkname")]
    async fn checkname(&self, name: String) -> Result<(), CatalogError> {
        match name.as_str() {
            "" => Err(CatalogError::Empty),
            n if n.starts_with("wamp.") => Err(CatalogError::Reserved(n.to_owned())),
            _ => Ok(()),
        }
    }

    #[wamp::procedure("complex.add")]
    async fn add_complex(&self, a: f64, ai: f64, b: f64, bi: f64) -> CallResult {
        CallResult::new()
            .with_arg("complex")
            .with_kwarg("real", a + b)
            .with_kwarg("imag", ai + bi)
    }

    #[wamp::procedure("items", invoke = "roundrobin")]
    async fn items(&self, #[wamp(kwargs)] filter: Filter) -> Vec<Item> {
        self.names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.len() >= filter.min_len)
            .map(|(i, n)| Item {
                id: i as u64,
                name: if filter.upper {
                    n.to_uppercase()
                } else {
                    n.to_string()
                },
            })
            .collect()
    }

    #[wamp::procedure("longop")]
    async fn longop(&self, n: u32, progress: Option<ProgressSender>) -> u32 {
        if let Some(p) = progress {
            for i in 0..n {
                let _ = p.send(CallResult::new().with_arg(i)).await;
            }
        }
        n
    }

    /// The session is injected by type: its details are the callee's.
    #[wamp::procedure("whoami")]
    async fn whoami(&self, session: Session, details: InvocationDetails) -> (String, String, bool) {
        let d = session.details();
        (
            d.realm.clone(),
            d.authrole.clone().unwrap_or_default(),
            details.caller.is_some(),
        )
    }

    #[wamp::procedure("panic")]
    async fn panics(&self) -> u32 {
        panic!("handler bug")
    }

    #[wamp::topic("<country>.<state>.<city>.on_concert")]
    async fn on_concert(&self, country: String, state: String, city: String, title: String) {
        // Record first, count last: the test waits on the count.
        *self.last_concert.lock().unwrap() = Some((country, state, city, title));
        self.concerts.fetch_add(1, Ordering::SeqCst);
    }
}

async fn setup() -> (Router, Arc<Catalog>, Session, CatalogClient) {
    let router = Router::new(RouterConfig::default().realm("realm1"));
    let backend = Session::join_local(&router, "realm1").await.unwrap();
    let catalog = Arc::new(Catalog {
        names: vec!["alpha", "beta", "gamma"],
        concerts: AtomicU32::new(0),
        last_concert: Default::default(),
    });
    backend.attach(catalog.clone()).await.unwrap();
    let frontend = Session::join_local(&router, "realm1").await.unwrap();
    let client = CatalogClient::new(frontend.clone());
    (router, catalog, frontend, client)
}

#[tokio::test]
async fn uri_binding_and_typed_results() {
    let (_r, _c, raw, client) = setup().await;
    assert_eq!(client.get_name(1, None).await.unwrap(), "beta");
    assert_eq!(client.get_name(2, Some(true)).await.unwrap(), "GAMMA");
    // Wire level: the concrete URI, kwargs, and a range-checked integer.
    let r = raw.call("com.myapp.item.0.get_name").await.unwrap();
    assert_eq!(r.args, vec![wamp::Value::from("alpha")]);
    let e = raw.call("com.myapp.item.300.get_name").await.unwrap_err();
    let app = e.application().unwrap();
    assert_eq!(app.error, "wamp.error.invalid_argument");
    assert!(app.message().unwrap().contains("`id`"), "{app}");
    let e = raw.call("com.myapp.item.x.get_name").await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.invalid_argument"));
    assert_eq!(
        client.describe_obj("user".into(), 7).await.unwrap(),
        "user #7 via com.myapp.user.7.describe"
    );
    assert_eq!(client.file("a.b.c".into()).await.unwrap(), "file a.b.c");
    let (realm, role, disclosed) = client.whoami().await.unwrap();
    assert_eq!(
        (realm.as_str(), role.as_str(), disclosed),
        ("realm1", "anonymous", false)
    );
}

#[tokio::test]
async fn errors_map_both_ways() {
    let (_r, _c, raw, client) = setup().await;
    match client.get_name(9, None).await {
        Err(CallError::Service(CatalogError::NotFound { id: 9 })) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    let e = raw.call("com.myapp.item.9.get_name").await.unwrap_err();
    assert_eq!(e.application().unwrap().kwargs["id"].as_u64(), Some(9));
    assert!(matches!(
        client.checkname("wamp.x".into()).await,
        Err(CallError::Service(CatalogError::Reserved(n))) if n == "wamp.x"
    ));
    assert!(matches!(
        client.checkname(String::new()).await,
        Err(CallError::Service(CatalogError::Empty))
    ));
    client.checkname("fine".into()).await.unwrap();
    // Wrong arity and types name the parameter.
    let e = raw.call("com.myapp.checkname").await.unwrap_err();
    assert!(
        e.application()
            .unwrap()
            .message()
            .unwrap()
            .contains("missing argument `name`"),
        "{e}"
    );
    let e = raw.call("com.myapp.checkname").arg(5).await.unwrap_err();
    assert!(
        e.application()
            .unwrap()
            .message()
            .unwrap()
            .contains("argument `name`"),
        "{e}"
    );
    let e = raw
        .call("com.myapp.checkname")
        .arg("a")
        .arg("b")
        .await
        .unwrap_err();
    assert!(
        e.application().unwrap().message().unwrap().contains("at most 1"),
        "{e}"
    );
    // A panic is an error to the caller; the service lives on.
    let e = client.panics().await.unwrap_err();
    assert_eq!(e.uri().as_deref(), Some("wamp.error.runtime_error"));
    assert_eq!(client.get_name(0, None).await.unwrap(), "alpha");
    let _: ApplicationError = CatalogError::Empty.into();
}

#[tokio::test]
async fn call_result_kwargs_and_progress() {
    let (_r, _c, raw, client) = setup().await;
    let r = client.add_complex(1.0, 2.0, 3.0, 4.0).await.unwrap();
    assert_eq!(r.args[0].as_str(), Some("complex"));
    assert_eq!(r.kwargs["real"].as_f64(), Some(4.0));
    let items = client
        .items(Filter {
            min_len: 5,
            upper: true,
        })
        .await
        .unwrap();
    assert_eq!(
        items,
        vec![
            Item {
                id: 0,
                name: "ALPHA".into()
            },
            Item {
                id: 2,
                name: "GAMMA".into()
            }
        ]
    );
    let mut h = raw
        .call("com.myapp.longop")
        .arg(3)
        .progressive()
        .start()
        .await
        .unwrap();
    let mut seen = vec![];
    while let Some(p) = h.progress().await {
        seen.push(p.args[0].as_u64().unwrap());
    }
    assert_eq!(seen, vec![0, 1, 2]);
    assert_eq!(h.result().await.unwrap().args[0].as_u64(), Some(3));
    assert_eq!(client.longop(2).await.unwrap(), 2);
}

#[tokio::test]
async fn topics_typed_publish_and_subscribe() {
    let (router, catalog, raw, client) = setup().await;
    // Another session: a publisher does not receive its own events by default.
    let listener = CatalogClient::new(Session::join_local(&router, "realm1").await.unwrap());
    let mut typed = listener.subscribe_on_concert().await.unwrap();
    client
        .publish_on_concert("de".into(), "be".into(), "berlin".into(), "Jazz night".into())
        .await
        .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), typed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.country.as_str(), ev.city.as_str(), ev.title.as_str()),
        ("de", "berlin", "Jazz night")
    );
    // The service's own handler got it too, bound from the concrete topic.
    for _ in 0..100 {
        if catalog.concerts.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        catalog.last_concert.lock().unwrap().clone(),
        Some(("de".into(), "be".into(), "berlin".into(), "Jazz night".into()))
    );
    // A non-matching topic does not reach it.
    raw.publish("com.myapp.de.berlin.on_concert")
        .arg("x")
        .acknowledge(true)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(catalog.concerts.load(Ordering::SeqCst), 1);
}

#[test]
fn description_has_uris_and_schemas() {
    let d = Catalog::describe();
    assert_eq!(d.name, "Catalog");
    let p = d.procedure("get_name").unwrap();
    assert_eq!(p.uri, "com.myapp.item.<int:id>.get_name");
    assert_eq!(p.wire_uri, "com.myapp.item..get_name");
    assert_eq!(p.match_policy, "wildcard");
    assert_eq!(p.parameters.len(), 2);
    assert_eq!(p.parameters[0].schema["type"], "integer");
    assert_eq!(p.result["type"], "string");
    let uris: Vec<_> = p.errors.iter().map(|e| e.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "com.myapp.error.not_found",
            "com.myapp.error.reserved",
            "com.myapp.error.empty"
        ]
    );
    assert_eq!(d.procedure("file").unwrap().wire_uri, "com.myapp.files.");
    assert_eq!(d.procedure("file").unwrap().match_policy, "prefix");
    assert_eq!(
        d.procedure("items").unwrap().invoke.as_deref(),
        Some("roundrobin")
    );
    let t = d.topic("on_concert").unwrap();
    assert_eq!(t.wire_uri, "com.myapp....on_concert");
    // Serializable for other tools.
    let json: serde_json::Value = serde_json::from_str(&d.to_json_pretty()).unwrap();
    assert_eq!(json["procedures"][0]["match"], "wildcard");
}

/// A shared definition: clients need only the trait.
#[wamp::service(prefix = "com.example.greeter")]
pub trait Greeter {
    #[wamp::procedure("greet")]
    async fn greet(&self, name: String) -> String;
}

struct English;

impl Greeter for English {
    async fn greet(&self, name: String) -> String {
        format!("Hello, {name}!")
    }
}

/// A free function as a procedure.
#[wamp::procedure("com.arguments.add2")]
async fn add2(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn trait_and_function_forms() {
    let router = Router::new(RouterConfig::default().realm("realm1"));
    let backend = Session::join_local(&router, "realm1").await.unwrap();
    backend.attach(English.into_service()).await.unwrap();
    backend.attach(add2::Handler).await.unwrap();
    let frontend = Session::join_local(&router, "realm1").await.unwrap();
    assert_eq!(
        GreeterClient::new(frontend.clone())
            .greet("Ada".into())
            .await
            .unwrap(),
        "Hello, Ada!"
    );
    assert_eq!(add2::call(&frontend, 2, 3).await.unwrap(), 5);
    assert_eq!(add2(1, 1).await, 2);
    // Attaching twice is refused by the router, and nothing half-attached remains.
    let e = backend.attach(add2::Handler).await.unwrap_err();
    assert_eq!(e.uri(), Some("wamp.error.procedure_already_exists"));
}

static HEARD: AtomicU32 = AtomicU32::new(0);

#[wamp::topic("com.myapp.heard")]
async fn heard(n: u32) {
    HEARD.fetch_add(n, Ordering::SeqCst);
}

#[tokio::test]
async fn detach_unsubscribes_at_the_router() {
    let router = Router::new(RouterConfig::default().realm("realm1"));
    let backend = Session::join_local(&router, "realm1").await.unwrap();
    let attached = backend.attach(heard::Handler).await.unwrap();
    let frontend = Session::join_local(&router, "realm1").await.unwrap();
    heard::publish(&frontend, 1).await.unwrap();
    for _ in 0..100 {
        if HEARD.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(HEARD.load(Ordering::SeqCst), 1);
    attached.detach().await.unwrap();
    // The router no longer has a subscriber: an acknowledged publish reaches no one.
    frontend
        .publish("com.myapp.heard")
        .arg(5)
        .acknowledge(true)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(HEARD.load(Ordering::SeqCst), 1);
}
