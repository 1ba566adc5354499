//! The ceiling: a bare WebSocket echo (tokio-tungstenite on both ends, on
//! loopback, `TCP_NODELAY` like our transports) with frames of the same size
//! as the JSON CALL the WAMP workloads send. No WAMP, no router, no
//! serialization: what the same socket library and kernel path can do at
//! best, so our figures read as a fraction of it.
//!
//! Both ends batch the way our transports do (feed every frame that is
//! ready, then flush once), so the pipelined figure is a fair upper bound
//! rather than one syscall per frame.

use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;
use wamp_proto::{CallOptions, Dict, Message, Serializer, Value};

use crate::report::{ids, Latency, Row};
use crate::workload::{Timing, IN_FLIGHT, PROCEDURE};

/// The JSON CALL our workloads send, as it goes on the wire, with a
/// six-digit request ID (a typical one a few seconds into a run).
pub fn call_frame() -> String {
    let call = Message::Call {
        request: 123_456,
        options: CallOptions::default(),
        procedure: PROCEDURE.into(),
        args: vec![Value::UInt(2), Value::UInt(3)],
        kwargs: Dict::new(),
    };
    let bytes = Serializer::Json.encode(&call).expect("a CALL encodes");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// Runs the echo workloads and returns the ceiling row.
pub async fn run(timing: Timing) -> Row {
    let frame = call_frame();
    let mut row = Row::new(ids::CEILING, "bare WebSocket echo (ceiling)");
    match measure(&frame, timing).await {
        Ok((seq, pipelined)) => {
            row.set_seq(seq);
            row.pipelined_per_s = Some(pipelined);
            row.add_note(format!("{}-byte text frame `{frame}` echoed", frame.len()));
        }
        Err(e) => row.add_note(format!("failed: {e}")),
    }
    row
}

async fn measure(frame: &str, timing: Timing) -> Result<(Latency, f64), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(echo(stream));
        }
    });
    let result = async {
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/"), None, true)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        eprintln!("[bench] ceiling: sequential echo");
        let seq = sequential(&mut ws, frame, timing).await?;
        eprintln!("[bench] ceiling: pipelined echo");
        let pipelined = pipelined(&mut ws, frame, timing).await?;
        let _ = ws.close(None).await;
        Ok((seq, pipelined))
    }
    .await;
    server.abort();
    result
}

/// The echo server: every frame back, batched.
async fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(first)) = ws.next().await {
        if !(first.is_text() || first.is_binary()) {
            continue; // control frames are answered by tungstenite
        }
        if ws.feed(first).await.is_err() {
            return;
        }
        // Everything already received goes out with the same flush.
        while let Some(Some(Ok(m))) = ws.next().now_or_never() {
            if (m.is_text() || m.is_binary()) && ws.feed(m).await.is_err() {
                return;
            }
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}

async fn recv_frame<S>(ws: &mut WebSocketStream<S>) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match ws.next().await {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(format!("receive: {e}")),
        None => Err("echo server closed the connection".into()),
    }
}

/// One frame at a time: a latency sample per round trip.
async fn sequential<S>(ws: &mut WebSocketStream<S>, frame: &str, timing: Timing) -> Result<Latency, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let msg = WsMessage::text(frame);
    let warm_end = Instant::now() + timing.warmup;
    while Instant::now() < warm_end {
        ws.send(msg.clone()).await.map_err(|e| format!("send: {e}"))?;
        recv_frame(ws).await?;
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(1 << 17);
    let start = Instant::now();
    let end = start + timing.measure;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        ws.send(msg.clone()).await.map_err(|e| format!("send: {e}"))?;
        recv_frame(ws).await?;
        samples.push(t0.elapsed());
    }
    Ok(Latency::from_samples(samples, start.elapsed()))
}

/// [`IN_FLIGHT`] frames in flight: refill the window, flush once, wait for
/// at least one echo, take every echo already there. Counts echoes inside
/// the measured window.
async fn pipelined<S>(ws: &mut WebSocketStream<S>, frame: &str, timing: Timing) -> Result<f64, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let msg = WsMessage::text(frame);
    let measure_start = Instant::now() + timing.warmup;
    let end = measure_start + timing.measure;
    let mut in_flight = 0usize;
    let mut counted = 0u64;
    let mut sending = true;
    loop {
        if sending {
            while in_flight < IN_FLIGHT {
                ws.feed(msg.clone()).await.map_err(|e| format!("send: {e}"))?;
                in_flight += 1;
            }
            ws.flush().await.map_err(|e| format!("flush: {e}"))?;
        }
        if in_flight == 0 {
            break;
        }
        recv_frame(ws).await?;
        let mut got = 1;
        while in_flight > got {
            match ws.next().now_or_never() {
                Some(Some(Ok(_))) => got += 1,
                Some(Some(Err(e))) => return Err(format!("receive: {e}")),
                Some(None) => return Err("echo server closed the connection".into()),
                None => break,
            }
        }
        in_flight -= got;
        let now = Instant::now();
        if now >= end {
            sending = false;
        } else if now >= measure_start {
            counted += got as u64;
        }
    }
    Ok(counted as f64 / timing.measure.as_secs_f64())
}
