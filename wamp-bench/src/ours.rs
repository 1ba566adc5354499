//! Our stack: the embedded router in this process behind WebSocket and
//! RawSocket listeners on 127.0.0.1:0, and our client over each transport
//! and serializer, plus in-process sessions (no sockets, no serialization).
//!
//! Client and router share this process and its runtime, as they would in a
//! single-binary application; on loopback that is also the fairest setting
//! against the echo ceiling, which runs both of its ends here too. Each
//! stack gets a fresh router on a fresh runtime ([`workload::isolated`]), so
//! rows do not disturb each other.

use wamp::router::{Router, RouterConfig};
use wamp::Serializer;

use crate::report::{ids, Row};
use crate::workload::{self, Api, Endpoint, Timing, REALM};

/// How sessions reach the router.
#[derive(Debug, Clone, Copy)]
enum Transport {
    WebSocket(Serializer),
    RawSocket(Serializer),
    InProcess,
}

/// The stacks measured, in order: row ID, label, transport.
const STACKS: [(&str, &str, Transport); 4] = [
    (
        ids::WS_JSON,
        "ours: WebSocket + JSON",
        Transport::WebSocket(Serializer::Json),
    ),
    (
        ids::WS_MSGPACK,
        "ours: WebSocket + MessagePack",
        Transport::WebSocket(Serializer::MsgPack),
    ),
    (
        ids::RAWSOCKET,
        "ours: RawSocket + MessagePack",
        Transport::RawSocket(Serializer::MsgPack),
    ),
    (ids::LOCAL, "ours: in-process", Transport::InProcess),
];

/// Runs every workload over every transport of our stack (those whose row
/// ID contains `filter`).
pub async fn run(timing: Timing, filter: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for (id, label, transport) in STACKS.into_iter().filter(|(id, ..)| id.contains(filter)) {
        rows.push(workload::isolated(move || stack_row(id, label, transport, timing)).await);
    }
    if ids::TYPED.contains(filter) {
        rows.push(workload::isolated(move || typed_row(timing)).await);
    }
    rows
}

/// One stack: a router with the listener it needs, then every workload.
async fn stack_row(id: &str, label: &str, transport: Transport, timing: Timing) -> Row {
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
        Ok(endpoint) => workload::row(id, label, &endpoint, timing).await,
        Err(e) => Row::skipped(id, label, format!("could not listen: {e}")),
    };
    router.shutdown();
    row
}

/// Typed stubs against untyped calls, in-process: the same `add2` as a
/// `#[wamp::service]` (attached) called through its generated client, so
/// the difference to the in-process row is what typing costs.
async fn typed_row(timing: Timing) -> Row {
    let label = "ours: typed stub calls (in-process)";
    let router = Router::new(RouterConfig::default().realm(REALM));
    let mut row = Row::new(ids::TYPED, label);
    eprintln!("[bench] {label}: calls");
    match workload::calls(&Endpoint::Local(router.clone()), timing, Api::Typed).await {
        Ok(c) => {
            row.set_seq(c.seq);
            row.pipelined_per_s = Some(c.pipelined.per_s);
            row.pipelined_cpu_us = c.pipelined.cpu_us;
            row.add_note("`AdderClient::add2(2, 3)` on an attached `#[wamp::service]`");
        }
        Err(e) => row.add_note(format!("calls failed: {e}")),
    }
    router.shutdown();
    row
}
