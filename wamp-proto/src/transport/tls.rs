//! TLS for the socket transports: `wss://` (WebSocket) and `rss://`
//! (RawSocket) clients, and TLS listeners of the router.
//!
//! Built on rustls with the `ring` crypto provider. Clients trust the
//! system's root certificates by default (read once per process through
//! `rustls-native-certs`); a private CA can be added or used alone with
//! [`TlsClientConfig::with_ca_file`] and friends. Servers load their
//! certificate chain and private key from PEM files
//! ([`TlsServerConfig::from_pem_files`]). Either side can also take a
//! ready-made rustls configuration (re-exported as [`rustls`]).
//!
//! ```no_run
//! # fn demo() -> Result<(), wamp_proto::transport::tls::TlsConfigError> {
//! use wamp_proto::transport::tls::{TlsClientConfig, TlsServerConfig};
//! use wamp_proto::transport::TransportConfig;
//!
//! // A router's listener:
//! let server = TlsServerConfig::from_pem_files("cert.pem", "key.pem")?;
//! // A client that trusts a private CA (instead of the system roots):
//! let client = TransportConfig {
//!     tls: Some(TlsClientConfig::with_ca_file("ca.pem")?),
//!     ..Default::default()
//! };
//! # let _ = (server, client); Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::RootCertStore;
use tokio::io::{AsyncRead, AsyncWrite};

use super::TransportError;

/// Why a TLS configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsConfigError {
    /// A certificate or key file could not be read or parsed.
    #[error("{what} file {}: {reason}", path.display())]
    File {
        /// What the file should hold ("certificate", "private key", "CA certificate").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No root certificate could be loaded from the system's store.
    #[error("no system root certificates could be loaded{}", if .0.is_empty() { String::new() } else { format!(": {}", .0) })]
    NoSystemRoots(String),
    /// rustls refused the configuration (a key that does not match the certificate, ...).
    #[error("invalid TLS configuration: {0}")]
    Invalid(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a file for a TLS setting, naming it in the error.
fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path).map_err(|e| TlsConfigError::File {
        what,
        path: path.to_owned(),
        reason: format!("cannot read it: {e}"),
    })
}

/// Every certificate in a PEM file; at least one.
pub fn load_certificates(
    what: &'static str,
    path: impl AsRef<Path>,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let path = path.as_ref();
    let pem = read_file(what, path)?;
    let bad = |reason: String| TlsConfigError::File {
        what,
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()
        ));
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn load_private_key(path: impl AsRef<Path>) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let path = path.as_ref();
    let pem = read_file("private key", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsConfigError::File {
        what: "private key",
        path: path.to_owned(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)".into()
            }
            e => format!("not valid PEM: {e}"),
        },
    })
}

/// The system's root certificates, loaded once per process.
fn system_roots() -> Result<Arc<RootCertStore>, TlsConfigError> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, TlsConfigError>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!("loading system root certificates: {e}");
            }
            let mut roots = RootCertStore::empty();
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!("{added} system root certificates loaded, {ignored} ignored");
            if roots.is_empty() {
                let errors: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
                return Err(TlsConfigError::NoSystemRoots(errors.join("; ")));
            }
            Ok(Arc::new(roots))
        })
        .clone()
}

/// How a client checks the servers it connects to over TLS.
///
/// Cheap to clone. The default for `wss://` and `rss://` URLs, when
/// [`TransportConfig::tls`](super::TransportConfig::tls) is `None`, is
/// [`TlsClientConfig::system_roots`].
#[derive(Clone)]
pub struct TlsClientConfig {
    config: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for TlsClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClientConfig")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

impl TlsClientConfig {
    /// Trusts the system's root certificates (the same config each call:
    /// the store is read once per process).
    pub fn system_roots() -> Result<Self, TlsConfigError> {
        static DEFAULT: OnceLock<Result<TlsClientConfig, TlsConfigError>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Self::with_roots(system_roots()?.as_ref().clone()))
            .clone()
    }

    /// Trusts only the CA certificates in a PEM file (a private CA).
    pub fn with_ca_file(path: impl AsRef<Path>) -> Result<Self, TlsConfigError> {
        let mut roots = RootCertStore::empty();
        add_ca_file(&mut roots, path.as_ref())?;
        Self::with_roots(roots)
    }

