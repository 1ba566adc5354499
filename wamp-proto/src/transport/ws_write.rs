//! The writing side of a WebSocket connection, written here rather than
//! through tungstenite (its reading side is `ws_read`).
//!
//! tungstenite copies every frame into a write buffer of its own, which
//! keeps the largest size it ever held for the connection's life (so the
//! router cut large messages into 64 KiB fragments, which its receivers
//! then had to join), wants a text frame's bytes checked for UTF-8 once
//! per connection they go to, and shares its socket between reading and
//! writing behind a lock. Here, after the opening handshake:
//!
//! - The connection's writer task writes messages through a [`FrameWriter`]
//!   (RFC 6455 section 5.2) into one buffer, so a burst goes out in one
//!   system call: a small message of the connection's own is encoded
//!   straight into it behind room for its header; a shared one (an EVENT
//!   to many) is copied, or if large written from its own bytes after what
//!   is gathered, and so is a large payload a message of its own carries
//!   as a peer encoded it (a router's INVOCATION or RESULT). A client masks its frames: a large message of its own
//!   in place, a shared one in a copy. The buffer is given back whenever
//!   the queue runs dry. The bytes a large message of the connection's
//!   own was encoded into are kept for the next large one, and given back
//!   when a small one of its own follows (a fresh megabyte costs page
//!   faults, and the allocator may give it back to the system each time).
//! - The reader's replies (the pong that answers a ping, the reply to a
//!   close) wait in [`Control`] and go out between messages, so frames
//!   never interleave.
//!
//! A text frame's bytes are not checked for UTF-8 here: the JSON encoders
//! write UTF-8 only, and a payload kept as a JSON peer sent it was checked
//! when it was read (by the reader for a text frame, by serde_json's
//! string parsing for RawSocket). Debug builds check anyway.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncWrite, AsyncWriteExt, WriteHalf};

use super::channel::Outgoing;
use super::ws_read::{FIN, OP_BINARY, OP_CLOSE, OP_CONTINUE, OP_PONG, OP_TEXT};
use super::TransportError;
use crate::serializer::{Apart, Serializer};

/// Most bytes gathered before they are written: bounds what a connection
/// holds while it writes, beyond one masked message (a client's).
const WRITE_LIMIT: usize = 64 * 1024;

/// A payload at least this long (unmasked) is written from its own bytes
/// rather than copied into the buffer.
const DIRECT_FROM: usize = 16 * 1024;

/// First allocation of the buffer for a batch.
const FIRST_BUFFER: usize = 4 * 1024;

/// The longest frame header: 2 bytes, 8 of extended length, 4 of mask.
const MAX_HEADER: usize = 14;

/// Most bytes of control frames waiting for the writer (see [`Control::push`]).
const CONTROL_LIMIT: usize = 4 * 1024;

/// Control frames the reader queued (whole frames, in order: pongs, a
/// close reply), waiting for the writer.
#[derive(Default)]
pub(crate) struct Control {
    waiting: Mutex<Waiting>,
    pending: AtomicBool,
    waker: AtomicWaker,
}

/// What [`Control`] holds: frames, and whether the last is a close.
#[derive(Default)]
struct Waiting {
    bytes: Vec<u8>,
    close: bool,
}

