//! Transports: a WAMP connection as a pair of bounded message channels.
//!
//! Whatever carries the bytes (WebSocket, RawSocket, or nothing at all for
//! the in-process transport), a session sees a [`Connection`]: a [`Sender`]
//! of outgoing messages, a bounded queue in front of a writer task (encode,
//! batch frames, flush once), and a [`Receiver`] of incoming [`Message`](crate::Message)s.
//! For socket transports the receiver reads and decodes frames itself when
//! the session awaits the next message, so an incoming message reaches its
//! session with no task hand-off; socket back-pressure does the bounding.
//! When the receiver ends, [`Connection::close_reason`] says why.
//!
//! Closing: drop the sender; the writer flushes what is queued, closes the
//! socket, and the receiver then ends.
//!
//! Client URLs ([`connect`], [`Endpoint::parse`]):
//!
//! | URL | transport |
//! | --- | --- |
//! | `ws://host:port/path` | WebSocket |
//! | `wss://host:port/path` | WebSocket over TLS ([`tls`]) |
//! | `rs://host:port` (or `tcp://host:port`) | RawSocket over TCP |
//! | `rss://host:port` | RawSocket over TLS |
//! | `rs://unix:/path/to.sock` (or `unix:/path/to.sock`, `unix:///path/to.sock`) | RawSocket over a Unix socket |

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::serializer::{DecodeError, EncodeError, PayloadMode, Serializer};

mod channel;
pub mod local;
pub mod rawsocket;
pub mod tls;
mod wakes;
pub mod websocket;
mod ws_read;
mod ws_write;

pub use wakes::{wakes_after_poll, WakesAfterPoll};

pub use channel::{
    Alarm, Closed, Congestion, Outgoing, QueueLimits, QueueWatch, Receiver, Route, Sender, SharedMessage,
    TrySendError, HARD_LIMIT_FACTOR, HARD_LIMIT_FLOOR,
};

/// Limits that apply to one connection.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Largest message accepted or sent, in bytes (default 16 MiB).
    pub max_message_size: usize,
    /// High-water mark of the outgoing queue in messages (default 1024),
    /// and of the incoming one of the in-process transport: senders wait
    /// there ([`QueueLimits`] states the whole policy).
    pub queue_capacity: usize,
    /// High-water mark of the outgoing queue in bytes, as
    /// [`Message::approx_size`](crate::Message::approx_size) counts them
    /// (default 8 MiB).
    pub queue_bytes: usize,
    /// How long the WebSocket or RawSocket opening handshake may take
    /// (default 10 s); TCP connect plus TLS handshake get as long again.
    pub handshake_timeout: std::time::Duration,
    /// How a client checks TLS servers (`wss://`, `rss://`). `None` trusts
    /// the system's root certificates. Listeners ignore it.
    pub tls: Option<tls::TlsClientConfig>,
    /// How incoming messages keep their payloads: as values (default,
    /// what a client reads) or as the bytes the peer sent (a router, which
    /// forwards them; see [`Payload`](crate::Payload)).
    pub payloads: PayloadMode,
    /// The largest WebSocket frame written, or `None` (the default) to
    /// write every message as one frame. A longer message then goes out as
    /// several frames (RFC 6455 fragmentation), for peers that limit the
    /// size of a frame but not of a message; it costs the receiver a copy
    /// to join them. Either way nothing stays behind once a message is
    /// written: a router writes a large payload from its own bytes, a
    /// client masks a copy that goes when its queue runs dry.
    pub max_frame_written: Option<usize>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_message_size: 16 * 1024 * 1024,
            queue_capacity: 1024,
            queue_bytes: 8 * 1024 * 1024,
            handshake_timeout: std::time::Duration::from_secs(10),
            tls: None,
            payloads: PayloadMode::Values,
            max_frame_written: None,
        }
    }
}

impl TransportConfig {
    /// The limits of a connection's outgoing queue.
    pub fn queue_limits(&self) -> QueueLimits {
        QueueLimits::new(self.queue_capacity, self.queue_bytes)
    }
}

/// Why a connection failed or ended.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// An I/O error on the socket.
    #[error("I/O error: {0}")]
    Io(String),
    /// The peer sent bytes that are not a WAMP message.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A message could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A message was larger than the limit.
    #[error("message of {size} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// The message's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The opening handshake failed.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// TLS failed: the handshake (an untrusted or mismatched certificate,
    /// a peer that does not speak TLS) or the client's TLS settings.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The peer closed the connection.
    #[error("connection closed by peer")]
    Closed,
    /// The URL could not be used.
    #[error("invalid transport URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<std::io::Error> for TransportError {
    fn from(e: std::io::Error) -> Self {
        TransportError::Io(e.to_string())
    }
}

