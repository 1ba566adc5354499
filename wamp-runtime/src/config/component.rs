//! The `[[components]]` of the file (see the [format](super)): what a
//! [`Component`] needs to join, checked at parse time, with its secrets
//! read when the component is built.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use wamp_proto::transport::Endpoint;
use wamp_proto::{Dict, Serializer, Value};

use super::{ConfigError, ConfigFile, Source};
use crate::auth::{Credentials, CryptosignKey};
use crate::component::{Component, ReconnectPolicy, Transport};
use crate::session::SessionConfig;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ComponentEntry {
    name: Spanned<String>,
    realm: Spanned<String>,
    transports: Spanned<Vec<TransportEntry>>,
    serializers: Option<Spanned<Vec<SerializerName>>>,
    authid: Option<String>,
    authrole: Option<String>,
    authextra: Option<toml::Table>,
    #[serde(default)]
    auth: AuthEntry,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransportEntry {
    url: Spanned<String>,
    max_retries: Option<Spanned<i64>>,
    initial_retry_delay: Option<Spanned<f64>>,
    retry_delay_growth: Option<Spanned<f64>>,
    retry_delay_jitter: Option<Spanned<f64>>,
    max_retry_delay: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum SerializerName {
    Json,
    Msgpack,
    Cbor,
}

/// The methods offered. Each secret is given once: inline, from an
/// environment variable (`*_env`) or, for a key, from a file (`*_file`).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AuthEntry {
    #[serde(default)]
    anonymous: bool,
    ticket: Option<Spanned<String>>,
    ticket_env: Option<Spanned<String>>,
    wampcra: Option<Spanned<WampCraEntry>>,
    cryptosign: Option<Spanned<CryptosignEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WampCraEntry {
    secret: Option<Spanned<String>>,
    secret_env: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CryptosignEntry {
    private_key: Option<Spanned<String>>,
    private_key_env: Option<Spanned<String>>,
    private_key_file: Option<Spanned<String>>,
}

/// Where one secret comes from: the key that gave it (`ticket`,
/// `ticket_env`, `private_key_file`, ...), its dotted path, and its value.
struct Secret<'a> {
    key: &'static str,
    path: String,
    value: &'a Spanned<String>,
}

/// A component of the file, ready to build: its realm, transports (with
/// their reconnect policies) and session settings (serializers, authid,
/// authrole, authextra and credentials, secrets read).
///
/// [`Component::from_config`] builds a [`Component`] from it; a program
/// that wants a plain [`Session`](crate::Session) can use the parts:
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use wamp::config::ConfigFile;
/// use wamp::Session;
///
/// let c = ConfigFile::load("wamp.toml")?.component("frontend")?;
/// let session = Session::connect_with(&c.transports[0].url, &c.realm, c.session).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ComponentConfig {
    /// The component's `name`.
    pub name: String,
    /// The realm to join.
    pub realm: String,
    /// The transports, in file order.
    pub transports: Vec<Transport>,
    /// Serializers, authid, authrole, authextra and credentials; other
    /// settings are [`SessionConfig::default`]'s.
    pub session: SessionConfig,
}

impl ConfigFile {
    /// The component called `name`, with its secrets read from the
    /// environment variables and files the entry names.
    ///
    /// Errors: [`ConfigError::NoSuchComponent`] (listing the names there
    /// are), or [`ConfigError::Invalid`] naming the key and line of a
    /// secret that cannot be read (an unset variable, a missing file, a
    /// malformed key).
    pub fn component(&self, name: &str) -> Result<ComponentConfig, ConfigError> {
        let entry = self
            .sections
            .components
            .iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| ConfigError::NoSuchComponent {
                file: self.source.path.clone(),
                name: name.to_owned(),
                available: self.component_names().into_iter().map(str::to_owned).collect(),
            })?;
        entry.resolve(&self.source, &|var| std::env::var(var).ok())
    }
}

impl Component {
    /// The component called `name` in a configuration file: realm,
    /// transports with their reconnect policies, serializers and
    /// authentication. Add services and hooks, then run it.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use wamp::component::Component;
    /// use wamp::config::ConfigFile;
    ///
    /// let file = ConfigFile::load("wamp.toml")?;
    /// Component::from_config(&file, "backend")?
    ///     .on_ready(|session| async move { println!("ready: session {}", session.id()) })
    ///     .run()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn from_config(file: &ConfigFile, name: &str) -> Result<Component, ConfigError> {
        let c = file.component(name)?;
        Ok(c.transports
            .into_iter()
            .fold(Component::new(c.realm).config(c.session), Component::transport))
    }

    /// [`ConfigFile::load`] then [`from_config`](Self::from_config).
    pub fn from_config_file(path: impl AsRef<Path>, name: &str) -> Result<Component, ConfigError> {
        Self::from_config(&ConfigFile::load(path)?, name)
    }
}

