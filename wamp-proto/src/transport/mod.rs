//! Transports: a WAMP connection as a pair of bounded message channels.
//!
//! Whatever carries the bytes (WebSocket, RawSocket, or nothing at all for
//! the in-process transport), a session sees a [`Connection`]: a bounded
//! sender of outgoing [`Message`]s and a bounded receiver of incoming ones.
//! Socket transports run a reader task (decode) and a writer task (encode,
//! batch frames, flush once) behind these channels. When the receiver ends,
//! [`Connection::close_reason`] says why.
//!
//! Closing: drop the sender; the writer flushes what is queued, closes the
//! socket, and the receiver then ends.

use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::message::Message;
use crate::serializer::{DecodeError, EncodeError, Serializer};

pub mod local;
pub mod rawsocket;
pub mod websocket;

/// Limits that apply to one connection.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Largest message accepted or sent, in bytes (default 16 MiB).
    pub max_message_size: usize,
    /// Capacity of the incoming and outgoing message queues (default 1024).
    pub queue_capacity: usize,
    /// How long the WebSocket or RawSocket opening handshake may take (default 10 s).
    pub handshake_timeout: std::time::Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_message_size: 16 * 1024 * 1024,
            queue_capacity: 1024,
            handshake_timeout: std::time::Duration::from_secs(10),
        }
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
#[derive(Debug, Clone)]
pub struct Closer(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Closer {
    fn default() -> Self {
        Closer(Arc::new(tokio::sync::watch::channel(false).0))
    }
}

impl Closer {
    /// Closes the connection now.
    pub fn close(&self) {
        self.0.send_replace(true);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once [`close`](Self::close) has been called.
    pub async fn closed(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|closed| *closed).await;
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
    pub sender: mpsc::Sender<Message>,
    /// Incoming messages; `None` once the connection has ended.
    pub receiver: mpsc::Receiver<Message>,
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
