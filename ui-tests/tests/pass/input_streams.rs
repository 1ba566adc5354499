//! Streaming input and two-way streams: the handler forms, and the stubs'
//! signatures (an `impl Stream` in, a `TypedCall` or `CallStream` out).

use wamp::service::{CallStream, Progressive, Stream, Streaming, TypedCall};
use wamp::ApplicationError;

pub struct Adder;

#[wamp::service(prefix = "com.add")]
impl Adder {
    #[wamp::procedure("sum")]
    async fn sum(&self, start: i64, mut numbers: Streaming<i64>) -> Result<i64, ApplicationError> {
        let mut total = start;
        while let Some(n) = numbers.next().await {
            total += n?;
        }
        Ok(total)
    }

    #[wamp::procedure("running")]
    fn running(&self, mut numbers: wamp::service::Streaming<i64>) -> Progressive<i64, i64> {
        Progressive::new(move |p| async move {
            let mut total = 0;
            while let Some(Ok(n)) = numbers.next().await {
                total += n;
                p.send(total).await;
            }
            total
        })
    }

    #[wamp::procedure("item.<int:id>.append")]
    fn append(&self, id: u64, #[wamp(kwarg)] sep: String, lines: Streaming<String>) -> impl Stream<Item = String> {
        use futures_util::StreamExt;
        let _ = id;
        lines.map(move |l| l.unwrap_or_default() + &sep)
    }
}

#[wamp::service(prefix = "com.echo")]
pub trait Echo {
    #[wamp::procedure("count")]
    async fn count(&self, items: Streaming<String>) -> usize;
}

#[wamp::procedure("com.free.count")]
async fn count(items: Streaming<u8>) -> usize {
    use futures_util::StreamExt;
    items.count().await
}

fn stubs(session: wamp::Session) {
    let adder = AdderClient::new(session.clone());
    let _: TypedCall<i64, ApplicationError> = adder.sum(1, futures_util::stream::iter([2, 3]));
    let _: CallStream<i64, i64> = adder.running(futures_util::stream::empty()).timeout(std::time::Duration::from_secs(1));
    let _: CallStream<String> = adder.append(7, ",".into(), futures_util::stream::iter(vec!["a".to_string()]));
    let _: TypedCall<usize> = EchoClient::new(session.clone()).count(futures_util::stream::iter(vec![String::new()]));
    let _: TypedCall<usize> = count::call(&session, futures_util::stream::iter([1u8]));
}

fn main() {
    let _ = stubs;
}
