//! One configuration file (TOML) for the router and the components, in the
//! spirit of Crossbar.io's: the router's transports, realms, roles,
//! permissions and users, and the components that join it.
//!
//! ```toml
//! # --- the router: `wamp router --config FILE`, or ConfigFile::router_config
//! [[transports]]
//! type = "websocket"            # websocket | rawsocket | unix
//! endpoint = "127.0.0.1:8080"   # HOST:PORT, or a path for unix
//! # tls = { cert = "cert.pem", key = "key.pem" }
//!
//! [[realms]]
//! name = "realm1"
//!
//! [[realms.roles]]
//! name = "backend"
//! permissions = [{ uri = "com.example.", match = "prefix", allow = ["call", "register", "publish", "subscribe"] }]
//!
//! [realms.auth.ticket.svc]
//! ticket = "svc-secret"
//! role = "backend"
//!
//! # --- the components: Component::from_config_file(FILE, "backend")
//! [[components]]
//! name = "backend"
//! realm = "realm1"
//! authid = "svc"
//! serializers = ["msgpack", "json"]          # optional: offered in this order
//! auth = { ticket_env = "BACKEND_TICKET" }   # the secret comes from the environment
//!
//! [[components.transports]]
//! url = "ws://127.0.0.1:8080/ws"
//! max_retries = -1                           # Autobahn's reconnect parameters, all optional
//! ```
//!
//! [`ConfigFile::load`] reads and checks a file; every mistake is a
//! [`ConfigError`] naming the key and its line, including keys nobody
//! reads (a typo is an error, not a silently ignored setting). The router
//! half needs the `router` feature to run, but every build reads and checks
//! the whole file, so a client-only program can load the file its router
//! uses.
//!
//! # Router sections
//!
//! - `max_message_size`: the largest message accepted, in bytes.
//! - `[flow]`: flow control, every key optional: `queue_messages` and
//!   `queue_bytes` (a session's outgoing queue's high-water mark, default
//!   1024 messages and 8 MiB), `stall_timeout_ms` (how long a congested queue
//!   may make no progress before its session is closed, default 5000) and
//!   `max_pending_calls` (per session, default 1024). The policy is in the
//!   `wamp::router` docs, "Flow control".
//! - `[[event_history]]`: `uri` and `limit`: every realm keeps the last
//!   `limit` events of the topic, or of the prefix when `uri` ends in a dot,
//!   for `wamp.subscription.get_events` (`wamp::router::EventHistory`).
//! - `[[transports]]`: `type` (`websocket`, `rawsocket`, `unix`), `endpoint`
//!   (`HOST:PORT`, or the socket's path for `unix`), `tls = { cert, key }`
//!   (PEM files; not for `unix`), and for `websocket` `web = "DIR"`: the
//!   static files of DIR (relative to the file's directory) on the same
//!   port, WAMP then at `/ws` only (as Crossbar.io's web transport).
//! - `[[realms]]`: `name`; `[[realms.roles]]` with `name` and either
//!   `permissions = [{ uri, match = "exact" | "prefix" | "wildcard", allow =
//!   ["call", "register", "publish", "subscribe"] }]` or `authorizer = "PROCEDURE"`
//!   (a dynamic authorizer); `[realms.auth]` with `anonymous = { role }`,
//!   `ticket.AUTHID = { ticket, role }`, `wampcra.AUTHID = { secret, role,
//!   salt, iterations, keylen }` (the last three together or not at all),
//!   `cryptosign.AUTHID = { authorized_keys = ["HEX", ..], role }` and
//!   `dynamic = [{ method, realm, procedure }]`. Every role a user names must
//!   be one of the realm's roles.
//!
//! See [`ConfigFile::router_config`] and [`ConfigFile::listen`].
//!
//! # Components
//!
//! `[[components]]`, each with:
//!
//! - `name` (unique in the file) and `realm`;
//! - `[[components.transports]]`, tried round-robin: `url` (`ws://`,
//!   `wss://`, `rs://host:port`, `rss://`, `rs://unix:/path`) and
//!   Autobahn's reconnect parameters `max_retries` (-1: forever),
//!   `initial_retry_delay` (seconds), `retry_delay_growth`,
//!   `retry_delay_jitter` (0 to 1) and `max_retry_delay` (seconds), with the
//!   defaults of [`ReconnectPolicy::default`](crate::component::ReconnectPolicy);
//! - `serializers`: a list of `"json"`, `"msgpack"`, `"cbor"` (default all);
//! - `authid`, `authrole`, `authextra` (a table);
//! - `[components.auth]`, the methods offered, strongest first:
//!   `cryptosign = { private_key = "HEX" }` (or `private_key_env = "VAR"`,
//!   or `private_key_file = "PATH"`: the hex seed, or a Crossbar.io/Autobahn
//!   key file with a `private-key-ed25519:` line), `wampcra = { secret = ".." }`
//!   (or `secret_env`; salting comes from the router's challenge),
//!   `ticket = ".."` (or `ticket_env`) and `anonymous = true`.
//!
//! A secret named by `*_env` is read from that environment variable, and a
//! `*_file` from that file (relative paths from the working directory, like
//! the router's TLS files), when the component is built, not when the file
//! is parsed: `wamp router --config` checks a file whose component secrets
//! live only on the component's machine. See [`ConfigFile::component`] and
//! [`Component::from_config_file`](crate::component::Component::from_config_file).

