//! Our stack: the embedded router in this process behind WebSocket and
//! RawSocket listeners on 127.0.0.1:0, and our client over each transport
//! and serializer, plus in-process sessions (no sockets, no serialization).
//!
//! Client and router share this process and its runtime, as they would in a
//! single-binary application; on loopback that is also the fairest setting
//! against the echo ceiling, which runs both of its ends here too. Each
//! stack gets a fresh router on a fresh runtime ([`workload::isolated`]), so
//! rows do not disturb each other.
//!
//! The burst workload ([`workload::burst`]) gets a router of its own over
//! WebSocket + JSON too, and its own section of the report
//! ([`Burst`]).

use wamp::router::{Router, RouterConfig};
use wamp::Serializer;

use std::fmt::Write as _;

use std::collections::BTreeSet;

use crate::report::{fmt_num, ids, Burst, Latency, Row};
use crate::workload::{
    self, Api, Endpoint, Pace, Plan, Rate, Timing, FANOUT_LARGE, REALM, ROUNDS, SLOW_EVERY,
};

/// How sessions reach the router.
#[derive(Debug, Clone, Copy)]
enum Transport {
    WebSocket(Serializer),
    RawSocket(Serializer),
    InProcess,
}

/// The stacks measured, in order: row ID, label, transport, and whether
/// the fan-out to 1,000 subscribers runs on it (a few seconds each: on
/// the two stacks the targets name, to keep `--all` near two minutes).
const STACKS: [(&str, &str, Transport, bool); 4] = [
    (
        ids::WS_JSON,
        "ours: WebSocket + JSON",
        Transport::WebSocket(Serializer::Json),
        true,
    ),
    (
        ids::WS_MSGPACK,
        "ours: WebSocket + MessagePack",
        Transport::WebSocket(Serializer::MsgPack),
        false,
    ),
    (
        ids::RAWSOCKET,
        "ours: RawSocket + MessagePack",
        Transport::RawSocket(Serializer::MsgPack),
        false,
    ),
    (ids::LOCAL, "ours: in-process", Transport::InProcess, true),
];

/// Runs every workload over every transport of our stack (those whose row
/// ID contains `filter`), then the burst workload (if its ID does).
pub async fn run(timing: Timing, filter: &str) -> (Vec<Row>, Option<Burst>) {
    let mut rows = Vec::new();
    // `local_vs_ws_json` compares these two stacks' calls, and
    // `typed_vs_untyped` typed stubs with the in-process calls: they are
    // measured in turns, after the rows' other workloads.
    let in_turns = [ids::WS_JSON, ids::LOCAL].iter().all(|id| id.contains(filter));
    let typed_in_turns = in_turns && ids::TYPED.contains(filter);
    for (id, label, transport, large) in STACKS.into_iter().filter(|(id, ..)| id.contains(filter)) {
        let calls = !(in_turns && [ids::WS_JSON, ids::LOCAL].contains(&id));
        rows.push(workload::isolated(move || stack_row(id, label, transport, large, calls, timing)).await);
    }
    if in_turns {
        let turns = workload::isolated(move || calls_in_turns(timing, typed_in_turns)).await;
        let others = if typed_in_turns {
            "the other stacks of `local_vs_ws_json` and `typed_vs_untyped`"
        } else {
            "the other stack of `local_vs_ws_json`"
        };
        for (id, rounds, errors) in turns {
            if id == ids::TYPED {
                rows.push(Row::new(ids::TYPED, TYPED_LABEL));
            }
            if let Some(row) = rows.iter_mut().find(|r| r.id == id) {
                if id == ids::TYPED {
                    row.add_note(TYPED_NOTE);
                }
                errors.iter().for_each(|e| row.add_note(e));
                workload::fill_calls(row, &rounds);
                row.add_note(format!(
                    "calls: each figure the median of {ROUNDS} rounds of {:.2} s, taking turns with {others}",
                    timing.split(ROUNDS).measure.as_secs_f64()
                ));
            }
        }
    }
    if ids::TYPED.contains(filter) && !typed_in_turns {
        rows.push(workload::isolated(move || typed_row(timing)).await);
    }
    let burst = if ids::BURST.contains(filter) {
        Some(workload::isolated(move || burst(timing)).await)
    } else {
        None
    };
    (rows, burst)
}

