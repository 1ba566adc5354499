//! As deployed: `wamp router` in a process of its own and our client in
//! this one, against the same bare WebSocket echo between two processes
//! (this binary re-executed with `--echo-child`). A routed call is two
//! round trips (caller to router to callee and back), so the sequential
//! target compares a call's p50 with twice the echo's.
//!
//! The echo and our client take turns in short rounds and each row is the
//! median of its rounds, so that a drift in the machine's speed (it is
//! shared) does not fall between the anchor and what it anchors.
//!
//! CPU per operation here is this process's only (the clients): the
//! router's or the echo server's CPU is in the other process.

use std::collections::BTreeSet;

use wamp::Serializer;

use crate::ceiling::{batched_at, call_frame};
use crate::memory::{spawn_echo, spawn_router_with};
use crate::report::{ids, Row};
use crate::workload::{self, fill_calls, on_worker, Api, Endpoint, Timing, ROUNDS};

/// The echo row and our client's row against the router process, measured
/// in alternating rounds; then the one-thread row.
pub async fn run(timing: Timing) -> Vec<Row> {
    let mut echo = Row::new(
        ids::PROCESS_ECHO,
        "bare WebSocket echo, server in another process, batched",
    );
    let mut ours = Row::new(
        ids::PROCESS_WS_JSON,
        "ours: WebSocket + JSON, router in another process",
    );
    let round = timing.split(ROUNDS);
    let rounds_note = format!(
        "median of {ROUNDS} rounds of {:.2} s, taking turns with the other row of this pair",
        round.measure.as_secs_f64()
    );
    match (spawn_echo().await, spawn_router_with(&[]).await) {
        (Ok(mut echo_child), Ok((mut router, how))) => {
            let endpoint = Endpoint::Url {
                url: router.url.clone(),
                serializer: Serializer::Json,
            };
            let (mut echo_rounds, mut our_rounds) = (Vec::new(), Vec::new());
            let (mut echo_errors, mut our_errors) = (BTreeSet::new(), BTreeSet::new());
            for _ in 0..ROUNDS {
                // Both clients in a task of their own, as a deployed
                // client's work runs (see `on_worker`).
                let url = echo_child.url.clone();
                let echo_round = on_worker(async move { batched_at(&url, &call_frame(), round).await });
                match echo_round.await {
                    Ok(r) => echo_rounds.push(r),
                    Err(e) => _ = echo_errors.insert(format!("a round failed: {e}")),
                }
                let endpoint = endpoint.clone();
                let our_round =
                    on_worker(async move { workload::calls(&endpoint, round, Api::Untyped).await });
                match our_round.await {
                    Ok(c) => our_rounds.push((c.seq, c.pipelined)),
                    Err(e) => _ = our_errors.insert(format!("a round failed: {e}")),
                }
            }
            echo_errors.iter().for_each(|e| echo.add_note(e));
            our_errors.iter().for_each(|e| ours.add_note(e));
            fill_calls(&mut echo, &echo_rounds);
            fill_calls(&mut ours, &our_rounds);
            echo.add_note(format!(
                "the client in a task of its own; CPU: the client process only; {rounds_note}"
            ));
            ours.add_note(format!(
                "router: {how}; the calls made from a task of their own; CPU: the client process only \
                 (caller and callee); {rounds_note}"
            ));
            echo_child.stop().await;
            router.stop().await;
        }
        (echo_child, router) => {
            echo.add_note(match &echo_child {
                Err(e) => format!("no echo process: {e}"),
                Ok(_) => "not measured: no router process to take turns with".to_string(),
            });
            ours.add_note(match &router {
                Err(e) => format!("no router process: {e}"),
                Ok(_) => "not measured: no echo process to take turns with".to_string(),
            });
            if let Ok(mut child) = echo_child {
                child.stop().await;
            }
            if let Ok((mut router, _)) = router {
                router.stop().await;
            }
        }
    }
    // The same with every hand-off between threads taken out: the router on
    // one thread (`--threads 1`) and the client on a current-thread runtime.
    // What the defaults' multi-threaded runtimes cost a lightly loaded round
    // trip: each socket read then wakes a task on another thread.
    let one_thread = current_thread_row(
        Row::new(
            ids::PROCESS_WS_JSON_ONE_THREAD,
            "ours: the same, router --threads 1, client on a current-thread runtime",
        ),
        &["--threads", "1"],
        timing,
    )
    .await;
    vec![echo, ours, one_thread]
}

/// Our client's calls, on a current-thread runtime of their own, against
/// `wamp router` started with `extra` options.
async fn current_thread_row(mut row: Row, extra: &'static [&'static str], timing: Timing) -> Row {
    match spawn_router_with(extra).await {
        Ok((mut router, how)) => {
            let endpoint = Endpoint::Url {
                url: router.url.clone(),
                serializer: Serializer::Json,
            };
            let work = move || async move { workload::calls(&endpoint, timing, Api::Untyped).await };
            match workload::isolated_current_thread(work).await {
                Ok(calls) => {
                    row.set_seq(calls.seq);
                    row.pipelined_per_s = Some(calls.pipelined.per_s);
                    row.pipelined_cpu_us = calls.pipelined.cpu_us;
                    row.add_note(format!(
                        "router: {how}; CPU: the client process only (caller and callee)"
                    ));
                }
                Err(e) => row.add_note(format!("failed: {e}")),
            }
            router.stop().await;
        }
        Err(e) => row.add_note(format!("no router process: {e}")),
    }
    row
}
