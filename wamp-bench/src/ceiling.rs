//! The ceiling: a bare WebSocket echo (tokio-tungstenite on both ends, on
//! loopback, `TCP_NODELAY` like our transports) with frames of the same size
//! as the JSON CALL the WAMP workloads send. No WAMP, no router, no
//! serialization: what the same socket library and kernel path can do at
//! best, so our figures read as a fraction of it.
//!
//! Two echoes, measured on the same connection setup:
//!
//! - **batched** ([`ids::CEILING`]): both ends batch the way our transports
//!   do (feed every frame that is ready, then flush once). This is what the
//!   socket library and the kernel can do at best: one syscall moves many
//!   frames.
//! - **a flush per frame** ([`ids::CEILING_PER_FRAME`]): the plain echo of
//!   tokio-tungstenite's examples, `ws.send(msg).await` for every frame on
//!   both ends, with 256 frames in flight from a writer task while a reader
//!   task counts the echoes. This is how the anchor figures (about
//!   140,000 pipelined round trips/s on a 2-core machine) are obtained, so
//!   the run measures that anchor side by side with everything else.
//!
//! Sequentially (one frame at a time) the two are the same thing, so only
//! the batched row carries the sequential figures.

use std::time::{Duration, Instant};
use wamp_proto::msg;

use std::sync::Arc;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;
use wamp_proto::{CallOptions, Dict, Message, Serializer, Value};

use crate::report::{ids, Latency, Row};
use crate::workload::{cpu_us_per_op, per_second, process_cpu, Clock, Rate, Timing, IN_FLIGHT, PROCEDURE};

/// The JSON CALL our workloads send, as it goes on the wire, with a
/// six-digit request ID (a typical one a few seconds into a run).
pub fn call_frame() -> String {
    let call = Message::from(msg::Call {
        request: 123_456,
        options: CallOptions::default(),
        procedure: PROCEDURE.into(),
        payload: wamp_proto::Payload::new(vec![Value::UInt(2), Value::UInt(3)], Dict::new()),
    });
    let bytes = Serializer::Json.encode(&call).expect("a CALL encodes");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// Runs the echo workloads and returns the ceiling rows: batched, then a
/// flush per frame.
pub async fn run(timing: Timing) -> Vec<Row> {
    let frame = call_frame();
    let mut batched = Row::new(ids::CEILING, "bare WebSocket echo, batched (ceiling)");
    let mut per_frame = Row::new(
        ids::CEILING_PER_FRAME,
        "bare WebSocket echo, a flush per frame (the issue's anchor)",
    );
    match measure(&frame, timing).await {
        Ok((seq, pipelined, pipelined_per_frame)) => {
            batched.set_seq(seq);
            batched.pipelined_per_s = Some(pipelined.per_s);
            batched.pipelined_cpu_us = pipelined.cpu_us;
            batched.add_note(format!("{}-byte text frame `{frame}` echoed", frame.len()));
            per_frame.pipelined_per_s = Some(pipelined_per_frame.per_s);
            per_frame.pipelined_cpu_us = pipelined_per_frame.cpu_us;
            per_frame.add_note("same frame; `send` (write + flush) per frame on both ends");
        }
        Err(e) => {
            batched.add_note(format!("failed: {e}"));
            per_frame.add_note(format!("failed: {e}"));
        }
    }
    vec![batched, per_frame]
}

/// A listener on 127.0.0.1 that runs `serve` for every connection; the
/// task is aborted when dropped.
pub(crate) async fn echo_server<F, Fut>(serve: F) -> Result<(String, tokio::task::JoinHandle<()>), String>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    Ok((format!("ws://{addr}/"), server))
}

async fn measure(frame: &str, timing: Timing) -> Result<(Latency, Rate, Rate), String> {
    let (url, server) = echo_server(echo).await?;
    let result = batched_at(&url, frame, timing).await;
    server.abort();
    let (seq, pipelined) = result?;

    let (url, server) = echo_server(echo_per_frame).await?;
    eprintln!("[bench] ceiling: pipelined echo, a flush per frame");
    let per_frame = pipelined_per_frame(&url, frame, timing).await;
    server.abort();
    Ok((seq, pipelined, per_frame?))
}

