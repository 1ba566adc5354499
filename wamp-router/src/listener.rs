//! Socket listeners: accept TCP (optionally TLS) or Unix-socket connections,
//! run the transport handshake, and hand the resulting connection to the
//! router.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wamp_proto::transport::tls::{self, TlsServerConfig};
use wamp_proto::transport::{rawsocket, websocket};

use crate::web::{self, WebRoot};
use crate::Router;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    WebSocket,
    RawSocket,
}

/// A running TCP listener (WebSocket or RawSocket, plain or TLS). Dropping
/// it does not stop it; call [`Listener::stop`] or [`Router::shutdown`].
#[derive(Debug)]
pub struct Listener {
    local_addr: SocketAddr,
    kind: Kind,
    tls: bool,
    web: bool,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether connections are TLS (`wss://`, `rss://`).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The URL clients connect to, with the bound address:
    /// `ws://ADDR/ws`, `wss://ADDR/ws`, `rs://ADDR` or `rss://ADDR`. (A
    /// WebSocket listener accepts any path, unless it serves files: then
    /// only `/ws`.)
    pub fn url(&self) -> String {
        match (self.kind, self.tls) {
            (Kind::WebSocket, false) => format!("ws://{}/ws", self.local_addr),
            (Kind::WebSocket, true) => format!("wss://{}/ws", self.local_addr),
            (Kind::RawSocket, false) => format!("rs://{}", self.local_addr),
            (Kind::RawSocket, true) => format!("rss://{}", self.local_addr),
        }
    }

    /// The URL of the web directory's root (`http://ADDR/`,
    /// `https://ADDR/`), when the listener serves files.
    pub fn web_url(&self) -> Option<String> {
        let scheme = if self.tls { "https" } else { "http" };
        self.web.then(|| format!("{scheme}://{}/", self.local_addr))
    }

    /// Stops accepting connections; sessions already joined go on.
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// Serves one accepted stream of a WebSocket listener that also serves
/// files: a file, or (an upgrade at `/ws`) the WebSocket session.
async fn serve_web_stream<S>(router: Router, mut stream: S, web: &WebRoot, peer: Option<String>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let timeout = router.config().transport.handshake_timeout;
    let who = peer.as_deref().unwrap_or("?");
    match web::handle(&mut stream, web, who, timeout).await {
        Ok(web::Request::WebSocket(read)) => {
            serve_stream(router, web::Rewind::new(read, stream), Kind::WebSocket, peer).await
        }
        Ok(web::Request::Done) => {}
        Err(e) => tracing::debug!(peer = who, "HTTP request failed: {e}"),
    }
}

/// Serves one accepted stream: the transport handshake, then the session,
/// in the same task. The handshake's state is boxed, so it is freed once the
/// session starts instead of weighing on the task for as long as the
/// session lasts.
async fn serve_stream<S>(router: Router, stream: S, kind: Kind, peer: Option<String>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake = Box::pin(async {
        let cfg = &router.config().transport;
        let serializers = &router.config().serializers;
        match kind {
            Kind::WebSocket => websocket::accept(stream, serializers, cfg, peer.clone()).await,
            Kind::RawSocket => rawsocket::accept(stream, serializers, cfg, peer.clone()).await,
        }
    });
    match handshake.await {
        Ok(conn) => router.serve_here(conn).await,
        Err(e) => tracing::debug!(
            peer = peer.as_deref().unwrap_or("?"),
            "{kind:?} handshake failed: {e}"
        ),
    }
}

pub(crate) async fn listen(
    router: Router,
    addr: impl tokio::net::ToSocketAddrs,
    kind: Kind,
    tls: Option<TlsServerConfig>,
    web: Option<WebRoot>,
) -> std::io::Result<Listener> {
    let web = web.map(Arc::new);
    let serves_web = web.is_some();
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let limit = Arc::new(Semaphore::new(router.config().max_connections));
    let mut shutdown = router.shutdown_signal();
    let is_tls = tls.is_some();
    tracing::info!(
        "{kind:?}{} listener on {local_addr}",
        if is_tls { " (TLS)" } else { "" }
    );
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
            let tls = tls.clone();
            let web = web.clone();
            tokio::spawn(async move {
                websocket::tune_tcp(&stream);
                let peer_s = Some(peer.to_string());
                match (tls, web) {
                    (None, None) => serve_stream(router, stream, kind, peer_s).await,
                    // Boxed: the task of every connection is as large as its
                    // largest branch, and the HTTP request's state is big.
                    (None, Some(web)) => Box::pin(serve_web_stream(router, stream, &web, peer_s)).await,
                    (Some(tls), web) => {
                        let timeout = router.config().transport.handshake_timeout;
                        // Boxed like the WebSocket handshake: freed once done.
                        match (Box::pin(tls::accept(stream, &tls, timeout)).await, web) {
                            // Boxed too: a TLS stream is large, and every
                            // plain connection's task would be sized for it.
                            (Ok(stream), None) => Box::pin(serve_stream(router, stream, kind, peer_s)).await,
                            (Ok(stream), Some(web)) => {
                                Box::pin(serve_web_stream(router, stream, &web, peer_s)).await
                            }
                            (Err(e), _) => tracing::debug!(%peer, "{e}"),
                        }
                    }
                }
                drop(permit);
            });
        }
    });
    Ok(Listener {
        local_addr,
        kind,
        tls: is_tls,
        web: serves_web,
        task,
    })
}

