//! Static files beside the WebSocket endpoint, on the same port, as
//! Crossbar.io's web transport serves them: a WebSocket upgrade at `/ws` is
//! WAMP, any other `GET` or `HEAD` is a file of the web directory.
//!
//! The request head is read here (with `httparse`, which the WebSocket
//! handshake uses anyway) and, for an upgrade, handed with the stream to
//! the WebSocket handshake as if unread. Files are answered with HTTP/1.1,
//! one request per connection (`Connection: close`).
//!
//! What is served: files under the directory only. A path with a `..`
//! component, a NUL or a backslash is refused (400), and so is a file that
//! resolves (through symlinks) outside the directory (403); a missing file
//! is a 404; a directory is its `index.html` (a path without the trailing
//! `/` is redirected to the one with it, so that relative links work).

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// The path of the WebSocket endpoint on a listener that serves files.
pub const WEBSOCKET_PATH: &str = "/ws";

/// Most bytes of a request head.
const MAX_HEAD: usize = 16 * 1024;

/// A directory served beside a WebSocket endpoint.
#[derive(Debug, Clone)]
pub struct WebRoot {
    dir: PathBuf,
}

impl WebRoot {
    /// The directory `dir`, which must exist; symlinks in its own path are
    /// resolved once, here.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<WebRoot> {
        let dir = dir.as_ref();
        let canonical = std::fs::canonicalize(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("web directory {}: {e}", dir.display())))?;
        if !canonical.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("web directory {}: not a directory", dir.display()),
            ));
        }
        Ok(WebRoot { dir: canonical })
    }

    /// The directory (resolved).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What a request asks for.
pub(crate) enum Request {
    /// A WebSocket upgrade at [`WEBSOCKET_PATH`]: hand the stream (with
    /// the bytes read so far) to the WebSocket handshake.
    WebSocket(Vec<u8>),
    /// Answered here.
    Done,
}

/// Reads one request head from `stream` (within `head_timeout`) and
/// answers it, unless it is the WebSocket upgrade.
pub(crate) async fn handle<S>(
    stream: &mut S,
    root: &WebRoot,
    peer: &str,
    head_timeout: std::time::Duration,
) -> io::Result<Request>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let head = match tokio::time::timeout(head_timeout, read_head(stream)).await {
        Ok(head) => head?,
        Err(_) => return Ok(Request::Done),
    };
    let Some((method, target, upgrade, buf)) = head else {
        return Ok(Request::Done);
    };
    let path = target.split(['?', '#']).next().unwrap_or("");
    if path == WEBSOCKET_PATH {
        if upgrade {
            return Ok(Request::WebSocket(buf));
        }
        respond(
            stream,
            426,
            "Upgrade Required: this is the WAMP WebSocket endpoint",
            false,
        )
        .await?;
        return Ok(Request::Done);
    }
    let head_only = match method.as_str() {
        "GET" => false,
        "HEAD" => true,
        _ => {
            respond(stream, 405, "Method Not Allowed", false).await?;
            return Ok(Request::Done);
        }
    };
    match resolve(root, path) {
        Ok(Found::File(file, len)) => {
            tracing::debug!(peer, %path, "serving {}", file.display());
            send_file(stream, &file, len, head_only).await?;
        }
        Ok(Found::Redirect(to)) => {
            let head = format!(
                "HTTP/1.1 301 Moved Permanently\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
        }
        Err((status, reason)) => {
            tracing::debug!(peer, %path, "{status} {reason}");
            respond(stream, status, reason, head_only).await?;
        }
    }
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(Request::Done)
}

/// The method, target and whether it is a WebSocket upgrade, with the
/// bytes read; `None` when the request was answered (malformed) or the
/// peer went away.
async fn read_head<S>(stream: &mut S) -> io::Result<Option<(String, String, bool, Vec<u8>)>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                let upgrade = req.headers.iter().any(|h| {
                    h.name.eq_ignore_ascii_case("upgrade")
                        && std::str::from_utf8(h.value)
                            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
                });
                let method = req.method.unwrap_or("").to_owned();
                let target = req.path.unwrap_or("").to_owned();
                return Ok(Some((method, target, upgrade, buf)));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                respond(stream, 431, "Request Header Fields Too Large", false).await?;
                return Ok(None);
            }
            Err(_) => {
                respond(stream, 400, "Bad Request", false).await?;
                return Ok(None);
            }
        }
    }
}