mod component;
mod router;

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use component::ComponentConfig;
use component::ComponentEntry;
use router::{RealmEntry, TransportEntry};

/// A checked configuration file: router sections and components.
///
/// ```
/// use wamp::config::ConfigFile;
///
/// let file = ConfigFile::parse(r#"
///     [[components]]
///     name = "clock"
///     realm = "realm1"
///     transports = [{ url = "ws://127.0.0.1:8080/ws", max_retries = 3 }]
/// "#)?;
/// assert_eq!(file.component_names(), ["clock"]);
/// let clock = file.component("clock")?;
/// assert_eq!(clock.transports[0].reconnect.max_retries, 3);
/// # Ok::<(), wamp::config::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct ConfigFile {
    sections: Sections,
    source: Source,
}

/// The file's top level, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    #[serde(default)]
    transports: Vec<TransportEntry>,
    #[serde(default)]
    realms: Vec<RealmEntry>,
    // Without the router feature nobody reads it, but it is still checked.
    #[cfg_attr(not(feature = "router"), allow(dead_code))]
    max_message_size: Option<usize>,
    #[cfg_attr(not(feature = "router"), allow(dead_code))]
    flow: Option<FlowEntry>,
    #[serde(default)]
    #[cfg_attr(not(feature = "router"), allow(dead_code))]
    event_history: Vec<EventHistoryEntry>,
    #[serde(default)]
    components: Vec<ComponentEntry>,
}

/// `[flow]`: the router's flow control (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "router"), allow(dead_code))]
struct FlowEntry {
    queue_messages: Option<usize>,
    queue_bytes: Option<usize>,
    stall_timeout_ms: Option<u64>,
    max_pending_calls: Option<usize>,
}

/// `[[event_history]]`: a topic (or, ending in a dot, a prefix) whose last
/// `limit` events every realm keeps for `wamp.subscription.get_events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "router"), allow(dead_code))]
struct EventHistoryEntry {
    uri: toml::Spanned<String>,
    limit: usize,
}

/// The text a file was parsed from, to turn spans into line numbers in
/// errors found after parsing (a missing environment variable, say).
#[derive(Debug)]
struct Source {
    text: String,
    path: Option<PathBuf>,
}

