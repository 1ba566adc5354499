//! Our client against Crossbar.io, the reference router: the same scenario
//! suite as against the embedded router.

use wamp::Serializer;
use wamp_tests::python::{venv_python, Crossbar};
use wamp_tests::{init_tracing, scenarios, url_connector};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_against_crossbar() {
    init_tracing();
    let Some(python) = venv_python() else { return };
    let node = Crossbar::start(&python).await;
    for (label, url, ser) in [
        ("crossbar ws+json", &node.ws_url, Serializer::Json),
        ("crossbar ws+msgpack", &node.ws_url, Serializer::MsgPack),
        ("crossbar ws+cbor", &node.ws_url, Serializer::Cbor),
        ("crossbar rs+msgpack", &node.rs_url, Serializer::MsgPack),
    ] {
        // Crossbar.io discloses by configuration (see crossbar_node.py), not on request.
        scenarios::run_all(
            label,
            url_connector(url.clone(), "realm1", ser),
            &["no_disclosure_by_default"],
        )
        .await;
    }
}
