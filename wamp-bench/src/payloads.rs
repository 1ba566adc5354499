//! Large payloads: calls carrying one 64 KiB or 1 MiB argument through our
//! router, which the callee sends back, against a bare WebSocket echo of
//! frames of the same size (the CALL as it goes on the wire). A routed call
//! moves the payload over four hops (caller, router, callee, router,
//! caller), an echo over two, so 0.5x the echo's rate is the ceiling.
//!
//! Each size runs as a text payload over WebSocket + JSON and as a binary
//! one over WebSocket + MessagePack (binary in JSON would be Base64), on
//! two routers in the same run:
//!
//! - **kept**: the router as it ships, forwarding payloads as their senders
//!   encoded them ([`PayloadMode::Encoded`]);
//! - **decoded**: the same router told to decode every payload into values
//!   and encode it again for each receiver ([`PayloadMode::Values`]), which
//!   is what it did before: the "before" figures, measured side by side.

use std::future::IntoFuture;

use futures_util::FutureExt;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use wamp::router::{Router, RouterConfig};
use wamp::{CallResult, RegisterOptions};
use wamp_proto::serializer::PayloadMode;
use wamp_proto::{msg, CallOptions, Dict, Message, Serializer, Value};

use crate::ceiling::{echo_in_flight, echo_per_frame, echo_server};
use crate::report::PayloadRow;
use crate::workload::{self, calls_in_lanes, Endpoint, Rate, Timing, REALM, ROUNDS};

/// The procedure that sends its arguments back.
pub const ECHO_PROCEDURE: &str = "com.bench.echo";

/// Calls (and echo frames) in flight: enough to keep both ends busy, few
/// enough that a 1 MiB run holds a few MiB.
pub const LANES: usize = 4;

/// The sizes measured, with the size's name in row and target IDs.
pub const SIZES: [(&str, usize); 2] = [("64k", 64 * 1024), ("1m", 1024 * 1024)];

/// The argument: text, or bytes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Binary,
}

impl Kind {
    fn value(self, size: usize) -> Value {
        match self {
            Kind::Text => Value::Str("x".repeat(size)),
            Kind::Binary => Value::Bytes(vec![0xa5; size]),
        }
    }

    fn serializer(self) -> Serializer {
        match self {
            Kind::Text => Serializer::Json,
            Kind::Binary => Serializer::MsgPack,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
        }
    }
}

/// Every size and kind whose row ID contains `filter`: echo, then our
/// router keeping payloads, then decoding them.
pub async fn run(timing: Timing, filter: &str) -> Vec<PayloadRow> {
    let mut rows = Vec::new();
    for (name, size) in SIZES {
        for kind in [Kind::Text, Kind::Binary] {
            if !row_id(name, kind.name()).contains(filter) {
                continue;
            }
            rows.push(workload::isolated(move || row(name, size, kind, timing)).await);
        }
    }
    rows
}

/// The row ID for a size and kind, e.g. `payload.64k_text`.
pub fn row_id(size_name: &str, kind: &str) -> String {
    format!("payload.{size_name}_{kind}")
}

async fn row(size_name: &str, size: usize, kind: Kind, timing: Timing) -> PayloadRow {
    let serializer = kind.serializer();
    let mut row = PayloadRow {
        id: row_id(size_name, kind.name()),
        label: format!(
            "{} {} argument, WebSocket + {}",
            size_name.to_uppercase().replace('K', " KiB").replace('M', " MiB"),
            kind.name(),
            if serializer == Serializer::Json {
                "JSON"
            } else {
                "MessagePack"
            }
        ),
        bytes: size,
        ..Default::default()
    };
    let round = timing.split(ROUNDS);
    let (mut echoes, mut kept, mut decoded) = (Vec::new(), Vec::new(), Vec::new());
    let mut errors = std::collections::BTreeSet::new();
    for _ in 0..ROUNDS {
        match echo(size, kind, round).await {
            Ok(rate) => echoes.push(rate),
            Err(e) => _ = errors.insert(format!("echo: {e}")),
        }
        match routed(PayloadMode::Encoded, size, kind, round).await {
            Ok(rate) => kept.push(rate),
            Err(e) => _ = errors.insert(format!("router keeping payloads: {e}")),
        }
        match routed(PayloadMode::Values, size, kind, round).await {
            Ok(rate) => decoded.push(rate),
            Err(e) => _ = errors.insert(format!("router decoding payloads: {e}")),
        }
    }
    if let Some(r) = Rate::median(&echoes) {
        (row.echo_per_s, row.echo_cpu_us) = (Some(r.per_s), r.cpu_us);
    }
    if let Some(r) = Rate::median(&kept) {
        (row.kept_per_s, row.kept_cpu_us) = (Some(r.per_s), r.cpu_us);
    }
    if let Some(r) = Rate::median(&decoded) {
        (row.decoded_per_s, row.decoded_cpu_us) = (Some(r.per_s), r.cpu_us);
    }
    for e in errors {
        row.add_note(e);
    }
    row
}

/// The bare echo of the CALL frame our caller sends for this argument.
async fn echo(size: usize, kind: Kind, timing: Timing) -> Result<workload::Rate, String> {
    let call = Message::from(msg::Call {
        request: 123_456,
        options: CallOptions::default(),
        procedure: ECHO_PROCEDURE.into(),
        payload: wamp_proto::Payload::new(vec![kind.value(size)], Dict::new()),
    });
    let bytes = kind.serializer().encode(&call).map_err(|e| e.to_string())?;
    let frame = match kind.serializer() {
        Serializer::Json => WsMessage::text(String::from_utf8(bytes).map_err(|e| e.to_string())?),
        _ => WsMessage::binary(bytes),
    };
    let (url, server) = echo_server(echo_per_frame).await?;
    let rate = echo_in_flight(&url, frame, LANES, timing).await;
    server.abort();
    rate
}

/// Calls through a router (in this process, over WebSocket) whose
/// connections keep payloads the way `mode` says.
async fn routed(
    mode: PayloadMode,
    size: usize,
    kind: Kind,
    timing: Timing,
) -> Result<workload::Rate, String> {
    let mut config = RouterConfig::default().realm(REALM);
    config.transport.payloads = mode;
    let router = Router::new(config);
    let listener = router
        .listen_websocket("127.0.0.1:0")
        .await
        .map_err(|e| format!("listen: {e}"))?;
    let endpoint = Endpoint::Url {
        url: format!("ws://{}/ws", listener.local_addr()),
        serializer: kind.serializer(),
    };
    let outcome = async {
        let callee = endpoint.session().await?;
        callee
            .register(ECHO_PROCEDURE, RegisterOptions::default(), |inv| async move {
                Ok(CallResult::from_parts(inv.args, inv.kwargs))
            })
            .await
            .map_err(|e| format!("register: {e}"))?;
        let caller = endpoint.session().await?;
        let arg = kind.value(size);
        let call = || {
            // The argument as a value already (`arg` would serialize the
            // value into a copy of itself: one more copy of the payload
            // per call, which the echo does not make either).
            caller
                .call(ECHO_PROCEDURE)
                .args(vec![arg.clone()])
                .into_future()
                .map(|r| match r.map_err(|e| e.to_string())?.args.first() {
                    Some(v) if v == &arg => Ok(()),
                    other => Err(format!(
                        "the echo sent back {} other bytes",
                        other.map_or(0, Value::approx_size)
                    )),
                })
        };
        call().await?; // one checked call first
        let rate = calls_in_lanes(&call, timing, LANES).await;
        workload::leave_all(vec![caller, callee]).await;
        rate
    }
    .await;
    router.shutdown();
    outcome
}
