//! The client subcommands: `call`, `publish`, `subscribe` and `register`
//! (Autobahn|Python's, with JSON in and out), `describe` and `keygen`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wamp::proto::uri::{self, MatchPolicy, UriRule};
use wamp::{ApplicationError, CallResult, Dict, List, RegisterOptions, Session, SubscribeOptions, Value};

use crate::client::{connect, reconnects, CliError, ConnectArgs};
use crate::output::{json, parse_payload, payload_json, result_json, say};

/// How long a leaving session waits for the router's GOODBYE.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(2);

/// `wamp call`.
#[derive(clap::Args, Debug)]
#[command(allow_negative_numbers = true)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// The procedure to call
    uri: String,
    /// Positional arguments (JSON when they parse, strings otherwise)
    args: Vec<String>,
    /// A keyword argument (repeatable)
    #[arg(long, num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    keyword: Vec<String>,
    /// Send every argument as a string, even `2` or `{"a":1}`
    #[arg(long, short = 's')]
    strings: bool,
    /// Seconds the call may take (the router cancels it after, the client gives up)
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Print results as indented JSON
    #[arg(long)]
    pretty: bool,
}

/// `wamp publish`.
#[derive(clap::Args, Debug)]
#[command(allow_negative_numbers = true)]
pub(crate) struct PublishArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// The topic to publish to
    uri: String,
    /// Positional arguments (JSON when they parse, strings otherwise)
    args: Vec<String>,
    /// A keyword argument (repeatable)
    #[arg(long, num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    keyword: Vec<String>,
    /// Send every argument as a string, even `2` or `{"a":1}`
    #[arg(long, short = 's')]
    strings: bool,
}

/// The match policies of `--match`.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(crate) enum MatchArg {
    Exact,
    Prefix,
    Wildcard,
}

impl From<MatchArg> for MatchPolicy {
    fn from(m: MatchArg) -> MatchPolicy {
        match m {
            MatchArg::Exact => MatchPolicy::Exact,
            MatchArg::Prefix => MatchPolicy::Prefix,
            MatchArg::Wildcard => MatchPolicy::Wildcard,
        }
    }
}

/// `wamp subscribe`.
#[derive(clap::Args, Debug)]
pub(crate) struct SubscribeArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// The topic (or pattern) to subscribe to
    uri: String,
    /// Exit after this many events [default: run until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    times: Option<u64>,
    /// How the topic is matched
    #[arg(long = "match", value_enum, default_value = "exact")]
    match_policy: MatchArg,
    /// Print events as indented JSON (several lines each)
    #[arg(long)]
    pretty: bool,
}

/// `wamp register`.
#[derive(clap::Args, Debug)]
pub(crate) struct RegisterArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// The procedure (or pattern) to register
    uri: String,
    /// Exit after answering this many calls [default: run until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    times: Option<u64>,
    /// How the procedure is matched
    #[arg(long = "match", value_enum, default_value = "exact")]
    match_policy: MatchArg,
    /// The command to run for each call, and its arguments. It gets the call's
    /// arguments in WAMP_ARGS, WAMP_ARGS_JSON, WAMP_KWARGS and WAMP_KWARGS_JSON
    /// (and the procedure called in WAMP_PROCEDURE); its stdout is the result
    /// (JSON when it parses, a string otherwise), a non-zero exit status an ERROR.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<String>,
}

/// `wamp describe`.
#[derive(clap::Args, Debug)]
pub(crate) struct DescribeArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// A URI prefix: the prefix of a service's URIs (its description is at
    /// PREFIX.reflection.describe) or a longer one (only the procedures and
    /// topics under it are printed)
    prefix: Option<String>,
    /// Print one line of JSON instead of indented JSON
    #[arg(long)]
    compact: bool,
}

