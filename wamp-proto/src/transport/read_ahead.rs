//! Large reads for the large frames of a WebSocket connection.
//!
//! tungstenite reads at most its read buffer's size per system call, and
//! that buffer is kept small here (4 KiB) so that an idle connection holds
//! little: a 64 KiB frame took 16 reads, a 1 MiB frame 256. [`ReadAhead`]
//! sits between the socket and tungstenite and follows the frames going
//! through it (their headers, RFC 6455 section 5.2). While the rest of a
//! frame's payload to come is [`AHEAD_FROM`] bytes or more, it reads up to
//! [`READ_AHEAD`] bytes of it at once, never past the frame's end, into a
//! buffer of its own, and serves tungstenite's small reads from there.
//!
//! Small messages are read exactly as before. Reading those ahead too was
//! tried, and made events slower: a reader that drains its socket sooner
//! leaves its peer smaller batches to write (wamp-bench/README.md).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};

/// Most bytes read from the socket at once: the bound on what a connection
/// holds here beyond tungstenite's own buffers.
pub(crate) const READ_AHEAD: usize = 64 * 1024;

/// Read ahead only while at least this much of a frame's payload is to
/// come: less saves too few system calls to pay for the buffer.
pub(crate) const AHEAD_FROM: u64 = 16 * 1024;

/// A stream whose reads inside a large WebSocket frame take up to
/// [`READ_AHEAD`] bytes at a time (see the module's docs). It only reads:
/// the writing half of the socket is `ws_write`'s.
#[derive(Debug)]
pub(crate) struct ReadAhead<S> {
    inner: S,
    /// Read from the socket and not yet handed on; none unless a large
    /// frame is being read (boxed: an idle connection keeps one word).
    ahead: Option<Box<BytesMut>>,
    framing: Framing,
}

impl<S> ReadAhead<S> {
    pub(crate) fn new(inner: S) -> Self {
        ReadAhead {
            inner,
            ahead: None,
            framing: Framing::default(),
        }
    }

    /// The opening handshake is over: what the socket gives from now on is
    /// frames, `masked` if they come from a client (RFC 6455 section 5.1).
    /// (Bytes that came with the handshake and that tungstenite already
    /// holds would put the frames out of step; a header that does not parse
    /// turns reading ahead off for good, which costs speed only.)
    pub(crate) fn frames_follow(&mut self, masked: bool) {
        self.framing = Framing {
            on: true,
            masked,
            ..Framing::default()
        };
    }

    /// Hands on what was read ahead, and frees the buffer once it is empty.
    fn serve(&mut self, buf: &mut ReadBuf<'_>) {
        let Some(ahead) = self.ahead.as_mut() else {
            return;
        };
        let n = buf.remaining().min(ahead.len());
        buf.put_slice(&ahead[..n]);
        ahead.advance(n);
        if ahead.is_empty() {
            self.ahead = None;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadAhead<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.ahead.is_some() {
            this.serve(buf);
            return Poll::Ready(Ok(()));
        }
        let left = this.framing.payload_left();
        if left < AHEAD_FROM || left <= buf.remaining() as u64 {
            // Straight into the reader's buffer, as without this adapter.
            let before = buf.filled().len();
            let read = Pin::new(&mut this.inner).poll_read(cx, buf);
            if let Poll::Ready(Ok(())) = read {
                this.framing.advance(&buf.filled()[before..]);
            }
            return read;
        }
        let want = left.min(READ_AHEAD as u64) as usize;
        let mut ahead = BytesMut::with_capacity(want);
        let read =
            tokio_util::io::poll_read_buf(Pin::new(&mut this.inner), cx, &mut (&mut ahead).limit(want));
        match read {
            Poll::Ready(Ok(_)) => {
                this.framing.advance(&ahead);
                if !ahead.is_empty() {
                    this.ahead = Some(Box::new(ahead));
                }
                this.serve(buf);
                Poll::Ready(Ok(()))
            }
            other => other.map_ok(drop),
        }
    }
}

/// Where the bytes read so far stand in the WebSocket framing: inside a
/// header (gathered here until whole) or inside a payload (counted down).
#[derive(Debug, Default)]
struct Framing {
    /// Following frames at all (after the handshake, and while headers parse).
    on: bool,
    /// Whether every frame's mask bit is set (a client's frames) or clear.
    masked: bool,
    /// The current header's bytes so far (`have` of them).
    head: [u8; 14],
    have: u8,
    /// Payload bytes of the current frame still to come.
    left: u64,
}

impl Framing {
    fn payload_left(&self) -> u64 {
        if self.on {
            self.left
        } else {
            0
        }
    }

