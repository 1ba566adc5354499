//! How a realm authenticates sessions and what each role may do: the
//! static users and roles of a realm, and the procedures that decide
//! dynamically. The shapes follow Crossbar.io's configuration (users per
//! method, roles with `{uri, match, allow}` permissions, `authenticator`
//! and `authorizer` procedures).

use std::collections::BTreeMap;
use std::fmt;

use wamp_proto::uri::MatchPolicy;
use wamp_proto::Dict;

/// The authentication and authorization of one realm.
///
/// ```
/// use wamp_router::auth::{Allow, AuthMethod, Permission, Role, TicketUser};
/// use wamp_router::{RealmConfig, Router, RouterConfig};
///
/// let realm = RealmConfig::new("realm1")
///     .auth(AuthMethod::ticket([("joe", TicketUser::new("secret!", "frontend"))]))
///     .role(Role::new("frontend").permit(Permission::prefix(
///         "com.example.",
///         Allow { call: true, subscribe: true, ..Allow::NONE },
///     )));
/// let router = Router::new(RouterConfig::default().realm_with(realm));
/// # let _ = router;
/// ```
#[derive(Debug, Clone)]
pub struct RealmConfig {
    /// The realm's name.
    pub name: String,
    /// The authentication methods the realm accepts. A client's HELLO
    /// offers methods in order of preference; the first one configured here
    /// is used (as Crossbar.io does). Empty: nobody can join.
    pub auth: Vec<AuthMethod>,
    /// The roles sessions may be given, with what each may do.
    pub roles: Vec<Role>,
}

impl RealmConfig {
    /// A realm with no authentication method and no role (nobody can join
    /// until some are added).
    pub fn new(name: impl Into<String>) -> Self {
        RealmConfig {
            name: name.into(),
            auth: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// An open realm: anonymous sessions get role `anonymous`, which may do
    /// anything. This is what [`RouterConfig::realm`](crate::RouterConfig::realm) creates.
    pub fn open(name: impl Into<String>) -> Self {
        RealmConfig::new(name)
            .auth(AuthMethod::anonymous("anonymous"))
            .role(Role::full_access("anonymous"))
    }

    /// Adds an authentication method.
    pub fn auth(mut self, method: AuthMethod) -> Self {
        self.auth.push(method);
        self
    }

    /// Adds a role (replacing one of the same name).
    pub fn role(mut self, role: Role) -> Self {
        self.roles.retain(|r| r.name != role.name);
        self.roles.push(role);
        self
    }

    /// The first configured method of this kind.
    pub(crate) fn method(&self, kind: Method) -> Option<&AuthMethod> {
        self.auth.iter().find(|m| m.kind() == kind)
    }
}

/// The authentication methods, by their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `anonymous`: no credentials.
    Anonymous,
    /// `ticket`: a shared secret sent as is (use over TLS).
    Ticket,
    /// `wampcra`: challenge-response with HMAC-SHA256, optionally with a
    /// PBKDF2-salted secret.
    WampCra,
    /// `cryptosign`: an Ed25519 signature of a random challenge.
    Cryptosign,
}

impl Method {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Anonymous => "anonymous",
            Method::Ticket => "ticket",
            Method::WampCra => "wampcra",
            Method::Cryptosign => "cryptosign",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "anonymous" => Method::Anonymous,
            "ticket" => Method::Ticket,
            "wampcra" => Method::WampCra,
            "cryptosign" => Method::Cryptosign,
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One authentication method of a realm, with its users (static) or the
/// procedure that authenticates (dynamic).
#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// Anyone may join with this role. The authid is the one asked for in
    /// HELLO, or `anonymous-<session id>`.
    Anonymous {
        /// The role given.
        role: String,
    },
    /// WAMP-Ticket users by authid.
    Ticket(BTreeMap<String, TicketUser>),
    /// WAMP-CRA users by authid.
    WampCra(BTreeMap<String, WampCraUser>),
    /// WAMP-Cryptosign users by authid.
    Cryptosign(BTreeMap<String, CryptosignUser>),
    /// A procedure authenticates sessions of this method, as Crossbar's
    /// dynamic authenticators do; see [`DynamicAuthenticator`].
    Dynamic {
        /// The method authenticated.
        method: Method,
        /// The procedure asked.
        authenticator: DynamicAuthenticator,
    },
}

fn users<K: Into<String>, U>(users: impl IntoIterator<Item = (K, U)>) -> BTreeMap<String, U> {
    users.into_iter().map(|(k, u)| (k.into(), u)).collect()
}

impl AuthMethod {
    /// Anonymous authentication with a role.
    pub fn anonymous(role: impl Into<String>) -> Self {
        AuthMethod::Anonymous { role: role.into() }
    }

    /// WAMP-Ticket with static users `(authid, user)`.
    pub fn ticket<K: Into<String>>(u: impl IntoIterator<Item = (K, TicketUser)>) -> Self {
        AuthMethod::Ticket(users(u))
    }

    /// WAMP-CRA with static users `(authid, user)`.
    pub fn wampcra<K: Into<String>>(u: impl IntoIterator<Item = (K, WampCraUser)>) -> Self {
        AuthMethod::WampCra(users(u))
    }

