//! Streaming results, attribute options, stub options and arguments whose
//! type is named like an injected one.

use std::time::Duration;

use wamp::service::{CallStream, Progressive, Stream, StubOptions, TypedCall, TypedPublish};
use wamp::{CancelMode, InvocationDetails};

#[derive(Debug, wamp::WampError)]
pub enum CountError {
    #[wamp(uri = "com.count.error.too_far")]
    TooFar { at: u32 },
}

mod model {
    /// The application's own session record: a normal argument.
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    pub struct Session {
        pub token: String,
    }
}

/// Named like `wamp::Session`, taken as an argument by #[wamp(arg)].
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Session {
    pub user: String,
}

pub struct Counter;

#[wamp::service(prefix = "com.count")]
impl Counter {
    #[wamp::procedure("up", invoke = "roundrobin", concurrency = 2, disclose_caller = false)]
    fn up(&self, n: u32) -> Progressive<u32, u32> {
        Progressive::new(move |p| async move {
            for i in 0..n {
                if p.is_wanted() {
                    p.send(i).await;
                }
            }
            n
        })
    }

    #[wamp::procedure("bounded")]
    fn bounded(&self, n: u32) -> Progressive<u32, (), CountError> {
        Progressive::try_new(move |p| async move {
            for i in 0..n {
                if i > 10 {
                    return Err(CountError::TooFar { at: i });
                }
                p.send(i).await;
            }
            Ok(())
        })
    }

    #[wamp::procedure("ticks")]
    async fn ticks(&self, n: u32, details: InvocationDetails) -> impl Stream<Item = u32> {
        let _ = details;
        futures_util::stream::iter(0..n)
    }

    #[wamp::procedure("checked")]
    fn checked(&self) -> impl Stream<Item = Result<u32, CountError>> {
        futures_util::stream::iter([Ok(1), Err(CountError::TooFar { at: 2 })])
    }

    #[wamp::procedure("resume")]
    async fn resume(&self, old: model::Session, #[wamp(arg)] current: Session, next: Option<Session>) -> String {
        format!("{}/{}/{}", old.token, current.user, next.map(|s| s.user).unwrap_or_default())
    }

    #[wamp::topic("<level>.alert", get_retained = true)]
    async fn alert(&self, level: String, text: String) {
        let _ = (level, text);
    }
}

#[allow(dead_code)]
async fn use_stubs(client: CounterClient) {
    let s: CallStream<u32, u32> = client.up(3).timeout(Duration::from_secs(1));
    let _: u32 = s.finish().await.unwrap();
    let _: CallStream<u32, (), CountError> = client.bounded(3).cancel_on_drop(CancelMode::Kill);
    let _: CallStream<u32> = client.ticks(3);
    let _: CallStream<u32, (), CountError> = client.checked();
    let call: TypedCall<String> = client
        .resume(model::Session { token: "t".into() }, Session { user: "u".into() }, None)
        .disclose_me()
        .timeout(Duration::from_secs(1));
    let _: String = call.await.unwrap();
    let quiet = client.with_options(StubOptions::new().receive_progress(false).disclose_me(true));
    let _ = quiet.up(1);
    let p: TypedPublish = client.publish_alert("high".into(), "x".into()).exclude_me(false).retain(true);
    let _: wamp::Id = p.acknowledge().await.unwrap();
    let mut sub = client.subscribe_alert().await.unwrap();
    let ev = sub.next().await.unwrap().unwrap();
    let _: (&str, wamp::Id, &str, Option<wamp::Id>) = (&ev.text, ev.publication, &ev.topic, ev.publisher());
}

fn main() {
    let d = <Counter as wamp::Service>::describe();
    assert!(d.procedure("up").unwrap().progress.is_some());
}
