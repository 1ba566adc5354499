//! The router's sections of the file: `max_message_size`, `[[transports]]`
//! and `[[realms]]` (see the [format](super)).
//!
//! The entries parse and are checked in every build, so that any program
//! can read a file shared with its router; turning them into a
//! [`RouterConfig`](wamp_router::RouterConfig) and listeners needs the
//! `router` feature.

// Without the router, entries are read only to be checked.
#![cfg_attr(not(feature = "router"), allow(dead_code))]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Source};

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum TransportType {
    Websocket,
    Rawsocket,
    Unix,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TransportEntry {
    #[serde(rename = "type")]
    kind: TransportType,
    endpoint: Spanned<String>,
    tls: Option<Spanned<TlsEntry>>,
    /// A directory of static files served beside the WebSocket endpoint
    /// (then at `/ws`); relative to the file's directory.
    web: Option<Spanned<PathBuf>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsEntry {
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RealmEntry {
    name: String,
    #[serde(default)]
    roles: Vec<RoleEntry>,
    #[serde(default)]
    auth: AuthEntry,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleEntry {
    name: String,
    #[serde(default)]
    permissions: Vec<PermissionEntry>,
    /// A procedure deciding every action of this role (dynamic authorizer).
    authorizer: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ActionName {
    Call,
    Register,
    Publish,
    Subscribe,
}

#[derive(Debug, Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
enum MatchName {
    #[default]
    Exact,
    Prefix,
    Wildcard,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionEntry {
    uri: String,
    #[serde(default, rename = "match")]
    match_policy: MatchName,
    allow: Vec<ActionName>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AuthEntry {
    anonymous: Option<AnonymousEntry>,
    #[serde(default)]
    ticket: BTreeMap<String, TicketEntry>,
    #[serde(default)]
    wampcra: BTreeMap<String, WampCraEntry>,
    #[serde(default)]
    cryptosign: BTreeMap<String, CryptosignEntry>,
    /// Methods decided by a procedure: `{ method = "ticket", realm = "auth", procedure = "com.example.authenticate" }`.
    #[serde(default)]
    dynamic: Vec<DynamicEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnonymousEntry {
    role: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketEntry {
    ticket: String,
    role: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WampCraEntry {
    secret: String,
    role: Spanned<String>,
    salt: Option<Spanned<String>>,
    iterations: Option<Spanned<u32>>,
    keylen: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CryptosignEntry {
    authorized_keys: Spanned<Vec<String>>,
    role: Spanned<String>,
}

/// The methods a dynamic authenticator can decide.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum DynamicMethod {
    Anonymous,
    Ticket,
    Wampcra,
    Cryptosign,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DynamicEntry {
    method: DynamicMethod,
    realm: String,
    procedure: String,
}

impl TransportEntry {
    /// Checks what the types cannot say.
    pub(super) fn check(&self, source: &Source) -> Result<(), ConfigError> {
        if let (TransportType::Unix, Some(tls)) = (self.kind, &self.tls) {
            return Err(source.invalid(tls.span(), "transports.tls", "unix transports take no tls"));
        }
        if let Some(web) = &self.web {
            if self.kind != TransportType::Websocket {
                return Err(source.invalid(
                    web.span(),
                    "transports.web",
                    "only websocket transports serve files",
                ));
            }
        }
        Ok(())
    }
}

impl RealmEntry {
    /// Checks what the types cannot say: every user's role is one of the
    /// realm's, a salted WAMP-CRA secret is complete, a cryptosign user has
    /// a key.
    pub(super) fn check(&self, source: &Source) -> Result<(), ConfigError> {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.name.as_str()).collect();
        let check_role = |who: &str, role: &Spanned<String>| {
            if roles.contains(&role.get_ref().as_str()) {
                Ok(())
            } else {
                Err(source.invalid(
                    role.span(),
                    &format!("realms.{who}.role"),
                    format!(
                        "realm {:?}: {who} has role {:?}, which is not among the realm's roles {roles:?}",
                        self.name,
                        role.get_ref()
                    ),
                ))
            }
        };
        let a = &self.auth;
        if let Some(anon) = &a.anonymous {
            check_role("auth.anonymous", &anon.role)?;
        }
        for (id, u) in &a.ticket {
            check_role(&format!("auth.ticket.{id}"), &u.role)?;
        }
        for (id, u) in &a.wampcra {
            check_role(&format!("auth.wampcra.{id}"), &u.role)?;
            let given = [
                u.salt.as_ref().map(Spanned::span),
                u.iterations.as_ref().map(Spanned::span),
                u.keylen.as_ref().map(Spanned::span),
            ];
            if let Some(span) = given.iter().flatten().next() {
                if given.iter().any(Option::is_none) {
                    return Err(source.invalid(
                        span.clone(),
                        &format!("realms.auth.wampcra.{id}"),
                        format!(
                            "realm {:?}: auth.wampcra.{id}: a salted secret needs all of salt, iterations and keylen",
                            self.name
                        ),
                    ));
                }
            }
        }
        for (id, u) in &a.cryptosign {
            check_role(&format!("auth.cryptosign.{id}"), &u.role)?;
            if u.authorized_keys.get_ref().is_empty() {
                return Err(source.invalid(
                    u.authorized_keys.span(),
                    &format!("realms.auth.cryptosign.{id}.authorized_keys"),
                    format!(
                        "realm {:?}: auth.cryptosign.{id}: authorized_keys is empty",
                        self.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(feature = "router")]
mod build {
    use wamp_router::auth::{
        Allow, AuthMethod, CryptosignUser, Method, Permission, Role, TicketUser, WampCraUser,
    };
    use wamp_router::{FlowSettings, RealmConfig, Router, RouterConfig, TlsServerConfig};

    use super::*;
    use crate::config::{ConfigFile, EventHistoryEntry, FlowEntry};

    impl EventHistoryEntry {
        /// The router's setting (a URI ending in a dot is a prefix).
        pub(in crate::config) fn event_history(&self) -> Result<wamp_router::EventHistory, String> {
            wamp_router::EventHistory::parse(&format!("{}={}", self.uri.get_ref(), self.limit))
        }
    }

    impl FlowEntry {
        /// The section's settings.
        fn settings(&self) -> FlowSettings {
            let mut flow = FlowSettings::default();
            flow.queue_messages = self.queue_messages;
            flow.queue_bytes = self.queue_bytes;
            flow.stall_timeout = self.stall_timeout_ms.map(std::time::Duration::from_millis);
            flow.max_pending_calls = self.max_pending_calls;
            flow
        }
    }

    impl ConfigFile {
        /// The router the file describes: its realms (with roles and users)
        /// and `max_message_size`; the rest is [`RouterConfig::default`].
        /// Start its `[[transports]]` with [`listen`](Self::listen).
        ///
        /// ```
        /// use wamp::config::ConfigFile;
        /// use wamp::router::Router;
        ///
        /// let file = ConfigFile::parse(r#"
        ///     [[realms]]
        ///     name = "realm1"
        ///     [[realms.roles]]
        ///     name = "anyone"
        ///     permissions = [{ uri = "", match = "prefix", allow = ["call", "register", "publish", "subscribe"] }]
        ///     [realms.auth.anonymous]
        ///     role = "anyone"
        /// "#)?;
        /// let router = Router::new(file.router_config());
        /// assert_eq!(router.realm_names(), ["realm1"]);
        /// # Ok::<(), wamp::config::ConfigError>(())
        /// ```
        pub fn router_config(&self) -> RouterConfig {
            let mut config = RouterConfig {
                realm_configs: self
                    .sections
                    .realms
                    .iter()
                    .map(RealmEntry::realm_config)
                    .collect(),
                ..Default::default()
            };
            if let Some(max) = self.sections.max_message_size {
                config.transport.max_message_size = max;
            }
            if let Some(flow) = &self.sections.flow {
                flow.settings().apply_to(&mut config);
            }
            // Checked when the file was loaded.
            config.event_history = self
                .sections
                .event_history
                .iter()
                .filter_map(|h| h.event_history().ok())
                .collect();
            config
        }

        /// Whether the file has `[[transports]]` for [`listen`](Self::listen).
        pub fn has_transports(&self) -> bool {
            !self.sections.transports.is_empty()
        }

        /// The file's `max_message_size`, when it sets one.
        pub fn max_message_size(&self) -> Option<usize> {
            self.sections.max_message_size
        }

        /// Starts a listener on `router` for each of the file's
        /// `[[transports]]`, in file order, and returns the URLs clients
        /// connect to (`ws://127.0.0.1:8080/ws`, `rs://unix:/run/wamp.sock`,
        /// with the bound port when the endpoint's port is 0). The listeners
        /// run until [`Router::shutdown`].
        pub async fn listen(&self, router: &Router) -> Result<Vec<String>, ConfigError> {
            let mut urls = Vec::new();
            let base = self.source.path.as_deref().and_then(std::path::Path::parent);
            for t in &self.sections.transports {
                urls.push(
                    t.listen(router, base)
                        .await
                        .map_err(|message| ConfigError::Listen {
                            file: self.source.path.clone(),
                            line: self.source.line(t.endpoint.span().start),
                            endpoint: t.endpoint.get_ref().clone(),
                            message,
                        })?,
                );
            }
            Ok(urls)
        }
    }

    impl TransportEntry {
        async fn listen(&self, router: &Router, base: Option<&std::path::Path>) -> Result<String, String> {
            let addr = self.endpoint.get_ref().as_str();
            if let Some(dir) = &self.web {
                let dir = match base {
                    Some(base) => base.join(dir.get_ref()),
                    None => dir.get_ref().clone(),
                };
                let root = wamp_router::web::WebRoot::new(dir).map_err(|e| e.to_string())?;
                let tls = match &self.tls {
                    Some(t) => Some(
                        TlsServerConfig::from_pem_files(&t.get_ref().cert, &t.get_ref().key)
                            .map_err(|e| format!("TLS: {e}"))?,
                    ),
                    None => None,
                };
                return router
                    .listen_web(addr, tls, root)
                    .await
                    .map(|l| l.url())
                    .map_err(|e| format!("{:?}: {e}", self.kind));
            }
            let tls = match &self.tls {
                Some(t) => Some(
                    TlsServerConfig::from_pem_files(&t.get_ref().cert, &t.get_ref().key)
                        .map_err(|e| format!("TLS: {e}"))?,
                ),
                None => None,
            };
            let url = match (self.kind, tls) {
                (TransportType::Websocket, None) => router.listen_websocket(addr).await.map(|l| l.url()),
                (TransportType::Websocket, Some(tls)) => {
                    router.listen_websocket_tls(addr, tls).await.map(|l| l.url())
                }
                (TransportType::Rawsocket, None) => router.listen_rawsocket(addr).await.map(|l| l.url()),
                (TransportType::Rawsocket, Some(tls)) => {
                    router.listen_rawsocket_tls(addr, tls).await.map(|l| l.url())
                }
                #[cfg(unix)]
                (TransportType::Unix, _) => router.listen_rawsocket_unix(addr).await.map(|l| l.url()),
                #[cfg(not(unix))]
                (TransportType::Unix, _) => {
                    return Err("Unix sockets are not supported on this platform".into())
                }
            };
            url.map_err(|e| format!("{:?}: {e}", self.kind))
        }
    }

    impl RealmEntry {
        /// The router's view of the realm ([`check`](Self::check)ed at parse time).
        fn realm_config(&self) -> RealmConfig {
            let mut realm = RealmConfig::new(self.name.clone());
            for role in &self.roles {
                let mut out = match &role.authorizer {
                    Some(proc_uri) => Role::dynamic(role.name.clone(), proc_uri.clone()),
                    None => Role::new(role.name.clone()),
                };
                for p in &role.permissions {
                    let mut allow = Allow::NONE;
                    for a in &p.allow {
                        match a {
                            ActionName::Call => allow.call = true,
                            ActionName::Register => allow.register = true,
                            ActionName::Publish => allow.publish = true,
                            ActionName::Subscribe => allow.subscribe = true,
                        }
                    }
                    out = out.permit(match p.match_policy {
                        MatchName::Exact => Permission::exact(p.uri.clone(), allow),
                        MatchName::Prefix => Permission::prefix(p.uri.clone(), allow),
                        MatchName::Wildcard => Permission::wildcard(p.uri.clone(), allow),
                    });
                }
                realm = realm.role(out);
            }
            let a = &self.auth;
            let role = |r: &Spanned<String>| r.get_ref().clone();
            if let Some(anon) = &a.anonymous {
                realm = realm.auth(AuthMethod::anonymous(role(&anon.role)));
            }
            if !a.ticket.is_empty() {
                realm =
                    realm.auth(AuthMethod::ticket(a.ticket.iter().map(|(id, u)| {
                        (id.clone(), TicketUser::new(u.ticket.clone(), role(&u.role)))
                    })));
            }
            if !a.wampcra.is_empty() {
                realm = realm.auth(AuthMethod::wampcra(a.wampcra.iter().map(|(id, u)| {
                    let mut user = WampCraUser::new(u.secret.clone(), role(&u.role));
                    // check() made sure these come all together or not at all.
                    if let (Some(salt), Some(i), Some(k)) = (&u.salt, &u.iterations, &u.keylen) {
                        user = user.salted(salt.get_ref().clone(), *i.get_ref(), *k.get_ref());
                    }
                    (id.clone(), user)
                })));
            }
            if !a.cryptosign.is_empty() {
                realm = realm.auth(AuthMethod::cryptosign(a.cryptosign.iter().map(|(id, u)| {
                    let mut keys = u.authorized_keys.get_ref().iter().cloned();
                    // check() made sure there is at least one key.
                    let mut user = CryptosignUser::new(keys.next().unwrap_or_default(), role(&u.role));
                    for k in keys {
                        user = user.key(k);
                    }
                    (id.clone(), user)
                })));
            }
            for d in &a.dynamic {
                let method = match d.method {
                    DynamicMethod::Anonymous => Method::Anonymous,
                    DynamicMethod::Ticket => Method::Ticket,
                    DynamicMethod::Wampcra => Method::WampCra,
                    DynamicMethod::Cryptosign => Method::Cryptosign,
                };
                realm = realm.auth(AuthMethod::dynamic(method, d.realm.clone(), d.procedure.clone()));
            }
            realm
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ConfigFile;

    const GOOD: &str = r#"
max_message_size = 1048576

[flow]
queue_messages = 64
queue_bytes = 65536
stall_timeout_ms = 1500
max_pending_calls = 10

[[transports]]
type = "websocket"
endpoint = "127.0.0.1:0"

[[transports]]
type = "rawsocket"
endpoint = "127.0.0.1:0"

[[realms]]
name = "realm1"

[[realms.roles]]
name = "frontend"
permissions = [{ uri = "com.example.", match = "prefix", allow = ["call", "subscribe"] }]

[[realms.roles]]
name = "backend"
permissions = [{ uri = "", match = "prefix", allow = ["call", "register", "publish", "subscribe"] }]

[realms.auth.anonymous]
role = "frontend"

[realms.auth.ticket.joe]
ticket = "secret!!!"
role = "frontend"

[realms.auth.wampcra.peter]
secret = "prq7+YkJ1/KlW1X0YczMHw=="
role = "backend"
salt = "salt123"
iterations = 100
keylen = 16
"#;

    fn parse(text: &str) -> Result<ConfigFile, String> {
        ConfigFile::parse(text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_file_parses() {
        let f = parse(GOOD).unwrap();
        assert_eq!(f.sections.transports.len(), 2);
        assert_eq!(f.sections.max_message_size, Some(1 << 20));
        assert_eq!(f.sections.realms.len(), 1);
    }

    #[cfg(feature = "router")]
    #[test]
    fn a_full_file_configures_the_router() {
        let config = parse(GOOD).unwrap().router_config();
        assert_eq!(config.transport.max_message_size, 1 << 20);
        assert_eq!(config.transport.queue_capacity, 64);
        assert_eq!(config.transport.queue_bytes, 65536);
        assert_eq!(config.stall_timeout, std::time::Duration::from_millis(1500));
        assert_eq!(config.max_pending_calls, 10);
        let realm = &config.realm_configs[0];
        assert_eq!(realm.roles.len(), 2);
        assert_eq!(realm.auth.len(), 3);
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = parse("[[realms]]\nname = \"r\"\ncolour = \"blue\"\n").unwrap_err();
        assert!(e.contains("colour") && e.contains("line 3"), "{e}");
        let e = parse("[[transports]]\ntype = \"carrier-pigeon\"\nendpoint = \"x\"\n").unwrap_err();
        assert!(e.contains("carrier-pigeon") && e.contains("line 2"), "{e}");
        let e =
            parse("[[realms]]\nname = \"r\"\n[realms.auth.ticket.joe]\nticket = \"t\"\nrole = \"nobody\"\n")
                .unwrap_err();
        assert!(e.contains("auth.ticket.joe") && e.contains("nobody"), "{e}");
        assert!(e.contains("line 5"), "{e}");
        let e = parse("max_message_size = \"big\"\n").unwrap_err();
        assert!(e.contains("max_message_size") || e.contains("line 1"), "{e}");
    }

    #[test]
    fn event_history_is_configured_and_checked() {
        let text = "[[event_history]]\nuri = \"com.example.log.\"\nlimit = 100\n\n[[event_history]]\nuri = \"com.example.state\"\nlimit = 1\n";
        let config = parse(text).unwrap().router_config();
        let got: Vec<(&str, &str, usize)> = config
            .event_history
            .iter()
            .map(|h| (h.uri.as_str(), h.match_policy.as_str(), h.limit))
            .collect();
        assert_eq!(
            got,
            [
                ("com.example.log.", "prefix", 100),
                ("com.example.state", "exact", 1)
            ]
        );
        let e = parse("\n[[event_history]]\nuri = \"wamp.session.\"\nlimit = 5\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("wamp. namespace"), "{e}");
        let e = parse("[[event_history]]\nuri = \"com.x\"\nlimit = 0\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("limit"), "{e}");
    }

    #[test]
    fn semantic_mistakes_are_named() {
        let realm = "[[realms]]\nname = \"r\"\n[[realms.roles]]\nname = \"u\"\n";
        let cases: [(String, &[&str]); 4] = [
            (
                format!("{realm}[realms.auth.wampcra.peter]\nsecret = \"s\"\nrole = \"u\"\nsalt = \"x\"\n"),
                &["line 8", "salt, iterations and keylen"],
            ),
            (
                format!("{realm}[realms.auth.cryptosign.alice]\nauthorized_keys = []\nrole = \"u\"\n"),
                &["line 6", "authorized_keys is empty"],
            ),
            (
                format!("{realm}[realms.auth]\ndynamic = [{{ method = \"magic\", realm = \"a\", procedure = \"p\" }}]\n"),
                &["line 6", "magic", "wampcra"],
            ),
            (
                "[[transports]]\ntype = \"unix\"\nendpoint = \"/tmp/s\"\ntls = { cert = \"c\", key = \"k\" }\n".into(),
                &["line 4", "no tls"],
            ),
        ];
        for (text, wanted) in cases {
            let e = parse(&text).unwrap_err();
            for w in wanted {
                assert!(e.contains(w), "{w:?} not in: {e}");
            }
        }
    }
}