    /// WAMP-Cryptosign with static users `(authid, user)`.
    pub fn cryptosign<K: Into<String>>(u: impl IntoIterator<Item = (K, CryptosignUser)>) -> Self {
        AuthMethod::Cryptosign(users(u))
    }

    /// `method` authenticated by calling `procedure`, registered in `realm`.
    pub fn dynamic(method: Method, realm: impl Into<String>, procedure: impl Into<String>) -> Self {
        AuthMethod::Dynamic {
            method,
            authenticator: DynamicAuthenticator {
                realm: realm.into(),
                procedure: procedure.into(),
            },
        }
    }

    /// The method this configures.
    pub fn kind(&self) -> Method {
        match self {
            AuthMethod::Anonymous { .. } => Method::Anonymous,
            AuthMethod::Ticket(_) => Method::Ticket,
            AuthMethod::WampCra(_) => Method::WampCra,
            AuthMethod::Cryptosign(_) => Method::Cryptosign,
            AuthMethod::Dynamic { method, .. } => *method,
        }
    }
}

/// A procedure that authenticates sessions, like Crossbar's dynamic
/// authenticators. The router calls it itself (no session of its own) with
/// `(realm, authid, details)`, where `details` holds `session`,
/// `authmethod`, `authid`, `authrole` and `authextra` from HELLO,
/// `transport` (`type`, `peer`) and, for ticket, the `ticket` the client
/// sent.
///
/// It returns a role name, or a dictionary with `role` and optionally
/// `authid` (overriding the one asked for), `extra` (sent in WELCOME as
/// `authextra`), and what the method needs: for WAMP-CRA `secret` (and
/// `salt`, `iterations`, `keylen` for a salted secret), for cryptosign
/// `pubkey` (hex). Ticket and anonymous need nothing more. An error it
/// raises refuses the session with that error as the ABORT reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicAuthenticator {
    /// The realm the procedure is registered in.
    pub realm: String,
    /// The procedure's URI.
    pub procedure: String,
}

/// A WAMP-Ticket user.
#[derive(Clone)]
pub struct TicketUser {
    /// The ticket (a shared secret).
    pub ticket: String,
    /// The role given.
    pub role: String,
    /// Sent to the client in WELCOME as `authextra`.
    pub extra: Option<Dict>,
}

impl TicketUser {
    /// A user with a ticket and a role.
    pub fn new(ticket: impl Into<String>, role: impl Into<String>) -> Self {
        TicketUser {
            ticket: ticket.into(),
            role: role.into(),
            extra: None,
        }
    }

    /// Sets the `authextra` of WELCOME.
    pub fn extra(mut self, extra: Dict) -> Self {
        self.extra = Some(extra);
        self
    }
}

impl fmt::Debug for TicketUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketUser")
            .field("ticket", &"<redacted>")
            .field("role", &self.role)
            .field("extra", &self.extra)
            .finish()
    }
}

/// A WAMP-CRA user.
#[derive(Clone)]
pub struct WampCraUser {
    /// The secret (password). With [`salt`](Self::salt), the HMAC key is
    /// derived from it with PBKDF2 (both sides derive it), as in Crossbar.io.
    pub secret: String,
    /// The role given.
    pub role: String,
    /// PBKDF2 parameters for a salted secret.
    pub salt: Option<CraSalt>,
    /// Sent to the client in WELCOME as `authextra`.
    pub extra: Option<Dict>,
}

/// PBKDF2-HMAC-SHA256 parameters of a salted WAMP-CRA secret, sent to the
/// client in CHALLENGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CraSalt {
    /// The salt (its UTF-8 bytes are used).
    pub salt: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Length of the derived key in bytes.
    pub keylen: u32,
}

impl WampCraUser {
    /// A user with a secret and a role.
    pub fn new(secret: impl Into<String>, role: impl Into<String>) -> Self {
        WampCraUser {
            secret: secret.into(),
            role: role.into(),
            salt: None,
            extra: None,
        }
    }

    /// Salts the secret: the key is PBKDF2-HMAC-SHA256(secret, salt,
    /// iterations, keylen), base64-encoded (Autobahn's `derive_key`).
    pub fn salted(mut self, salt: impl Into<String>, iterations: u32, keylen: u32) -> Self {
        self.salt = Some(CraSalt {
            salt: salt.into(),
            iterations,
            keylen,
        });
        self
    }

    /// Sets the `authextra` of WELCOME.
    pub fn extra(mut self, extra: Dict) -> Self {
        self.extra = Some(extra);
        self
    }
}

impl fmt::Debug for WampCraUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WampCraUser")
            .field("secret", &"<redacted>")
            .field("role", &self.role)
            .field("salt", &self.salt)
            .field("extra", &self.extra)
            .finish()
    }
}

/// A WAMP-Cryptosign user.
#[derive(Debug, Clone)]
pub struct CryptosignUser {
    /// Ed25519 public keys (hex, 64 characters) the user may sign with.
    pub authorized_keys: Vec<String>,
    /// The role given.
    pub role: String,
    /// Sent to the client in WELCOME as `authextra`.
    pub extra: Option<Dict>,
}