    /// Trusts the system's root certificates and the CA certificates in a
    /// PEM file.
    pub fn with_system_roots_and_ca_file(path: impl AsRef<Path>) -> Result<Self, TlsConfigError> {
        let mut roots = system_roots()?.as_ref().clone();
        add_ca_file(&mut roots, path.as_ref())?;
        Self::with_roots(roots)
    }

    /// Trusts exactly the given roots.
    pub fn with_roots(roots: RootCertStore) -> Result<Self, TlsConfigError> {
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfigError::Invalid(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::from_rustls(Arc::new(config)))
    }

    /// Uses a rustls configuration as it is (client certificates, custom
    /// verifiers, ...).
    pub fn from_rustls(config: Arc<rustls::ClientConfig>) -> Self {
        TlsClientConfig { config }
    }

    /// The rustls configuration.
    pub fn rustls_config(&self) -> &Arc<rustls::ClientConfig> {
        &self.config
    }
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsConfigError> {
    for cert in load_certificates("CA certificate", path)? {
        roots.add(cert).map_err(|e| TlsConfigError::File {
            what: "CA certificate",
            path: path.to_owned(),
            reason: format!("not a usable certificate: {e}"),
        })?;
    }
    Ok(())
}

/// A TLS server's certificate and key (for the router's `wss://` and
/// `rss://` listeners). Cheap to clone.
#[derive(Clone)]
pub struct TlsServerConfig {
    config: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsServerConfig")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

impl TlsServerConfig {
    /// Loads the certificate chain (PEM, the server's certificate first,
    /// then any intermediates) and its private key (PEM: PKCS#8, PKCS#1 or
    /// SEC1). Errors name the file at fault.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsConfigError> {
        let (cert_path, key_path) = (cert_chain.as_ref(), key.as_ref());
        let chain = load_certificates("certificate", cert_path)?;
        let key = load_private_key(key_path)?;
        Self::from_der(chain, key).map_err(|e| match e {
            TlsConfigError::Invalid(reason) => TlsConfigError::Invalid(format!(
                "certificate {} with key {}: {reason}",
                cert_path.display(),
                key_path.display()
            )),
            e => e,
        })
    }

    /// Uses a certificate chain and key already in memory (DER).
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsConfigError> {
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfigError::Invalid(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                TlsConfigError::Invalid(match e {
                    rustls::Error::InconsistentKeys(_) => {
                        "the private key does not belong to the certificate".into()
                    }
                    e => e.to_string(),
                })
            })?;
        Ok(Self::from_rustls(Arc::new(config)))
    }

    /// Uses a rustls configuration as it is (client authentication, SNI
    /// resolvers, ...).
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        TlsServerConfig { config }
    }

    /// The rustls configuration.
    pub fn rustls_config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }
}

/// A client-side TLS stream.
pub type ClientStream<S> = tokio_rustls::client::TlsStream<S>;
/// A server-side TLS stream.
pub type ServerStream<S> = tokio_rustls::server::TlsStream<S>;

/// Runs the client side of a TLS handshake over `stream`, checking the
/// server's certificate against `host` (a DNS name or an IP address).
/// Without `config`, the system's roots are trusted.
pub async fn connect<S>(
    stream: S,
    host: &str,
    config: Option<&TlsClientConfig>,
) -> Result<ClientStream<S>, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = match config {
        Some(c) => c.clone(),
        None => TlsClientConfig::system_roots().map_err(|e| TransportError::Tls(e.to_string()))?,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| TransportError::Tls(format!("{host:?} is not a valid TLS server name: {e}")))?;
    tokio_rustls::TlsConnector::from(config.config)
        .connect(name, stream)
        .await
        .map_err(|e| {
            // rustls's own errors (certificates, alerts) explain themselves; an
            // end of stream or reset in the middle of the handshake most often
            // means a server that does not speak TLS on that port.
            let hint = if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                ""
            } else {
                " (does the server speak TLS on this port?)"
            };
            TransportError::Tls(format!("TLS handshake with {host} failed: {e}{hint}"))
        })
}

/// Runs the server side of a TLS handshake over `stream`, within `timeout`.
pub async fn accept<S>(
    stream: S,
    config: &TlsServerConfig,
    timeout: Duration,
) -> Result<ServerStream<S>, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let fut = tokio_rustls::TlsAcceptor::from(config.config.clone()).accept(stream);
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| TransportError::Tls("TLS handshake timed out".into()))?
        .map_err(|e| TransportError::Tls(format!("TLS handshake failed: {e}")))
}
