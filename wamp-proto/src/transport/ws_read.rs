//! The reading side of a WebSocket connection, written here rather than
//! through tungstenite (which now does the opening handshake only).
//!
//! tungstenite read every frame through a buffer of its own, zero-filled
//! 4 KiB at a time (its read buffer is kept that small so that an idle
//! connection holds little), so a 1 MiB frame took 256 reads, a zero fill
//! and a copy of every byte, and a check of a text frame's UTF-8. Here
//! ([`FrameReader`], RFC 6455 section 5):
//!
//! - Small frames are read through one 4 KiB buffer, several per system
//!   call when they come in a burst.
//! - A frame too large for it is read straight into the bytes the message
//!   ends in, allocated once at its full length, as many bytes per system
//!   call as the socket has, and unmasked as the bytes arrive. The bytes of
//!   the last large message are used again for the next one once nothing
//!   holds them any more (its message was decoded, or written on): a
//!   fresh megabyte costs a page fault every 4 KiB, and the allocator may
//!   give it back to the system after each message. They are given back
//!   when a small message follows, or with the connection: a connection
//!   holds at most one large message's bytes beyond those in use.
//! - A ping is answered: the pong waits in [`Control`] for the writer,
//!   which puts it between messages. A close frame gets its reply the
//!   same way, and ends the reading.
//! - Anything that breaks RFC 6455 ends the connection with the reason
//!   ([`ReadError`]): reserved bits or opcodes, a frame masked the wrong
//!   way for its side, a control frame fragmented or over 125 bytes, a
//!   continuation with no message to continue, a close code no endpoint
//!   may send. A message over the limit ends it before its bytes are read.
//!
//! The bytes the peer sent right behind its half of the opening handshake
//! must not go to tungstenite, which would keep them: [`Handshake`] gives
//! tungstenite no byte past the end of the HTTP head, and hands the rest
//! to the reader.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::ws_write::{apply_mask, put_header, Control, FrameWriter};

/// The buffer small frames are read through, and the most a frame (header
/// and payload) may take to be read through it.
const SMALL: usize = 4 * 1024;

/// The most memory reserved for a large frame before its bytes come; a
/// longer one grows as they do.
const RESERVE_MAX: usize = 16 << 20;

/// The longest payload of a control frame (RFC 6455 section 5.5).
const MAX_CONTROL: usize = 125;

pub(super) const OP_CONTINUE: u8 = 0x0;
pub(super) const OP_TEXT: u8 = 0x1;
pub(super) const OP_BINARY: u8 = 0x2;
pub(super) const OP_CLOSE: u8 = 0x8;
pub(super) const OP_PING: u8 = 0x9;
pub(super) const OP_PONG: u8 = 0xA;
pub(super) const FIN: u8 = 0x80;

/// A whole message read, owned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A text message (checked to be UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

/// A whole message read, as [`FrameReader::poll_read`] hands it over: a
/// message that came in one frame small enough for the read buffer is
/// borrowed from that buffer (nothing allocated, nothing copied: most
/// WAMP messages are such); a large or fragmented one is owned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read<'a> {
    /// A small text message (checked to be UTF-8).
    Text(&'a str),
    /// A small binary message.
    Binary(&'a [u8]),
    /// A large or fragmented message.
    Owned(Incoming),
}

#[cfg(test)]
impl Read<'_> {
    /// The message as owned bytes.
    pub(crate) fn into_owned(self) -> Incoming {
        match self {
            Read::Text(t) => Incoming::Text(Utf8Bytes::from(t.to_owned())),
            Read::Binary(b) => Incoming::Binary(Bytes::copy_from_slice(b)),
            Read::Owned(m) => m,
        }
    }
}

/// What [`FrameReader::poll_next_message`] found: a message of its own, or
/// where a small one lies in the read buffer.
enum Next {
    Owned(Incoming),
    Small { op: u8, at: usize, len: usize },
}