#[cfg(unix)]
pub use self::unix::UnixSocketListener;

#[cfg(unix)]
mod unix {
    use std::io::{Error, ErrorKind};
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use tokio::net::{UnixListener, UnixStream};
    use tokio::sync::Semaphore;

    use super::{serve_stream, Kind};
    use crate::Router;

    /// The socket file a listener made; removed when the listener ends, if
    /// it is still the same file.
    #[derive(Debug)]
    struct SocketFile {
        path: PathBuf,
        id: Option<(u64, u64)>,
    }

    impl SocketFile {
        fn remove(&self) {
            let same = std::fs::symlink_metadata(&self.path)
                .ok()
                .is_some_and(|m| Some((m.dev(), m.ino())) == self.id);
            if same {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }

    /// A running Unix-socket listener (RawSocket). Dropping it does not stop
    /// it; call [`UnixSocketListener::stop`] or [`Router::shutdown`], which
    /// also remove the socket file.
    #[derive(Debug)]
    pub struct UnixSocketListener {
        file: Arc<SocketFile>,
        task: tokio::task::JoinHandle<()>,
    }

    impl UnixSocketListener {
        /// The socket's path.
        pub fn path(&self) -> &Path {
            &self.file.path
        }

        /// The URL clients connect to: `rs://unix:PATH`.
        pub fn url(&self) -> String {
            format!("rs://unix:{}", self.file.path.display())
        }

        /// Stops accepting connections and removes the socket file; sessions
        /// already joined go on.
        pub fn stop(&self) {
            self.task.abort();
            self.file.remove();
        }
    }

    /// Makes room for a socket at `path`: nothing there is fine; a socket
    /// file that nobody listens on (left by a crashed process) is removed;
    /// a live socket or any other kind of file is an error.
    async fn clear_stale(path: &Path) -> std::io::Result<()> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        if !meta.file_type().is_socket() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket; not replacing it", path.display()),
            ));
        }
        match UnixStream::connect(path).await {
            Ok(_) => Err(Error::new(
                ErrorKind::AddrInUse,
                format!("{}: another process is listening on this socket", path.display()),
            )),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                tracing::info!("removing stale socket file {}", path.display());
                std::fs::remove_file(path).or_else(|e| match e.kind() {
                    ErrorKind::NotFound => Ok(()),
                    _ => Err(Error::new(
                        e.kind(),
                        format!("cannot remove stale socket {}: {e}", path.display()),
                    )),
                })
            }
            Err(e) => Err(Error::new(
                e.kind(),
                format!("{} exists and cannot be probed: {e}", path.display()),
            )),
        }
    }

    pub(crate) async fn listen(
        router: Router,
        path: &Path,
        kind: Kind,
    ) -> std::io::Result<UnixSocketListener> {
        clear_stale(path).await?;
        let listener = UnixListener::bind(path)
            .map_err(|e| Error::new(e.kind(), format!("bind {}: {e}", path.display())))?;
        let id = std::fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()));
        let file = Arc::new(SocketFile {
            path: path.to_owned(),
            id,
        });
        let limit = Arc::new(Semaphore::new(router.config().max_connections));
        let mut shutdown = router.shutdown_signal();
        tracing::info!("{kind:?} listener on Unix socket {}", path.display());
        let peer = format!("unix:{}", path.display());
        let task_file = file.clone();
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = shutdown.changed() => break,
                };
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = limit.clone().try_acquire_owned() else {
                    tracing::warn!("refusing connection on {peer}: max_connections reached");
                    continue;
                };
                let router = router.clone();
                let peer = Some(peer.clone());
                tokio::spawn(async move {
                    serve_stream(router, stream, kind, peer).await;
                    drop(permit);
                });
            }
            drop(listener);
            task_file.remove();
        });
        Ok(UnixSocketListener { file, task })
    }
}

#[cfg(unix)]
pub(crate) use self::unix::listen as listen_unix;