/// `wamp keygen`.
#[derive(clap::Args, Debug)]
pub(crate) struct KeygenArgs {
    /// Write the key pair to this new file (mode 0600) and print only the public key
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

fn check_uri(what: &str, uri: &str, policy: MatchPolicy) -> Result<(), CliError> {
    let checked = match policy {
        MatchPolicy::Exact => uri::validate(uri, UriRule::Loose, false),
        other => uri::validate_pattern(uri, other, UriRule::Loose),
    };
    checked.map_err(|e| CliError::Usage(format!("{what}: {e}")))
}

/// Leaves the session without waiting long for the router.
pub(crate) async fn leave(session: &Session) {
    let _ = tokio::time::timeout(LEAVE_TIMEOUT, session.leave()).await;
}

/// `wamp call URI [ARGS...] [--keyword NAME VALUE]...`
pub(crate) async fn call(top: ConnectArgs, a: CallArgs) -> Result<(), CliError> {
    let connect_args = top.merge(a.connect);
    check_uri("procedure", &a.uri, MatchPolicy::Exact)?;
    let (args, kwargs) = parse_payload(&a.args, &a.keyword, a.strings).map_err(CliError::Usage)?;
    let timeout = match a.timeout {
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => {
            return Err(CliError::Usage(format!(
                "--timeout {t}: give a positive number of seconds"
            )))
        }
        None => None,
    };
    let session = connect(&connect_args, &mut 0).await?;
    let pretty = a.pretty;
    let mut call = session
        .call(a.uri)
        .args(args)
        .kwargs(kwargs)
        .on_progress(move |r| {
            say(&result_json(&r.args, &r.kwargs, pretty));
        });
    if let Some(t) = timeout {
        call = call.timeout(t);
    }
    // Dropping the call on Ctrl-C cancels it at the router.
    let outcome = tokio::select! {
        r = call => r,
        _ = tokio::signal::ctrl_c() => {
            leave(&session).await;
            return Err(CliError::Interrupted);
        }
    };
    leave(&session).await;
    let result = outcome?;
    say(&result_json(&result.args, &result.kwargs, pretty));
    Ok(())
}

/// `wamp publish URI [ARGS...] [--keyword NAME VALUE]...`, acknowledged.
pub(crate) async fn publish(top: ConnectArgs, a: PublishArgs) -> Result<(), CliError> {
    let connect_args = top.merge(a.connect);
    check_uri("topic", &a.uri, MatchPolicy::Exact)?;
    let (args, kwargs) = parse_payload(&a.args, &a.keyword, a.strings).map_err(CliError::Usage)?;
    let session = connect(&connect_args, &mut 0).await?;
    let published = session.publish(a.uri).args(args).kwargs(kwargs).acknowledge(true);
    let outcome = tokio::select! {
        r = published => r,
        _ = tokio::signal::ctrl_c() => {
            leave(&session).await;
            return Err(CliError::Interrupted);
        }
    };
    leave(&session).await;
    outcome?;
    Ok(())
}

/// How a long-running subcommand's session ended.
enum SessionEnd {
    /// Done (`--times` reached, Ctrl-C, or stdout gone): exit 0.
    Done,
    /// The router or the network ended the session.
    Lost(wamp::Error),
}

/// Runs `serve` on a session, and on a new one each time the session is
/// lost while `--max-failures` allows reconnecting (as Autobahn's
/// Component does); Ctrl-C leaves cleanly.
async fn keep_serving<F, Fut>(connect_args: &ConnectArgs, mut serve: F) -> Result<(), CliError>
where
    F: FnMut(Session) -> Fut,
    Fut: std::future::Future<Output = Result<SessionEnd, CliError>>,
{
    let mut failures = 0;
    loop {
        let session = connect(connect_args, &mut failures).await?;
        failures = 0;
        let end = tokio::select! {
            r = serve(session.clone()) => r?,
            _ = tokio::signal::ctrl_c() => SessionEnd::Done,
        };
        match end {
            SessionEnd::Done => {
                leave(&session).await;
                return Ok(());
            }
            SessionEnd::Lost(e) if reconnects(connect_args) => {
                eprintln!("wamp: session lost ({e}); joining again");
            }
            SessionEnd::Lost(e) => {
                return Err(CliError::Connect(format!(
                    "session lost: {e} (give --max-failures to join again)"
                )))
            }
        }
    }
}

/// `wamp subscribe URI [--times N] [--match exact|prefix|wildcard]`
pub(crate) async fn subscribe(top: ConnectArgs, a: SubscribeArgs) -> Result<(), CliError> {
    let connect_args = top.merge(a.connect);
    let policy = MatchPolicy::from(a.match_policy);
    check_uri("topic", &a.uri, policy)?;
    let remaining = Arc::new(AtomicU64::new(a.times.unwrap_or(u64::MAX)));
    keep_serving(&connect_args, |session| {
        let (topic, remaining) = (a.uri.clone(), remaining.clone());
        async move {
            let options = SubscribeOptions {
                match_policy: Some(policy),
                ..Default::default()
            };
            let mut events = session.subscribe(topic.clone(), options).await?;
            eprintln!("wamp: subscribed to {topic}");
            loop {
                let Some(event) = events.next().await else {
                    return Ok(SessionEnd::Lost(session.closed().await));
                };
                if !say(&payload_json(&event.args, &event.kwargs, a.pretty)) {
                    return Ok(SessionEnd::Done);
                }
                if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                    return Ok(SessionEnd::Done);
                }
            }
        }
    })
    .await
}

