//! WAMP over WebSocket (spec "WebSocket Transport"): one WAMP message per
//! WebSocket message, the serializer chosen by subprotocol negotiation
//! (`wamp.2.json` as text, `wamp.2.msgpack` as binary).
//!
//! The close frame carries the RFC 6455 status code that says why the
//! connection ended: 1007 for a payload that is not a message in the
//! negotiated serializer, 1009 for a message over
//! [`TransportConfig::max_message_size`], 1002 for a frame breaking
//! WebSocket rules or after an ABORT `wamp.error.protocol_violation`, 1011
//! for a message this side cannot encode, 1000 otherwise.

use crate::msg;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data as OpData, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::channel::{self, Outgoing, Receiver};
use super::read_ahead::ReadAhead;
use super::{
    tls, CloseReason, Closer, Connection, TransportConfig, TransportError, TransportKind, WRITE_BATCH,
};
use crate::message::Message;
use crate::serializer::{DecodeError, PayloadMode, Serializer};

const PROTOCOL_HEADER: &str = "Sec-WebSocket-Protocol";

fn ws_config(cfg: &TransportConfig) -> WebSocketConfig {
    // tungstenite's default 128 KiB read buffer is zero-filled before reads
    // and held by every idle connection; WAMP messages are mostly small.
    // It is also the most tungstenite reads at once: `ReadAhead` reads the
    // payload of a large frame in larger pieces.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(cfg.max_message_size))
        .max_frame_size(Some(cfg.max_message_size));
    match cfg.max_frame_written {
        // Written once this much is buffered (or at a flush, after each
        // batch): with frames of at most this size, the write buffer
        // never holds more than twice that.
        Some(max) => config.write_buffer_size(max),
        None => config,
    }
}

/// Connects to a WebSocket URL (`ws://host:port/path`, or
/// `wss://host:port/path` over TLS with [`TransportConfig::tls`]), offering
/// `serializers` in order of preference.
pub async fn connect(
    url: &str,
    serializers: &[Serializer],
    cfg: &TransportConfig,
) -> Result<Connection, TransportError> {
    let invalid = |reason: String| TransportError::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    if serializers.is_empty() {
        return Err(invalid("no serializer offered".into()));
    }
    let mut request = url.into_client_request().map_err(|e| invalid(e.to_string()))?;
    let offer = serializers
        .iter()
        .map(|s| s.subprotocol())
        .collect::<Vec<_>>()
        .join(",");
    request.headers_mut().insert(
        PROTOCOL_HEADER,
        HeaderValue::from_str(&offer).map_err(|e| invalid(e.to_string()))?,
    );
    let secure = match request.uri().scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("ws") => false,
        Some(s) if s.eq_ignore_ascii_case("wss") => true,
        _ => return Err(invalid("expected ws:// or wss://".into())),
    };
    let host = request
        .uri()
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("no host".into()))?
        .to_owned();
    let port = request.uri().port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = super::tcp_connect(&host, port, cfg).await?;
    if secure {
        let stream = tokio::time::timeout(cfg.handshake_timeout, tls::connect(tcp, &host, cfg.tls.as_ref()))
            .await
            .map_err(|_| TransportError::Tls(format!("no TLS handshake from {url} in time")))??;
        handshake(stream, request, url, serializers, cfg).await
    } else {
        handshake(tcp, request, url, serializers, cfg).await
    }
}

/// The client side of the WebSocket opening handshake over an established
/// stream.
async fn handshake<S>(
    stream: S,
    request: Request,
    url: &str,
    serializers: &[Serializer],
    cfg: &TransportConfig,
) -> Result<Connection, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let stream = ReadAhead::new(stream);
    let fut = tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config(cfg)));
    let (mut ws, response) = tokio::time::timeout(cfg.handshake_timeout, fut)
        .await
        .map_err(|_| TransportError::Handshake(format!("no WebSocket handshake from {url} in time")))?
        .map_err(|e| {
            // A TLS server answers a plain HTTP request with a TLS alert.
            let hint = match &e {
                tokio_tungstenite::tungstenite::Error::Protocol(ProtocolError::HttparseError(_))
                    if url.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("ws://")) =>
                {
                    " (not an HTTP answer: a TLS server? use wss://)"
                }
                _ => "",
            };
            TransportError::Handshake(format!("WebSocket connect to {url}: {e}{hint}"))
        })?;
    let chosen = response
        .headers()
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| TransportError::Handshake(format!("{url} accepted no WAMP subprotocol")))?;
    let serializer = Serializer::from_subprotocol(chosen)
        .filter(|s| serializers.contains(s))
        .ok_or_else(|| TransportError::Handshake(format!("{url} chose unoffered subprotocol {chosen:?}")))?;
    ws.get_mut().frames_follow(false); // a server's frames
    Ok(spawn(ws, serializer, cfg, Some(url.to_owned())))
}

