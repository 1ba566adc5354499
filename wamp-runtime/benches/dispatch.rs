//! Dispatch overhead of a typed handler against a hand-written untyped
//! handler for the same call (`add2(a, b) -> a + b`), without the network:
//! the handler closures that the session runs for each INVOCATION are
//! called directly. Prints ns per call; asserts nothing about speed.
//!
//! Run: `cargo bench -p wamp-runtime --bench dispatch`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use wamp::router::{Router, RouterConfig};
use wamp::{CallResult, Handler, Invocation, Payload, Service, Session, Value};

struct Math;

#[wamp::service]
impl Math {
    #[wamp::procedure("com.bench.add2")]
    async fn add2(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn untyped() -> Handler {
    Arc::new(|inv: Invocation| {
        Box::pin(async move {
            let (a, b): (i64, i64) = (inv.arg(0)?, inv.arg(1)?);
            Ok(CallResult::new().with_arg(a + b))
        })
    })
}

fn invocation(session: &Session, i: i64) -> Invocation {
    Invocation {
        request: 1,
        registration: 1,
        procedure: "com.bench.add2".into(),
        details: Default::default(),
        args: vec![Value::Int(-i), Value::UInt(3)],
        kwargs: Default::default(),
        progress: None,
        input: None,
        session: session.clone(),
    }
}

async fn measure(name: &str, handler: &Handler, session: &Session, n: u32) -> f64 {
    // Warm up.
    for i in 0..(n / 10) {
        black_box(handler(invocation(session, i as i64)).await.unwrap());
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for i in 0..n {
            let r = handler(invocation(session, i as i64)).await.unwrap();
            black_box(r);
        }
        best = best.min(start.elapsed().as_nanos() as f64 / n as f64);
    }
    println!("{name:<36} {best:>8.1} ns/call (best of 5 x {n})");
    best
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let router = Router::new(RouterConfig::default().realm("bench"));
        let session = Session::join_local(&router, "bench").await.unwrap();
        let typed = Service::bindings(Arc::new(Math)).procedures.remove(0).handler;
        let untyped = untyped();
        let n = 200_000;
        let u = measure("untyped handler", &untyped, &session, n).await;
        let t = measure("typed handler (#[wamp::procedure])", &typed, &session, n).await;
        println!("typed / untyped: {:.2}x ({:+.1} ns/call)", t / u, t - u);
    });
}