impl Control {
    /// Keeps a whole control frame for the writer. Bounded: once
    /// [`CONTROL_LIMIT`] bytes wait (a peer pinging faster than this side
    /// can write, or than the peer reads), further pongs are dropped; a
    /// close reply is always kept, and nothing after it.
    pub(super) fn push(&self, buf: &[u8]) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let op = buf.first().map(|b| b & 0x0F);
        if waiting.close || (op == Some(OP_PONG) && waiting.bytes.len() + buf.len() > CONTROL_LIMIT) {
            return;
        }
        waiting.bytes.extend_from_slice(buf);
        waiting.close = op == Some(OP_CLOSE);
        drop(waiting);
        self.pending.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready once control frames are waiting (registering the writer's
    /// waker otherwise).
    pub(crate) fn poll_pending(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.pending.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.pending.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// The control frames waiting, and whether the last is a close (none
    /// without taking the lock, the common case: the writer asks after
    /// every batch).
    fn take(&self) -> (Vec<u8>, bool) {
        if !self.pending.swap(false, Ordering::AcqRel) {
            return (Vec::new(), false);
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        (std::mem::take(&mut waiting.bytes), waiting.close)
    }
}

/// The control frames waiting (for the reader's tests).
#[cfg(test)]
pub(super) fn tests_take(control: &Control) -> Vec<u8> {
    control.take().0
}

/// Writes a connection's frames (see the module's docs).
pub(crate) struct FrameWriter<S> {
    io: WriteHalf<S>,
    /// Frames not yet written, from `skip` on; empty with no allocation
    /// between batches.
    buf: Vec<u8>,
    skip: usize,
    /// Where a large message of the connection's own is encoded; kept for
    /// the next large one (a fresh megabyte costs page faults), given back
    /// when a small one of its own follows.
    scratch: Vec<u8>,
    masked: bool,
    /// A close frame has gone out: nothing more may follow it.
    closed: bool,
    control: Arc<Control>,
}

impl<S: AsyncWrite> FrameWriter<S> {
    /// A writer of frames, `masked` as a client's are, putting those in
    /// `control` between messages.
    pub(super) fn new(io: WriteHalf<S>, masked: bool, control: Arc<Control>) -> Self {
        FrameWriter {
            io,
            buf: Vec::new(),
            skip: 0,
            scratch: Vec::new(),
            masked,
            closed: false,
            control,
        }
    }

    /// Where the reader's control frames wait for this writer.
    pub(crate) fn control(&self) -> Arc<Control> {
        self.control.clone()
    }

    /// Whether a close frame has gone out.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Adds the control frames the reader queued (pongs, a close reply) to
    /// what goes out next.
    pub(crate) fn take_control(&mut self) {
        let (bytes, close) = self.control.take();
        if self.closed {
            return;
        }
        self.buf.extend_from_slice(&bytes);
        self.closed = close; // nothing may follow a close
    }

    /// Adds one queued message, encoded with `serializer`: see
    /// [`FrameWriter::message`]. A message of this connection's own is
    /// encoded straight into the buffer (no scratch buffer to copy from or
    /// to keep), a shared one's bytes are copied or written from where
    /// they are.
    pub(crate) async fn outgoing(
        &mut self,
        msg: &Outgoing,
        serializer: Serializer,
        max_frame: Option<usize>,
    ) -> Result<(), TransportError> {
        let io = |e: io::Error| TransportError::Io(e.to_string());
        let binary = serializer.is_binary();
        let own = match msg.shared_encoding(serializer) {
            Some(bytes) => return self.message(bytes?, binary, max_frame).await.map_err(io),
            None => msg.message(),
        };
        if self.closed {
            return Ok(());
        }
        let opcode = if binary { OP_BINARY } else { OP_TEXT };
        let kept_large = serializer
            .kept_payload(own)
            .is_some_and(|p| p.len() >= DIRECT_FROM);
        if kept_large && !self.masked && max_frame.is_none() {
            // A large payload kept as its sender encoded it (a router's
            // INVOCATION or RESULT) is written from its own bytes, as a
            // shared EVENT's are; the message around it goes into the buffer.
            let start = self.open_gap(FIRST_BUFFER);
            let Apart { payload, tail } = match serializer.encode_apart(own, &mut self.buf) {
                Ok(Some(apart)) => apart,
                Ok(None) => unreachable!("a payload kept in this serializer"),
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e.into());
                }
            };
            let len = self.buf.len() - start - MAX_HEADER + payload.len() + tail.len();
            self.close_gap(start, FIN | opcode, len, None);
            self.write_buf_and(payload).await.map_err(io)?;
            self.buf.extend_from_slice(tail);
            return Ok(());
        }
        let room = Serializer::room_for(own);
        if room >= DIRECT_FROM {
            // A large one is encoded apart and written from there (encoded
            // into the buffer, 1 MiB calls took 15-25% more time, cause not found).
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            serializer.encode_into(own, &mut scratch)?;
            let written = self
                .message_in_place(&mut scratch, binary, max_frame)
                .await
                .map_err(io);
            self.scratch = scratch;
            return written;
        }
        if self.scratch.capacity() > 0 {
            self.scratch = Vec::new(); // small messages again
        }
        let start = self.open_gap(room.max(FIRST_BUFFER));
        if let Err(e) = serializer.encode_into(own, &mut self.buf) {
            self.buf.truncate(start);
            return Err(e.into());
        }
        let len = self.buf.len() - start - MAX_HEADER;
        if max_frame.is_some_and(|max| len > max) {
            let payload = self.buf.split_off(start + MAX_HEADER);
            self.buf.truncate(start);
            return self.message(&payload, binary, max_frame).await.map_err(io);
        }
        debug_assert!(
            binary || std::str::from_utf8(&self.buf[start + MAX_HEADER..]).is_ok(),
            "a text frame that is not UTF-8"
        );
        let key = self.masked.then(rand::random::<[u8; 4]>);
        if let Some(key) = key {
            apply_mask(&mut self.buf[start + MAX_HEADER..], key);
        }
        self.close_gap(start, FIN | opcode, len, key);
        self.write_if_full().await.map_err(io)
    }

    /// Makes room at the end of the buffer for a frame's header, whose
    /// length is not known yet (the longest), and for `room` bytes after
    /// it; returns where the room for the header starts.
    fn open_gap(&mut self, room: usize) -> usize {
        self.buf.reserve(MAX_HEADER + room);
        let start = self.buf.len();
        self.buf.resize(start + MAX_HEADER, 0);
        start
    }

    /// Puts the header of a frame of `len` payload bytes, which start
    /// after the gap [`FrameWriter::open_gap`] made at `start`, into it:
    /// the unused part of the gap is skipped (first in the buffer, nothing
    /// moves) or taken out.
    fn close_gap(&mut self, start: usize, first: u8, len: usize, key: Option<[u8; 4]>) {
        let (head, n) = header(first, len, key);
        let at = start + MAX_HEADER - n;
        self.buf[at..start + MAX_HEADER].copy_from_slice(&head[..n]);
        if start == self.skip {
            self.skip = at;
        } else {
            self.buf.drain(start..at);
        }
    }

    /// Adds one message (a text or binary frame, or several fragments of
    /// at most `max_frame` bytes), writing what has gathered whenever it
    /// passes [`WRITE_LIMIT`]. Does nothing once a close frame went out.
    pub(crate) async fn message(
        &mut self,
        payload: &[u8],
        binary: bool,
        max_frame: Option<usize>,
    ) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        debug_assert!(
            binary || std::str::from_utf8(payload).is_ok(),
            "a text frame that is not UTF-8"
        );
        let opcode = if binary { OP_BINARY } else { OP_TEXT };
        let max = max_frame.unwrap_or(usize::MAX).max(1);
        if payload.len() <= max {
            return self.frame(FIN | opcode, payload).await;
        }
        let mut pieces = payload.chunks(max).peekable();
        let mut op = opcode;
        while let Some(piece) = pieces.next() {
            let fin = if pieces.peek().is_none() { FIN } else { 0 };
            self.frame(fin | op, piece).await?;
            op = OP_CONTINUE;
        }
        Ok(())
    }

