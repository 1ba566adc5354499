//! `wamp sessions`, `wamp registrations` and `wamp subscriptions`: what a
//! router's meta API says, as one JSON array each. The objects are the
//! router's own details (`wamp.session.get`, `wamp.registration.get`,
//! `wamp.subscription.get`), with the callees or subscribers added, so
//! whatever more a router tells (Crossbar.io tells a lot) is printed too.

use wamp::{error_uri, meta_uri, Dict, Id, List, Session, Value};

use crate::client::{connect, CliError, ConnectArgs};
use crate::output::{json, say};

/// `wamp sessions`.
#[derive(clap::Args, Debug)]
pub(crate) struct SessionsArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Only sessions with this authrole (repeatable)
    #[arg(long = "role", value_name = "AUTHROLE")]
    roles: Vec<String>,
    /// Print indented JSON
    #[arg(long)]
    pretty: bool,
}

/// `wamp registrations` and `wamp subscriptions`.
#[derive(clap::Args, Debug)]
pub(crate) struct ObservationsArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Print indented JSON
    #[arg(long)]
    pretty: bool,
}

/// What a meta listing lists.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listing {
    Registrations,
    Subscriptions,
}

impl Listing {
    /// (list, get, members, the members' key, the error of a gone one)
    fn uris(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Listing::Registrations => (
                meta_uri::REGISTRATION_LIST,
                meta_uri::REGISTRATION_GET,
                meta_uri::REGISTRATION_LIST_CALLEES,
                "callees",
                error_uri::NO_SUCH_REGISTRATION,
            ),
            Listing::Subscriptions => (
                meta_uri::SUBSCRIPTION_LIST,
                meta_uri::SUBSCRIPTION_GET,
                meta_uri::SUBSCRIPTION_LIST_SUBSCRIBERS,
                "subscribers",
                error_uri::NO_SUCH_SUBSCRIPTION,
            ),
        }
    }
}

/// Runs `work` on `session`, then leaves it (also on Ctrl-C).
async fn leaving<T>(
    session: Session,
    work: impl std::future::Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    let outcome = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
    };
    crate::commands::leave(&session).await;
    outcome
}

/// The first positional result of a call, or `None` when the thing asked
/// about went away meanwhile (`gone`).
async fn first(
    session: &Session,
    procedure: &str,
    args: List,
    gone: &str,
) -> Result<Option<Value>, CliError> {
    match session.call(procedure).args(args).await {
        Ok(r) => Ok(Some(r.args.into_iter().next().unwrap_or(Value::Null))),
        Err(e) if e.uri() == Some(gone) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn ids(v: Option<Value>) -> Vec<Id> {
    match v {
        Some(Value::List(l)) => l.iter().filter_map(Value::as_u64).collect(),
        _ => vec![],
    }
}

/// `wamp sessions [--role AUTHROLE]...`: the sessions joined, by ID.
pub(crate) async fn sessions(top: ConnectArgs, a: SessionsArgs) -> Result<(), CliError> {
    let connect_args = top.merge(a.connect);
    let filter = if a.roles.is_empty() {
        vec![]
    } else {
        vec![Value::List(a.roles.into_iter().map(Value::Str).collect())]
    };
    let session = connect(&connect_args, &mut 0).await?;
    let found = leaving(session.clone(), list_sessions(&session, filter)).await?;
    say(&json(&Value::List(found), a.pretty));
    Ok(())
}

async fn list_sessions(session: &Session, filter: List) -> Result<List, CliError> {
    let mut list = ids(first(session, meta_uri::SESSION_LIST, filter, "").await?);
    list.sort_unstable();
    let mut out = Vec::new();
    for id in list {
        let get = first(
            session,
            meta_uri::SESSION_GET,
            vec![Value::UInt(id)],
            error_uri::NO_SUCH_SESSION,
        );
        if let Some(details) = get.await? {
            out.push(details);
        }
    }
    Ok(out)
}

/// `wamp registrations` / `wamp subscriptions`: each with its details and
/// its callees or subscribers, by URI.
pub(crate) async fn observations(
    top: ConnectArgs,
    a: ObservationsArgs,
    what: Listing,
) -> Result<(), CliError> {
    let connect_args = top.merge(a.connect);
    let session = connect(&connect_args, &mut 0).await?;
    let found = leaving(session.clone(), list_observations(&session, what)).await?;
    say(&json(
        &Value::List(found.into_iter().map(Value::Dict).collect()),
        a.pretty,
    ));
    Ok(())
}

/// The URIs of every registration of the realm, through its meta API.
pub(crate) async fn registered_uris(session: &Session) -> Result<Vec<String>, CliError> {
    Ok(list_observations(session, Listing::Registrations)
        .await?
        .iter()
        .filter_map(|d| d.get("uri").and_then(Value::as_str).map(str::to_owned))
        .collect())
}

async fn list_observations(session: &Session, what: Listing) -> Result<Vec<Dict>, CliError> {
    let (list, get, members, key, gone) = what.uris();
    let mut all = Vec::new();
    if let Some(Value::Dict(by_policy)) = first(session, list, vec![], "").await? {
        for policy in ["exact", "prefix", "wildcard"] {
            all.extend(ids(by_policy.get(policy).cloned()));
        }
    }
    let mut out: Vec<Dict> = Vec::new();
    for id in all {
        let Some(Value::Dict(mut details)) = first(session, get, vec![Value::UInt(id)], gone).await? else {
            continue;
        };
        let Some(who) = first(session, members, vec![Value::UInt(id)], gone).await? else {
            continue;
        };
        details.insert(key.into(), who);
        out.push(details);
    }
    let uri = |d: &Dict| {
        d.get("uri")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    out.sort_by_key(uri);
    Ok(out)
}