/// Why reading ended.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer sent a close frame (the reply is on its way), or closed
    /// the socket between frames.
    Closed,
    /// The socket failed, or closed in the middle of a frame.
    Io(io::Error),
    /// The peer broke RFC 6455 (close code 1002).
    Protocol(String),
    /// A message over the limit (close code 1009).
    TooLarge {
        /// The message's size as far as known: the bytes of its frames so far.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A text message or a close reason that is not UTF-8 (close code 1007).
    Utf8(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
struct Head {
    fin: bool,
    op: u8,
    key: Option<[u8; 4]>,
    len: usize,
}

/// A data frame whose payload is read straight into the message's bytes.
struct Large {
    /// Its FIN bit, and the opcode of the message it belongs to.
    fin: bool,
    op: u8,
    key: Option<[u8; 4]>,
    /// The message so far: earlier fragments, then this frame's payload
    /// from `start` to `end` (the capacity reserved).
    data: BytesMut,
    start: usize,
    end: usize,
}

/// Reads a connection's messages (see the module's docs).
pub(crate) struct FrameReader<R> {
    io: R,
    /// Read and not yet taken: `buf[start..end]`.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Frames come from a client: each must be masked (and this side's
    /// replies are not), or from a server: none may be (and ours are).
    from_client: bool,
    max_message: usize,
    large: Option<Large>,
    /// A fragmented message so far: its opcode and bytes.
    partial: Option<(u8, BytesMut)>,
    /// The bytes of the last large message, taken back for the next one
    /// once nothing else holds them (see `large_frame`).
    spare: BytesMut,
    control: Arc<Control>,
    /// A close frame came, or reading failed: nothing more is read. (A
    /// `Cell`, so that it can be set while a small message is borrowed.)
    done: Cell<bool>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader of frames from a client (`from_client`) or a server, with
    /// `already` read from the socket, of messages up to `max_message`
    /// bytes; pongs and a close reply go to `control`.
    pub(crate) fn new(
        io: R,
        already: &[u8],
        from_client: bool,
        max_message: usize,
        control: Arc<Control>,
    ) -> Self {
        let mut buf = vec![0; SMALL.max(already.len())].into_boxed_slice();
        buf[..already.len()].copy_from_slice(already);
        FrameReader {
            io,
            buf,
            start: 0,
            end: already.len(),
            from_client,
            max_message,
            large: None,
            partial: None,
            spare: BytesMut::new(),
            control,
            done: Cell::new(false),
        }
    }

    /// The next message, owned; `Err` once reading has ended, and from
    /// then on.
    #[cfg(test)]
    pub(crate) fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Incoming, ReadError>> {
        self.poll_read(cx).map_ok(Read::into_owned)
    }

    /// The next message, borrowed from the read buffer when it is small
    /// ([`Read`]); `Err` once reading has ended, and from then on.
    pub(crate) fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<Read<'_>, ReadError>> {
        if self.done.get() {
            return Poll::Ready(Err(ReadError::Closed));
        }
        let next = match self.poll_next_message(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(next)) => next,
            Poll::Ready(Err(e)) => {
                self.done.set(true);
                self.large = None;
                self.partial = None;
                self.spare = BytesMut::new();
                return Poll::Ready(Err(e));
            }
        };
        Poll::Ready(match next {
            Next::Owned(msg) => Ok(Read::Owned(msg)),
            Next::Small { op, at, len } => {
                let bytes = &self.buf[at..at + len];
                if op != OP_TEXT {
                    Ok(Read::Binary(bytes))
                } else {
                    match std::str::from_utf8(bytes) {
                        Ok(text) => Ok(Read::Text(text)),
                        Err(e) => {
                            // Nothing else to give back: no message was
                            // under way, and the last one was small.
                            self.done.set(true);
                            Err(ReadError::Utf8(format!("text frame is not valid UTF-8: {e}")))
                        }
                    }
                }
            }
        })
    }

    fn poll_next_message(&mut self, cx: &mut Context<'_>) -> Poll<Result<Next, ReadError>> {
        loop {
            if let Some(large) = self.large.as_mut() {
                ready!(read_large(&mut self.io, large, cx))?;
                let Large {
                    fin, op, mut data, ..
                } = self.large.take().expect("a large frame");
                let whole = data.split();
                self.spare = data;
                match self.data_done(fin, op, whole)? {
                    Some(msg) => return Poll::Ready(Ok(Next::Owned(msg))),
                    None => continue,
                }
            }
            let Some((head, head_len)) = self.head()? else {
                ready!(self.fill(cx))?;
                continue;
            };
            let total = head_len.saturating_add(head.len);
            if self.end - self.start >= total {
                let at = self.start + head_len;
                self.start += total;
                let payload = &mut self.buf[at..at + head.len];
                if let Some(key) = head.key {
                    apply_mask(payload, key);
                }
                if head.op >= OP_CLOSE {
                    self.control_frame(head.op, at)?;
                    continue;
                }
                if head.fin && self.partial.is_none() {
                    // A whole small message: lent from the buffer.
                    self.spare = BytesMut::new();
                    return Poll::Ready(Ok(Next::Small {
                        op: head.op,
                        at,
                        len: head.len,
                    }));
                }
                let (op, mut data) = self
                    .partial
                    .take()
                    .unwrap_or_else(|| (head.op, BytesMut::with_capacity(head.len)));
                data.extend_from_slice(&self.buf[at..at + head.len]);
                if head.fin && data.len() < SMALL {
                    // Small messages again: the large one's bytes go.
                    self.spare = BytesMut::new();
                }
                if let Some(msg) = self.data_done(head.fin, op, data)? {
                    return Poll::Ready(Ok(Next::Owned(msg)));
                }
            } else if total <= self.buf.len() {
                ready!(self.fill(cx))?;
            } else {
                // Read straight into place (a control frame always fits the buffer).
                let (op, mut data) = match self.partial.take() {
                    Some(partial) => partial,
                    None => (head.op, std::mem::take(&mut self.spare)),
                };
                // The whole frame at once, up to a bound (a header alone
                // gets no more memory than that). The last large message's
                // bytes are used again if nothing holds them any more: a
                // fresh megabyte costs page faults, and the allocator may
                // give it back to the system after each message.
                data.reserve(head.len.min(RESERVE_MAX));
                let start = data.len();
                data.extend_from_slice(&self.buf[self.start + head_len..self.end]);
                (self.start, self.end) = (0, 0);
                if let Some(key) = head.key {
                    apply_mask(&mut data[start..], key);
                }
                self.large = Some(Large {
                    fin: head.fin,
                    op,
                    key: head.key,
                    data,
                    start,
                    end: start + head.len,
                });
            }
        }
    }

    /// The header at the front of the buffer, checked, and its length; or
    /// `None` if it has not all come.
    fn head(&self) -> Result<Option<(Head, usize)>, ReadError> {
        let bytes = &self.buf[self.start..self.end];
        let Some(&second) = bytes.get(1) else {
            return Ok(None);
        };
        let head_len = header_len(second);
        let Some(raw) = bytes.get(..head_len) else {
            return Ok(None);
        };
        let first = raw[0];
        let op = first & 0x0F;
        let fin = first & FIN != 0;
        if first & 0x70 != 0 {
            return Err(protocol(
                "a frame with reserved bits set (no extension was agreed)",
            ));
        }
        if !matches!(
            op,
            OP_CONTINUE | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
        ) {
            return Err(protocol(format!("a frame with the reserved opcode {op:#x}")));
        }
        let masked = second & 0x80 != 0;
        if masked != self.from_client {
            return Err(protocol(if self.from_client {
                "an unmasked frame from a client"
            } else {
                "a masked frame from a server"
            }));
        }
        let declared = declared_len(raw);
        if declared >> 63 != 0 {
            return Err(protocol("a frame length with its most significant bit set"));
        }
        let key = masked.then(|| {
            let k = &raw[head_len - 4..head_len];
            [k[0], k[1], k[2], k[3]]
        });
        if op >= OP_CLOSE {
            if !fin {
                return Err(protocol("a fragmented control frame"));
            }
            if declared > MAX_CONTROL as u64 {
                return Err(protocol(format!(
                    "a control frame of {declared} bytes (at most {MAX_CONTROL})"
                )));
            }
        } else {
            match (op, &self.partial) {
                (OP_CONTINUE, None) => {
                    return Err(protocol("a continuation frame with no message to continue"))
                }
                (OP_TEXT | OP_BINARY, Some(_)) => {
                    return Err(protocol("a new message before the fragmented one ended"))
                }
                _ => {}
            }
            let so_far = self.partial.as_ref().map_or(0, |(_, d)| d.len()) as u64;
            let size = so_far.saturating_add(declared);
            if size > self.max_message as u64 {
                return Err(ReadError::TooLarge {
                    size: usize::try_from(size).unwrap_or(usize::MAX),
                    max: self.max_message,
                });
            }
        }
        // At most `max_message`, a usize.
        let len = usize::try_from(declared).unwrap_or(usize::MAX);
        Ok(Some((Head { fin, op, key, len }, head_len)))
    }

    /// Reads more into the buffer, moving what is there to its front first.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ReadError>> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        let mut read = ReadBuf::new(&mut self.buf[self.end..]);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut read))?;
        let n = read.filled().len();
        if n == 0 {
            return Poll::Ready(Err(if self.end == 0 && self.partial.is_none() {
                ReadError::Closed
            } else {
                ReadError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed the connection in the middle of a message",
                ))
            }));
        }
        self.end += n;
        Poll::Ready(Ok(()))
    }

    /// A data frame has all come: `data` is its message so far (of
    /// opcode `op`), whole if this was the last frame (`fin`).
    fn data_done(&mut self, fin: bool, op: u8, data: BytesMut) -> Result<Option<Incoming>, ReadError> {
        if !fin {
            self.partial = Some((op, data));
            return Ok(None);
        }
        if op == OP_TEXT {
            match Utf8Bytes::try_from(data.freeze()) {
                Ok(text) => Ok(Some(Incoming::Text(text))),
                Err(e) => Err(ReadError::Utf8(format!("text frame is not valid UTF-8: {e}"))),
            }
        } else {
            Ok(Some(Incoming::Binary(data.freeze())))
        }
    }

    /// A ping, pong or close whose (unmasked) payload is in the buffer at `at`.
    fn control_frame(&mut self, op: u8, at: usize) -> Result<(), ReadError> {
        let payload = &self.buf[at..self.start];
        let key = (!self.from_client).then(rand::random::<[u8; 4]>);
        let reply = |op: u8, payload: &[u8]| {
            let mut frame = Vec::with_capacity(14 + payload.len());
            put_header(&mut frame, FIN | op, payload.len(), key);
            let at = frame.len();
            frame.extend_from_slice(payload);
            if let Some(key) = key {
                apply_mask(&mut frame[at..], key);
            }
            frame
        };
        match op {
            OP_PING => self.control.push(&reply(OP_PONG, payload)),
            OP_PONG => {}
            _ => {
                let code = match payload {
                    [] => None,
                    [_] => return Err(protocol("a close frame with a 1-byte payload")),
                    [hi, lo, reason @ ..] => {
                        let code = u16::from_be_bytes([*hi, *lo]);
                        if !close_code_allowed(code) {
                            return Err(protocol(format!("a close frame with code {code}")));
                        }
                        if let Err(e) = std::str::from_utf8(reason) {
                            return Err(ReadError::Utf8(format!("close reason is not valid UTF-8: {e}")));
                        }
                        Some(code)
                    }
                };
                // The reply echoes the code (RFC 6455 section 5.5.1), or
                // says "normal" to a close that gave none.
                let echo = code.unwrap_or(1000).to_be_bytes();
                self.control.push(&reply(OP_CLOSE, &echo));
                return Err(ReadError::Closed);
            }
        }
        Ok(())
    }
}