    /// [`FrameWriter::message`] for a payload this writer may change: a
    /// client's frame is masked in place (no copy to mask, none to keep)
    /// and written from there.
    async fn message_in_place(
        &mut self,
        payload: &mut [u8],
        binary: bool,
        max_frame: Option<usize>,
    ) -> io::Result<()> {
        if self.closed || !self.masked || max_frame.is_some_and(|max| payload.len() > max) {
            return self.message(payload, binary, max_frame).await;
        }
        debug_assert!(
            binary || std::str::from_utf8(payload).is_ok(),
            "a text frame that is not UTF-8"
        );
        let key = rand::random::<[u8; 4]>();
        put_header(
            &mut self.buf,
            FIN | if binary { OP_BINARY } else { OP_TEXT },
            payload.len(),
            Some(key),
        );
        apply_mask(payload, key);
        self.write_buf_and(payload).await
    }

    /// Adds one frame: `first` is its first byte (FIN and opcode).
    async fn frame(&mut self, first: u8, payload: &[u8]) -> io::Result<()> {
        if self.buf.capacity() == 0 {
            self.buf
                .reserve(FIRST_BUFFER.min(payload.len() + MAX_HEADER).max(256));
        }
        let key = self.masked.then(rand::random::<[u8; 4]>);
        put_header(&mut self.buf, first, payload.len(), key);
        match key {
            None if payload.len() >= DIRECT_FROM => {
                // The payload goes out from its own bytes, after what is gathered.
                self.write_buf_and(payload).await
            }
            None => {
                self.buf.extend_from_slice(payload);
                self.write_if_full().await
            }
            Some(key) => {
                // Masked whole, and written in one call: written in pieces,
                // each woke the reader at the other end (1 MiB calls took 10-20%
                // more CPU). The buffer goes once the queue runs dry.
                let start = self.buf.len();
                self.buf.extend_from_slice(payload);
                apply_mask(&mut self.buf[start..], key);
                self.write_if_full().await
            }
        }
    }

