//! A router and its components from one configuration file: the router's
//! realm, roles, users and listener, a backend component (ticket) and a
//! frontend component (WAMP-CRA), in one process. See
//! [`wamp_examples::component_config`].
//!
//! Run: `cargo run -p wamp-examples --example component_config [FILE]`,
//! by default with `examples/component_config.toml` (which listens on
//! 127.0.0.1:8080).

use std::path::PathBuf;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    wamp_examples::init_logging();
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("component_config.toml"));
    match wamp_examples::component_config::run(&path).await {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Display, not Debug: a configuration error names the file, line and key.
            eprintln!("component_config: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
