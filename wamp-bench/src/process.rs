//! As deployed: `wamp router` in a process of its own and our client in
//! this one, against the same bare WebSocket echo between two processes
//! (this binary re-executed with `--echo-child`). A routed call is two
//! round trips (caller to router to callee and back), so the sequential
//! target compares a call's p50 with twice the echo's.
//!
//! CPU per operation here is this process's only (the clients): the
//! router's or the echo server's CPU is in the other process.

use wamp::Serializer;

use crate::ceiling::{batched_at, call_frame};
use crate::memory::{spawn_echo, spawn_router_with};
use crate::report::{ids, Row};
use crate::workload::{self, Api, Endpoint, Timing};

/// The echo row, then our client's row against the router process.
pub async fn run(timing: Timing) -> Vec<Row> {
    let mut echo = Row::new(
        ids::PROCESS_ECHO,
        "bare WebSocket echo, server in another process, batched",
    );
    match spawn_echo().await {
        Ok(mut child) => {
            match batched_at(&child.url, &call_frame(), timing).await {
                Ok((seq, pipelined)) => {
                    echo.set_seq(seq);
                    echo.pipelined_per_s = Some(pipelined.per_s);
                    echo.pipelined_cpu_us = pipelined.cpu_us;
                    echo.add_note("CPU: the client process only");
                }
                Err(e) => echo.add_note(format!("failed: {e}")),
            }
            child.stop().await;
        }
        Err(e) => echo.add_note(format!("no echo process: {e}")),
    }

    let ours = routed_row(
        Row::new(
            ids::PROCESS_WS_JSON,
            "ours: WebSocket + JSON, router in another process",
        ),
        &[],
        timing,
        false,
    )
    .await;
    // The same with every hand-off between threads taken out: the router on
    // one thread (`--threads 1`) and the client on a current-thread runtime.
    // What the defaults' multi-threaded runtimes cost a lightly loaded round
    // trip: each socket read then wakes a task on another thread.
    let one_thread = routed_row(
        Row::new(
            ids::PROCESS_WS_JSON_ONE_THREAD,
            "ours: the same, router --threads 1, client on a current-thread runtime",
        ),
        &["--threads", "1"],
        timing,
        true,
    )
    .await;
    vec![echo, ours, one_thread]
}

/// Our client's calls against `wamp router` started with `extra` options;
/// the client on a runtime of its own, current-thread if `current_thread`.
async fn routed_row(
    mut row: Row,
    extra: &'static [&'static str],
    timing: Timing,
    current_thread: bool,
) -> Row {
    match spawn_router_with(extra).await {
        Ok((mut router, how)) => {
            let endpoint = Endpoint::Url {
                url: router.url.clone(),
                serializer: Serializer::Json,
            };
            let work = move || async move { workload::calls(&endpoint, timing, Api::Untyped).await };
            let calls = if current_thread {
                workload::isolated_current_thread(work).await
            } else {
                work().await
            };
            match calls {
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