/// Calls in-process and over WebSocket + JSON (and through typed stubs
/// in-process, if `typed`), each stack on a router of its own, in
/// [`ROUNDS`] alternating rounds: each stack's row ID, its rounds' figures
/// and why any round failed.
async fn calls_in_turns(
    timing: Timing,
    typed: bool,
) -> Vec<(&'static str, Vec<(Latency, Rate)>, BTreeSet<String>)> {
    let local_router = Router::new(RouterConfig::default().realm(REALM));
    let typed_router = Router::new(RouterConfig::default().realm(REALM));
    let ws_router = Router::new(RouterConfig::default().realm(REALM));
    let ws = ws_router
        .listen_websocket("127.0.0.1:0")
        .await
        .map(|l| Endpoint::Url {
            url: format!("ws://{}/ws", l.local_addr()),
            serializer: Serializer::Json,
        })
        .map_err(|e| format!("could not listen: {e}"));
    let mut stacks = vec![
        (
            ids::LOCAL,
            Ok(Endpoint::Local(local_router.clone())),
            Api::Untyped,
        ),
        (ids::WS_JSON, ws, Api::Untyped),
    ];
    if typed {
        stacks.push((ids::TYPED, Ok(Endpoint::Local(typed_router.clone())), Api::Typed));
    }
    let mut out: Vec<_> = stacks
        .iter()
        .map(|(id, ..)| (*id, Vec::new(), BTreeSet::new()))
        .collect();
    let round = timing.split(ROUNDS);
    for _ in 0..ROUNDS {
        for ((id, endpoint, api), (_, rounds, errors)) in stacks.iter().zip(out.iter_mut()) {
            eprintln!("[bench] {id}: calls, in turns");
            match endpoint {
                Ok(endpoint) => match workload::calls(endpoint, round, *api).await {
                    Ok(c) => rounds.push((c.seq, c.pipelined)),
                    Err(e) => _ = errors.insert(format!("a round of calls failed: {e}")),
                },
                Err(e) => _ = errors.insert(format!("calls not measured: {e}")),
            }
        }
    }
    local_router.shutdown();
    typed_router.shutdown();
    ws_router.shutdown();
    out
}

/// One stack: a router with the listener it needs, then every workload
/// (its calls only if `calls`).
async fn stack_row(
    id: &str,
    label: &str,
    transport: Transport,
    large_fanout: bool,
    calls: bool,
    timing: Timing,
) -> Row {
    let router = Router::new(RouterConfig::default().realm(REALM));
    let endpoint = match transport {
        Transport::InProcess => Ok(Endpoint::Local(router.clone())),
        Transport::WebSocket(serializer) => {
            router
                .listen_websocket("127.0.0.1:0")
                .await
                .map(|l| Endpoint::Url {
                    url: format!("ws://{}/ws", l.local_addr()),
                    serializer,
                })
        }
        Transport::RawSocket(serializer) => {
            router
                .listen_rawsocket("127.0.0.1:0")
                .await
                .map(|l| Endpoint::Url {
                    url: format!("rs://{}", l.local_addr()),
                    serializer,
                })
        }
    };
    let row = match endpoint {
        Ok(endpoint) => {
            let plan = Plan {
                large_fanout,
                pace: Pace::Unthrottled,
                calls,
            };
            let mut row = workload::row(id, label, &endpoint, timing, plan).await;
            if !large_fanout {
                row.add_note(format!(
                    "{}-subscriber fan-out not run here (it costs seconds; run on WebSocket + JSON and in-process)",
                    fmt_num(FANOUT_LARGE as f64, 0)
                ));
            }
            row
        }
        Err(e) => Row::skipped(id, label, format!("could not listen: {e}")),
    };
    router.shutdown();
    row
}

