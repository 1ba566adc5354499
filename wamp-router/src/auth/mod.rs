//! Authentication of joining sessions (anonymous, WAMP-Ticket, WAMP-CRA,
//! WAMP-Cryptosign; static users or a dynamic authenticator procedure) and
//! the configuration of realms: users, roles and permissions.
//!
//! The opening handshake after HELLO: the router picks the first method
//! the client offers that the realm has configured, sends CHALLENGE (not
//! for anonymous), checks AUTHENTICATE, and answers WELCOME with `authid`,
//! `authrole`, `authmethod`, `authprovider` (`static` or `dynamic`) and
//! `authextra`, or ABORT. Refusals use Crossbar.io's reasons:
//! `wamp.error.no_auth_method` when no offered method is configured,
//! `wamp.error.not_authorized` for an unknown user or a wrong secret,
//! `wamp.error.no_such_role` for a role the realm does not have, and the
//! error a dynamic authenticator raised.

pub(crate) mod config;
mod cryptosign;
mod wampcra;

use std::sync::Arc;
use wamp_proto::msg;

use wamp_proto::transport::Connection;
use wamp_proto::{error_uri, Dict, HelloDetails, Id, List, Message, Value};

pub use config::{
    Action, Allow, AuthMethod, CraSalt, CryptosignUser, DynamicAuthenticator, Method, Permission,
    RealmConfig, Role, TicketUser, WampCraUser,
};
pub use wampcra::{compute_wcs, derive_key};

use crate::dealer::InternalError;
use crate::realm::Realm;
use crate::RouterInner;

/// Who a session is, once authenticated.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub authid: String,
    pub authrole: String,
    pub authmethod: Method,
    pub authprovider: &'static str,
    pub authextra: Option<Dict>,
    /// `type` and `peer` of the transport (shared with the realm's entry
    /// of the session).
    pub transport: Arc<TransportInfo>,
}

/// The transport a session came over, as the meta API and authorizers
/// describe it (the `transport` details: `type` and `peer`). Kept as
/// fields and made into a map when asked for: a map kept per session would
/// cost a B-tree node (about 700 bytes) for two entries.
#[derive(Debug, Clone)]
pub(crate) struct TransportInfo {
    kind: wamp_proto::transport::TransportKind,
    peer: Option<String>,
}

impl TransportInfo {
    pub(crate) fn of(conn: &Connection) -> Self {
        TransportInfo {
            kind: conn.kind,
            peer: conn.peer.clone(),
        }
    }

    /// The `transport` details: `{"type": ..., "peer": ...}` (`peer` when
    /// there is one).
    pub(crate) fn to_dict(&self) -> Dict {
        let mut transport = Dict::new();
        transport.insert("type".into(), Value::Str(self.kind.to_string()));
        if let Some(peer) = &self.peer {
            transport.insert("peer".into(), Value::Str(peer.clone()));
        }
        transport
    }
}

impl Identity {
    /// The session's details as authorizers get them (Crossbar's keys).
    pub fn details(&self, sid: Id, realm: &str) -> Dict {
        let mut d = Dict::new();
        d.insert("session".into(), Value::UInt(sid));
        d.insert("realm".into(), Value::Str(realm.to_owned()));
        d.insert("authid".into(), Value::Str(self.authid.clone()));
        d.insert("authrole".into(), Value::Str(self.authrole.clone()));
        d.insert("authmethod".into(), Value::Str(self.authmethod.as_str().into()));
        d.insert("authprovider".into(), Value::Str(self.authprovider.into()));
        d.insert(
            "authextra".into(),
            self.authextra.clone().map(Value::Dict).unwrap_or(Value::Null),
        );
        d.insert("transport".into(), Value::Dict(self.transport.to_dict()));
        d
    }
}

/// Why a session was not let in.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Answer ABORT with this reason and message.
    Deny { reason: String, message: String },
    /// The client went away (or aborted): nothing to answer.
    Gone,
}

fn deny(reason: &str, message: impl Into<String>) -> Failure {
    Failure::Deny {
        reason: reason.to_owned(),
        message: message.into(),
    }
}

fn not_authorized(message: impl Into<String>) -> Failure {
    deny(error_uri::NOT_AUTHORIZED, message)
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One authentication in progress.
struct Pending<'a> {
    router: &'a RouterInner,
    realm: &'a Arc<Realm>,
    sid: Id,
    hello: &'a HelloDetails,
    conn: &'a mut Connection,
    transport: Arc<TransportInfo>,
}