/// Checks every component, and that names are unique.
pub(super) fn check_all(components: &[ComponentEntry], source: &Source) -> Result<(), ConfigError> {
    for (i, c) in components.iter().enumerate() {
        if components[..i].iter().any(|earlier| earlier.name() == c.name()) {
            return Err(source.invalid(
                c.name.span(),
                "components.name",
                format!("a second component named {:?}: names must be unique", c.name()),
            ));
        }
        c.check(source)?;
    }
    Ok(())
}

impl ComponentEntry {
    pub(super) fn name(&self) -> &str {
        self.name.get_ref()
    }

    /// An error about this component's `key` at `span`.
    fn invalid(&self, source: &Source, span: std::ops::Range<usize>, key: &str, why: &str) -> ConfigError {
        source.invalid(span, key, format!("component {:?}: {why}", self.name()))
    }

    /// Checks everything that does not need a secret.
    fn check(&self, source: &Source) -> Result<(), ConfigError> {
        if self.name().is_empty() {
            return Err(self.invalid(source, self.name.span(), "components.name", "the name is empty"));
        }
        if self.realm.get_ref().is_empty() {
            return Err(self.invalid(
                source,
                self.realm.span(),
                "components.realm",
                "the realm is empty",
            ));
        }
        if self.transports.get_ref().is_empty() {
            return Err(self.invalid(
                source,
                self.transports.span(),
                "components.transports",
                "no transports: give at least one `url`",
            ));
        }
        for t in self.transports.get_ref() {
            check_url(t.url.get_ref())
                .map_err(|why| self.invalid(source, t.url.span(), "components.transports.url", &why))?;
            t.policy()
                .map_err(|(span, key, why)| self.invalid(source, span, key, &why))?;
        }
        if let Some(s) = &self.serializers {
            if s.get_ref().is_empty() {
                return Err(self.invalid(
                    source,
                    s.span(),
                    "components.serializers",
                    "no serializers: leave the key out to offer all, or name some of json, msgpack, cbor",
                ));
            }
        }
        let auth = &self.auth;
        if let (Some(cra), None) = (&auth.wampcra, &self.authid) {
            return Err(self.invalid(
                source,
                cra.span(),
                "components.auth.wampcra",
                "WAMP-CRA needs an `authid` (the user whose secret this is)",
            ));
        }
        let ticket = self.ticket(source)?;
        let cra = auth
            .wampcra
            .as_ref()
            .map(|c| self.wampcra_secret(source, c))
            .transpose()?;
        let key = auth
            .cryptosign
            .as_ref()
            .map(|c| self.cryptosign_secret(source, c))
            .transpose()?;
        // Inline secrets can be checked now; the others when they are read.
        let inline = |s: &Secret<'_>| !s.key.ends_with("_env") && !s.key.ends_with("_file");
        for secret in [&ticket, &cra].into_iter().flatten().filter(|s| inline(s)) {
            self.resolve_secret(source, secret, &|_| None)?;
        }
        if let Some(secret) = key.filter(inline) {
            self.cryptosign_key(source, &secret, secret.value.get_ref())?;
        }
        Ok(())
    }