/// Reads the rest of a large frame's payload into place, unmasking it as
/// it comes.
fn read_large<R: AsyncRead + Unpin>(
    io: &mut R,
    large: &mut Large,
    cx: &mut Context<'_>,
) -> Poll<Result<(), ReadError>> {
    while large.data.len() < large.end {
        let before = large.data.len();
        let want = large.end - before;
        let n = ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut *io),
            cx,
            &mut (&mut large.data).limit(want)
        ))?;
        if n == 0 {
            return Poll::Ready(Err(ReadError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed the connection in the middle of a frame",
            ))));
        }
        if let Some(key) = large.key {
            // The key runs on from where the frame's payload began.
            let k = (before - large.start) % 4;
            let key = [key[k], key[(k + 1) % 4], key[(k + 2) % 4], key[(k + 3) % 4]];
            apply_mask(&mut large.data[before..], key);
        }
    }
    Poll::Ready(Ok(()))
}

fn protocol(why: impl Into<String>) -> ReadError {
    ReadError::Protocol(why.into())
}

/// Whether an endpoint may send close code `code` (RFC 6455 section 7.4:
/// the defined codes not reserved for local use, the IANA-registered
/// 1012-1014, and 3000-4999 for libraries and applications).
fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// A frame header's length from its second byte: 2, then 2 or 8 bytes of
/// extended length, then 4 of mask.
fn header_len(second: u8) -> usize {
    let ext = match second & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if second & 0x80 != 0 { 4 } else { 0 }
}

