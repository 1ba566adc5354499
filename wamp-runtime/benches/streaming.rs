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
//! Prints items/s (best of 7 runs, alternating) and the ratio; asserts nothing.
//!
//! Run: `cargo bench -p wamp-runtime --bench streaming`

use std::time::Instant;

use wamp::router::{Router, RouterConfig};
use wamp::service::Progressive;
use wamp::{CallResult, Payload, RegisterOptions, Session};

const ITEMS: u64 = 2_000;
const CALLS: u64 = 50;
const RUNS: usize = 7;

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

/// CPU time of this process so far (user + system, Linux), in seconds:
/// on a shared machine, items per CPU-second vary less than items per
/// wall-clock second.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    // Clock ticks; 100 per second on Linux.
    Some((utime + stime) / 100.0)
}

/// Items per wall-clock second and per CPU-second of `CALLS` calls made by `run`.
async fn rate<Fut: std::future::Future<Output = u64>>(run: impl Fn() -> Fut) -> (f64, f64) {
    let expected = ITEMS * (ITEMS - 1) / 2;
    let (start, cpu) = (Instant::now(), cpu_seconds());
    for _ in 0..CALLS {
        assert_eq!(run().await, expected);
    }
    let items = (CALLS * ITEMS) as f64;
    let per_cpu = match (cpu, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => items / (b - a),
        _ => f64::NAN,
    };
    (items / start.elapsed().as_secs_f64(), per_cpu)
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
        // Warm up, then alternate, so that both see the same machine load.
        rate(|| untyped(&caller)).await;
        rate(|| typed(&client)).await;
        let (mut u, mut t) = ((0f64, 0f64), (0f64, 0f64));
        let best = |a: (f64, f64), b: (f64, f64)| (a.0.max(b.0), a.1.max(b.1));
        for _ in 0..RUNS {
            u = best(u, rate(|| untyped(&caller)).await);
            t = best(t, rate(|| typed(&client)).await);
        }
        println!("best of {RUNS} runs of {CALLS} calls x {ITEMS} items, alternating:");
        println!("                                               items/s  items/CPU-s");
        println!(
            "untyped (ProgressSender, CallHandle::progress) {:>9.0} {:>11.0}",
            u.0, u.1
        );
        println!(
            "typed (Progressive, CallStream)                {:>9.0} {:>11.0}",
            t.0, t.1
        );
        println!(
            "typed / untyped: {:.3}x items/s, {:.3}x items/CPU-s",
            t.0 / u.0,
            t.1 / u.1
        );
    });
}