    /// The ticket's source, if a ticket is offered.
    fn ticket(&self, source: &Source) -> Result<Option<Secret<'_>>, ConfigError> {
        let a = &self.auth;
        match (&a.ticket, &a.ticket_env) {
            (Some(t), Some(_)) => Err(self.invalid(
                source,
                t.span(),
                "components.auth.ticket",
                "give `ticket` or `ticket_env`, not both",
            )),
            (Some(value), None) => Ok(Some(Secret {
                key: "ticket",
                path: "components.auth.ticket".into(),
                value,
            })),
            (None, Some(value)) => Ok(Some(Secret {
                key: "ticket_env",
                path: "components.auth.ticket_env".into(),
                value,
            })),
            (None, None) => Ok(None),
        }
    }

    fn wampcra_secret<'a>(
        &self,
        source: &Source,
        cra: &'a Spanned<WampCraEntry>,
    ) -> Result<Secret<'a>, ConfigError> {
        let c = cra.get_ref();
        self.exactly_one(
            source,
            cra.span(),
            "components.auth.wampcra",
            [("secret", &c.secret), ("secret_env", &c.secret_env)],
        )
    }

    fn cryptosign_secret<'a>(
        &self,
        source: &Source,
        cs: &'a Spanned<CryptosignEntry>,
    ) -> Result<Secret<'a>, ConfigError> {
        let c = cs.get_ref();
        self.exactly_one(
            source,
            cs.span(),
            "components.auth.cryptosign",
            [
                ("private_key", &c.private_key),
                ("private_key_env", &c.private_key_env),
                ("private_key_file", &c.private_key_file),
            ],
        )
    }

    /// The one source given for a secret in `table`.
    fn exactly_one<'a, const N: usize>(
        &self,
        source: &Source,
        span: std::ops::Range<usize>,
        table: &str,
        options: [(&'static str, &'a Option<Spanned<String>>); N],
    ) -> Result<Secret<'a>, ConfigError> {
        let mut given = options.iter().filter_map(|(key, v)| {
            v.as_ref().map(|value| Secret {
                key,
                path: format!("{table}.{key}"),
                value,
            })
        });
        match (given.next(), given.next()) {
            (Some(one), None) => Ok(one),
            (first, _) => {
                let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
                let why = if first.is_some() {
                    format!("give one of {} (not several)", names.join(", "))
                } else {
                    format!("give one of {}", names.join(", "))
                };
                Err(self.invalid(source, span, table, &why))
            }
        }
    }

    /// A secret's value: inline, from the environment (through `env`, so
    /// tests need not change the process's), or from a file.
    fn resolve_secret(
        &self,
        source: &Source,
        secret: &Secret<'_>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, ConfigError> {
        let named = secret.value.get_ref();
        let fail = |why: String| self.invalid(source, secret.value.span(), &secret.path, &why);
        let value = if secret.key.ends_with("_env") {
            env(named).ok_or_else(|| fail(format!("environment variable {named} is not set")))?
        } else if secret.key.ends_with("_file") {
            std::fs::read_to_string(named).map_err(|e| fail(format!("cannot read {named}: {e}")))?
        } else {
            named.clone()
        };
        if value.trim().is_empty() {
            let what = if secret.key.ends_with("_env") {
                format!("environment variable {named} is empty")
            } else if secret.key.ends_with("_file") {
                format!("{named} is empty")
            } else {
                "the secret is empty".to_owned()
            };
            return Err(fail(what));
        }
        Ok(value)
    }

    /// A cryptosign key from its hex seed, or from a Crossbar.io/Autobahn
    /// key file (`private-key-ed25519: HEX` among comments and other lines).
    fn cryptosign_key(
        &self,
        source: &Source,
        secret: &Secret<'_>,
        text: &str,
    ) -> Result<CryptosignKey, ConfigError> {
        let hex = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("private-key-ed25519:"))
            .unwrap_or(text);
        CryptosignKey::from_hex(hex.trim()).map_err(|e| {
            let why = format!("{e} (expected the 32-byte seed as 64 hex characters)");
            self.invalid(source, secret.value.span(), &secret.path, &why)
        })
    }

    /// The component with its secrets read.
    pub(super) fn resolve(
        &self,
        source: &Source,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ComponentConfig, ConfigError> {
        let mut session = SessionConfig::default();
        if let Some(s) = &self.serializers {
            session.serializers = s.get_ref().iter().map(|s| s.serializer()).collect();
        }
        session.authid = self.authid.clone();
        session.authrole = self.authrole.clone();
        if let Some(extra) = &self.authextra {
            session.authextra = table_to_dict(extra);
        }
        // Strongest first: a router takes the first method offered that it has.
        let a = &self.auth;
        if let Some(cs) = &a.cryptosign {
            let secret = self.cryptosign_secret(source, cs)?;
            let text = self.resolve_secret(source, &secret, env)?;
            session.auth.push(Credentials::Cryptosign(
                self.cryptosign_key(source, &secret, &text)?,
            ));
        }
        if let Some(cra) = &a.wampcra {
            let secret = self.wampcra_secret(source, cra)?;
            session
                .auth
                .push(Credentials::wampcra(self.resolve_secret(source, &secret, env)?));
        }
        if let Some(secret) = self.ticket(source)? {
            session
                .auth
                .push(Credentials::ticket(self.resolve_secret(source, &secret, env)?));
        }
        if a.anonymous {
            session.auth.push(Credentials::Anonymous);
        }
        let mut transports = Vec::new();
        for t in self.transports.get_ref() {
            let policy = t
                .policy()
                .map_err(|(span, key, why)| self.invalid(source, span, key, &why))?;
            transports.push(Transport::new(t.url.get_ref().clone()).reconnect(policy));
        }
        Ok(ComponentConfig {
            name: self.name().to_owned(),
            realm: self.realm.get_ref().clone(),
            transports,
            session,
        })
    }
}

