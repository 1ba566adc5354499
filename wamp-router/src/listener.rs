//! Socket listeners: accept TCP connections, run the transport handshake,
//! and hand the resulting connection to the router.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wamp_proto::transport::{rawsocket, websocket};

use crate::Router;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    WebSocket,
    RawSocket,
}

/// A running listener. Dropping it does not stop it; call [`Listener::stop`]
/// or [`Router::shutdown`].
#[derive(Debug)]
pub struct Listener {
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections; sessions already joined go on.
    pub fn stop(&self) {
        self.task.abort();
    }
}

pub(crate) async fn listen(
    router: Router,
    addr: impl tokio::net::ToSocketAddrs,
    kind: Kind,
) -> std::io::Result<Listener> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let limit = Arc::new(Semaphore::new(router.config().max_connections));
    let mut shutdown = router.shutdown_signal();
    tracing::info!("{kind:?} listener on {local_addr}");
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = shutdown.changed() => return,
            };
            let (stream, peer) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = limit.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "refusing connection: max_connections reached");
                continue;
            };
            let router = router.clone();
            tokio::spawn(async move {
                websocket::tune_tcp(&stream);
                let cfg = &router.config().transport;
                let serializers = &router.config().serializers;
                let peer = Some(peer.to_string());
                let conn = match kind {
                    Kind::WebSocket => websocket::accept(stream, serializers, cfg, peer).await,
                    Kind::RawSocket => rawsocket::accept(stream, serializers, cfg, peer).await,
                };
                match conn {
                    Ok(conn) => {
                        let _ = router.serve(conn).await;
                    }
                    Err(e) => tracing::debug!("{kind:?} handshake failed: {e}"),
                }
                drop(permit);
            });
        }
    });
    Ok(Listener { local_addr, task })
}
