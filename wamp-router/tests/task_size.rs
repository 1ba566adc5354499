//! Every connection's session is one task, alive as long as the session:
//! its future's size is part of the router's memory per idle session
//! (`wamp-bench --memory`). Rare states (the opening handshake and
//! authentication, waiting while held back, asking a dynamic authorizer,
//! the closing linger) are boxed so they do not size every session's task;
//! this keeps anyone from inlining one again unnoticed.

use wamp_proto::transport::{local, QueueLimits};
use wamp_router::{Router, RouterConfig};

/// The bound, with room for compiler changes (1,024 bytes in a debug build
/// when written, 4,440 before the rare states were boxed).
const MOST: usize = 1536;

#[test]
fn a_session_task_stays_small() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let router = Router::new(RouterConfig::default().realm("realm1"));
        let (_client, server) = local::pair(QueueLimits::new(16, 1 << 20));
        let task = router.serve_here(server);
        let size = std::mem::size_of_val(&task);
        assert!(
            size <= MOST,
            "a session's task takes {size} bytes (at most {MOST}): box the new large state"
        );
    });
}
