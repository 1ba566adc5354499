//! WAMP over RawSocket (spec "RawSocket Transport"): a 4-byte handshake that
//! picks the serializer and each side's maximum message length, then frames
//! of a 4-byte header (frame type, 24-bit length) and the message.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;
use tokio_util::codec::{Decoder, FramedRead};

use super::channel::{self, Receiver};
use super::{CloseReason, Closer, Connection, TransportConfig, TransportError, TransportKind, WRITE_BATCH};
use crate::message::Message;
use crate::serializer::{PayloadMode, Serializer};

/// The first byte of every handshake.
pub const MAGIC: u8 = 0x7F;

/// Handshake error codes a router may answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// The serializer is not supported.
    SerializerUnsupported = 1,
    /// The maximum message length is not acceptable.
    MaxLengthUnacceptable = 2,
    /// Reserved bits were used.
    ReservedBitsUsed = 3,
    /// The router has reached its maximum connection count.
    MaxConnectionCount = 4,
}

impl HandshakeError {
    fn describe(code: u8) -> String {
        match code {
            1 => "serializer unsupported".into(),
            2 => "maximum message length unacceptable".into(),
            3 => "use of reserved bits (unsupported feature)".into(),
            4 => "maximum connection count reached".into(),
            c => format!("unknown handshake error {c}"),
        }
    }
}

/// The handshake's length exponent for a byte limit: the largest `e` in
/// `0..=15` with `2^(9+e) <= max`.
pub fn length_exponent(max: usize) -> u8 {
    (0..=15u8).rev().find(|e| (1usize << (9 + e)) <= max).unwrap_or(0)
}

/// The byte limit that a handshake length exponent stands for.
pub fn exponent_length(exp: u8) -> usize {
    1usize << (9 + (exp & 0x0F))
}

/// The largest payload the 24-bit length of a frame header can describe.
const MAX_FRAME_LEN: usize = (1 << 24) - 1;

const FRAME_MESSAGE: u8 = 0;
const FRAME_PING: u8 = 1;
const FRAME_PONG: u8 = 2;

/// Connects over an established stream (TCP or Unix) as the client side.
pub async fn connect<S>(
    mut stream: S,
    serializer: Serializer,
    cfg: &TransportConfig,
    peer: Option<String>,
) -> Result<Connection, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ours = length_exponent(cfg.max_message_size);
    let hello = [MAGIC, (ours << 4) | serializer.rawsocket_code(), 0, 0];
    let mut reply = [0u8; 4];
    let handshake = async {
        stream.write_all(&hello).await?;
        stream.read_exact(&mut reply).await?;
        Ok::<_, std::io::Error>(())
    };
    tokio::time::timeout(cfg.handshake_timeout, handshake)
        .await
        .map_err(|_| TransportError::Handshake("no RawSocket handshake reply in time".into()))??;
    if reply[0] != MAGIC {
        // 0x15 and 0x16 start TLS records (an alert, a handshake).
        let hint = if matches!(reply[0], 0x15 | 0x16) {
            "; this looks like a TLS server: use rss://"
        } else {
            ""
        };
        return Err(TransportError::Handshake(format!(
            "not a RawSocket peer (first byte {:#04x}){hint}",
            reply[0]
        )));
    }
    let low = reply[1] & 0x0F;
    let high = reply[1] >> 4;
    if low == 0 {
        return Err(TransportError::Handshake(format!(
            "router refused: {}",
            HandshakeError::describe(high)
        )));
    }
    if low != serializer.rawsocket_code() {
        return Err(TransportError::Handshake(format!(
            "router answered with serializer {low}"
        )));
    }
    let peer_max = exponent_length(high);
    Ok(spawn(
        stream,
        serializer,
        cfg.max_message_size,
        peer_max,
        cfg,
        peer,
    ))
}