impl Source {
    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// An error about the value at `span`, under `key`.
    fn invalid(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.path.clone(),
            line: Some(self.line(span.start)),
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    /// A TOML syntax or type error, with its line and the key's dotted path.
    fn toml_error(&self, e: toml::de::Error) -> ConfigError {
        let line = e.span().map(|s| self.line(s.start));
        // toml keeps the key path private, but prints it as "in `a.b.c`"
        // when it has no input to quote; losing it on a format change only
        // loses the key, never the error.
        let mut bare = e.clone();
        bare.set_input(None);
        let key = bare
            .to_string()
            .lines()
            .find_map(|l| l.strip_prefix("in `")?.strip_suffix('`').map(str::to_owned));
        ConfigError::Invalid {
            file: self.path.clone(),
            line,
            key,
            message: e.message().to_owned(),
        }
    }
}

/// A configuration file that cannot be used: which file, line and key, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key is unknown, has a value of the wrong type or a bad value, or a
    /// secret it names cannot be found.
    #[error("{}{message}", location(file.as_deref(), *line, key.as_deref()))]
    Invalid {
        /// The file, when it was loaded from one.
        file: Option<PathBuf>,
        /// The 1-based line of the key or value.
        line: Option<usize>,
        /// The key, as a dotted path (`components.transports.url`).
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// [`ConfigFile::component`] was asked for a name the file does not have.
    #[error(
        "{}no component named {name:?}; the file has {}",
        location(file.as_deref(), None, None),
        if available.is_empty() { "no [[components]]".to_owned() } else { format!("{available:?}") }
    )]
    NoSuchComponent {
        /// The file, when it was loaded from one.
        file: Option<PathBuf>,
        /// The name asked for.
        name: String,
        /// The names of the file's components.
        available: Vec<String>,
    },
    /// A router listener from `[[transports]]` could not start.
    #[cfg(feature = "router")]
    #[error("{}cannot listen on {endpoint}: {message}", location(file.as_deref(), Some(*line), Some("transports.endpoint")))]
    Listen {
        /// The file, when it was loaded from one.
        file: Option<PathBuf>,
        /// The line of the transport's endpoint.
        line: usize,
        /// The endpoint.
        endpoint: String,
        /// Why.
        message: String,
    },
}

/// `router.toml: line 3: `key`: ` or the parts of it that are known.
fn location(file: Option<&Path>, line: Option<usize>, key: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(file) = file {
        out.push_str(&format!("{}: ", file.display()));
    }
    if let Some(line) = line {
        out.push_str(&format!("line {line}: "));
    }
    if let Some(key) = key {
        out.push_str(&format!("`{key}`: "));
    }
    out
}

impl ConfigFile {
    /// Reads and checks a file. Errors name the file, the key and its line.
    pub fn load(path: impl AsRef<Path>) -> Result<ConfigFile, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_source(Source {
            text,
            path: Some(path.to_owned()),
        })
    }

    /// Parses and checks configuration text. Errors name the key and its line.
    pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        Self::parse_source(Source {
            text: text.to_owned(),
            path: None,
        })
    }

    fn parse_source(source: Source) -> Result<ConfigFile, ConfigError> {
        let sections: Sections = toml::from_str(&source.text).map_err(|e| source.toml_error(e))?;
        for realm in &sections.realms {
            realm.check(&source)?;
        }
        for t in &sections.transports {
            t.check(&source)?;
        }
        #[cfg(feature = "router")]
        for h in &sections.event_history {
            h.event_history()
                .map_err(|e| source.invalid(h.uri.span(), "event_history", e))?;
        }
        component::check_all(&sections.components, &source)?;
        Ok(ConfigFile { sections, source })
    }

    /// The file this was loaded from (`None` after [`parse`](Self::parse)).
    pub fn path(&self) -> Option<&Path> {
        self.source.path.as_deref()
    }

    /// The names of the file's `[[components]]`, in file order.
    pub fn component_names(&self) -> Vec<&str> {
        self.sections.components.iter().map(|c| c.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_show_file_line_and_key() {
        let source = Source {
            text: "a = 1\nb = 2\n".into(),
            path: Some("x.toml".into()),
        };
        let e = source.invalid(6..7, "b", "too big");
        assert_eq!(e.to_string(), "x.toml: line 2: `b`: too big");
        let e = ConfigFile::parse("max_message_size = \"big\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: `max_message_size`: invalid type: string \"big\", expected usize"
        );
    }

    #[test]
    fn the_module_docs_example_parses() {
        // The ```toml block at the top of this file: docs that stay true.
        let docs: String = include_str!("mod.rs")
            .lines()
            .map_while(|l| l.strip_prefix("//!"))
            .skip_while(|l| l.trim() != "```toml")
            .skip(1)
            .take_while(|l| l.trim() != "```")
            .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
            .collect();
        let file = ConfigFile::parse(&docs).unwrap();
        assert_eq!(file.component_names(), ["backend"]);
        let e = file.component("backend").unwrap_err().to_string();
        assert!(e.contains("BACKEND_TICKET"), "{e}");
    }

    #[test]
    fn an_empty_file_is_fine() {
        let f = ConfigFile::parse("").unwrap();
        assert!(f.component_names().is_empty());
        assert_eq!(f.path(), None);
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = ConfigFile::load("/no/such/dir/wamp.toml").unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
        assert!(
            e.to_string().starts_with("cannot read /no/such/dir/wamp.toml: "),
            "{e}"
        );
    }
}
