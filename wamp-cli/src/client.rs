//! Joining a router from the command line: the connection options shared by
//! the client subcommands (Autobahn|Python's `--url`, `--realm`/`-r`,
//! `--private-key`/`-k`, `--authid`, `--authrole`, `--max-failures`/`-m`,
//! and ours), connecting with retries, and the errors a subcommand ends with.

use std::time::Duration;

use wamp::auth::Credentials;
use wamp::proto::transport::tls::TlsClientConfig;
use wamp::{ApplicationError, Error, Serializer, Session, SessionConfig};

/// Exit status: could not connect or join, or the session was lost.
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Exit status: bad input (as clap's own usage errors).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status: the peer answered with an ERROR (Autobahn's CLI uses 5 too).
pub(crate) const EXIT_APPLICATION: u8 = 5;
/// Exit status: interrupted (Ctrl-C) in the middle of a call or publish.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// How long one connection attempt (transport and join) may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// Autobahn's reconnect policy: first delay, growth, cap.
const INITIAL_RETRY_DELAY: Duration = Duration::from_millis(1500);
const RETRY_GROWTH: f64 = 1.5;
const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

/// The serializers `--serializer` accepts.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(crate) enum SerializerArg {
    Json,
    Msgpack,
    Cbor,
}

impl From<SerializerArg> for Serializer {
    fn from(s: SerializerArg) -> Serializer {
        match s {
            SerializerArg::Json => Serializer::Json,
            SerializerArg::Msgpack => Serializer::MsgPack,
            SerializerArg::Cbor => Serializer::Cbor,
        }
    }
}

/// Where and how to join. Accepted before the subcommand (as Autobahn's
/// CLI has them) and after it; the later one wins.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ConnectArgs {
    /// Router URL: ws://HOST:PORT/PATH, wss://..., rs://HOST:PORT, rss://..., rs://unix:/PATH
    /// [default: ws://127.0.0.1:8080/ws]
    #[arg(long, env = "WAMP_URL", value_name = "URL")]
    url: Option<String>,
    /// Realm to join [default: realm1]
    #[arg(long, short = 'r', env = "WAMP_REALM", value_name = "REALM")]
    realm: Option<String>,
    /// Cryptosign private key (hex, the 32-byte seed) to authenticate with
    #[arg(
        long,
        short = 'k',
        env = "WAMP_PRIVATE_KEY",
        hide_env_values = true,
        value_name = "HEX"
    )]
    private_key: Option<String>,
    /// Ticket to authenticate with
    #[arg(long, env = "WAMP_TICKET", hide_env_values = true, value_name = "TICKET")]
    ticket: Option<String>,
    /// WAMP-CRA secret to authenticate with (salted secrets: the router's challenge says how)
    #[arg(long, env = "WAMP_CRA_SECRET", hide_env_values = true, value_name = "SECRET")]
    wampcra_secret: Option<String>,
    /// The authid to authenticate as
    #[arg(long, value_name = "AUTHID")]
    authid: Option<String>,
    /// The role to ask for
    #[arg(long, value_name = "ROLE")]
    authrole: Option<String>,
    /// Serializer to use [default: json, msgpack and cbor offered over WebSocket; json over RawSocket]
    #[arg(long, value_enum)]
    serializer: Option<SerializerArg>,
    /// Failed connection attempts before giving up, 0 for never (Autobahn's meaning);
    /// without it, the first failure ends the command
    #[arg(long, short = 'm', value_name = "N")]
    max_failures: Option<u32>,
    /// Trust the CA certificate(s) in this PEM file for wss:// and rss:// (besides the system's)
    #[arg(long, value_name = "FILE")]
    ca_file: Option<std::path::PathBuf>,
}