/// Sequential, then pipelined round trips of `frame` to the batched echo
/// server at `url` (in this process or another).
pub(crate) async fn batched_at(url: &str, frame: &str, timing: Timing) -> Result<(Latency, Rate), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    eprintln!("[bench] ceiling: sequential echo ({url})");
    let seq = sequential(&mut ws, frame, timing).await?;
    eprintln!("[bench] ceiling: pipelined echo, batched ({url})");
    let pipelined = pipelined(&mut ws, frame, timing).await?;
    let _ = ws.close(None).await;
    Ok((seq, pipelined))
}

/// The batched echo server alone, for a child process
/// (`wamp-bench --echo-child`): prints `listening echo ws://...` and
/// serves until killed.
pub fn echo_child() -> std::process::ExitCode {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread().enable_all().build() else {
        return std::process::ExitCode::FAILURE;
    };
    rt.block_on(async {
        match echo_server(echo).await {
            Ok((url, _server)) => {
                println!("listening echo {url}");
                std::future::pending::<()>().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("echo child: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

/// The plain echo server: every frame sent back at once (write and flush).
pub(crate) async fn echo_per_frame(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(m)) = ws.next().await {
        if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
            return;
        }
    }
}

/// [`IN_FLIGHT`] frames in flight, the plain way: a writer task sends
/// (write and flush) a frame whenever the window has room, a reader task
/// counts echoes and opens the window again. Counts echoes inside the
/// measured window.
async fn pipelined_per_frame(url: &str, frame: &str, timing: Timing) -> Result<Rate, String> {
    echo_in_flight(url, WsMessage::text(frame), IN_FLIGHT, timing).await
}

/// Echo round trips of `msg` with `in_flight` frames in flight, a write
/// and flush per frame: the anchor for any frame size.
pub(crate) async fn echo_in_flight(
    url: &str,
    msg: WsMessage,
    in_flight: usize,
    timing: Timing,
) -> Result<Rate, String> {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sink, mut stream) = ws.split();
    let window = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let writer_window = window.clone();
    let writer = tokio::spawn(async move {
        while let Ok(permit) = writer_window.acquire().await {
            permit.forget();
            if sink.send(msg.clone()).await.is_err() {
                return;
            }
        }
    });
    let measure_start = Instant::now() + timing.warmup;
    let end = measure_start + timing.measure;
    let mut counted = 0u64;
    let mut cpu_start = None;
    let mut opened = None;
    let mut clock = Clock::new();
    let outcome = loop {
        match stream.next().await {
            Some(Ok(_)) => {}
            Some(Err(e)) => break Err(format!("receive: {e}")),
            None => break Err("echo server closed the connection".into()),
        }
        let now = clock.tick();
        if now >= end {
            break Ok(Rate {
                per_s: per_second(counted, opened, Some(now), timing),
                cpu_us: cpu_us_per_op(cpu_start, process_cpu(), counted),
            });
        }
        if now >= measure_start {
            if counted == 0 {
                cpu_start = process_cpu();
                opened = Some(now);
            }
            counted += 1;
        }
        window.add_permits(1);
    };
    window.close();
    writer.abort();
    outcome
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
async fn pipelined<S>(ws: &mut WebSocketStream<S>, frame: &str, timing: Timing) -> Result<Rate, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let msg = WsMessage::text(frame);
    let measure_start = Instant::now() + timing.warmup;
    let end = measure_start + timing.measure;
    let mut in_flight = 0usize;
    let mut counted = 0u64;
    let (mut cpu_start, mut cpu_end) = (None, None);
    let (mut opened, mut closed) = (None, None);
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
            if sending {
                cpu_end = process_cpu();
                closed = Some(now);
            }
            sending = false;
        } else if now >= measure_start {
            if counted == 0 {
                cpu_start = process_cpu();
                opened = Some(now);
            }
            counted += got as u64;
        }
    }
    Ok(Rate {
        per_s: per_second(counted, opened, closed, timing),
        cpu_us: cpu_us_per_op(cpu_start, cpu_end, counted),
    })
}
