//! The router configuration file (TOML), in the spirit of Crossbar.io's:
//! transports, realms, roles with permissions, and authentication.
//!
//! ```toml
//! [[transports]]
//! type = "websocket"            # websocket | rawsocket | unix
//! endpoint = "127.0.0.1:8080"   # HOST:PORT, or a path for unix
//! # tls = { cert = "cert.pem", key = "key.pem" }
//!
//! [[realms]]
//! name = "realm1"
//!
//! [[realms.roles]]
//! name = "frontend"
//! permissions = [{ uri = "com.example.", match = "prefix", allow = ["call", "subscribe"] }]
//!
//! [realms.auth.anonymous]
//! role = "frontend"
//!
//! [realms.auth.ticket.joe]
//! ticket = "secret!!!"
//! role = "frontend"
//! ```
//!
//! Unknown keys and wrong types are errors that name the key and its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use wamp_router::auth::{
    Allow, AuthMethod, CryptosignUser, Method, Permission, Role, TicketUser, WampCraUser,
};
use wamp_router::RealmConfig;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub transports: Vec<TransportEntry>,
    #[serde(default)]
    pub realms: Vec<RealmEntry>,
    /// Largest message accepted, in bytes.
    pub max_message_size: Option<usize>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TransportType {
    Websocket,
    Rawsocket,
    Unix,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportEntry {
    #[serde(rename = "type")]
    pub kind: TransportType,
    pub endpoint: String,
    pub tls: Option<TlsEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsEntry {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmEntry {
    pub name: String,
    #[serde(default)]
    pub roles: Vec<RoleEntry>,
    #[serde(default)]
    pub auth: AuthEntry,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleEntry {
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<PermissionEntry>,
    /// A procedure deciding every action of this role (dynamic authorizer).
    pub authorizer: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum ActionName {
    Call,
    Register,
    Publish,
    Subscribe,
}

#[derive(Debug, Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
pub enum MatchName {
    #[default]
    Exact,
    Prefix,
    Wildcard,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionEntry {
    pub uri: String,
    #[serde(default, rename = "match")]
    pub match_policy: MatchName,
    pub allow: Vec<ActionName>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthEntry {
    pub anonymous: Option<AnonymousEntry>,
    #[serde(default)]
    pub ticket: BTreeMap<String, TicketEntry>,
    #[serde(default)]
    pub wampcra: BTreeMap<String, WampCraEntry>,
    #[serde(default)]
    pub cryptosign: BTreeMap<String, CryptosignEntry>,
    /// Methods decided by a procedure: `{ method = "ticket", realm = "auth", procedure = "com.example.authenticate" }`.
    #[serde(default)]
    pub dynamic: Vec<DynamicEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnonymousEntry {
    pub role: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketEntry {
    pub ticket: String,
    pub role: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WampCraEntry {
    pub secret: String,
    pub role: String,
    pub salt: Option<String>,
    pub iterations: Option<u32>,
    pub keylen: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CryptosignEntry {
    pub authorized_keys: Vec<String>,
    pub role: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicEntry {
    pub method: String,
    pub realm: String,
    pub procedure: String,
}

/// Reads and checks a configuration file; errors name the file, key and line.
pub fn load(path: &Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses configuration text.
pub fn parse(text: &str) -> Result<ConfigFile, String> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
    for realm in &file.realms {
        realm_config(realm)?;
    }
    Ok(file)
}

/// The router's view of one realm entry.
pub fn realm_config(r: &RealmEntry) -> Result<RealmConfig, String> {
    let mut realm = RealmConfig::new(r.name.clone());
    for role in &r.roles {
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
    let roles: Vec<&str> = r.roles.iter().map(|r| r.name.as_str()).collect();
    let check_role = |who: &str, role: &str| {
        if roles.contains(&role) {
            Ok(())
        } else {
            Err(format!(
                "realm {:?}: {who} has role {role:?}, which is not among the realm's roles {roles:?}",
                r.name
            ))
        }
    };
    let a = &r.auth;
    if let Some(anon) = &a.anonymous {
        check_role("auth.anonymous", &anon.role)?;
        realm = realm.auth(AuthMethod::anonymous(anon.role.clone()));
    }
    if !a.ticket.is_empty() {
        for (id, u) in &a.ticket {
            check_role(&format!("auth.ticket.{id}"), &u.role)?;
        }
        realm =
            realm.auth(AuthMethod::ticket(a.ticket.iter().map(|(id, u)| {
                (id.clone(), TicketUser::new(u.ticket.clone(), u.role.clone()))
            })));
    }
    if !a.wampcra.is_empty() {
        let mut users = Vec::new();
        for (id, u) in &a.wampcra {
            check_role(&format!("auth.wampcra.{id}"), &u.role)?;
            let mut user = WampCraUser::new(u.secret.clone(), u.role.clone());
            match (&u.salt, u.iterations, u.keylen) {
                (Some(salt), Some(i), Some(k)) => user = user.salted(salt.clone(), i, k),
                (None, None, None) => {}
                _ => {
                    return Err(format!(
                    "realm {:?}: auth.wampcra.{id}: a salted secret needs all of salt, iterations and keylen",
                    r.name
                ))
                }
            }
            users.push((id.clone(), user));
        }
        realm = realm.auth(AuthMethod::wampcra(users));
    }
    if !a.cryptosign.is_empty() {
        let mut users = Vec::new();
        for (id, u) in &a.cryptosign {
            check_role(&format!("auth.cryptosign.{id}"), &u.role)?;
            let mut keys = u.authorized_keys.iter();
            let first = keys.next().ok_or_else(|| {
                format!(
                    "realm {:?}: auth.cryptosign.{id}: authorized_keys is empty",
                    r.name
                )
            })?;
            let mut user = CryptosignUser::new(first.clone(), u.role.clone());
            for k in keys {
                user = user.key(k.clone());
            }
            users.push((id.clone(), user));
        }
        realm = realm.auth(AuthMethod::cryptosign(users));
    }
    for d in &a.dynamic {
        let method = Method::parse(&d.method).ok_or_else(|| {
            format!(
                "realm {:?}: auth.dynamic: unknown method {:?} (anonymous, ticket, wampcra, cryptosign)",
                r.name, d.method
            )
        })?;
        realm = realm.auth(AuthMethod::dynamic(method, d.realm.clone(), d.procedure.clone()));
    }
    Ok(realm)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
max_message_size = 1048576

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

    #[test]
    fn a_full_file_parses() {
        let f = parse(GOOD).unwrap();
        assert_eq!(f.transports.len(), 2);
        assert_eq!(f.max_message_size, Some(1 << 20));
        let realm = realm_config(&f.realms[0]).unwrap();
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
        let e = parse("max_message_size = \"big\"\n").unwrap_err();
        assert!(e.contains("max_message_size") || e.contains("line 1"), "{e}");
    }
}
