//! The `wamp` command.
//!
//! `wamp router` runs the embedded router behind WebSocket and RawSocket
//! listeners until Ctrl-C (or SIGTERM), then says GOODBYE to every session.

use std::time::Duration;

use clap::{Parser, Subcommand};
use wamp_router::{Router, RouterConfig};

#[derive(Parser, Debug)]
#[command(name = "wamp", version, about = "WAMP tools: run a router")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a WAMP router.
    Router(RouterArgs),
}

#[derive(clap::Args, Debug)]
struct RouterArgs {
    /// WebSocket listener address (repeatable). Default 127.0.0.1:8080 when no listener is given.
    #[arg(long = "ws", value_name = "HOST:PORT")]
    ws: Vec<String>,
    /// RawSocket (TCP) listener address (repeatable).
    #[arg(long = "rawsocket", value_name = "HOST:PORT")]
    rawsocket: Vec<String>,
    /// Realm to serve (repeatable). Default realm1.
    #[arg(long = "realm", value_name = "NAME")]
    realm: Vec<String>,
    /// Largest message accepted, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message_size: usize,
    /// Log filter (tracing EnvFilter syntax), overridden by RUST_LOG.
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Router(args) => match run_router(args).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wamp router: {e}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

async fn run_router(mut args: RouterArgs) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&args.log))
        .map_err(|e| format!("bad --log filter: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    if args.realm.is_empty() {
        args.realm.push("realm1".into());
    }
    if args.ws.is_empty() && args.rawsocket.is_empty() {
        args.ws.push("127.0.0.1:8080".into());
    }
    let mut config = RouterConfig {
        realms: args.realm.clone(),
        ..Default::default()
    };
    config.transport.max_message_size = args.max_message_size;
    let router = Router::new(config);

    // Listening lines go to stdout so scripts (and tests binding port 0) can read the address.
    for addr in &args.ws {
        let l = router
            .listen_websocket(addr.as_str())
            .await
            .map_err(|e| format!("cannot listen on {addr} (WebSocket): {e}"))?;
        println!("listening websocket ws://{}/ws", l.local_addr());
    }
    for addr in &args.rawsocket {
        let l = router
            .listen_rawsocket(addr.as_str())
            .await
            .map_err(|e| format!("cannot listen on {addr} (RawSocket): {e}"))?;
        println!("listening rawsocket rs://{}", l.local_addr());
    }
    println!("realms {}", args.realm.join(","));
    tracing::info!("router running; Ctrl-C to stop");

    wait_for_signal().await;
    tracing::info!("shutting down: saying GOODBYE to all sessions");
    router.shutdown();
    // Give the writers a moment to flush the GOODBYEs.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