/// `wamp register URI [--times N] COMMAND [ARGS...]`
pub(crate) async fn register(top: ConnectArgs, a: RegisterArgs) -> Result<(), CliError> {
    let connect_args = top.merge(a.connect);
    let policy = MatchPolicy::from(a.match_policy);
    check_uri("procedure", &a.uri, policy)?;
    let program = find_program(&a.command[0]).map_err(CliError::Usage)?;
    let command = Arc::new((program, a.command[1..].to_vec()));
    let remaining = Arc::new(AtomicU64::new(a.times.unwrap_or(u64::MAX)));
    keep_serving(&connect_args, |session| {
        let (procedure, command, remaining) = (a.uri.clone(), command.clone(), remaining.clone());
        async move {
            let (answered_tx, mut answered) = mpsc::unbounded_channel::<()>();
            let options = RegisterOptions {
                match_policy: Some(policy),
                ..Default::default()
            };
            session
                .register(procedure.clone(), options, move |inv| {
                    let (command, answered) = (command.clone(), answered_tx.clone());
                    async move {
                        let outcome =
                            run_command(&command.0, &command.1, &inv.procedure, &inv.args, &inv.kwargs).await;
                        let _ = answered.send(());
                        outcome
                    }
                })
                .await?;
            eprintln!("wamp: registered {procedure}");
            loop {
                tokio::select! {
                    Some(()) = answered.recv() => {
                        if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                            // The handler has returned its answer; let the
                            // session send it before leaving.
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            return Ok(SessionEnd::Done);
                        }
                    }
                    e = session.closed() => return Ok(SessionEnd::Lost(e)),
                }
            }
        }
    })
    .await
}

/// The program to run: a path (checked), or a name looked up in `PATH`.
fn find_program(name: &str) -> Result<PathBuf, String> {
    let executable = |p: &Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            p.is_file()
        }
    };
    if name.contains(std::path::MAIN_SEPARATOR) || name.contains('/') {
        let path = PathBuf::from(name);
        return match executable(&path) {
            true => Ok(path),
            false => Err(format!("command {name:?}: no executable file there")),
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| executable(p))
        .ok_or_else(|| format!("command {name:?} not found in PATH"))
}

/// A value as a word of WAMP_ARGS / WAMP_KWARGS: strings as they are, other
/// values as JSON.
fn word(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => json(other, false),
    }
}

/// Runs the registered command for one call: the call's payload in the
/// environment, its stdout echoed and returned, its stderr to the terminal.
async fn run_command(
    program: &Path,
    extra: &[String],
    procedure: &str,
    args: &List,
    kwargs: &Dict,
) -> Result<CallResult, ApplicationError> {
    eprintln!("wamp: called {procedure} {}", payload_json(args, kwargs, false));
    let env_args = args.iter().map(word).collect::<Vec<_>>().join(" ");
    let env_kwargs = kwargs
        .iter()
        .map(|(k, v)| format!("{k}={}", word(v)))
        .collect::<Vec<_>>()
        .join(" ");
    let child = tokio::process::Command::new(program)
        .args(extra)
        .env("WAMP_PROCEDURE", procedure)
        .env("WAMP_ARGS", env_args)
        .env("WAMP_ARGS_JSON", json(args, false))
        .env("WAMP_KWARGS", env_kwargs)
        .env("WAMP_KWARGS_JSON", json(kwargs, false))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        // A canceled call (INTERRUPT) drops this future: the command goes too.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            ApplicationError::new(wamp::error_uri::RUNTIME_ERROR)
                .with_arg(format!("cannot run {}: {e}", program.display()))
        })?;
    let out = child.wait_with_output().await.map_err(|e| {
        ApplicationError::new(wamp::error_uri::RUNTIME_ERROR)
            .with_arg(format!("{} failed: {e}", program.display()))
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    {
        use std::io::Write as _;
        let mut term = std::io::stdout().lock();
        let _ = term.write_all(stdout.as_bytes()).and_then(|_| term.flush());
    }
    if !out.status.success() {
        let status = match out.status.code() {
            Some(code) => format!("exit status {code}"),
            None => "a signal".to_owned(),
        };
        let mut e = ApplicationError::new(wamp::error_uri::RUNTIME_ERROR)
            .with_arg(format!("{} ended with {status}", program.display()));
        if let Some(code) = out.status.code() {
            e = e.with_kwarg("exit_code", code);
        }
        return Err(e.with_kwarg("stdout", stdout));
    }
    let text = stdout.strip_suffix('\n').unwrap_or(&stdout);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(match text {
        "" => CallResult::new(),
        _ => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => CallResult::new().with_arg(Value::from(v)),
            Err(_) => CallResult::new().with_arg(text),
        },
    })
}

