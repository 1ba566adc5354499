//! The `wamp` command.
//!
//! - `wamp router` runs the embedded router (see [`router`]).
//! - `wamp call`, `publish`, `subscribe` and `register` are WAMP from a
//!   terminal, with the options and subcommands of Autobahn|Python's `wamp`
//!   command (see [`client`] and [`commands`]); arguments that parse as
//!   JSON travel as JSON values, results are printed as JSON.
//! - `wamp keygen` makes a cryptosign key pair, `wamp describe PREFIX`
//!   asks an attached typed service for its description.
//! - `wamp sessions`, `registrations` and `subscriptions` print what the
//!   router's meta API says (see [`meta`]).
//!
//! Exit codes: 0 done, 1 could not connect or join (or the session was
//! lost), 2 bad input (usage), 5 the peer answered with an ERROR (as
//! Autobahn's CLI), 130 interrupted in the middle of a call or publish.

mod client;
mod commands;
mod meta;
mod output;
mod router;

use clap::{Parser, Subcommand};

use client::ConnectArgs;

#[derive(Parser, Debug)]
#[command(
    name = "wamp",
    version,
    about = "WAMP from the terminal: run a router, call, publish, subscribe, register shell commands",
    after_help = "Connection options may also come after the subcommand. Exit codes: 0 done, \
                  1 could not connect or the session was lost, 2 bad input, 5 an ERROR answer, \
                  130 interrupted."
)]
struct Cli {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a WAMP router.
    Router(router::RouterArgs),
    /// Call a procedure and print its result as JSON (progressive results as they come).
    Call(commands::CallArgs),
    /// Publish an event (acknowledged: the command fails if the router refuses it).
    Publish(commands::PublishArgs),
    /// Subscribe to a topic and print one line of JSON per event: {"args": [...], "kwargs": {...}}.
    Subscribe(commands::SubscribeArgs),
    /// Register a procedure that runs COMMAND for each call and answers with its output.
    Register(commands::RegisterArgs),
    /// Print the description (URIs and JSON Schemas) of a typed service attached under PREFIX.
    Describe(commands::DescribeArgs),
    /// Make a cryptosign (Ed25519) key pair and print it in hex.
    Keygen(commands::KeygenArgs),
    /// List the sessions joined to the realm (the router's meta API), as a JSON array.
    Sessions(meta::SessionsArgs),
    /// List the registrations of the realm with their callees, as a JSON array.
    Registrations(meta::ObservationsArgs),
    /// List the subscriptions of the realm with their subscribers, as a JSON array.
    Subscriptions(meta::ObservationsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The router chooses its own runtime (`--threads`); the client
    // subcommands run on tokio's default, as `#[tokio::main]` would.
    let threads = match &cli.command {
        Command::Router(args) => args.threads(),
        _ => None,
    };
    let runtime = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        None => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
    };
    match runtime {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => {
            eprintln!("wamp: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> std::process::ExitCode {
    let top = cli.connect;
    let outcome = match cli.command {
        Command::Router(args) => {
            if let Some(flag) = top.given_flag() {
                return usage(&format!(
                    "{flag} is an option of the client subcommands, not of `wamp router`"
                ));
            }
            return match router::run_router(args).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("wamp router: {e}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
        Command::Keygen(args) => commands::keygen(args),
        Command::Call(args) => commands::call(top, args).await,
        Command::Publish(args) => commands::publish(top, args).await,
        Command::Subscribe(args) => commands::subscribe(top, args).await,
        Command::Register(args) => commands::register(top, args).await,
        Command::Describe(args) => commands::describe(top, args).await,
        Command::Sessions(args) => meta::sessions(top, args).await,
        Command::Registrations(args) => meta::observations(top, args, meta::Listing::Registrations).await,
        Command::Subscriptions(args) => meta::observations(top, args, meta::Listing::Subscriptions).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            e.report();
            std::process::ExitCode::from(e.code())
        }
    }
}

fn usage(message: &str) -> std::process::ExitCode {
    eprintln!("wamp: {message}");
    std::process::ExitCode::from(client::EXIT_USAGE)
}
