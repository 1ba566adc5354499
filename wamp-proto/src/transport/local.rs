//! The in-process transport: two connected channel pairs, no sockets and no
//! serialization. The embedded router hands one end to a client session.

use super::{channel, CloseReason, Closer, Connection, QueueLimits, TransportKind};

/// Creates two connected ends; what one sends, the other receives. Each
/// direction is a queue with `limits`.
///
/// ```
/// # tokio_test_free::run(async {
/// use wamp_proto::{transport::{local, QueueLimits}, Message};
/// let (a, mut b) = local::pair(QueueLimits::new(16, 1 << 20));
/// a.sender.send(Message::goodbye("wamp.close.normal")).await.unwrap();
/// assert_eq!(b.receiver.recv().await, Some(Message::goodbye("wamp.close.normal")));
/// # });
/// # mod tokio_test_free { pub fn run<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) } }
/// ```
pub fn pair(limits: QueueLimits) -> (Connection, Connection) {
    let closer = Closer::default();
    let (a_reason, b_reason) = (CloseReason::default(), CloseReason::default());
    let (a_tx, b_rx) = channel::in_process(limits, &closer, b_reason.clone());
    let (b_tx, a_rx) = channel::in_process(limits, &closer, a_reason.clone());
    let end = |sender, receiver, close_reason| Connection {
        sender,
        receiver,
        close_reason,
        closer: closer.clone(),
        kind: TransportKind::Local,
        serializer: None,
        peer: None,
    };
    (end(a_tx, a_rx, a_reason), end(b_tx, b_rx, b_reason))
}