/// Where the reason for the end of a connection is left by its reader task.
#[derive(Debug, Clone, Default)]
pub struct CloseReason(Arc<Mutex<Option<TransportError>>>);

impl CloseReason {
    /// Records the first reason; later ones are ignored.
    pub fn set(&self, e: TransportError) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    /// The recorded reason, if any.
    pub fn get(&self) -> Option<TransportError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Closes a connection at once, without a closing handshake: the socket is
/// dropped as if the process had crashed. Both ends of an in-process pair
/// share one.
///
/// A cancellation token: every connection has one, and it is about a
/// hundred bytes where a `watch` channel took four hundred.
#[derive(Debug, Clone, Default)]
pub struct Closer(tokio_util::sync::CancellationToken);

impl Closer {
    /// Closes the connection now.
    pub fn close(&self) {
        self.0.cancel();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Resolves once [`close`](Self::close) has been called.
    pub async fn closed(&self) {
        self.0.cancelled().await
    }

    /// Like [`closed`](Self::closed), not tied to this handle's lifetime.
    pub fn closed_owned(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.0.clone().cancelled_owned()
    }
}

/// What kind of transport a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// WebSocket (`ws://`, `wss://`).
    WebSocket,
    /// RawSocket over TCP or a Unix socket (`rs://`).
    RawSocket,
    /// In-process channels, no serialization.
    Local,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::WebSocket => "websocket",
            TransportKind::RawSocket => "rawsocket",
            TransportKind::Local => "local",
        })
    }
}

/// A connection to a WAMP peer, as two bounded message queues.
#[derive(Debug)]
pub struct Connection {
    /// Outgoing messages. Dropping every clone closes the connection.
    pub sender: Sender,
    /// Incoming messages; `None` once the connection has ended.
    pub receiver: Receiver,
    /// Why the connection ended, once it has.
    pub close_reason: CloseReason,
    /// Drops the connection abruptly when triggered.
    pub closer: Closer,
    /// The transport in use.
    pub kind: TransportKind,
    /// The serializer negotiated, `None` for the in-process transport.
    pub serializer: Option<Serializer>,
    /// The peer's address, when there is one.
    pub peer: Option<String>,
}

/// How many queued messages a writer encodes before it flushes the socket.
pub(crate) const WRITE_BATCH: usize = 64;

/// Gives back a writer's scratch buffer when its queue runs dry, if one
/// large message left it over 4 KiB: an idle connection keeps no more.
pub(crate) fn release_large(scratch: &mut Vec<u8>) {
    if scratch.capacity() > 4 * 1024 {
        *scratch = Vec::new();
    }
}

/// Where a client URL points (see the table in the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// WebSocket: `ws://` or, with `tls`, `wss://`.
    WebSocket {
        /// The URL, as given.
        url: String,
        /// Whether it is `wss://`.
        tls: bool,
    },
    /// RawSocket over TCP: `rs://` or `tcp://`, or, with `tls`, `rss://`.
    RawSocket {
        /// Host name or IP address (an IPv6 address without brackets).
        host: String,
        /// Port.
        port: u16,
        /// Whether it is `rss://`.
        tls: bool,
    },
    /// RawSocket over a Unix domain socket: `rs://unix:/path`.
    RawSocketUnix {
        /// The socket's path.
        path: PathBuf,
    },
}