/// Accepts a WebSocket connection on a stream, negotiating one of
/// `serializers` (the server's order of preference among those the client offers).
// The callback's signature is fixed by tungstenite.
#[allow(clippy::result_large_err)]
pub async fn accept<S>(
    stream: S,
    serializers: &[Serializer],
    cfg: &TransportConfig,
    peer: Option<String>,
) -> Result<Connection, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut chosen = None;
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered: Vec<&str> = req
            .headers()
            .get_all(PROTOCOL_HEADER)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(',').map(str::trim))
            .collect();
        let pick = offered
            .iter()
            .filter_map(|name| Serializer::from_subprotocol(name))
            .find(|s| serializers.contains(s));
        match pick {
            Some(s) => {
                resp.headers_mut()
                    .insert(PROTOCOL_HEADER, HeaderValue::from_static(s.subprotocol()));
                chosen = Some(s);
                Ok(resp)
            }
            None => {
                let mut err = ErrorResponse::new(Some(format!(
                    "no supported WAMP subprotocol offered (got {offered:?}; this router speaks {})",
                    serializers
                        .iter()
                        .map(|s| s.subprotocol())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
                *err.status_mut() = StatusCode::BAD_REQUEST;
                Err(err)
            }
        }
    };
    let stream = ReadAhead::new(stream);
    let fut = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config(cfg)));
    let mut ws = tokio::time::timeout(cfg.handshake_timeout, fut)
        .await
        .map_err(|_| TransportError::Handshake("WebSocket handshake timed out".into()))?
        .map_err(|e| TransportError::Handshake(e.to_string()))?;
    ws.get_mut().frames_follow(true); // a client's frames
    let serializer = chosen.ok_or_else(|| TransportError::Handshake("no subprotocol chosen".into()))?;
    Ok(spawn(ws, serializer, cfg, peer))
}

/// Sets `TCP_NODELAY`: WAMP messages are small and latency matters more than
/// packet count.
pub fn tune_tcp(stream: &TcpStream) {
    let _ = stream.set_nodelay(true);
}

fn spawn<S>(
    ws: WebSocketStream<S>,
    serializer: Serializer,
    cfg: &TransportConfig,
    peer: Option<String>,
) -> Connection
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, stream) = ws.split();
    let max_frame = cfg.max_frame_written;
    let (sender, mut out_rx) = channel::queue(cfg.queue_limits());
    let close_reason = CloseReason::default();
    let closer = Closer::default();
    let close_code = CloseCodeSlot::default();
    let frames = Frames {
        stream,
        serializer,
        payloads: cfg.payloads,
        reason: close_reason.clone(),
        close_code: close_code.clone(),
        done: false,
    };

    let reason = close_reason.clone();
    let abort = closer.clone();
    tokio::spawn(async move {
        // Closing abruptly drops the socket unflushed, even in the middle
        // of a write to a peer that stopped reading.
        let closed = abort.closed_owned();
        let work = async move {
            'outer: loop {
                let Some(msg) = out_rx.recv().await else { break };
                let mut next = Some(msg);
                let mut batched = 0;
                // Feed everything already queued, then flush once: one syscall for a burst.
                while let Some(msg) = next.take() {
                    if ends_for_protocol_violation(msg.message()) {
                        close_code.set(CloseCode::Protocol);
                    }
                    let frames = match ws_frames(&msg, serializer, max_frame) {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::error!("dropping connection: {e}");
                            close_code.set(CloseCode::Error);
                            reason.set(e);
                            break 'outer;
                        }
                    };
                    for frame in frames {
                        if let Err(e) = sink.feed(frame).await {
                            reason.set(TransportError::Io(e.to_string()));
                            break 'outer;
                        }
                    }
                    batched += 1;
                    if batched < WRITE_BATCH {
                        next = out_rx.try_recv().ok();
                    }
                }
                if let Err(e) = sink.flush().await {
                    reason.set(TransportError::Io(e.to_string()));
                    break;
                }
            }
            // The close frame says why; after it, `close` only flushes. (If the
            // peer closed first, tungstenite has answered and sends nothing more.)
            let frame = close_frame(close_code.get(), reason.get());
            let _ = sink.feed(WsMessage::Close(Some(frame))).await;
            let _ = sink.close().await;
        };
        tokio::select! {
            _ = work => {}
            _ = closed => {}
        }
    });

    Connection {
        sender,
        receiver: Receiver::stream(frames, &closer, close_reason.clone()),
        close_reason,
        closer,
        kind: TransportKind::WebSocket,
        serializer: Some(serializer),
        peer,
    }
}