/// Authenticates the session that sent HELLO `hello` for `realm`.
pub(crate) async fn authenticate(
    router: &RouterInner,
    realm: &Arc<Realm>,
    sid: Id,
    hello: &HelloDetails,
    conn: &mut Connection,
) -> Result<Identity, Failure> {
    let offered: Vec<String> = match &hello.authmethods {
        Some(m) if !m.is_empty() => m.clone(),
        _ => vec!["anonymous".to_owned()],
    };
    let config = realm.config();
    let Some(method) = offered
        .iter()
        .filter_map(|m| Method::parse(m))
        .find_map(|m| config.method(m))
    else {
        let enabled: Vec<&str> = config.auth.iter().map(|m| m.kind().as_str()).collect();
        return Err(deny(
            error_uri::NO_AUTH_METHOD,
            format!(
                "cannot authenticate using any of the offered authmethods {offered:?} (enabled: {enabled:?})"
            ),
        ));
    };
    let transport = Arc::new(TransportInfo::of(conn));
    let mut p = Pending {
        router,
        realm,
        sid,
        hello,
        conn,
        transport,
    };
    let identity = match method {
        AuthMethod::Anonymous { role } => p.identity(
            p.hello
                .authid
                .clone()
                .unwrap_or_else(|| format!("anonymous-{sid}")),
            role.clone(),
            Method::Anonymous,
            "static",
            None,
        ),
        AuthMethod::Ticket(users) => {
            let authid = p.authid()?;
            let user = users.get(&authid).ok_or_else(|| no_principal(&authid))?;
            let ticket = p.challenge(Method::Ticket, Dict::new()).await?;
            if !same_secret(&ticket, &user.ticket) {
                return Err(not_authorized(
                    "ticket in static WAMP-Ticket authentication is invalid",
                ));
            }
            p.identity(
                authid,
                user.role.clone(),
                Method::Ticket,
                "static",
                user.extra.clone(),
            )
        }
        AuthMethod::WampCra(users) => {
            let authid = p.authid()?;
            let user = users.get(&authid).ok_or_else(|| no_principal(&authid))?;
            p.wampcra(&authid, &user.role, "static", &user.secret, user.salt.as_ref())
                .await?;
            p.identity(
                authid,
                user.role.clone(),
                Method::WampCra,
                "static",
                user.extra.clone(),
            )
        }
        AuthMethod::Cryptosign(users) => {
            let pubkey = p.pubkey()?;
            let authid = match p.hello.authid.clone() {
                Some(a) => a,
                None => {
                    // Identify the user by the key, as Crossbar does.
                    let Some(pk) = &pubkey else {
                        return Err(not_authorized(
                            "cannot identify client: no authid requested and no extra.pubkey provided",
                        ));
                    };
                    let mut owners = users
                        .iter()
                        .filter(|(_, u)| u.authorized_keys.iter().any(|k| k.eq_ignore_ascii_case(pk)));
                    match (owners.next(), owners.next()) {
                        (Some((a, _)), None) => a.clone(),
                        (Some(_), Some(_)) => {
                            return Err(not_authorized(
                                "cannot infer client identity from pubkey: multiple authids have this pubkey",
                            ))
                        }
                        (None, _) => {
                            return Err(not_authorized(
                                "cannot identify client: no authid requested and no principal found for provided extra.pubkey",
                            ))
                        }
                    }
                }
            };
            let user = users.get(&authid).ok_or_else(|| no_principal(&authid))?;
            let key =
                match (&pubkey, user.authorized_keys.as_slice()) {
                    (Some(pk), keys) if keys.iter().any(|k| k.eq_ignore_ascii_case(pk)) => pk.clone(),
                    (Some(_), _) => return Err(not_authorized(
                        "extra.pubkey provided does not match any one of authorized_keys for the principal",
                    )),
                    (None, [only]) => only.clone(),
                    (None, _) => return Err(not_authorized("no extra.pubkey provided")),
                };
            p.cryptosign(&key).await?;
            p.identity(
                authid,
                user.role.clone(),
                Method::Cryptosign,
                "static",
                user.extra.clone(),
            )
        }
        AuthMethod::Dynamic {
            method,
            authenticator,
        } => p.dynamic(*method, authenticator).await?,
    };
    if !realm.has_role(&identity.authrole) {
        return Err(deny(
            error_uri::NO_SUCH_ROLE,
            format!("realm \"{}\" has no role \"{}\"", realm.name(), identity.authrole),
        ));
    }
    Ok(identity)
}

fn no_principal(authid: &str) -> Failure {
    not_authorized(format!("no principal with authid \"{authid}\" exists"))
}