enum Found {
    File(PathBuf, u64),
    Redirect(String),
}

/// The file a request path names under `root`, or the status refusing it.
fn resolve(root: &WebRoot, path: &str) -> Result<Found, (u16, &'static str)> {
    const BAD: (u16, &str) = (400, "Bad Request");
    const NOT_FOUND: (u16, &str) = (404, "Not Found");
    let decoded = percent_decode(path).ok_or(BAD)?;
    if !decoded.starts_with('/') || decoded.contains(['\0', '\\']) {
        return Err(BAD);
    }
    let mut file = root.dir.clone();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(BAD),
            p => file.push(p),
        }
    }
    // Symlinks are followed only as far as they stay inside the directory.
    let real = std::fs::canonicalize(&file).map_err(|_| NOT_FOUND)?;
    if !real.starts_with(&root.dir) {
        return Err((403, "Forbidden"));
    }
    let real = if real.is_dir() {
        if !decoded.ends_with('/') {
            return Ok(Found::Redirect(format!("{path}/")));
        }
        real.join("index.html")
    } else {
        real
    };
    match std::fs::metadata(&real) {
        Ok(m) if m.is_file() => Ok(Found::File(real, m.len())),
        _ => Err(NOT_FOUND),
    }
}

/// `%XX` escapes decoded; `None` for a malformed escape or text that is
/// not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type of a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

async fn send_file<S: AsyncWrite + Unpin>(
    stream: &mut S,
    file: &Path,
    len: u64,
    head_only: bool,
) -> io::Result<()> {
    let opened = match tokio::fs::File::open(file).await {
        Ok(f) => f,
        Err(_) => return respond(stream, 404, "Not Found", head_only).await,
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {len}\r\n\
         X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        content_type(file)
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        tokio::io::copy(&mut opened.take(len), stream).await?;
    }
    Ok(())
}

async fn respond<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    reason: &str,
    head_only: bool,
) -> io::Result<()> {
    let body = format!("{status} {reason}\n");
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        reason.split(':').next().unwrap_or(reason),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body.as_bytes()).await?;
    }
    stream.flush().await
}

/// A stream whose first bytes were already read: they are read again
/// first (so the WebSocket handshake sees the whole request).
pub(crate) struct Rewind<S> {
    read: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Rewind<S> {
    pub(crate) fn new(read: Vec<u8>, inner: S) -> Self {
        Rewind { read, pos: 0, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.read.len() {
            let n = (self.read.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.read[start..start + n]);
            self.pos += n;
            if self.pos == self.read.len() {
                self.read = Vec::new();
                self.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_directory() {
        let dir = std::env::temp_dir().join(format!("wamp-web-unit-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(dir.join("sub/a b.js"), "1").unwrap();
        let root = WebRoot::new(&dir).unwrap();
        assert!(matches!(resolve(&root, "/"), Ok(Found::File(p, 9)) if p.ends_with("index.html")));
        assert!(matches!(resolve(&root, "/sub/a%20b.js"), Ok(Found::File(..))));
        assert!(matches!(resolve(&root, "/sub"), Ok(Found::Redirect(to)) if to == "/sub/"));
        assert!(
            matches!(resolve(&root, "/sub/"), Err((404, _))),
            "no index.html in sub/"
        );
        assert!(matches!(resolve(&root, "/../etc/passwd"), Err((400, _))));
        assert!(matches!(resolve(&root, "/sub/%2e%2e/%2e%2e/x"), Err((400, _))));
        assert!(matches!(resolve(&root, "/a%00b"), Err((400, _))));
        assert!(matches!(resolve(&root, "/%zz"), Err((400, _))));
        assert!(matches!(resolve(&root, "/missing.html"), Err((404, _))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type(Path::new("a/index.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("app.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.css")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("x.png")), "image/png");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}