/// The WebSocket frames carrying `msg`: one text (JSON) or binary message,
/// or, past `max_frame` ([`TransportConfig::max_frame_written`]), its
/// fragments (RFC 6455 section 5.4): a text or binary frame, then
/// continuation frames, each at most `max_frame` long. A shared message's
/// bytes are reused, not encoded again, and fragments are slices of them.
fn ws_frames(
    msg: &Outgoing,
    serializer: Serializer,
    max_frame: Option<usize>,
) -> Result<WsFrames, TransportError> {
    let bytes = msg.encoded_bytes(serializer)?;
    if let Some(max) = max_frame.filter(|&max| bytes.len() > max) {
        let kind = if serializer.is_binary() {
            OpData::Binary
        } else {
            OpData::Text
        };
        return Ok(WsFrames::Fragments {
            bytes,
            kind: Some(kind),
            at: 0,
            max: max.max(1),
        });
    }
    Ok(WsFrames::One(Some(if serializer.is_binary() {
        WsMessage::Binary(bytes)
    } else {
        // The JSON encoders write UTF-8 only; checked anyway, since nothing
        // in the types says so (1.6% of a 64 KiB text call's CPU, and once
        // per receiver of a shared frame: wamp-bench/README.md).
        WsMessage::Text(Utf8Bytes::try_from(bytes).map_err(|e| TransportError::Io(e.to_string()))?)
    })))
}

/// What [`ws_frames`] gives: the frames of one message, in order.
enum WsFrames {
    One(Option<WsMessage>),
    /// `kind` is the first frame's (text or binary), taken by it; the rest
    /// continue the message. A text message's fragments may split a
    /// character: only the whole message must be UTF-8.
    Fragments {
        bytes: bytes::Bytes,
        kind: Option<OpData>,
        at: usize,
        max: usize,
    },
}

impl Iterator for WsFrames {
    type Item = WsMessage;

    fn next(&mut self) -> Option<WsMessage> {
        match self {
            WsFrames::One(m) => m.take(),
            WsFrames::Fragments { bytes, kind, at, max } => {
                if *at >= bytes.len() {
                    return None;
                }
                let end = (*at + *max).min(bytes.len());
                let opcode = OpCode::Data(kind.take().unwrap_or(OpData::Continue));
                let frame = Frame::message(bytes.slice(*at..end), opcode, end == bytes.len());
                *at = end;
                Some(WsMessage::Frame(frame))
            }
        }
    }
}

/// Whether `msg` ends the session because the peer broke the protocol
/// (an ABORT `wamp.error.protocol_violation`, from the router or a client):
/// the connection then closes with 1002 rather than 1000.
fn ends_for_protocol_violation(msg: &Message) -> bool {
    matches!(msg, Message::Abort(msg::Abort { reason, .. }) if reason == crate::error_uri::PROTOCOL_VIOLATION)
}

/// The RFC 6455 status code the writer closes the connection with, chosen
/// by whoever ends it: the reader for a frame it cannot take (1002, 1007,
/// 1009), the writer for a message it cannot encode (1011) or an ABORT for
/// a protocol violation (1002). The first choice stands; none is a normal
/// close (1000).
#[derive(Debug, Clone, Default)]
struct CloseCodeSlot(Arc<AtomicU16>);

impl CloseCodeSlot {
    fn set(&self, code: CloseCode) {
        let _ = self
            .0
            .compare_exchange(0, code.into(), Ordering::Relaxed, Ordering::Relaxed);
    }

    fn get(&self) -> CloseCode {
        match self.0.load(Ordering::Relaxed) {
            0 => CloseCode::Normal,
            code => code.into(),
        }
    }
}