    fn advance(&mut self, mut bytes: &[u8]) {
        while self.on && !bytes.is_empty() {
            if self.left > 0 {
                let n = self.left.min(bytes.len() as u64);
                self.left -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            let have = usize::from(self.have);
            let need = if have < 2 { 2 } else { header_len(self.head[1]) };
            let n = (need - have).min(bytes.len());
            self.head[have..have + n].copy_from_slice(&bytes[..n]);
            let have = have + n;
            self.have = have as u8; // at most 14
            bytes = &bytes[n..];
            if have >= 2 && have == header_len(self.head[1]) {
                match payload_len(&self.head[..have], self.masked) {
                    Some(len) => self.left = len,
                    None => self.on = false,
                }
                self.have = 0;
            }
        }
    }
}

/// A frame header's length from its second byte: 2, then 2 or 8 bytes of
/// extended length, then 4 of mask.
pub(super) fn header_len(second: u8) -> usize {
    let ext = match second & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if second & 0x80 != 0 { 4 } else { 0 }
}

/// The payload length of a whole header, or `None` for one that is not a
/// plausible frame (reserved bits, an unknown opcode, the wrong mask bit,
/// a length past 2^63).
fn payload_len(head: &[u8], masked: bool) -> Option<u64> {
    let (first, second) = (head[0], head[1]);
    let known_opcode = matches!(first & 0x0F, 0 | 1 | 2 | 8 | 9 | 10);
    if first & 0x70 != 0 || !known_opcode || (second & 0x80 != 0) != masked {
        return None;
    }
    let len = declared_len(head);
    (len >> 63 == 0).then_some(len)
}

/// The payload length a whole header (at least [`header_len`] bytes)
/// declares: the 7-bit length, or the 16- or 64-bit one after it.
pub(super) fn declared_len(head: &[u8]) -> u64 {
    match head[1] & 0x7F {
        126 => u64::from(u16::from_be_bytes([head[2], head[3]])),
        127 => u64::from_be_bytes([
            head[2], head[3], head[4], head[5], head[6], head[7], head[8], head[9],
        ]),
        n => u64::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A frame's bytes: a binary frame of `len` payload bytes, masked (as a
    /// client sends) or not.
    fn frame(len: usize, masked: bool) -> Vec<u8> {
        let mut f = Vec::new();
        super::super::ws_write::put_header(&mut f, 0x82, len, masked.then_some([1, 2, 3, 4]));
        f.extend((0..len).map(|i| (i % 251) as u8));
        f
    }

    /// Reads `total` bytes in requests of `ask` bytes, as tungstenite does,
    /// noting the most that was held ahead.
    async fn read_all<S: AsyncRead + Unpin>(
        r: &mut ReadAhead<S>,
        total: usize,
        ask: usize,
    ) -> (Vec<u8>, usize) {
        let (mut out, mut most) = (Vec::new(), 0);
        let mut chunk = vec![0; ask];
        while out.len() < total {
            let n = r.read(&mut chunk).await.unwrap();
            assert!(n > 0, "early end after {} bytes", out.len());
            out.extend_from_slice(&chunk[..n]);
            most = most.max(r.ahead.as_ref().map_or(0, |a| a.len()));
        }
        (out, most)
    }

    #[tokio::test]
    async fn large_frames_are_read_ahead_small_ones_are_not() {
        let (mut tx, rx) = tokio::io::duplex(4 << 20);
        let mut r = ReadAhead::new(rx);
        r.frames_follow(false);
        let small: Vec<u8> = (0..200).flat_map(|_| frame(40, false)).collect();
        tx.write_all(&small).await.unwrap();
        let (got, most) = read_all(&mut r, small.len(), 4096).await;
        assert_eq!(got, small);
        assert_eq!(most, 0, "small frames go straight through");

        // A 1 MiB frame, then a small one right behind it: read ahead up
        // to the large frame's end and no further.
        let mut data = frame(1 << 20, false);
        let large = data.len();
        data.extend(frame(10, false));
        tx.write_all(&data).await.unwrap();
        let (got, most) = read_all(&mut r, large, 4096).await;
        assert_eq!(got, data[..large]);
        assert_eq!(most, READ_AHEAD - 4096, "at most READ_AHEAD at once");
        assert!(r.ahead.is_none(), "drained and freed");
        let (got, _) = read_all(&mut r, data.len() - large, 4096).await;
        assert_eq!(got, data[large..]);

        // The end of the stream reads as an end, after what was sent.
        let tail = frame(100_000, false);
        tx.write_all(&tail).await.unwrap();
        drop(tx);
        let (got, _) = read_all(&mut r, tail.len(), 4096).await;
        assert_eq!(got, tail);
        assert_eq!(r.read(&mut [0; 16]).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn headers_split_across_reads_are_followed() {
        let (mut tx, rx) = tokio::io::duplex(1 << 20);
        let mut r = ReadAhead::new(rx);
        r.frames_follow(true);
        let data = [frame(3, true), frame(60_000, true), frame(300, true)].concat();
        tx.write_all(&data).await.unwrap();
        // One byte at a time through the first frame and the second's
        // header (9 and 8 bytes), then large reads.
        let (got, most) = read_all(&mut r, 17, 1).await;
        assert_eq!(most, 0);
        assert_eq!(
            (r.framing.left, r.framing.have),
            (60_000, 0),
            "at the large payload"
        );
        let (rest, most) = read_all(&mut r, data.len() - 17, 4096).await;
        assert!(most > 0, "the large payload was read ahead");
        assert_eq!([got, rest].concat(), data);
        assert_eq!((r.framing.left, r.framing.have), (0, 0), "at a frame boundary");
    }

    #[tokio::test]
    async fn bytes_that_are_not_frames_turn_it_off() {
        // Reserved bits set, or a client's mask bit on a server's frame: no
        // frame of ours. What looks like a huge frame after it is then not
        // read ahead.
        for (junk, masked) in [(vec![0xF2, 0x00], false), (frame(10, true), false)] {
            let (mut tx, rx) = tokio::io::duplex(1 << 20);
            let mut r = ReadAhead::new(rx);
            r.frames_follow(masked);
            let data = [junk, frame(100_000, masked)].concat();
            tx.write_all(&data).await.unwrap();
            let (got, most) = read_all(&mut r, data.len(), 4096).await;
            assert_eq!(got, data);
            assert_eq!(most, 0);
            assert!(!r.framing.on);
        }
        // Before the handshake ends nothing is followed.
        let mut fresh = ReadAhead::new(&[0u8; 0][..]);
        fresh.framing.advance(&frame(100_000, false));
        assert_eq!(fresh.framing.payload_left(), 0);
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        /// Whatever the frames, however the socket splits them and whatever
        /// the reader asks for: the bytes come out as they went in, the
        /// frames stay followed to the last one's end, and no more than
        /// READ_AHEAD is ever held.
        #[test]
        fn any_frames_any_pieces(
            lens in proptest::collection::vec(
                proptest::prop_oneof![0..200usize, 100..20_000usize, 60_000..200_000usize],
                1..8,
            ),
            masked in proptest::bool::ANY,
            sizes in proptest::collection::vec(1..100_000usize, 1..6),
            asks in proptest::collection::vec(1..8_192usize, 1..6),
        ) {
            let data: Vec<u8> = lens.iter().flat_map(|&len| frame(len, masked)).collect();
            let mut r = ReadAhead::new(Pieces { data: data.clone(), at: 0, sizes, turn: 0 });
            r.frames_follow(masked);
            let mut out = Vec::new();
            let waker = futures_util::task::noop_waker_ref();
            let mut cx = Context::from_waker(waker);
            for turn in 0.. {
                let mut chunk = vec![0; asks[turn % asks.len()]];
                let mut buf = ReadBuf::new(&mut chunk);
                let Poll::Ready(Ok(())) = Pin::new(&mut r).poll_read(&mut cx, &mut buf) else {
                    panic!("the socket never waits or fails");
                };
                if buf.filled().is_empty() {
                    break;
                }
                out.extend_from_slice(buf.filled());
                let held = r.ahead.as_ref().map_or(0, |a| a.len());
                proptest::prop_assert!(held <= READ_AHEAD);
            }
            proptest::prop_assert_eq!(out, data);
            proptest::prop_assert!(r.framing.on);
            proptest::prop_assert_eq!((r.framing.left, r.framing.have), (0, 0));
            proptest::prop_assert!(r.ahead.is_none());
        }
    }
}