/// The burst workload on a router of its own, over WebSocket + JSON.
async fn burst(timing: Timing) -> Burst {
    let label = "ours: WebSocket + JSON";
    let router = Router::new(RouterConfig::default().realm(REALM));
    let mut burst = Burst {
        id: ids::BURST.into(),
        label: label.into(),
        ..Default::default()
    };
    let endpoint = match router.listen_websocket("127.0.0.1:0").await {
        Ok(l) => Endpoint::Url {
            url: format!("ws://{}/ws", l.local_addr()),
            serializer: Serializer::Json,
        },
        Err(e) => {
            burst.note = format!("could not listen: {e}");
            router.shutdown();
            return burst;
        }
    };
    eprintln!("[bench] {label}: an unrelated pair during a burst");
    match workload::burst(&endpoint, &router, timing.capped(workload::BURST_MEASURE)).await {
        Ok(f) => {
            burst.alone_per_s = Some(f.alone.per_s);
            burst.alone_cpu_us = f.alone.cpu_us;
            burst.during_per_s = Some(f.during.per_s);
            burst.during_cpu_us = f.during.cpu_us;
            burst.flood_per_s = Some(f.flood_per_s);
            burst.sessions = f.sessions;
            burst.sessions_closed = Some(f.closed.len());
            burst.note = format!(
                "both publishers unthrottled; the slow reader sleeps {} ms every {SLOW_EVERY} events; ",
                workload::SLOW_PAUSE.as_millis(),
            );
            match f.held_back {
                Some((events, after)) => {
                    let _ = write!(
                        burst.note,
                        "the router held the flood's publisher back after {} events ({} ms), measured from then on",
                        fmt_num(events as f64, 0),
                        after.as_millis()
                    );
                }
                None => burst
                    .note
                    .push_str("the flood's publisher was NOT held back within 5 s"),
            }
            let _ = write!(
                burst.note,
                "; flood published {}/s in the window; {} flood events in all, {}",
                fmt_num(f.flood_sent_per_s, 0),
                fmt_num(f.flood_published as f64, 0),
                if f.all_delivered {
                    "every one delivered"
                } else {
                    "NOT every one delivered"
                }
            );
            if f.closed.is_empty() {
                burst.note.push_str("; no session closed");
            } else {
                for c in &f.closed {
                    burst.note.push_str("; ");
                    burst.note.push_str(c);
                }
            }
        }
        Err(e) => burst.note = format!("failed: {e}"),
    }
    router.shutdown();
    burst
}

/// The typed stubs' row's label.
const TYPED_LABEL: &str = "ours: typed stub calls (in-process)";

/// What the typed stubs' row calls.
const TYPED_NOTE: &str = "`AdderClient::add2(2, 3)` on an attached `#[wamp::service]`";

/// Typed stubs against untyped calls, in-process: the same `add2` as a
/// `#[wamp::service]` (attached) called through its generated client, so
/// the difference to the in-process row is what typing costs. This row
/// alone, when it is not measured in turns with the in-process calls (a
/// filter that leaves those out).
async fn typed_row(timing: Timing) -> Row {
    let router = Router::new(RouterConfig::default().realm(REALM));
    let mut row = Row::new(ids::TYPED, TYPED_LABEL);
    eprintln!("[bench] {TYPED_LABEL}: calls");
    match workload::calls(&Endpoint::Local(router.clone()), timing, Api::Typed).await {
        Ok(c) => {
            row.set_seq(c.seq);
            row.pipelined_per_s = Some(c.pipelined.per_s);
            row.pipelined_cpu_us = c.pipelined.cpu_us;
            row.add_note(TYPED_NOTE);
        }
        Err(e) => row.add_note(format!("calls failed: {e}")),
    }
    router.shutdown();
    row
}