/// The close frame for `code`, with the reason the connection ended as its
/// text when it is not a normal close (cut to fit a control frame).
fn close_frame(code: CloseCode, why: Option<TransportError>) -> CloseFrame {
    // A control frame carries at most 125 bytes: 2 for the code, the rest text.
    const MAX_REASON: usize = 123;
    let mut reason = match why {
        Some(e) if code != CloseCode::Normal => e.to_string(),
        _ => String::new(),
    };
    if reason.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

/// What a failed read means: the reason the connection ends, and the close
/// code that tells the peer.
fn read_error(e: WsError, serializer: Serializer) -> (TransportError, Option<CloseCode>) {
    match e {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
            TransportError::TooLarge { size, max: max_size },
            Some(CloseCode::Size),
        ),
        // A text frame that is not UTF-8 is no message in any serializer.
        WsError::Utf8(reason) => (
            TransportError::Decode(DecodeError {
                serializer,
                reason: format!("text frame is not valid UTF-8: {reason}"),
            }),
            Some(CloseCode::Invalid),
        ),
        WsError::Protocol(_) => (TransportError::Io(e.to_string()), Some(CloseCode::Protocol)),
        // The socket failed: there is nobody left to tell.
        other => (TransportError::Io(other.to_string()), None),
    }
}

/// The receiving side: frames read and decoded when the session asks for
/// the next message; the reason the connection ended is recorded once,
/// with the close code that reason calls for.
struct Frames<S> {
    stream: SplitStream<WebSocketStream<S>>,
    serializer: Serializer,
    payloads: PayloadMode,
    reason: CloseReason,
    close_code: CloseCodeSlot,
    done: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for Frames<S> {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let this = &mut *self;
        while !this.done {
            let (end, code) = match ready!(this.stream.poll_next_unpin(cx)) {
                Some(Ok(WsMessage::Text(t))) => {
                    // tungstenite has checked the text to be UTF-8.
                    let frame = bytes::Bytes::from(t.clone());
                    match this
                        .serializer
                        .decode_text_frame(t.as_str(), &frame, this.payloads)
                    {
                        Ok(msg) => return Poll::Ready(Some(msg)),
                        Err(e) => (e.into(), Some(CloseCode::Invalid)),
                    }
                }
                Some(Ok(WsMessage::Binary(b))) => match this.serializer.decode_frame(&b, this.payloads) {
                    Ok(msg) => return Poll::Ready(Some(msg)),
                    Err(e) => (e.into(), Some(CloseCode::Invalid)),
                },
                Some(Ok(WsMessage::Close(_))) | None => (TransportError::Closed, None),
                Some(Ok(_)) => continue, // ping/pong are answered by tungstenite
                Some(Err(e)) => read_error(e, this.serializer),
            };
            if let Some(code) = code {
                this.close_code.set(code);
            }
            this.reason.set(end);
            this.done = true;
        }
        Poll::Ready(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg;

    const MAX: usize = 64 * 1024;

    fn publish_of(len: usize) -> Outgoing {
        let payload = crate::Payload::new(vec![crate::Value::Str("x".repeat(len))], Default::default());
        Outgoing::from(Message::Publish(msg::Publish {
            request: 1,
            options: Default::default(),
            topic: "com.example.big".into(),
            payload,
        }))
    }

    #[test]
    fn a_small_message_is_one_frame() {
        let frames: Vec<_> = ws_frames(&publish_of(10), Serializer::Json, Some(MAX))
            .unwrap()
            .collect();
        assert!(matches!(frames.as_slice(), [WsMessage::Text(_)]), "{frames:?}");
    }

    #[test]
    fn a_large_message_goes_out_in_fragments_that_add_up_to_it() {
        let msg = publish_of(3 * MAX);
        let whole = msg.encoded_bytes(Serializer::Json).unwrap();
        let frames: Vec<Frame> = ws_frames(&msg, Serializer::Json, Some(MAX))
            .unwrap()
            .map(|m| match m {
                WsMessage::Frame(f) => f,
                other => panic!("a fragment, not {other:?}"),
            })
            .collect();
        assert_eq!(frames.len(), whole.len().div_ceil(MAX));
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let last = i + 1 == frames.len();
            let expected = if i == 0 { OpData::Text } else { OpData::Continue };
            assert_eq!(f.header().opcode, OpCode::Data(expected), "frame {i}");
            assert_eq!(f.header().is_final, last, "frame {i}");
            assert!(f.payload().len() <= MAX);
            joined.extend_from_slice(f.payload());
        }
        assert_eq!(joined, whole.as_ref());
    }

    #[test]
    fn without_a_bound_a_large_message_is_one_frame() {
        let frames: Vec<_> = ws_frames(&publish_of(3 * MAX), Serializer::Json, None)
            .unwrap()
            .collect();
        assert!(matches!(frames.as_slice(), [WsMessage::Text(_)]), "{frames:?}");
    }
}