/// The payload length a whole header (at least [`header_len`] bytes)
/// declares: the 7-bit length, or the 16- or 64-bit one after it.
fn declared_len(head: &[u8]) -> u64 {
    match head[1] & 0x7F {
        126 => u64::from(u16::from_be_bytes([head[2], head[3]])),
        127 => u64::from_be_bytes([
            head[2], head[3], head[4], head[5], head[6], head[7], head[8], head[9],
        ]),
        n => u64::from(n),
    }
}

/// The socket during the opening handshake, which tungstenite does: it
/// never reads past the end of the HTTP head (a blank line), so that
/// frames sent right behind it stay here for the [`FrameReader`].
pub(crate) struct Handshake<S> {
    read: ReadHalf<S>,
    write: WriteHalf<S>,
    /// Read past the head's end, not given to tungstenite.
    rest: Vec<u8>,
    /// The last byte given was a line's end (`\n`), with nothing but a
    /// `\r` since.
    line_end: bool,
    head_done: bool,
}

impl<S: AsyncRead + AsyncWrite> Handshake<S> {
    /// Splits a connection's socket, for its opening handshake.
    pub(crate) fn new(stream: S) -> Self {
        let (read, write) = tokio::io::split(stream);
        Handshake {
            read,
            write,
            rest: Vec::new(),
            line_end: false,
            head_done: false,
        }
    }