impl Endpoint {
    /// Parses a client URL.
    pub fn parse(url: &str) -> Result<Endpoint, TransportError> {
        let invalid = |reason: &str| TransportError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let lower = url.get(..6).unwrap_or(url).to_ascii_lowercase();
        if lower.starts_with("ws://") || lower.starts_with("wss://") {
            return Ok(Endpoint::WebSocket {
                url: url.to_owned(),
                tls: lower.starts_with("wss://"),
            });
        }
        let unix = url
            .strip_prefix("rs://unix:")
            .or_else(|| url.strip_prefix("unix://"))
            .or_else(|| url.strip_prefix("unix:"));
        if let Some(path) = unix {
            if path.is_empty() {
                return Err(invalid("no socket path (expected rs://unix:/path/to.sock)"));
            }
            return Ok(Endpoint::RawSocketUnix { path: path.into() });
        }
        let (rest, tls) = if let Some(rest) = url.strip_prefix("rs://").or_else(|| url.strip_prefix("tcp://"))
        {
            (rest, false)
        } else if let Some(rest) = url.strip_prefix("rss://") {
            (rest, true)
        } else {
            return Err(invalid(
                "expected ws://, wss://, rs://, rss://, tcp:// or rs://unix:/path",
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (host, port) = v6
                    .split_once("]:")
                    .ok_or_else(|| invalid("expected [IPv6]:port"))?;
                (host, port)
            }
            None => rest
                .rsplit_once(':')
                .ok_or_else(|| invalid("expected host:port"))?,
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| invalid(&format!("bad port {port:?}")))?;
        Ok(Endpoint::RawSocket {
            host: host.to_owned(),
            port,
            tls,
        })
    }
}

/// Opens a client connection to a URL (see the table in the
/// [module docs](self)), offering `serializers` in order of preference
/// (WebSocket); RawSocket uses the first.
pub async fn connect(
    url: &str,
    serializers: &[Serializer],
    cfg: &TransportConfig,
) -> Result<Connection, TransportError> {
    // RawSocket speaks one serializer: the first offered (JSON by default).
    let serializer = serializers.first().copied().unwrap_or_default();
    match Endpoint::parse(url)? {
        Endpoint::WebSocket { .. } => websocket::connect(url, serializers, cfg).await,
        Endpoint::RawSocket { host, port, tls } => {
            let tcp = tcp_connect(&host, port, cfg).await?;
            let peer = tcp.peer_addr().ok().map(|a| a.to_string());
            if tls {
                let stream =
                    tokio::time::timeout(cfg.handshake_timeout, tls::connect(tcp, &host, cfg.tls.as_ref()))
                        .await
                        .map_err(|_| {
                            TransportError::Tls(format!("no TLS handshake from {host}:{port} in time"))
                        })??;
                rawsocket::connect(stream, serializer, cfg, peer).await
            } else {
                rawsocket::connect(tcp, serializer, cfg, peer).await
            }
        }
        Endpoint::RawSocketUnix { path } => {
            #[cfg(unix)]
            {
                let stream =
                    tokio::time::timeout(cfg.handshake_timeout, tokio::net::UnixStream::connect(&path))
                        .await
                        .map_err(|_| {
                            TransportError::Handshake(format!(
                                "connect to Unix socket {} timed out",
                                path.display()
                            ))
                        })?
                        .map_err(|e| {
                            TransportError::Io(format!("connect to Unix socket {}: {e}", path.display()))
                        })?;
                rawsocket::connect(stream, serializer, cfg, Some(url.to_owned())).await
            }
            #[cfg(not(unix))]
            {
                let _ = path;
                Err(TransportError::InvalidUrl {
                    url: url.to_owned(),
                    reason: "Unix sockets are not supported on this platform".into(),
                })
            }
        }
    }
}

/// Connects TCP to `host:port` (an IPv6 host with or without brackets)
/// within the handshake timeout, with `TCP_NODELAY`.
pub(crate) async fn tcp_connect(
    host: &str,
    port: u16,
    cfg: &TransportConfig,
) -> Result<tokio::net::TcpStream, TransportError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let stream = tokio::time::timeout(
        cfg.handshake_timeout,
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .map_err(|_| TransportError::Handshake(format!("TCP connect to {host}:{port} timed out")))?
    .map_err(|e| TransportError::Io(format!("TCP connect to {host}:{port}: {e}")))?;
    websocket::tune_tcp(&stream);
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let rs = |host: &str, port, tls| Endpoint::RawSocket {
            host: host.into(),
            port,
            tls,
        };
        assert_eq!(
            Endpoint::parse("rs://127.0.0.1:8081").unwrap(),
            rs("127.0.0.1", 8081, false)
        );
        assert_eq!(
            Endpoint::parse("tcp://localhost:8081/").unwrap(),
            rs("localhost", 8081, false)
        );
        assert_eq!(
            Endpoint::parse("rss://example.com:443").unwrap(),
            rs("example.com", 443, true)
        );
        assert_eq!(
            Endpoint::parse("rs://[::1]:9000").unwrap(),
            rs("::1", 9000, false)
        );
        assert_eq!(
            Endpoint::parse("wss://localhost:8443/ws").unwrap(),
            Endpoint::WebSocket {
                url: "wss://localhost:8443/ws".into(),
                tls: true
            }
        );
        for url in ["rs://unix:/tmp/a.sock", "unix:/tmp/a.sock", "unix:///tmp/a.sock"] {
            assert_eq!(
                Endpoint::parse(url).unwrap(),
                Endpoint::RawSocketUnix {
                    path: "/tmp/a.sock".into()
                },
                "{url}"
            );
        }
        assert_eq!(
            Endpoint::parse("rs://unix:relative.sock").unwrap(),
            Endpoint::RawSocketUnix {
                path: "relative.sock".into()
            }
        );
        for bad in [
            "http://x:1",
            "rs://host",
            "rs://:80",
            "rs://h:99999",
            "rs://unix:",
            "rs://[::1]",
        ] {
            assert!(
                matches!(Endpoint::parse(bad), Err(TransportError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }
}
