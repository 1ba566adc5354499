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

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::channel::{self, Receiver};
use super::ws_read::{FrameReader, Handshake, Incoming, Read, ReadError};
use super::ws_write::FrameWriter;
use super::{
    tls, CloseReason, Closer, Connection, TransportConfig, TransportError, TransportKind, WRITE_BATCH,
};
use crate::message::Message;
use crate::serializer::{DecodeError, PayloadMode, Serializer};

const PROTOCOL_HEADER: &str = "Sec-WebSocket-Protocol";

fn ws_config(cfg: &TransportConfig) -> WebSocketConfig {
    // tungstenite does the opening handshake only (frames are `ws_read`'s
    // and `ws_write`'s): its buffers need not be large.
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(cfg.max_message_size))
        .max_frame_size(Some(cfg.max_message_size))
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
    let stream = Handshake::new(stream);
    let fut = tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config(cfg)));
    let (ws, response) = tokio::time::timeout(cfg.handshake_timeout, fut)
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
    let (reader, writer) = ws.into_inner().done(false, cfg.max_message_size); // a server's frames
    Ok(spawn(reader, writer, serializer, cfg, Some(url.to_owned())))
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
    let stream = Handshake::new(stream);
    let fut = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config(cfg)));
    let ws = tokio::time::timeout(cfg.handshake_timeout, fut)
        .await
        .map_err(|_| TransportError::Handshake("WebSocket handshake timed out".into()))?
        .map_err(|e| TransportError::Handshake(e.to_string()))?;
    let serializer = chosen.ok_or_else(|| TransportError::Handshake("no subprotocol chosen".into()))?;
    let (reader, writer) = ws.into_inner().done(true, cfg.max_message_size); // a client's frames
    Ok(spawn(reader, writer, serializer, cfg, peer))
}

/// Sets `TCP_NODELAY`: WAMP messages are small and latency matters more than
/// packet count.
pub fn tune_tcp(stream: &TcpStream) {
    let _ = stream.set_nodelay(true);
}

fn spawn<S>(
    reader: FrameReader<ReadHalf<S>>,
    mut writer: FrameWriter<S>,
    serializer: Serializer,
    cfg: &TransportConfig,
    peer: Option<String>,
) -> Connection
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let max_frame = cfg.max_frame_written;
    let (sender, mut out_rx) = channel::queue(cfg.queue_limits());
    let close_reason = CloseReason::default();
    let closer = Closer::default();
    let close_code = CloseCodeSlot::default();
    let frames = Frames {
        reader,
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
        let control = writer.control();
        let work = async {
            loop {
                let next = std::future::poll_fn(|cx| match control.poll_pending(cx) {
                    Poll::Ready(()) => Poll::Ready(None),
                    Poll::Pending => out_rx.poll_recv(cx).map(Some),
                })
                .await;
                let mut next = match next {
                    None => None,        // control frames only
                    Some(None) => break, // every sender is gone
                    Some(Some(msg)) => Some(msg),
                };
                let mut batched = 0;
                // Gather everything already queued, then flush once: one
                // system call for a burst.
                while let Some(msg) = next.take() {
                    if ends_for_protocol_violation(msg.message()) {
                        close_code.set(CloseCode::Protocol);
                    }
                    if let Err(e) = writer.outgoing(&msg, serializer, max_frame).await {
                        if let TransportError::Encode(_) = e {
                            tracing::error!("dropping connection: {e}");
                            close_code.set(CloseCode::Error);
                        }
                        return Err(e);
                    }
                    batched += 1;
                    if batched < WRITE_BATCH {
                        next = out_rx.try_recv();
                    }
                }
                // Pongs and a close reply go out after the batch.
                writer.take_control();
                let idle = out_rx.is_empty();
                writer
                    .flush(idle)
                    .await
                    .map_err(|e| TransportError::Io(e.to_string()))?;
                if writer.is_closed() {
                    break;
                }
            }
            Ok(())
        };
        let result: Result<(), TransportError> = tokio::select! {
            r = work => r,
            _ = closed => return, // drop the socket unflushed
        };
        if let Err(e) = result {
            reason.set(e);
        }
        // The close frame says why. (If the peer closed first and the
        // reader's reply went out, nothing more is sent.)
        let frame = close_frame(close_code.get(), reason.get());
        let _ = writer.close(frame.code.into(), &frame.reason).await;
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
fn read_error(e: ReadError, serializer: Serializer) -> (TransportError, Option<CloseCode>) {
    match e {
        ReadError::Closed => (TransportError::Closed, None),
        ReadError::TooLarge { size, max } => (TransportError::TooLarge { size, max }, Some(CloseCode::Size)),
        // A text frame that is not UTF-8 is no message in any serializer.
        ReadError::Utf8(reason) => (
            TransportError::Decode(DecodeError { serializer, reason }),
            Some(CloseCode::Invalid),
        ),
        ReadError::Protocol(why) => (
            TransportError::Io(format!("WebSocket protocol error: {why}")),
            Some(CloseCode::Protocol),
        ),
        // The socket failed: there is nobody left to tell.
        ReadError::Io(e) => (TransportError::Io(e.to_string()), None),
    }
}

/// The receiving side: frames read and decoded when the session asks for
/// the next message; the reason the connection ended is recorded once,
/// with the close code that reason calls for.
struct Frames<S> {
    reader: FrameReader<ReadHalf<S>>,
    serializer: Serializer,
    payloads: PayloadMode,
    reason: CloseReason,
    close_code: CloseCodeSlot,
    done: bool,
}

impl<S: AsyncRead> Stream for Frames<S> {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let decoded = match ready!(this.reader.poll_read(cx)) {
            // The reader has checked the text to be UTF-8.
            Ok(Read::Text(text)) => this.serializer.decode_text(text, this.payloads),
            Ok(Read::Binary(bytes)) => this.serializer.decode_with(bytes, this.payloads),
            Ok(Read::Owned(Incoming::Text(text))) => {
                let frame = bytes::Bytes::from(text.clone());
                this.serializer
                    .decode_text_frame(text.as_str(), &frame, this.payloads)
            }
            Ok(Read::Owned(Incoming::Binary(frame))) => this.serializer.decode_frame(&frame, this.payloads),
            Err(e) => {
                let (end, code) = read_error(e, this.serializer);
                this.end(end, code);
                return Poll::Ready(None);
            }
        };
        match decoded {
            Ok(msg) => Poll::Ready(Some(msg)),
            Err(e) => {
                this.end(e.into(), Some(CloseCode::Invalid));
                Poll::Ready(None)
            }
        }
    }
}

