//! `wamp-bench-wamp-async`: wamp_async's client (crates.io), driven by
//! `wamp-bench --peers` as a child process against our router, through its
//! public API only.
//!
//! ```text
//! wamp-bench-wamp-async client calls|events --url URL [--seconds S] [--inflight N] [--window N] [--realm realm1]
//! ```
//!
//! It prints what `wamp-bench-peers battler-client` prints: `window start`,
//! `window end`, then `result {json}` (the workloads and figures of
//! `../src/common.rs`, shared by path).

#[path = "../../src/common.rs"]
#[allow(dead_code)] // battler's usage text
mod common;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use common::{Args, Deliveries, PROCEDURE, TOPIC};
use serde_json::json;
use wamp_async::{Client, ClientConfig, SerializerType, WampArgs, WampError, WampKwArgs};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match Args::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("wamp-bench-wamp-async: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wamp-bench-wamp-async: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let (warmup, measure) = args.timing();
        match (args.command.as_str(), args.workload.as_deref()) {
            ("client", Some("calls")) => calls(&args, warmup, measure).await,
            ("client", Some("events")) => events(&args, warmup, measure).await,
            (c, w) => Err(format!("client calls|events, not {c} {w:?}")),
        }
    });
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wamp-bench-wamp-async: {e}");
            println!("error {e}");
            ExitCode::FAILURE
        }
    }
}

/// A client joined to the realm at `--url`, JSON only, its event loop
/// spawned; with the queue of invocations when `callee`.
async fn client(args: &Args) -> Result<Client<'static>, String> {
    let config = ClientConfig::default().set_serializers(vec![SerializerType::Json]);
    let (mut client, (event_loop, rpc_queue)) = Client::connect(&args.url, Some(config))
        .await
        .map_err(|e| format!("connect {}: {e}", args.url))?;
    tokio::spawn(event_loop);
    // Invocations run as the callee's queue hands them out.
    if let Some(mut queue) = rpc_queue {
        tokio::spawn(async move {
            while let Some(invocation) = queue.recv().await {
                tokio::spawn(invocation);
            }
        });
    }
    client
        .join_realm(args.realm.as_str())
        .await
        .map_err(|e| format!("join {}: {e}", args.realm))?;
    Ok(client)
}

async fn add2(
    args: Option<WampArgs>,
    _: Option<WampKwArgs>,
) -> Result<(Option<WampArgs>, Option<WampKwArgs>), WampError> {
    let n = |i: usize| {
        args.as_ref()
            .and_then(|a| a.get(i))
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
    };
    Ok((Some(vec![json!(n(0) + n(1))]), None))
}

async fn calls(args: &Args, warmup: Duration, measure: Duration) -> Result<(), String> {
    let callee = client(args).await?;
    callee
        .register(PROCEDURE, add2)
        .await
        .map_err(|e| format!("register: {e}"))?;
    let caller = client(args).await?;
    let call = || async {
        let (res, _) = caller
            .call(PROCEDURE, Some(vec![json!(2), json!(3)]), None)
            .await
            .map_err(|e| e.to_string())?;
        match res.as_ref().and_then(|a| a.first()).and_then(|v| v.as_i64()) {
            Some(5) => Ok(()),
            other => Err(format!("add2(2, 3) returned {other:?}")),
        }
    };
    call().await.map_err(|e| format!("first call: {e}"))?;
    let seq = common::sequential(&call, warmup, measure).await;
    let pipelined = common::pipelined(&call, args.inflight, warmup, measure).await;
    common::result(json!({ "stack": "wamp_async", "seq": seq, "pipelined": pipelined }));
    caller.disconnect().await;
    callee.disconnect().await;
    Ok(())
}

async fn events(args: &Args, warmup: Duration, measure: Duration) -> Result<(), String> {
    let subscriber = client(args).await?;
    let (_, mut queue) = subscriber
        .subscribe(TOPIC)
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    let deliveries = Arc::new(Deliveries::default());
    let counting = tokio::spawn({
        let d = deliveries.clone();
        async move {
            while queue.recv().await.is_some() {
                d.count();
            }
        }
    });
    let publisher = client(args).await?;
    let publish = || async {
        publisher
            .publish(TOPIC, Some(vec![json!(2), json!(3)]), None, false)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let figures = common::events(publish, &deliveries, args.window, warmup, measure).await;
    common::result(json!({ "stack": "wamp_async", "events": figures }));
    counting.abort();
    publisher.disconnect().await;
    subscriber.disconnect().await;
    Ok(())
}
