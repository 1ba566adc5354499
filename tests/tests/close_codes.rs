//! The router's WebSocket closes carry the RFC 6455 status code that says
//! why (end to end, a raw tokio-tungstenite peer against the embedded
//! router): 1007 for a frame that is no WAMP message, 1002 for a protocol
//! violation (a first message that is not HELLO), 1009 for a frame over
//! the size limit, 1000 for a normal GOODBYE.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wamp::router::{Router, RouterConfig};

type Raw = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn router_and_raw_client(max_message_size: usize) -> (Router, wamp::router::Listener, Raw) {
    let mut config = RouterConfig::default().realm("realm1");
    config.transport.max_message_size = max_message_size;
    let router = Router::new(config);
    let ws = router.listen_websocket("127.0.0.1:0").await.unwrap();
    let mut request = format!("ws://{}/ws", ws.local_addr())
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("wamp.2.json"));
    let (raw, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    (router, ws, raw)
}

/// Reads until the router's close frame; its code and the texts before it.
async fn close_code(raw: &mut Raw) -> (CloseCode, Vec<String>) {
    let mut texts = Vec::new();
    let read = async {
        while let Some(frame) = raw.next().await {
            match frame {
                Ok(Ws::Text(t)) => texts.push(t.to_string()),
                Ok(Ws::Close(Some(f))) => return f.code,
                Ok(Ws::Close(None)) => return CloseCode::Status,
                Ok(_) => {}
                Err(e) => panic!("connection failed before a close frame: {e}"),
            }
        }
        panic!("connection ended without a close frame")
    };
    let code = tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("a close frame");
    (code, texts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_that_is_no_wamp_message_closes_with_1007() {
    let (_router, _ws, mut raw) = router_and_raw_client(1 << 20).await;
    raw.send(Ws::text("[1, \"realm1\", {}")).await.unwrap();
    let (code, texts) = close_code(&mut raw).await;
    assert_eq!(code, CloseCode::Invalid);
    assert!(
        texts.iter().any(|t| t.contains("wamp.error.protocol_violation")),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_message_other_than_hello_closes_with_1002() {
    let (_router, _ws, mut raw) = router_and_raw_client(1 << 20).await;
    raw.send(Ws::text("[32, 1, {}, \"com.example.topic\"]"))
        .await
        .unwrap();
    let (code, texts) = close_code(&mut raw).await;
    assert_eq!(code, CloseCode::Protocol);
    assert!(texts.iter().any(|t| t.contains("expected HELLO")), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_limit_closes_with_1009() {
    let (_router, _ws, mut raw) = router_and_raw_client(1024).await;
    let big = format!("[1, \"realm1\", {{\"x\": \"{}\"}}]", "a".repeat(4096));
    raw.send(Ws::text(big)).await.unwrap();
    let (code, _) = close_code(&mut raw).await;
    assert_eq!(code, CloseCode::Size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goodbye_closes_with_1000() {
    let (_router, _ws, mut raw) = router_and_raw_client(1 << 20).await;
    raw.send(Ws::text("[1, \"realm1\", {\"roles\": {\"caller\": {}}}]"))
        .await
        .unwrap();
    match raw.next().await {
        Some(Ok(Ws::Text(t))) => assert!(t.starts_with("[2,"), "WELCOME expected: {t}"),
        other => panic!("{other:?}"),
    }
    raw.send(Ws::text("[6, {}, \"wamp.close.close_realm\"]"))
        .await
        .unwrap();
    let (code, texts) = close_code(&mut raw).await;
    assert_eq!(code, CloseCode::Normal);
    assert!(
        texts.iter().any(|t| t.contains("wamp.close.goodbye_and_out")),
        "{texts:?}"
    );
}