    async fn write_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= WRITE_LIMIT {
            self.write_buf_and(&[]).await?;
        }
        Ok(())
    }

    /// Writes what is gathered, then `payload`, in as few system calls as
    /// the socket takes.
    async fn write_buf_and(&mut self, payload: &[u8]) -> io::Result<()> {
        let (mut head, mut tail) = (self.skip, 0);
        while head < self.buf.len() || tail < payload.len() {
            let slices = [
                io::IoSlice::new(&self.buf[head..]),
                io::IoSlice::new(&payload[tail..]),
            ];
            let n = self.io.write_vectored(&slices).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            let from_head = n.min(self.buf.len() - head);
            head += from_head;
            tail += n - from_head;
        }
        self.buf.clear();
        self.skip = 0;
        Ok(())
    }

    /// Writes what is gathered and flushes the socket. With `idle` (the
    /// queue is empty), the buffer is given back.
    pub(crate) async fn flush(&mut self, idle: bool) -> io::Result<()> {
        self.write_buf_and(&[]).await?;
        if idle {
            self.buf = Vec::new();
        }
        self.io.flush().await
    }

    /// Sends a close frame with `code` and `reason` (unless one went out
    /// already), writes everything and shuts the socket's writing down.
    pub(crate) async fn close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        if !self.closed {
            let mut payload = Vec::with_capacity(2 + reason.len());
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
            self.frame(FIN | OP_CLOSE, &payload).await?;
            self.closed = true;
        }
        self.flush(true).await?;
        self.io.shutdown().await
    }
}

/// Appends a frame header: see [`header`].
pub(super) fn put_header(buf: &mut Vec<u8>, first: u8, len: usize, key: Option<[u8; 4]>) {
    let (head, n) = header(first, len, key);
    buf.extend_from_slice(&head[..n]);
}