impl ConnectArgs {
    /// The first option given, named as on the command line (for commands
    /// that take none).
    pub(crate) fn given_flag(&self) -> Option<&'static str> {
        // Variables from the environment count as not given: they are set
        // for the client subcommands and must not stop `wamp router`.
        let env_set = |name: &str| std::env::var_os(name).is_some();
        [
            (self.url.is_some() && !env_set("WAMP_URL"), "--url"),
            (self.realm.is_some() && !env_set("WAMP_REALM"), "--realm"),
            (
                self.private_key.is_some() && !env_set("WAMP_PRIVATE_KEY"),
                "--private-key",
            ),
            (self.ticket.is_some() && !env_set("WAMP_TICKET"), "--ticket"),
            (
                self.wampcra_secret.is_some() && !env_set("WAMP_CRA_SECRET"),
                "--wampcra-secret",
            ),
            (self.authid.is_some(), "--authid"),
            (self.authrole.is_some(), "--authrole"),
            (self.serializer.is_some(), "--serializer"),
            (self.max_failures.is_some(), "--max-failures"),
            (self.ca_file.is_some(), "--ca-file"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }

    /// `self` with the options of `later` laid over it.
    pub(crate) fn merge(self, later: ConnectArgs) -> ConnectArgs {
        ConnectArgs {
            url: later.url.or(self.url),
            realm: later.realm.or(self.realm),
            private_key: later.private_key.or(self.private_key),
            ticket: later.ticket.or(self.ticket),
            wampcra_secret: later.wampcra_secret.or(self.wampcra_secret),
            authid: later.authid.or(self.authid),
            authrole: later.authrole.or(self.authrole),
            serializer: later.serializer.or(self.serializer),
            max_failures: later.max_failures.or(self.max_failures),
            ca_file: later.ca_file.or(self.ca_file),
        }
    }

    fn url(&self) -> &str {
        self.url.as_deref().unwrap_or("ws://127.0.0.1:8080/ws")
    }

    fn realm(&self) -> &str {
        self.realm.as_deref().unwrap_or("realm1")
    }

    /// The session settings, checked before anything connects.
    fn session_config(&self) -> Result<SessionConfig, CliError> {
        wamp::proto::transport::Endpoint::parse(self.url())
            .map_err(|e| CliError::Usage(format!("--url {}: {e}", self.url())))?;
        let mut config = SessionConfig::default();
        if let Some(s) = self.serializer {
            config.serializers = vec![s.into()];
        }
        if let Some(authid) = &self.authid {
            config = config.with_authid(authid);
        }
        if let Some(role) = &self.authrole {
            config = config.with_authrole(role);
        }
        if let Some(key) = &self.private_key {
            let credentials = Credentials::cryptosign_hex(key.trim())
                .map_err(|e| CliError::Usage(format!("--private-key: {e}")))?;
            config = config.with_credentials(credentials);
        }
        if let Some(ticket) = &self.ticket {
            config = config.with_credentials(Credentials::ticket(ticket));
        }
        if let Some(secret) = &self.wampcra_secret {
            config = config.with_credentials(Credentials::wampcra(secret));
        }
        // Cryptosign can name the user by its public key; a ticket or a
        // WAMP-CRA secret means nothing without the user's name.
        if self.authid.is_none() {
            if self.ticket.is_some() {
                return Err(CliError::Usage("--ticket needs --authid".into()));
            }
            if self.wampcra_secret.is_some() {
                return Err(CliError::Usage("--wampcra-secret needs --authid".into()));
            }
        }
        if let Some(file) = &self.ca_file {
            let tls = TlsClientConfig::with_system_roots_and_ca_file(file)
                .map_err(|e| CliError::Usage(format!("--ca-file {}: {e}", file.display())))?;
            config.transport.tls = Some(tls);
        }
        Ok(config)
    }
}

/// Connects and joins, retrying as `--max-failures` allows (with
/// Autobahn's growing delay). A refusal to join is never retried.
pub(crate) async fn connect(args: &ConnectArgs, failures: &mut u32) -> Result<Session, CliError> {
    let config = args.session_config()?;
    let (url, realm) = (args.url(), args.realm());
    let mut delay = INITIAL_RETRY_DELAY;
    loop {
        let attempt =
            tokio::time::timeout(ATTEMPT_TIMEOUT, Session::connect_with(url, realm, config.clone()));
        let error = tokio::select! {
            r = attempt => match r {
                Ok(Ok(session)) => return Ok(session),
                Ok(Err(e @ Error::JoinRefused { .. })) => {
                    return Err(CliError::Connect(format!("{url}: could not join realm {realm}: {e}")))
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {ATTEMPT_TIMEOUT:?}"),
            },
            _ = tokio::signal::ctrl_c() => return Err(CliError::Interrupted),
        };
        *failures += 1;
        let give_up = match args.max_failures {
            None => true,
            Some(0) => false,
            Some(n) => *failures > n,
        };
        if give_up {
            return Err(CliError::Connect(format!("cannot connect to {url}: {error}")));
        }
        eprintln!(
            "wamp: connect failure {failures} ({url}: {error}); retrying in {:.1} s",
            delay.as_secs_f64()
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = tokio::signal::ctrl_c() => return Err(CliError::Interrupted),
        }
        delay = delay.mul_f64(RETRY_GROWTH).min(MAX_RETRY_DELAY);
    }
}

/// Whether a lost session may be joined again (`--max-failures` given).
pub(crate) fn reconnects(args: &ConnectArgs) -> bool {
    args.max_failures.is_some()
}

/// How a client subcommand ends when it does not succeed.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad input, found before anything was sent.
    Usage(String),
    /// Could not connect or join, or the session was lost.
    Connect(String),
    /// The peer answered with an ERROR.
    Application(ApplicationError),
    /// Ctrl-C before the command was done.
    Interrupted,
}

impl CliError {
    /// Prints the error on stderr: an ERROR as `URI: args kwargs` (JSON).
    pub(crate) fn report(&self) {
        match self {
            CliError::Usage(m) | CliError::Connect(m) => eprintln!("wamp: {m}"),
            CliError::Application(e) => eprintln!("{}", crate::output::error_line(e)),
            CliError::Interrupted => eprintln!("wamp: interrupted"),
        }
    }

    /// The exit status.
    pub(crate) fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Connect(_) => EXIT_FAILURE,
            CliError::Application(_) => EXIT_APPLICATION,
            CliError::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        match e {
            Error::Application(a) => CliError::Application(a),
            Error::Timeout(d) => CliError::Application(
                ApplicationError::new(wamp::error_uri::TIMEOUT).with_arg(format!("no result within {d:?}")),
            ),
            e @ (Error::InvalidArgument(_) | Error::InvalidUri(_) | Error::Value(_)) => {
                CliError::Usage(e.to_string())
            }
            other => CliError::Connect(format!("session lost: {other}")),
        }
    }
}
