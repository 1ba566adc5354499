//! `wamp-bench-peers`: other Rust WAMP stacks, driven by `wamp-bench --peers`
//! as child processes, so that each router and each client runs in a
//! process of its own and its CPU time can be read apart.
//!
//! ```text
//! wamp-bench-peers battler-router --ws 127.0.0.1:0 [--realm realm1]
//! wamp-bench-peers battler-client calls|events --url URL [--seconds S] [--inflight N] [--realm realm1]
//! ```
//!
//! The router prints `listening websocket ws://ADDR` once it listens and
//! runs until it is killed. A client prints `window start` and `window end`
//! when its measured window starts and ends (the bench reads the router's
//! CPU time then), and last `result {json}`: rates, failures and this
//! process's CPU time per operation over the window.
//!
//! The workloads are the bench's (`wamp-bench/src/workload.rs`):
//! `com.bench.add2(2, 3)` answered by a callee in the same process, called
//! once at a time (latency) and then with N calls in flight (throughput);
//! one publisher publishing `com.bench.event` unacknowledged as fast as its
//! stack lets it, one subscriber counting deliveries. Failures are counted,
//! not fatal: a failed call's lane starts its next call.

mod battler;
mod common;

use std::process::ExitCode;

use common::Args;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match Args::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("wamp-bench-peers: {e}\n\n{}", common::USAGE);
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wamp-bench-peers: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match args.command.as_str() {
            "battler-router" => battler::router(&args).await,
            "battler-client" => battler::client(&args).await,
            other => Err(format!("unknown command {other:?}")),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wamp-bench-peers: {e}");
            println!("error {e}");
            ExitCode::FAILURE
        }
    }
}