impl Pending<'_> {
    fn identity(
        &self,
        authid: String,
        authrole: String,
        authmethod: Method,
        authprovider: &'static str,
        authextra: Option<Dict>,
    ) -> Identity {
        Identity {
            authid,
            authrole,
            authmethod,
            authprovider,
            authextra,
            transport: self.transport.clone(),
        }
    }

    /// The authid HELLO asked for; static users need one.
    fn authid(&self) -> Result<String, Failure> {
        self.hello
            .authid
            .clone()
            .ok_or_else(|| not_authorized("no authid given in HELLO"))
    }

    /// HELLO.Details.authextra.pubkey, after refusing channel binding
    /// (this router has no TLS channel ID to bind to).
    fn pubkey(&self) -> Result<Option<String>, Failure> {
        let extra = self.hello.authextra.as_ref();
        if let Some(b) = extra
            .and_then(|e| e.get("channel_binding"))
            .filter(|b| !b.is_null())
        {
            return Err(not_authorized(format!("channel binding {b} is not supported")));
        }
        Ok(extra
            .and_then(|e| e.get("pubkey"))
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// Sends CHALLENGE and returns AUTHENTICATE.Signature.
    async fn challenge(&mut self, method: Method, extra: Dict) -> Result<String, Failure> {
        let challenge = Message::Challenge(msg::Challenge {
            authmethod: method.as_str().to_owned(),
            extra,
        });
        if self.conn.sender.send(challenge).await.is_err() {
            return Err(Failure::Gone);
        }
        let limit = self.router.config.hello_timeout;
        match tokio::time::timeout(limit, self.conn.receiver.recv()).await {
            Ok(Some(Message::Authenticate(msg::Authenticate { signature, .. }))) => Ok(signature),
            Ok(Some(Message::Abort(msg::Abort { .. }))) | Ok(None) => Err(Failure::Gone),
            Ok(Some(other)) => Err(deny(
                error_uri::PROTOCOL_VIOLATION,
                format!("expected AUTHENTICATE, got {}", other.message_type()),
            )),
            Err(_) => Err(deny(
                error_uri::AUTHENTICATION_FAILED,
                format!("no AUTHENTICATE within {limit:?}"),
            )),
        }
    }

    async fn wampcra(
        &mut self,
        authid: &str,
        authrole: &str,
        provider: &str,
        secret: &str,
        salt: Option<&CraSalt>,
    ) -> Result<(), Failure> {
        let c = wampcra::challenge(authid, authrole, provider, self.sid, secret, salt);
        let signature = self.challenge(Method::WampCra, c.extra).await?;
        if same_secret(&signature, &c.expected) {
            Ok(())
        } else {
            Err(not_authorized("WAMP-CRA client signature is invalid"))
        }
    }

    async fn cryptosign(&mut self, pubkey: &str) -> Result<(), Failure> {
        let key = cryptosign::public_key(pubkey).map_err(|e| deny(error_uri::AUTHENTICATION_FAILED, e))?;
        let (challenge, extra) = cryptosign::challenge();
        let signature = self.challenge(Method::Cryptosign, extra).await?;
        cryptosign::verify(&key, &challenge, &signature).map_err(not_authorized)
    }

    /// Authentication by a procedure (Crossbar's dynamic authenticators).
    async fn dynamic(&mut self, method: Method, auth: &DynamicAuthenticator) -> Result<Identity, Failure> {
        match method {
            Method::Ticket => {
                // The ticket is needed first: challenge, then ask.
                let ticket = self.challenge(Method::Ticket, Dict::new()).await?;
                let principal = self.ask(method, auth, Some(ticket)).await?;
                Ok(self.identity(
                    principal.authid,
                    principal.role,
                    method,
                    "dynamic",
                    principal.extra,
                ))
            }
            Method::Anonymous => {
                let mut principal = self.ask(method, auth, None).await?;
                if principal.authid.is_empty() {
                    principal.authid = format!("anonymous-{}", self.sid);
                }
                Ok(self.identity(
                    principal.authid,
                    principal.role,
                    method,
                    "dynamic",
                    principal.extra,
                ))
            }
            Method::WampCra => {
                let principal = self.ask(method, auth, None).await?;
                let Some(secret) = principal.rest.get("secret").and_then(Value::as_str) else {
                    return Err(deny(
                        error_uri::AUTHENTICATION_FAILED,
                        "dynamic authenticator returned no \"secret\" for WAMP-CRA",
                    ));
                };
                let salt = match principal.rest.get("salt").and_then(Value::as_str) {
                    Some(salt) => Some(CraSalt {
                        salt: salt.to_owned(),
                        iterations: uint(&principal.rest, "iterations", 1000)?,
                        keylen: uint(&principal.rest, "keylen", 32)?,
                    }),
                    None => None,
                };
                self.wampcra(
                    &principal.authid,
                    &principal.role,
                    "dynamic",
                    secret,
                    salt.as_ref(),
                )
                .await?;
                Ok(self.identity(
                    principal.authid,
                    principal.role,
                    method,
                    "dynamic",
                    principal.extra,
                ))
            }
            Method::Cryptosign => {
                self.pubkey()?; // refuses channel binding
                let principal = self.ask(method, auth, None).await?;
                let Some(pubkey) = principal.rest.get("pubkey").and_then(Value::as_str) else {
                    return Err(deny(
                        error_uri::AUTHENTICATION_FAILED,
                        "dynamic authenticator returned no \"pubkey\" for cryptosign",
                    ));
                };
                self.cryptosign(pubkey).await?;
                Ok(self.identity(
                    principal.authid,
                    principal.role,
                    method,
                    "dynamic",
                    principal.extra,
                ))
            }
        }
    }

    /// Calls the authenticator with `(realm, authid, details)`.
    async fn ask(
        &mut self,
        method: Method,
        auth: &DynamicAuthenticator,
        ticket: Option<String>,
    ) -> Result<Principal, Failure> {
        let Some(auth_realm) = self.router.realm(&auth.realm) else {
            return Err(deny(
                error_uri::NO_SUCH_REALM,
                format!(
                    "realm \"{}\" configured for the dynamic authenticator does not exist",
                    auth.realm
                ),
            ));
        };
        let hello = self.hello;
        let opt = |v: &Option<String>| v.clone().map(Value::Str).unwrap_or(Value::Null);
        let mut details = Dict::new();
        details.insert("session".into(), Value::UInt(self.sid));
        details.insert("authmethod".into(), Value::Str(method.as_str().into()));
        details.insert("authid".into(), opt(&hello.authid));
        details.insert("authrole".into(), opt(&hello.authrole));
        details.insert(
            "authextra".into(),
            hello.authextra.clone().map(Value::Dict).unwrap_or(Value::Null),
        );
        details.insert("transport".into(), Value::Dict(self.transport.to_dict()));
        if let Some(ticket) = ticket {
            details.insert("ticket".into(), Value::Str(ticket));
        }
        let args: List = vec![
            Value::Str(self.realm.name().to_owned()),
            opt(&hello.authid),
            Value::Dict(details),
        ];
        let timeout = self.router.config.internal_call_timeout;
        let (args, kwargs) = auth_realm
            .call(&auth.procedure, args, Dict::new(), timeout)
            .await
            .map_err(|e| {
                let InternalError { error, .. } = &e;
                let message = e
                    .message()
                    .unwrap_or_else(|| format!("dynamic authenticator {} failed", auth.procedure));
                deny(error, message)
            })?;
        let returned = match args.into_iter().next() {
            Some(v) => v,
            None if !kwargs.is_empty() => Value::Dict(kwargs),
            None => Value::Null,
        };
        let principal = Principal::parse(returned, hello.authid.as_deref())?;
        if principal.authid.is_empty() && method != Method::Anonymous {
            return Err(deny(error_uri::NO_SUCH_PRINCIPAL, "no authid assigned"));
        }
        Ok(principal)
    }
}

fn uint(d: &Dict, key: &str, default: u32) -> Result<u32, Failure> {
    match d.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
            deny(
                error_uri::AUTHENTICATION_FAILED,
                format!("dynamic authenticator returned an invalid \"{key}\""),
            )
        }),
    }
}

