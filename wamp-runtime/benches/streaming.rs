//! Streaming results, typed against untyped: items per second from a
//! callee to a caller through the embedded router (in-process sessions).
//!
//! - untyped: the callee sends each item with `ProgressSender::send`, the
//!   caller reads them with `CallHandle::progress`;
//! - typed: the procedure returns a `Progressive<u64, u64>` whose body
//!   sends each item, the caller reads the stub's `CallStream`.
//!
//! Each run is `CALLS` calls of `ITEMS` items each, over WebSocket (JSON)
//! to the embedded router, or in-process with `BENCH_TRANSPORT=local`.
//! Calls stay below the queue's hard limit (4,096 messages): the router
//! forwards progressive results as answers it owes, without holding the
//! callee back, so one call streaming faster than its caller reads would
//! overflow the caller's queue.
//!
//! Prints items/s (best of 5 runs) and the ratio; asserts nothing.
//!
//! Run: `cargo bench -p wamp-runtime --bench streaming`

use std::time::Instant;

use wamp::router::{Router, RouterConfig};
use wamp::service::Progressive;
use wamp::{CallResult, Payload, RegisterOptions, Session};

const ITEMS: u64 = 2_000;
const CALLS: u64 = 50;
const RUNS: usize = 5;

struct Source;

#[wamp::service]
impl Source {
    #[wamp::procedure("com.bench.typed")]
    fn typed(&self, n: u64) -> Progressive<u64, u64> {
        Progressive::new(move |progress| async move {
            for i in 0..n {
                progress.send(i).await;
            }
            n
        })
    }
}

async fn untyped(caller: &Session) -> u64 {
    let mut handle = caller
        .call("com.bench.untyped")
        .arg(ITEMS)
        .progressive()
        .start()
        .await
        .unwrap();
    let mut sum = 0;
    while let Some(p) = handle.progress().await {
        sum += p.arg::<u64>(0).unwrap();
    }
    assert_eq!(handle.result().await.unwrap().arg::<u64>(0).unwrap(), ITEMS);
    sum
}

async fn typed(client: &SourceClient) -> u64 {
    let mut items = client.typed(ITEMS);
    let mut sum = 0;
    while let Some(i) = items.next().await {
        sum += i.unwrap();
    }
    assert_eq!(items.finish().await.unwrap(), ITEMS);
    sum
}

async fn best<F, Fut>(name: &str, mut run: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let expected = ITEMS * (ITEMS - 1) / 2;
    assert_eq!(run().await, expected, "warm-up");
    let mut rate: f64 = 0.0;
    for _ in 0..RUNS {
        let start = Instant::now();
        for _ in 0..CALLS {
            assert_eq!(run().await, expected);
        }
        rate = rate.max((CALLS * ITEMS) as f64 / start.elapsed().as_secs_f64());
    }
    println!(
        "{name:<48} {:>9.0} items/s (best of {RUNS} x {CALLS} calls x {ITEMS})",
        rate
    );
    rate
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let router = Router::new(RouterConfig::default().realm("bench"));
        let transport = std::env::var("BENCH_TRANSPORT").unwrap_or_default();
        let listener = router.listen_websocket("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws", listener.local_addr());
        let join = || async {
            if transport == "local" {
                Session::join_local(&router, "bench").await.unwrap()
            } else {
                Session::connect(&url, "bench").await.unwrap()
            }
        };
        let callee = join().await;
        callee
            .register(
                "com.bench.untyped",
                RegisterOptions::default(),
                |inv| async move {
                    let n: u64 = inv.arg(0)?;
                    let progress = inv.progress.expect("asked for progress");
                    for i in 0..n {
                        let _ = progress.send(CallResult::new().with_arg(i)).await;
                    }
                    Ok(CallResult::new().with_arg(n))
                },
            )
            .await
            .unwrap();
        callee.attach(Source).await.unwrap();
        let caller = join().await;
        let client = SourceClient::new(caller.clone());
        let u = best("untyped (ProgressSender, CallHandle::progress)", || {
            untyped(&caller)
        })
        .await;
        let t = best("typed (Progressive, CallStream)", || typed(&client)).await;
        println!("typed / untyped: {:.3}x items/s", t / u);
    });
}
