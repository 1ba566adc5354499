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
use crate::memory::{spawn_echo, spawn_router};
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

    let mut ours = Row::new(
        ids::PROCESS_WS_JSON,
        "ours: WebSocket + JSON, router in another process",
    );
    match spawn_router().await {
        Ok((mut router, how)) => {
            let endpoint = Endpoint::Url {
                url: router.url.clone(),
                serializer: Serializer::Json,
            };
            match workload::calls(&endpoint, timing, Api::Untyped).await {
                Ok(calls) => {
                    ours.set_seq(calls.seq);
                    ours.pipelined_per_s = Some(calls.pipelined.per_s);
                    ours.pipelined_cpu_us = calls.pipelined.cpu_us;
                    ours.add_note(format!(
                        "router: {how}; CPU: the client process only (caller and callee)"
                    ));
                }
                Err(e) => ours.add_note(format!("failed: {e}")),
            }
            router.stop().await;
        }
        Err(e) => ours.add_note(format!("no router process: {e}")),
    }
    vec![echo, ours]
}