/// Accepts a RawSocket connection on a stream as the router side.
pub async fn accept<S>(
    mut stream: S,
    serializers: &[Serializer],
    cfg: &TransportConfig,
    peer: Option<String>,
) -> Result<Connection, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut hello = [0u8; 4];
    tokio::time::timeout(cfg.handshake_timeout, stream.read_exact(&mut hello))
        .await
        .map_err(|_| TransportError::Handshake("no RawSocket handshake in time".into()))??;
    if hello[0] != MAGIC {
        return Err(TransportError::Handshake(format!(
            "not a RawSocket client (first byte {:#04x})",
            hello[0]
        )));
    }
    let refuse = |code: HandshakeError| [MAGIC, (code as u8) << 4, 0, 0];
    if hello[2] != 0 || hello[3] != 0 {
        let _ = stream.write_all(&refuse(HandshakeError::ReservedBitsUsed)).await;
        return Err(TransportError::Handshake(
            "client used reserved handshake bits".into(),
        ));
    }
    let Some(serializer) =
        Serializer::from_rawsocket_code(hello[1] & 0x0F).filter(|s| serializers.contains(s))
    else {
        let _ = stream
            .write_all(&refuse(HandshakeError::SerializerUnsupported))
            .await;
        return Err(TransportError::Handshake(format!(
            "client asked for unsupported serializer {}",
            hello[1] & 0x0F
        )));
    };
    let peer_max = exponent_length(hello[1] >> 4);
    let ours = length_exponent(cfg.max_message_size);
    stream
        .write_all(&[MAGIC, (ours << 4) | serializer.rawsocket_code(), 0, 0])
        .await?;
    Ok(spawn(
        stream,
        serializer,
        exponent_length(ours),
        peer_max,
        cfg,
        peer,
    ))
}

fn spawn<S>(
    stream: S,
    serializer: Serializer,
    our_max: usize,
    peer_max: usize,
    cfg: &TransportConfig,
    peer: Option<String>,
) -> Connection
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let (sender, mut out_rx) = channel::queue(cfg.queue_limits());
    // PONG replies go through the writer so frames never interleave.
    let (pong_tx, mut pong_rx) = mpsc::channel::<Bytes>(4);
    let close_reason = CloseReason::default();
    let closer = Closer::default();

    let frames = Frames {
        // Header and payload come from one buffer: one read for many frames.
        framed: FramedRead::with_capacity(rd, FrameCodec { our_max }, READ_BUFFER),
        serializer,
        payloads: cfg.payloads,
        reason: close_reason.clone(),
        pong_tx,
        done: false,
    };

    let reason = close_reason.clone();
    let abort = closer.clone();
    tokio::spawn(async move {
        let mut wr = BufWriter::with_capacity(WRITE_BUFFER, wr);
        let mut scratch = Vec::new();
        // Closing abruptly drops the socket unflushed, even in the middle
        // of a write to a peer that stopped reading.
        let closed = abort.closed_owned();
        let work = async {
            // Once the receiving end is dropped its PONG sender goes too and
            // `recv` returns `None` at once: stop polling it, or this loop
            // would spin.
            let mut pongs_open = true;
            loop {
                tokio::select! {
                    pong = pong_rx.recv(), if pongs_open => {
                        match pong {
                            Some(p) => {
                                write_frame(&mut wr, FRAME_PONG, &p, peer_max).await?;
                                wr.flush().await?;
                            }
                            None => pongs_open = false,
                        }
                    }
                    msg = out_rx.recv() => {
                        let Some(msg) = msg else { return Ok(()) };
                        let mut next = Some(msg);
                        let mut batched = 0;
                        while let Some(msg) = next.take() {
                            let payload = msg.encoded(serializer, &mut scratch)?;
                            // Into the buffer, not yet the socket.
                            write_frame(&mut wr, FRAME_MESSAGE, payload, peer_max).await?;
                            batched += 1;
                            if batched < WRITE_BATCH {
                                next = out_rx.try_recv();
                            }
                        }
                        // Counts what was taken out of the queue's level
                        // before waiting on the socket.
                        let idle = out_rx.is_empty();
                        wr.flush().await?;
                        if idle {
                            super::release_large(&mut scratch);
                        }
                    }
                }
            }
        };
        let result: Result<(), TransportError> = tokio::select! {
            r = work => r,
            _ = closed => return, // drop the socket unflushed
        };
        if let Err(e) = result {
            tracing::debug!("RawSocket writer ended: {e}");
            reason.set(e);
            // Nothing can be sent any more: end the receiving side too, so
            // the session learns of it even when the peer keeps its side open.
            abort.close();
        }
        let _ = wr.shutdown().await;
    });

    Connection {
        sender,
        receiver: Receiver::stream(frames, &closer, close_reason.clone()),
        close_reason,
        closer,
        kind: TransportKind::RawSocket,
        serializer: Some(serializer),
        peer,
    }
}