/// A frame header and its length: `first` (FIN and opcode), the
/// payload's length and, for a client, the masking key.
fn header(first: u8, len: usize, key: Option<[u8; 4]>) -> ([u8; MAX_HEADER], usize) {
    let mut head = [0; MAX_HEADER];
    head[0] = first;
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let mut n = match len {
        0..=125 => {
            head[1] = mask_bit | len as u8;
            2
        }
        126..=0xFFFF => {
            head[1] = mask_bit | 126;
            head[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            head[1] = mask_bit | 127;
            head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        }
    };
    if let Some(key) = key {
        head[n..n + 4].copy_from_slice(&key);
        n += 4;
    }
    (head, n)
}

/// XORs `bytes` with the masking key, which starts at its first byte.
pub(super) fn apply_mask(bytes: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut words = bytes.chunks_exact_mut(8);
    for w in &mut words {
        let v = u64::from_ne_bytes((&*w).try_into().expect("8 bytes")) ^ wide;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::super::ws_read::{FrameReader, Handshake, Incoming, ReadError};
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    use tokio_tungstenite::WebSocketStream;

    /// Our reader and writer on one end of a pipe (a client's, masking, or
    /// a server's), tungstenite on the other end.
    async fn pair(
        client: bool,
    ) -> (
        FrameReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>,
        FrameWriter<tokio::io::DuplexStream>,
        WebSocketStream<tokio::io::DuplexStream>,
    ) {
        let (ours, theirs) = tokio::io::duplex(256 * 1024);
        // Frames come in masked when this side is the server.
        let (reader, writer) = Handshake::new(ours).done(!client, usize::MAX);
        let role = if client { Role::Server } else { Role::Client };
        let config = WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        let peer = WebSocketStream::from_raw_socket(theirs, role, Some(config)).await;
        (reader, writer, peer)
    }

    fn text(len: usize) -> String {
        // Two-byte characters too, so fragments split some of them.
        (0..len).map(|i| if i % 7 == 0 { 'é' } else { 'a' }).collect()
    }

    #[tokio::test]
    async fn messages_of_any_size_read_back_whole_on_either_side() {
        for client in [false, true] {
            let (_read_side, mut writer, mut peer) = pair(client).await;
            let sent: Vec<(Vec<u8>, bool)> = vec![
                (b"[1,2]".to_vec(), false),
                (vec![0x93, 1, 2, 3], true),
                (Vec::new(), true),
                (text(125).into_bytes(), false),
                (text(126).into_bytes(), false),
                (text(0xFFFF).into_bytes(), false),
                ((0..100_003u32).map(|i| i as u8).collect(), true),
                (text(1 << 20).into_bytes(), false),
            ];
            let expected = sent.clone();
            let write = async move {
                for (payload, binary) in &sent {
                    writer.message(payload, *binary, None).await.unwrap();
                }
                // A batch of small ones, gathered; then fragments.
                for i in 0..100u8 {
                    writer.message(&[i; 10], true, None).await.unwrap();
                }
                writer
                    .message(text(300_001).as_bytes(), false, Some(64 * 1024))
                    .await
                    .unwrap();
                writer.flush(true).await.unwrap();
                writer.close(1000, "").await.unwrap();
            };
            let read = async move {
                for (payload, binary) in expected {
                    let got = peer.next().await.unwrap().unwrap();
                    match got {
                        WsMessage::Binary(b) if binary => assert_eq!(b, payload),
                        WsMessage::Text(t) if !binary => assert_eq!(t.as_bytes(), payload),
                        other => panic!("{} bytes, binary {binary}: got {other:?}", payload.len()),
                    }
                }
                for i in 0..100u8 {
                    assert_eq!(
                        peer.next().await.unwrap().unwrap(),
                        WsMessage::Binary(vec![i; 10].into())
                    );
                }
                assert_eq!(
                    peer.next().await.unwrap().unwrap(),
                    WsMessage::Text(text(300_001).into())
                );
                match peer.next().await.unwrap().unwrap() {
                    WsMessage::Close(Some(f)) => assert_eq!(f.code, CloseCode::Normal),
                    other => panic!("a close frame, not {other:?}"),
                }
            };
            tokio::join!(write, read);
        }
    }

    fn publish_of(len: usize) -> crate::Message {
        let payload = crate::Payload::new(vec![crate::Value::Str(text(len))], Default::default());
        crate::Message::from(crate::msg::Publish {
            request: 1,
            options: Default::default(),
            topic: "com.example.big".into(),
            payload,
        })
    }

    #[tokio::test]
    async fn queued_messages_go_out_as_their_encoding_own_or_shared() {
        use crate::transport::SharedMessage;
        for client in [false, true] {
            for serializer in [Serializer::Json, Serializer::MsgPack] {
                let (_read_side, mut writer, mut peer) = pair(client).await;
                let sizes = [0, 10, 200, 70_000, 1 << 20, 5, 300_000];
                let mut messages: Vec<(Outgoing, Option<usize>)> = sizes
                    .iter()
                    .enumerate()
                    .map(|(i, &len)| {
                        let msg = publish_of(len);
                        // Own and shared in turn; the last one fragmented.
                        let out = if i % 2 == 0 {
                            Outgoing::from(msg)
                        } else {
                            Outgoing::from(SharedMessage::new(msg))
                        };
                        (out, (i + 1 == sizes.len()).then_some(64 * 1024))
                    })
                    .collect();
                let mut expected: Vec<Vec<u8>> = sizes
                    .iter()
                    .map(|&len| serializer.encode(&publish_of(len)).unwrap())
                    .collect();
                // Own messages whose payload is kept as a peer encoded it
                // (a router's): large ones are written from the payload's
                // bytes; between two small ones, and fragmented.
                for (len, max_frame) in [
                    (100_000, None),
                    (7, None),
                    (1 << 20, None),
                    (9, None),
                    (90_000, Some(32 * 1024)),
                ] {
                    let frame = bytes::Bytes::from(serializer.encode(&publish_of(len)).unwrap());
                    let kept = serializer
                        .decode_frame(&frame, crate::serializer::PayloadMode::Encoded)
                        .unwrap();
                    assert_eq!(kept.payload().unwrap().encoded().is_some(), len > 0);
                    expected.push(serializer.encode(&kept).unwrap());
                    assert!(expected.last() == Some(&frame.to_vec()), "encoded as it came");
                    messages.push((Outgoing::from(kept), max_frame));
                }
                let write = async move {
                    for (msg, max_frame) in &messages {
                        writer.outgoing(msg, serializer, *max_frame).await.unwrap();
                    }
                    writer.flush(true).await.unwrap();
                };
                let read = async move {
                    for bytes in expected {
                        let got = match peer.next().await.unwrap().unwrap() {
                            WsMessage::Text(t) if !serializer.is_binary() => t.as_bytes().to_vec(),
                            WsMessage::Binary(b) if serializer.is_binary() => b.to_vec(),
                            other => panic!("{serializer:?}: got {other:?}"),
                        };
                        assert!(got == bytes, "{serializer:?}, {} bytes", bytes.len());
                    }
                };
                tokio::join!(write, read);
            }
        }
    }

    #[tokio::test]
    async fn the_readers_replies_go_out_between_messages_and_nothing_after_a_close() {
        for client in [false, true] {
            let (mut reader, mut writer, mut peer) = pair(client).await;
            let control = writer.control();
            let mut next = move || {
                let read = std::future::poll_fn(|cx| reader.poll_message(cx));
                futures_util::FutureExt::now_or_never(read)
            };

            writer.message(b"[1]", false, None).await.unwrap();
            peer.send(WsMessage::Ping(vec![7, 8].into())).await.unwrap();
            peer.send(WsMessage::Text("[2]".into())).await.unwrap();
            // Our reader answers the ping and reads on; the pong waits for the writer.
            match next() {
                Some(Ok(Incoming::Text(t))) => assert_eq!(t.as_str(), "[2]"),
                other => panic!("[2], not {other:?}"),
            }
            std::future::poll_fn(|cx| control.poll_pending(cx)).await;
            writer.take_control();
            writer.message(b"[3]", false, None).await.unwrap();
            writer.flush(true).await.unwrap();
            assert_eq!(peer.next().await.unwrap().unwrap(), WsMessage::Text("[1]".into()));
            assert_eq!(
                peer.next().await.unwrap().unwrap(),
                WsMessage::Pong(vec![7, 8].into())
            );
            assert_eq!(peer.next().await.unwrap().unwrap(), WsMessage::Text("[3]".into()));

            // The peer closes: the reader ends, and replies.
            peer.send(WsMessage::Close(None)).await.unwrap();
            assert!(matches!(next(), Some(Err(ReadError::Closed))));
            writer.take_control();
            assert!(writer.is_closed());
            writer.message(b"[4]", false, None).await.unwrap();
            writer.close(1000, "").await.unwrap();
            assert!(matches!(peer.next().await.unwrap().unwrap(), WsMessage::Close(_)));
            assert!(peer.next().await.is_none(), "nothing after the close reply");
        }
    }

    #[tokio::test]
    async fn a_large_encoding_is_kept_until_a_small_message_follows() {
        let (_reader, mut writer, mut peer) = pair(true).await;
        let read = tokio::spawn(async move { while let Some(Ok(_)) = peer.next().await {} });
        let large = Outgoing::from(publish_of(100_000));
        writer.outgoing(&large, Serializer::Json, None).await.unwrap();
        writer.flush(true).await.unwrap();
        assert_eq!(
            writer.buf.capacity(),
            0,
            "the buffer goes when the queue runs dry"
        );
        let kept = writer.scratch.as_ptr();
        assert!(writer.scratch.capacity() >= 100_000, "the encoding is kept");
        writer.outgoing(&large, Serializer::Json, None).await.unwrap();
        assert_eq!(writer.scratch.as_ptr(), kept, "and used again");
        writer
            .outgoing(&Outgoing::from(publish_of(10)), Serializer::Json, None)
            .await
            .unwrap();
        assert_eq!(writer.scratch.capacity(), 0, "given back after a small one");
        writer.close(1000, "").await.unwrap();
        read.await.unwrap();
    }

    #[test]
    fn pongs_waiting_are_bounded_and_a_close_reply_is_kept_with_nothing_after_it() {
        let control = Control::default();
        let mut pong = Vec::new();
        put_header(&mut pong, FIN | OP_PONG, 125, None);
        pong.resize(pong.len() + 125, 7);
        for _ in 0..1000 {
            control.push(&pong);
        }
        let mut close = Vec::new();
        put_header(&mut close, FIN | OP_CLOSE, 2, None);
        close.extend_from_slice(&1000u16.to_be_bytes());
        control.push(&close);
        let (waiting, closing) = control.take();
        assert!(waiting.len() <= CONTROL_LIMIT + close.len(), "{}", waiting.len());
        assert!(waiting.len() >= CONTROL_LIMIT - pong.len());
        assert!(waiting.ends_with(&close) && closing, "the close reply is kept");
        assert!(control.take().0.is_empty());
        let mut empty_pong = Vec::new();
        put_header(&mut empty_pong, FIN | OP_PONG, 0, None);
        control.push(&empty_pong);
        assert!(control.take().0.is_empty(), "nothing after a close");
    }

    #[test]
    fn masking_twice_gives_the_bytes_back() {
        for len in [0, 1, 7, 8, 9, 64, 1001] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
            let mut masked = bytes.clone();
            apply_mask(&mut masked, [1, 2, 3, 250]);
            for (i, (m, b)) in masked.iter().zip(&bytes).enumerate() {
                assert_eq!(*m, b ^ [1, 2, 3, 250][i % 4]);
            }
            apply_mask(&mut masked, [1, 2, 3, 250]);
            assert_eq!(masked, bytes);
        }
    }
}