impl<S> Frames<S> {
    /// Reading has ended: records why, and the close code that tells the peer.
    fn end(&mut self, why: TransportError, code: Option<CloseCode>) {
        if let Some(code) = code {
            self.close_code.set(code);
        }
        self.reason.set(why);
        self.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    use tokio_tungstenite::WebSocketStream;

    /// The router's side of a connection over a pipe, and a tungstenite
    /// client on the other end.
    async fn accepted() -> (Connection, WebSocketStream<tokio::io::DuplexStream>) {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let mut request = "ws://localhost/ws".into_client_request().unwrap();
        request
            .headers_mut()
            .insert(PROTOCOL_HEADER, HeaderValue::from_static("wamp.2.json"));
        let cfg = TransportConfig::default();
        let (conn, client) = tokio::join!(
            accept(ours, &[Serializer::Json], &cfg, None),
            tokio_tungstenite::client_async(request, theirs)
        );
        (conn.unwrap(), client.unwrap().0)
    }

    #[tokio::test]
    async fn pings_are_answered_between_messages_and_the_close_says_why() {
        let (conn, mut client) = accepted().await;
        let Connection {
            sender, mut receiver, ..
        } = conn;
        // The session reads (and so answers pings) while it waits for messages.
        let session = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(msg) = receiver.recv().await {
                got.push(msg);
            }
            got
        });
        client.send(WsMessage::Ping(vec![1, 2, 3].into())).await.unwrap();
        client
            .send(WsMessage::Text(r#"[1,"realm1",{}]"#.into()))
            .await
            .unwrap();
        sender.send(Message::goodbye("wamp.close.normal")).await.unwrap();
        let (mut pong, mut goodbye) = (None, None);
        while pong.is_none() || goodbye.is_none() {
            match client.next().await.unwrap().unwrap() {
                WsMessage::Pong(p) => pong = Some(p),
                WsMessage::Text(t) => goodbye = Some(Serializer::Json.decode(t.as_bytes()).unwrap()),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(pong.unwrap().as_ref(), [1, 2, 3]);
        assert!(matches!(goodbye, Some(Message::Goodbye(_))), "{goodbye:?}");

        // The client closes; once the session lets go, the writer's close
        // frame answers it with a normal code.
        client.send(WsMessage::Close(None)).await.unwrap();
        let got = session.await.unwrap();
        assert!(matches!(got.as_slice(), [Message::Hello(_)]), "{got:?}");
        drop(sender);
        match client.next().await.unwrap().unwrap() {
            WsMessage::Close(Some(f)) => assert_eq!(f.code, CloseCode::Normal),
            other => panic!("a close frame, not {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_frame_that_is_no_message_closes_with_1007() {
        let (mut conn, mut client) = accepted().await;
        client.send(WsMessage::Text("not json".into())).await.unwrap();
        assert!(conn.receiver.recv().await.is_none());
        drop(conn);
        match client.next().await.unwrap().unwrap() {
            WsMessage::Close(Some(f)) => assert_eq!(f.code, CloseCode::Invalid, "{f:?}"),
            other => panic!("a close frame, not {other:?}"),
        }
    }
}