/// Initial read buffer of a connection; it grows for larger frames.
const READ_BUFFER: usize = 4 * 1024;
/// Write buffer of a connection: a burst of frames goes out in one write.
const WRITE_BUFFER: usize = 16 * 1024;

/// Splits the byte stream into frames: (frame type, payload).
struct FrameCodec {
    our_max: usize,
}

impl Decoder for FrameCodec {
    type Item = (u8, BytesMut);
    type Error = TransportError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, TransportError> {
        let Some(header) = src.get(..4) else {
            return Ok(None);
        };
        if header[0] & 0xF8 != 0 {
            return Err(TransportError::Handshake(
                "RawSocket frame uses reserved bits".into(),
            ));
        }
        let kind = header[0] & 0x07;
        let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        if len > self.our_max {
            return Err(TransportError::TooLarge {
                size: len,
                max: self.our_max,
            });
        }
        if src.len() < 4 + len {
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        let mut frame = src.split_to(4 + len);
        frame.advance(4);
        Ok(Some((kind, frame)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, TransportError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(TransportError::Io(format!(
                "connection closed in the middle of a frame ({} bytes of it received)",
                src.len()
            ))),
        }
    }
}

/// The receiving side: frames read and decoded when the session asks for
/// the next message. PINGs are answered through the writer; the reason the
/// connection ended is recorded once.
struct Frames<R> {
    framed: FramedRead<R, FrameCodec>,
    serializer: Serializer,
    payloads: PayloadMode,
    reason: CloseReason,
    pong_tx: mpsc::Sender<Bytes>,
    done: bool,
}

impl<R: AsyncRead + Unpin> Stream for Frames<R> {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let this = &mut *self;
        while !this.done {
            let end = match ready!(Pin::new(&mut this.framed).poll_next(cx)) {
                Some(Ok((FRAME_MESSAGE, payload))) => {
                    match this.serializer.decode_frame(&payload.freeze(), this.payloads) {
                        Ok(msg) => return Poll::Ready(Some(msg)),
                        Err(e) => e.into(),
                    }
                }
                Some(Ok((FRAME_PING, payload))) => {
                    let _ = this.pong_tx.try_send(payload.freeze());
                    continue;
                }
                Some(Ok((FRAME_PONG, _))) => continue,
                Some(Ok((other, _))) => TransportError::Io(format!("unknown RawSocket frame type {other}")),
                Some(Err(e)) => e,
                None => TransportError::Closed,
            };
            this.reason.set(end);
            this.done = true;
        }
        Poll::Ready(None)
    }
}

/// The 4-byte header of a frame, if the payload fits the peer's limit.
fn frame_header(kind: u8, payload: &[u8], peer_max: usize) -> Result<[u8; 4], TransportError> {
    // The length field has 24 bits: even when the peer announced 2^24 bytes
    // (exponent 15), 2^24 - 1 is the most a frame can carry.
    let max = peer_max.min(MAX_FRAME_LEN);
    if payload.len() > max {
        return Err(TransportError::TooLarge {
            size: payload.len(),
            max,
        });
    }
    let len = (payload.len() as u32).to_be_bytes();
    Ok([kind, len[1], len[2], len[3]])
}

async fn write_frame<W: AsyncWrite + Unpin>(
    wr: &mut W,
    kind: u8,
    payload: &[u8],
    peer_max: usize,
) -> Result<(), TransportError> {
    wr.write_all(&frame_header(kind, payload, peer_max)?).await?;
    wr.write_all(payload).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_exponents() {
        assert_eq!(length_exponent(512), 0);
        assert_eq!(length_exponent(16 * 1024 * 1024), 15);
        assert_eq!(length_exponent(usize::MAX), 15);
        assert_eq!(length_exponent(1000), 0);
        assert_eq!(exponent_length(15), 16 * 1024 * 1024);
    }
}