/// `wamp describe PREFIX`: calls `P.reflection.describe` for PREFIX and each
/// shorter prefix of it, longest first, until one answers; prints the
/// description, with only what is under PREFIX. Without PREFIX: every
/// typed service's description (a JSON array), found through the router's
/// meta API (`wamp.registration.list`).
pub(crate) async fn describe(top: ConnectArgs, a: DescribeArgs) -> Result<(), CliError> {
    let connect_args = top.merge(a.connect);
    let Some(prefix) = a.prefix.as_deref() else {
        let session = connect(&connect_args, &mut 0).await?;
        let outcome = tokio::select! {
            r = all_descriptions(&session) => r,
            _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
        };
        leave(&session).await;
        say(&json(&Value::List(outcome?), !a.compact));
        return Ok(());
    };
    let prefix = prefix.trim_end_matches('.');
    check_uri("prefix", prefix, MatchPolicy::Exact)?;
    let session = connect(&connect_args, &mut 0).await?;
    let outcome = tokio::select! {
        r = find_description(&session, prefix) => r,
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
    };
    leave(&session).await;
    let mut description = outcome?;
    for list in ["procedures", "topics"] {
        if let Some(Value::List(items)) = description.get_mut(list) {
            items.retain(|item| under(item, prefix));
        }
    }
    say(&json(&Value::Dict(description), !a.compact));
    Ok(())
}

/// The description of every typed service attached in the realm: each
/// registration ending in `.reflection.describe`, called, by URI.
async fn all_descriptions(session: &Session) -> Result<List, CliError> {
    let suffix = format!(".{}", wamp::service::DESCRIBE_SUFFIX);
    let mut out = Vec::new();
    for uri in crate::meta::registered_uris(session).await? {
        if !uri.ends_with(&suffix) {
            continue;
        }
        match session.call(uri.as_str()).await {
            Ok(r) => out.extend(r.args.into_iter().next()),
            // Detached meanwhile.
            Err(e) if e.uri() == Some(wamp::error_uri::NO_SUCH_PROCEDURE) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Whether a procedure or topic of a description has a URI under `prefix`.
fn under(item: &Value, prefix: &str) -> bool {
    let Value::Dict(d) = item else { return false };
    let Some(uri) = d.get("uri").and_then(Value::as_str) else {
        return false;
    };
    uri == prefix || uri.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.'))
}

async fn find_description(session: &Session, prefix: &str) -> Result<Dict, CliError> {
    let mut candidate = prefix;
    loop {
        let procedure = format!("{candidate}.{}", wamp::service::DESCRIBE_SUFFIX);
        match session.call(procedure).await {
            Ok(r) => {
                return match r.args.into_iter().next() {
                    Some(Value::Dict(d)) => Ok(d),
                    _ => Err(CliError::Application(
                        ApplicationError::new(wamp::error_uri::INVALID_ARGUMENT)
                            .with_arg(format!("{candidate}: the answer is no service description")),
                    )),
                }
            }
            Err(e) if e.uri() == Some(wamp::error_uri::NO_SUCH_PROCEDURE) => match candidate.rsplit_once('.')
            {
                Some((shorter, _)) => candidate = shorter,
                None => {
                    return Err(CliError::Application(
                        ApplicationError::new(wamp::error_uri::NO_SUCH_PROCEDURE).with_arg(format!(
                            "no typed service describes itself under {prefix} \
                             (none registered {prefix}.{} or at a shorter prefix)",
                            wamp::service::DESCRIBE_SUFFIX
                        )),
                    ))
                }
            },
            Err(e) => return Err(e.into()),
        }
    }
}

/// `wamp keygen`: a new Ed25519 key pair in hex, in the key file format
/// that Autobahn|Python (`CryptosignKey.from_keyfile`) and Crossbar.io
/// read: comment lines up to the first empty line, then tagged lines. The
/// private key is the 32-byte seed that `--private-key` and
/// `WAMP_PRIVATE_KEY` take.
pub(crate) fn keygen(a: KeygenArgs) -> Result<(), CliError> {
    let key = wamp::auth::CryptosignKey::generate();
    let public = format!("public-key-ed25519: {}", key.public_key_hex());
    let private = format!("private-key-ed25519: {}", key.private_key_hex());
    let comment = "WAMP-Cryptosign key pair made by `wamp keygen`; keep the private key secret.";
    match a.output {
        None => {
            say(&format!("{comment}\n\n{public}\n{private}"));
        }
        Some(path) => {
            write_private(&path, &format!("{comment}\n\n{public}\n{private}\n"))
                .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
            say(&public);
        }
    }
    Ok(())
}

/// Writes a secret to a new file readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}