impl TransportEntry {
    /// The reconnect policy, or the span, key and reason of a bad value.
    fn policy(&self) -> Result<ReconnectPolicy, (std::ops::Range<usize>, &'static str, String)> {
        let mut p = ReconnectPolicy::default();
        if let Some(n) = &self.max_retries {
            if *n.get_ref() < -1 {
                return Err((
                    n.span(),
                    "components.transports.max_retries",
                    format!(
                        "{} is not a retry count: use -1 (forever), 0 (never) or more",
                        n.get_ref()
                    ),
                ));
            }
            p.max_retries = *n.get_ref();
        }
        let seconds = |v: &Option<Spanned<f64>>, key: &'static str, default: Duration| match v {
            None => Ok(default),
            // Duration::from_secs_f64 would panic on these.
            Some(s) => Duration::try_from_secs_f64(*s.get_ref()).map_err(|_| {
                (
                    s.span(),
                    key,
                    format!(
                        "{} is not a delay: give a number of seconds, 0 or more",
                        s.get_ref()
                    ),
                )
            }),
        };
        p.initial_retry_delay = seconds(
            &self.initial_retry_delay,
            "components.transports.initial_retry_delay",
            p.initial_retry_delay,
        )?;
        p.max_retry_delay = seconds(
            &self.max_retry_delay,
            "components.transports.max_retry_delay",
            p.max_retry_delay,
        )?;
        if let Some(g) = &self.retry_delay_growth {
            let g_value = *g.get_ref();
            if !(g_value.is_finite() && g_value >= 1.0) {
                return Err((
                    g.span(),
                    "components.transports.retry_delay_growth",
                    format!("{g_value} is not a growth factor: give 1 (constant delay) or more"),
                ));
            }
            p.retry_delay_growth = g_value;
        }
        if let Some(j) = &self.retry_delay_jitter {
            let j_value = *j.get_ref();
            if !(0.0..=1.0).contains(&j_value) {
                return Err((
                    j.span(),
                    "components.transports.retry_delay_jitter",
                    format!("{j_value} is not a jitter: give a fraction from 0 to 1"),
                ));
            }
            p.retry_delay_jitter = j_value;
        }
        Ok(p)
    }
}

/// Whether a URL is one a component can connect to.
fn check_url(url: &str) -> Result<(), String> {
    match Endpoint::parse(url) {
        Err(e) => Err(e.to_string()),
        Ok(Endpoint::WebSocket { .. }) => {
            // Endpoint::parse leaves WebSocket URLs to the handshake; catch
            // the obvious mistake of a missing host here.
            let rest = url.split_once("://").map_or("", |(_, rest)| rest);
            if rest.split(['/', '?']).next().unwrap_or("").is_empty() {
                Err(format!("{url:?} has no host (expected ws://host:port/path)"))
            } else {
                Ok(())
            }
        }
        Ok(_) => Ok(()),
    }
}

impl SerializerName {
    fn serializer(self) -> Serializer {
        match self {
            SerializerName::Json => Serializer::Json,
            SerializerName::Msgpack => Serializer::MsgPack,
            SerializerName::Cbor => Serializer::Cbor,
        }
    }
}

/// A TOML table as WAMP data (dates and times become their TOML text).
fn table_to_dict(table: &toml::Table) -> Dict {
    table.iter().map(|(k, v)| (k.clone(), toml_to_value(v))).collect()
}

fn toml_to_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::Str(s.clone()),
        // WAMP data keeps non-negative integers unsigned.
        toml::Value::Integer(i) => u64::try_from(*i).map_or(Value::Int(*i), Value::UInt),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::Str(d.to_string()),
        toml::Value::Array(a) => Value::List(a.iter().map(toml_to_value).collect()),
        toml::Value::Table(t) => Value::Dict(table_to_dict(t)),
    }
}

// The tests are long (every key, every mistake): they live beside this file.
#[cfg(test)]
#[path = "component_tests.rs"]
mod tests;
