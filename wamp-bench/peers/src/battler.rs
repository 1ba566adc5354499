//! battler-wamp (crates.io): its WebSocket router, and its peer as the
//! bench's clients, through its public API only.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use battler_wamp::core::publish_options::PublishOptions;
use battler_wamp::peer::{
    new_web_socket_peer, PeerConfig, ProcedureMessage, PublishedEvent, RpcCall, RpcYield, WebSocketPeer,
};
use battler_wamp::router::{
    new_web_socket_router, EmptyConnectionPolicies, EmptyPubSubPolicies, EmptyRpcPolicies,
    RealmAuthenticationConfig, RealmConfig, RouterConfig, RouterLimitsConfig,
};
use battler_wamp::serializer::serializer::SerializerType;
use battler_wamp_uri::Uri;
use battler_wamp_values::Value;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::common::{self, Args, Deliveries, PROCEDURE, TOPIC};

/// The largest message and frame the router accepts here (its defaults:
/// 64 KiB messages, 16 KiB frames).
const MAX_MESSAGE: usize = 16 << 20;

/// Its router on `--ws`, one realm (`--realm`), with the limits that would
/// stop a benchmark lifted: the per-connection token bucket (default 30
/// messages of burst, 10 messages/s after) off (`rate_limit_burst` and
/// `rate_limit_refill_per_sec` 0, which disables it), messages and frames up
/// to 16 MiB (`max_message_size_bytes`, `max_frame_size_bytes`), no
/// connection caps (`max_connections`, `max_connections_per_ip`), no idle
/// timeout (`idle_timeout`).
pub async fn router(args: &Args) -> Result<(), String> {
    let addr: SocketAddr = args.ws.parse().map_err(|e| format!("--ws {}: {e}", args.ws))?;
    let mut config = RouterConfig {
        address: addr.ip(),
        port: addr.port(),
        limits: RouterLimitsConfig {
            max_connections: None,
            max_connections_per_ip: None,
            max_message_size_bytes: MAX_MESSAGE,
            max_frame_size_bytes: MAX_MESSAGE,
            rate_limit_burst: 0,
            rate_limit_refill_per_sec: 0,
            idle_timeout: None,
            ..RouterLimitsConfig::default()
        },
        ..RouterConfig::default()
    };
    config.realms.push(RealmConfig {
        name: args.realm.clone(),
        uri: Uri::try_from(args.realm.as_str()).map_err(|e| format!("realm: {e}"))?,
        authentication: RealmAuthenticationConfig::default(),
    });
    let router = new_web_socket_router(
        config,
        Box::new(EmptyConnectionPolicies),
        Box::new(EmptyPubSubPolicies),
        Box::new(EmptyRpcPolicies),
    )
    .map_err(|e| format!("router: {e}"))?;
    let (handle, done) = router.start().await.map_err(|e| format!("start: {e}"))?;
    println!("listening websocket ws://{}", handle.local_addr());
    done.await.map_err(|e| format!("router task: {e}"))
}

/// A peer joined to the realm at `--url`, offering JSON only (the bench's
/// serializer everywhere).
async fn peer(args: &Args, name: &str) -> Result<WebSocketPeer, String> {
    let config = PeerConfig {
        name: name.into(),
        serializers: [SerializerType::Json].into_iter().collect(),
        ..PeerConfig::default()
    };
    let peer = new_web_socket_peer(config).map_err(|e| format!("{name}: {e}"))?;
    peer.connect(&args.url)
        .await
        .map_err(|e| format!("{name}: connect {}: {e}", args.url))?;
    peer.join_realm(&args.realm)
        .await
        .map_err(|e| format!("{name}: join {}: {e}", args.realm))?;
    Ok(peer)
}

/// `calls` or `events`, printing the markers and the result line.
pub async fn client(args: &Args) -> Result<(), String> {
    let (warmup, measure) = args.timing();
    match args.workload.as_deref() {
        Some("calls") => calls(args, warmup, measure).await,
        Some("events") => events(args, warmup, measure).await,
        other => Err(format!("battler-client: calls or events, not {other:?}")),
    }
}

async fn calls(args: &Args, warmup: Duration, measure: Duration) -> Result<(), String> {
    let procedure = Uri::try_from(PROCEDURE).map_err(|e| e.to_string())?;
    let callee = peer(args, "callee").await?;
    let mut registration = callee
        .register(procedure.clone())
        .await
        .map_err(|e| format!("register: {e}"))?;
    // The callee answers every invocation in the order it comes.
    let answering = tokio::spawn(async move {
        let mut lagged = 0u64;
        loop {
            match registration.procedure_message_rx.recv().await {
                Ok(ProcedureMessage::Invocation(inv)) => {
                    let sum = match (inv.arguments.first(), inv.arguments.get(1)) {
                        (Some(Value::Integer(a)), Some(Value::Integer(b))) => a + b,
                        _ => 0,
                    };
                    let answer = RpcYield {
                        arguments: vec![Value::Integer(sum)],
                        ..Default::default()
                    };
                    let _ = inv.respond_ok(answer).await;
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => lagged += n,
                Err(RecvError::Closed) => return lagged,
            }
        }
    });
    let caller = peer(args, "caller").await?;
    let call = || {
        let (caller, procedure) = (&caller, procedure.clone());
        async move {
            let call = RpcCall {
                arguments: vec![Value::Integer(2), Value::Integer(3)],
                ..Default::default()
            };
            let result = caller
                .call_and_wait(procedure, call)
                .await
                .map_err(|e| e.to_string())?;
            match result.arguments.first() {
                Some(Value::Integer(5)) => Ok(()),
                other => Err(format!("add2(2, 3) returned {other:?}")),
            }
        }
    };
    call().await.map_err(|e| format!("first call: {e}"))?;
    let seq = common::sequential(&call, warmup, measure).await;
    let pipelined = common::pipelined(&call, args.inflight, warmup, measure).await;
    let _ = caller.disconnect().await;
    let _ = callee.disconnect().await;
    answering.abort();
    common::result(json!({ "stack": "battler-wamp", "seq": seq, "pipelined": pipelined }));
    Ok(())
}

async fn events(args: &Args, warmup: Duration, measure: Duration) -> Result<(), String> {
    let topic = Uri::try_from(TOPIC).map_err(|e| e.to_string())?;
    let subscriber = peer(args, "subscriber").await?;
    let mut subscription = subscriber
        .subscribe(topic.clone())
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    let deliveries = Arc::new(Deliveries::default());
    let counting = tokio::spawn({
        let d = deliveries.clone();
        async move {
            loop {
                match subscription.event_rx.recv().await {
                    Ok(_) => d.count(),
                    // Its per-subscription channel dropped these.
                    Err(RecvError::Lagged(n)) => {
                        d.missed.fetch_add(n, Ordering::AcqRel);
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        }
    });
    let publisher = peer(args, "publisher").await?;
    let publish = || {
        let (publisher, topic) = (&publisher, topic.clone());
        async move {
            let event = PublishedEvent {
                arguments: vec![Value::Integer(2), Value::Integer(3)],
                options: PublishOptions::default(),
                ..Default::default()
            };
            publisher.publish(topic, event).await.map_err(|e| e.to_string())
        }
    };
    let figures = common::events(publish, &deliveries, args.window, warmup, measure).await;
    let _ = publisher.disconnect().await;
    let _ = subscriber.disconnect().await;
    counting.abort();
    common::result(json!({ "stack": "battler-wamp", "events": figures }));
    Ok(())
}