/// What a dynamic authenticator returned.
struct Principal {
    authid: String,
    role: String,
    extra: Option<Dict>,
    /// Method-specific keys (`secret`, `salt`, `pubkey`, ...).
    rest: Dict,
}

impl Principal {
    fn parse(v: Value, asked_authid: Option<&str>) -> Result<Principal, Failure> {
        let mut d = match v {
            // Backwards compatibility in Crossbar: a bare role.
            Value::Str(role) => {
                let mut d = Dict::new();
                d.insert("role".into(), Value::Str(role));
                d
            }
            Value::Dict(d) => d,
            other => {
                return Err(deny(
                    error_uri::AUTHENTICATION_FAILED,
                    format!(
                        "got invalid return type {} from dynamic authenticator",
                        other.kind()
                    ),
                ))
            }
        };
        let Some(Value::Str(role)) = d.remove("role") else {
            return Err(deny(error_uri::NO_SUCH_ROLE, "no authrole assigned"));
        };
        let authid = match d.remove("authid") {
            Some(Value::Str(a)) => a,
            _ => asked_authid.unwrap_or_default().to_owned(),
        };
        let extra = match d.remove("extra") {
            Some(Value::Dict(e)) => Some(e),
            _ => None,
        };
        Ok(Principal {
            authid,
            role,
            extra,
            rest: d,
        })
    }
}