impl CryptosignUser {
    /// A user with one public key (hex) and a role.
    pub fn new(public_key_hex: impl Into<String>, role: impl Into<String>) -> Self {
        CryptosignUser {
            authorized_keys: vec![public_key_hex.into()],
            role: role.into(),
            extra: None,
        }
    }

    /// Authorizes another public key (hex).
    pub fn key(mut self, public_key_hex: impl Into<String>) -> Self {
        self.authorized_keys.push(public_key_hex.into());
        self
    }

    /// Sets the `authextra` of WELCOME.
    pub fn extra(mut self, extra: Dict) -> Self {
        self.extra = Some(extra);
        self
    }
}

/// A role: what its sessions may do, decided by static permissions or by
/// a dynamic authorizer procedure.
#[derive(Debug, Clone)]
pub struct Role {
    /// The role's name (the `authrole` of its sessions).
    pub name: String,
    /// What the role may do when there is no authorizer. The permission
    /// that applies to a URI is the best match, in Crossbar.io's order: an
    /// exact match, then the most specific matching wildcard, then the
    /// longest prefix (the empty prefix last). No match: denied.
    pub permissions: Vec<Permission>,
    /// A procedure of the same realm that decides every action of the role
    /// (the permissions are then not consulted), as Crossbar's dynamic
    /// authorizers do. It is called with `(session, uri, action, options)`:
    /// `session` a dictionary (`session`, `realm`, `authid`, `authrole`,
    /// `authmethod`, `authprovider`, `authextra`, `transport`), `action`
    /// one of `call`, `register`, `publish`, `subscribe`, `options` the
    /// request's options. It returns a boolean or `{"allow": bool}`; an
    /// error, or anything else, fails the request with
    /// `wamp.error.authorization_failed`. Nothing is cached. The
    /// authorizer's own callee must be in a role with static permissions.
    pub authorizer: Option<String>,
}

impl Role {
    /// A role with no permissions yet.
    pub fn new(name: impl Into<String>) -> Self {
        Role {
            name: name.into(),
            permissions: Vec::new(),
            authorizer: None,
        }
    }

    /// A role that may do anything on any URI.
    pub fn full_access(name: impl Into<String>) -> Self {
        Role::new(name).permit(Permission::prefix("", Allow::ALL))
    }

    /// A role whose actions are decided by a procedure (see
    /// [`authorizer`](Self::authorizer)).
    pub fn dynamic(name: impl Into<String>, authorizer: impl Into<String>) -> Self {
        Role {
            authorizer: Some(authorizer.into()),
            ..Role::new(name)
        }
    }

    /// Adds a permission.
    pub fn permit(mut self, permission: Permission) -> Self {
        self.permissions.push(permission);
        self
    }
}

/// What a role may do on the URIs a pattern matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// The URI or pattern (`""` with [`MatchPolicy::Prefix`] matches every URI).
    pub uri: String,
    /// How `uri` matches.
    pub match_policy: MatchPolicy,
    /// The actions allowed.
    pub allow: Allow,
}

impl Permission {
    /// A permission for one URI.
    pub fn exact(uri: impl Into<String>, allow: Allow) -> Self {
        Permission {
            uri: uri.into(),
            match_policy: MatchPolicy::Exact,
            allow,
        }
    }

    /// A permission for every URI starting with `prefix`.
    pub fn prefix(prefix: impl Into<String>, allow: Allow) -> Self {
        Permission {
            uri: prefix.into(),
            match_policy: MatchPolicy::Prefix,
            allow,
        }
    }

    /// A permission for the URIs a wildcard pattern matches (`com..update`).
    pub fn wildcard(pattern: impl Into<String>, allow: Allow) -> Self {
        Permission {
            uri: pattern.into(),
            match_policy: MatchPolicy::Wildcard,
            allow,
        }
    }
}

/// The actions a permission allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allow {
    /// CALL.
    pub call: bool,
    /// REGISTER.
    pub register: bool,
    /// PUBLISH.
    pub publish: bool,
    /// SUBSCRIBE.
    pub subscribe: bool,
}

impl Allow {
    /// Every action.
    pub const ALL: Allow = Allow {
        call: true,
        register: true,
        publish: true,
        subscribe: true,
    };
    /// No action.
    pub const NONE: Allow = Allow {
        call: false,
        register: false,
        publish: false,
        subscribe: false,
    };

    /// Whether `action` is allowed.
    pub fn allows(&self, action: Action) -> bool {
        match action {
            Action::Call => self.call,
            Action::Register => self.register,
            Action::Publish => self.publish,
            Action::Subscribe => self.subscribe,
        }
    }
}

/// An action that needs authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Calling a procedure.
    Call,
    /// Registering a procedure.
    Register,
    /// Publishing to a topic.
    Publish,
    /// Subscribing to a topic.
    Subscribe,
}

impl Action {
    /// The name authorizers get (`call`, `register`, `publish`, `subscribe`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Call => "call",
            Action::Register => "register",
            Action::Publish => "publish",
            Action::Subscribe => "subscribe",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