    /// The opening handshake is over: the reader of the frames that come
    /// from a client (`from_client`) or a server, and the writer of this
    /// side's.
    pub(crate) fn done(
        self,
        from_client: bool,
        max_message: usize,
    ) -> (FrameReader<ReadHalf<S>>, FrameWriter<S>) {
        let control = Arc::new(Control::default());
        let writer = FrameWriter::new(self.write, !from_client, control.clone());
        let reader = FrameReader::new(self.read, &self.rest, from_client, max_message, control);
        (reader, writer)
    }
}

impl<S> Handshake<S> {
    /// Where the head ends in `bytes` (just past its blank line), if it does.
    fn head_end(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' if self.line_end => return Some(i + 1),
                b'\n' => self.line_end = true,
                b'\r' => {}
                _ => self.line_end = false,
            }
        }
        None
    }
}

impl<S: AsyncRead> AsyncRead for Handshake<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.head_done {
            // tungstenite reads no more once the head parses; should it,
            // it gets what is there (and the frames lose their start).
            if !this.rest.is_empty() {
                let n = buf.remaining().min(this.rest.len());
                buf.put_slice(&this.rest[..n]);
                this.rest.drain(..n);
                return Poll::Ready(Ok(()));
            }
            return Pin::new(&mut this.read).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.read).poll_read(cx, buf))?;
        if let Some(end) = this.head_end(&buf.filled()[before..]) {
            this.head_done = true;
            this.rest = buf.filled()[before + end..].to_vec();
            buf.set_filled(before + end);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite> AsyncWrite for Handshake<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.write).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.write).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.write).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::SinkExt;
    use tokio::io::AsyncWriteExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    use tokio_tungstenite::WebSocketStream;

    const KEY: [u8; 4] = [9, 200, 31, 4];

    /// A frame's bytes: `first` (FIN and opcode) and the payload, masked
    /// (as a client sends) or not.
    fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
        let key = masked.then_some(KEY);
        let mut f = Vec::new();
        put_header(&mut f, first, payload.len(), key);
        let at = f.len();
        f.extend_from_slice(payload);
        if let Some(key) = key {
            apply_mask(&mut f[at..], key);
        }
        f
    }

    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| b'a' + (i % 26) as u8).collect()
    }

    /// A socket that gives its bytes in pieces of the given sizes, in turn.
    struct Pieces {
        data: Vec<u8>,
        at: usize,
        sizes: Vec<usize>,
        turn: usize,
    }

    impl AsyncRead for Pieces {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let size = self.sizes[self.turn % self.sizes.len()];
            self.turn += 1;
            let n = size.min(buf.remaining()).min(self.data.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.data[at..at + n]);
            self.at += n;
            Poll::Ready(Ok(()))
        }
    }

    /// Everything a reader over `data` (given in pieces of `sizes`) reads,
    /// up to and including how it ended, and the control frames it queued.
    fn read_all(
        data: Vec<u8>,
        sizes: Vec<usize>,
        from_client: bool,
        max: usize,
    ) -> (Vec<Incoming>, ReadError, Vec<u8>) {
        let control = Arc::new(Control::default());
        let socket = Pieces {
            data,
            at: 0,
            sizes,
            turn: 0,
        };
        let mut reader = FrameReader::new(socket, &[], from_client, max, control.clone());
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let mut got = Vec::new();
        loop {
            match reader.poll_message(&mut cx) {
                Poll::Ready(Ok(msg)) => got.push(msg),
                Poll::Ready(Err(e)) => {
                    assert!(
                        matches!(reader.poll_message(&mut cx), Poll::Ready(Err(ReadError::Closed))),
                        "ended for good"
                    );
                    return (got, e, control_bytes(&control));
                }
                Poll::Pending => panic!("the socket never waits"),
            }
        }
    }

    fn control_bytes(control: &Control) -> Vec<u8> {
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        match control.poll_pending(&mut cx) {
            Poll::Ready(()) => super::super::ws_write::tests_take(control),
            Poll::Pending => Vec::new(),
        }
    }

    fn binary(bytes: &[u8]) -> Incoming {
        Incoming::Binary(Bytes::copy_from_slice(bytes))
    }

    fn text(bytes: &[u8]) -> Incoming {
        Incoming::Text(Utf8Bytes::try_from(Bytes::copy_from_slice(bytes)).unwrap())
    }

    #[test]
    fn messages_of_any_size_any_fragments_any_pieces() {
        for from_client in [true, false] {
            let big = payload(300_000);
            let mut data = Vec::new();
            data.extend(frame(FIN | OP_TEXT, b"[1]", from_client));
            data.extend(frame(FIN | OP_BINARY, &[], from_client));
            data.extend(frame(FIN | OP_BINARY, &big, from_client));
            // Fragments, small and large, with a ping between them.
            data.extend(frame(OP_TEXT, &big[..10], from_client));
            data.extend(frame(FIN | OP_PING, b"hi", from_client));
            data.extend(frame(OP_CONTINUE, &big[10..100_000], from_client));
            data.extend(frame(OP_CONTINUE, &[], from_client));
            data.extend(frame(FIN | OP_CONTINUE, &big[100_000..], from_client));
            data.extend(frame(FIN | OP_PONG, b"ignored", from_client));
            data.extend(frame(FIN | OP_TEXT, &payload(4090), from_client));
            data.extend(frame(FIN | OP_CLOSE, &1001u16.to_be_bytes(), from_client));
            data.extend(frame(FIN | OP_TEXT, b"never read", from_client));
            for sizes in [vec![1 << 20], vec![1], vec![7, 4096, 3, 100_000], vec![2, 13]] {
                let (got, end, control) = read_all(data.clone(), sizes.clone(), from_client, 1 << 20);
                assert_eq!(
                    got,
                    [
                        text(b"[1]"),
                        binary(&[]),
                        binary(&big),
                        text(&big),
                        text(&payload(4090))
                    ],
                    "{sizes:?}"
                );
                assert!(matches!(end, ReadError::Closed), "{end:?}");
                // A pong, then the close echoed: masked by a client.
                let (pong, close) = control.split_at(whole(&control));
                assert_eq!(unmasked(pong), (FIN | OP_PONG, b"hi".to_vec(), !from_client));
                assert_eq!(
                    unmasked(close),
                    (FIN | OP_CLOSE, 1001u16.to_be_bytes().to_vec(), !from_client)
                );
            }
        }
    }

    /// The length of the whole frame at the start of `bytes`.
    fn whole(bytes: &[u8]) -> usize {
        header_len(bytes[1]) + declared_len(bytes) as usize
    }

    /// A frame's first byte, payload (unmasked) and whether it was masked.
    fn unmasked(f: &[u8]) -> (u8, Vec<u8>, bool) {
        let head = header_len(f[1]);
        let mut p = f[head..].to_vec();
        let masked = f[1] & 0x80 != 0;
        if masked {
            apply_mask(&mut p, f[head - 4..head].try_into().unwrap());
        }
        (f[0], p, masked)
    }

    /// A reader of `data` from a client (`from_client`) or a server, read
    /// in as few pieces as the socket gives, up to 1 MiB per message.
    fn reader_of(data: Vec<u8>, from_client: bool) -> FrameReader<Pieces> {
        let socket = Pieces {
            data,
            at: 0,
            sizes: vec![1 << 20],
            turn: 0,
        };
        FrameReader::new(socket, &[], from_client, 1 << 20, Arc::default())
    }

    #[test]
    fn a_small_message_in_one_frame_is_lent_from_the_buffer_others_are_owned() {
        let m = true;
        let data = [
            frame(FIN | OP_TEXT, b"[1]", m),
            frame(FIN | OP_BINARY, b"\x93\x01", m),
            frame(OP_TEXT, b"[2,", m),
            frame(FIN | OP_CONTINUE, b"3]", m),
            frame(FIN | OP_BINARY, &payload(SMALL), m),
            frame(FIN | OP_TEXT, b"[4]", m),
            frame(FIN | OP_TEXT, b"\xff", m),
        ]
        .concat();
        let mut reader = reader_of(data, m);
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let mut next = || match reader.poll_read(&mut cx) {
            Poll::Ready(Ok(Read::Text(t))) => format!("lent text {t}"),
            Poll::Ready(Ok(Read::Binary(b))) => format!("lent binary {b:?}"),
            Poll::Ready(Ok(Read::Owned(Incoming::Text(t)))) => format!("owned text {t}"),
            Poll::Ready(Ok(Read::Owned(Incoming::Binary(b)))) => format!("owned binary of {}", b.len()),
            Poll::Ready(Err(e)) => format!("error {e:?}"),
            Poll::Pending => "pending".into(),
        };
        assert_eq!(next(), "lent text [1]");
        assert_eq!(next(), "lent binary [147, 1]");
        assert_eq!(next(), "owned text [2,3]");
        assert_eq!(next(), format!("owned binary of {SMALL}"));
        assert_eq!(next(), "lent text [4]");
        assert!(next().starts_with("error Utf8(\"text frame is not valid UTF-8"));
        assert_eq!(next(), "error Closed", "ended for good");
    }

    #[test]
    fn a_large_messages_bytes_are_used_again_once_free_until_a_small_one_follows() {
        let m = true;
        let data = [
            frame(FIN | OP_BINARY, &payload(100_000), m),
            frame(FIN | OP_BINARY, &payload(90_000), m),
            frame(FIN | OP_BINARY, &payload(80_000), m),
            frame(FIN | OP_BINARY, b"small", m),
            frame(FIN | OP_BINARY, &payload(70_000), m),
        ]
        .concat();
        let mut reader = reader_of(data, m);
        fn next(reader: &mut FrameReader<Pieces>) -> Bytes {
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            match reader.poll_message(&mut cx) {
                Poll::Ready(Ok(Incoming::Binary(b))) => b,
                other => panic!("{other:?}"),
            }
        }
        let first = next(&mut reader);
        // Still held: the next one gets bytes of its own.
        let second = next(&mut reader);
        assert_ne!(second.as_ptr(), first.as_ptr());
        assert_eq!(second, payload(90_000));
        let at = second.as_ptr();
        drop((first, second));
        // Nothing holds them: the third is read into the second's bytes.
        let third = next(&mut reader);
        assert_eq!(third.as_ptr(), at);
        assert_eq!(third, payload(80_000));
        drop(third);
        assert_eq!(next(&mut reader), &b"small"[..]);
        assert_eq!(reader.spare.capacity(), 0, "given back after a small message");
        assert_eq!(next(&mut reader), payload(70_000));
    }

    #[test]
    fn frames_breaking_the_rules_end_reading_with_why() {
        let m = true; // from a client
        let long = payload(126);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (frame(FIN | 0x40 | OP_TEXT, b"x", m), "reserved bits"),
            (frame(FIN | 0x3, b"x", m), "reserved opcode 0x3"),
            (frame(FIN | 0xB, b"x", m), "reserved opcode 0xb"),
            (frame(FIN | OP_TEXT, b"x", !m), "unmasked frame from a client"),
            (frame(OP_PING, b"x", m), "fragmented control frame"),
            (frame(FIN | OP_PING, &long, m), "control frame of 126 bytes"),
            (frame(FIN | OP_CONTINUE, b"x", m), "no message to continue"),
            (
                [frame(OP_TEXT, b"x", m), frame(FIN | OP_TEXT, b"y", m)].concat(),
                "before the fragmented one ended",
            ),
            (frame(FIN | OP_CLOSE, &[3], m), "1-byte payload"),
            (frame(FIN | OP_CLOSE, &1005u16.to_be_bytes(), m), "code 1005"),
            (frame(FIN | OP_CLOSE, &999u16.to_be_bytes(), m), "code 999"),
        ];
        for (data, why) in cases {
            let (got, end, control) = read_all(data, vec![1 << 20], m, 1 << 20);
            assert!(got.is_empty());
            match end {
                ReadError::Protocol(text) => assert!(text.contains(why), "{text:?} for {why:?}"),
                other => panic!("{why}: {other:?}"),
            }
            assert!(control.is_empty(), "no reply: the writer's close says why");
        }
        // A server's frame masked.
        let (_, end, _) = read_all(frame(FIN | OP_TEXT, b"x", true), vec![100], false, 100);
        assert!(matches!(end, ReadError::Protocol(t) if t.contains("masked frame from a server")));
    }

    #[test]
    fn text_that_is_not_utf8_and_messages_over_the_limit_end_reading() {
        let m = true;
        for data in [
            frame(FIN | OP_TEXT, b"ok \xff", m),
            // The two bytes of one character split between fragments are fine...
            [
                frame(OP_TEXT, b"\xc3", m),
                frame(FIN | OP_CONTINUE, b"\xa9\xff", m),
            ]
            .concat(),
            frame(FIN | OP_CLOSE, b"\x03\xe8\xff", m),
        ] {
            let (got, end, _) = read_all(data, vec![3], m, 100);
            assert!(got.is_empty());
            assert!(matches!(end, ReadError::Utf8(_)), "{end:?}");
        }
        // ...and read as one character.
        let data = [frame(OP_TEXT, b"\xc3", m), frame(FIN | OP_CONTINUE, b"\xa9", m)].concat();
        assert_eq!(read_all(data, vec![1], m, 100).0, [text("é".as_bytes())]);

        // Over the limit, told by the header: nothing of it is read.
        let mut data = frame(FIN | OP_BINARY, &payload(101), m);
        data.truncate(20);
        let (_, end, _) = read_all(data, vec![1 << 20], m, 100);
        assert!(
            matches!(end, ReadError::TooLarge { size: 101, max: 100 }),
            "{end:?}"
        );
        let data = [
            frame(OP_BINARY, &payload(60), m),
            frame(FIN | OP_CONTINUE, &payload(60), m),
        ]
        .concat();
        let (_, end, _) = read_all(data, vec![1 << 20], m, 100);
        assert!(
            matches!(end, ReadError::TooLarge { size: 120, max: 100 }),
            "{end:?}"
        );
        // A header claiming 2^63 bytes and more breaks the rules; one
        // claiming 2^62 under no limit reserves at most RESERVE_MAX, and
        // waits for the bytes.
        let claim = |len: u64| {
            let mut data = vec![FIN | OP_BINARY, 0x80 | 127];
            data.extend_from_slice(&len.to_be_bytes());
            data.extend_from_slice(&KEY);
            data.extend_from_slice(b"some");
            data
        };
        let (_, end, _) = read_all(claim(u64::MAX), vec![1 << 20], m, usize::MAX);
        assert!(
            matches!(&end, ReadError::Protocol(t) if t.contains("most significant bit")),
            "{end:?}"
        );
        let (_, end, _) = read_all(claim(1 << 62), vec![1 << 20], m, usize::MAX);
        assert!(
            matches!(&end, ReadError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
            "{end:?}"
        );
    }

    #[test]
    fn the_end_of_the_socket_between_frames_is_a_close_and_inside_one_an_error() {
        let m = false;
        let (got, end, _) = read_all(frame(FIN | OP_TEXT, b"[1]", m), vec![2], m, 100);
        assert_eq!(got, [text(b"[1]")]);
        assert!(matches!(end, ReadError::Closed), "{end:?}");
        for cut in [1, 3, 10] {
            let mut data = frame(FIN | OP_BINARY, &payload(5000), m);
            data.truncate(data.len() - cut);
            let (_, end, _) = read_all(data, vec![1000], m, 1 << 20);
            assert!(
                matches!(&end, ReadError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
                "{end:?}"
            );
        }
        let data = frame(OP_TEXT, b"[1", m);
        let (_, end, _) = read_all(data, vec![1000], m, 100);
        assert!(
            matches!(&end, ReadError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
            "{end:?}"
        );
    }

    #[tokio::test]
    async fn tungstenites_messages_read_back_whole_on_either_side() {
        for from_client in [true, false] {
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            let (mut reader, _writer) = Handshake::new(ours).done(from_client, usize::MAX);
            let role = if from_client { Role::Client } else { Role::Server };
            let config = WebSocketConfig::default()
                .max_message_size(None)
                .max_frame_size(None);
            let mut peer = WebSocketStream::from_raw_socket(theirs, role, Some(config)).await;
            let sizes = [0, 5, 125, 126, 4000, 4096, 65_535, 65_536, 1 << 20];
            let send = async move {
                for &len in &sizes {
                    peer.send(WsMessage::Binary(payload(len).into())).await.unwrap();
                    let text = String::from_utf8(payload(len)).unwrap();
                    peer.send(WsMessage::Text(text.into())).await.unwrap();
                }
                // Fragments (tungstenite masks a client's frames).
                let data = |kind| OpCode::Data(kind);
                let first = Frame::message(payload(70_000), data(Data::Binary), false);
                peer.send(WsMessage::Frame(first)).await.unwrap();
                let tail = Frame::message(payload(10), data(Data::Continue), true);
                peer.send(WsMessage::Frame(tail)).await.unwrap();
                peer
            };
            let read = async {
                for &len in &sizes {
                    let got = std::future::poll_fn(|cx| reader.poll_message(cx)).await;
                    assert_eq!(got.unwrap(), binary(&payload(len)), "{len}");
                    let got = std::future::poll_fn(|cx| reader.poll_message(cx)).await;
                    assert_eq!(got.unwrap(), text(&payload(len)), "{len}");
                }
                let mut joined = payload(70_000);
                joined.extend(payload(10));
                let got = std::future::poll_fn(|cx| reader.poll_message(cx)).await;
                assert_eq!(got.unwrap(), binary(&joined));
            };
            let (_peer, ()) = tokio::join!(send, read);
        }
    }

    #[tokio::test]
    async fn frames_right_behind_the_handshake_are_not_lost() {
        for (head, first) in [
            (
                &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"[..],
                0,
            ),
            (&b"GET / HTTP/1.1\nHost: x\n\n"[..], 0),
            (&b"GET / HTTP/1.1\r\nHost: x\r\n\n"[..], 7),
        ] {
            let (ours, mut theirs) = tokio::io::duplex(4096);
            let mut sent = head.to_vec();
            sent.extend(frame(FIN | OP_TEXT, b"[1]", false));
            theirs.write_all(&sent).await.unwrap();
            let mut hs = Handshake::new(ours);
            // tungstenite's reads: in pieces of `first` bytes, then all it may.
            let mut got = Vec::new();
            while got.len() < head.len() {
                let mut chunk = vec![0; if first > 0 && got.is_empty() { first } else { 1024 }];
                let n = tokio::io::AsyncReadExt::read(&mut hs, &mut chunk).await.unwrap();
                got.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(got, head, "nothing past the head");
            let (mut reader, _writer) = hs.done(false, 100);
            let read = std::future::poll_fn(|cx| reader.poll_message(cx)).await;
            assert_eq!(read.unwrap(), text(b"[1]"));
        }
    }
}
