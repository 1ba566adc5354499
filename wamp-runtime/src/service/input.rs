//! Streaming input in typed form (progressive call invocations):
//! [`Streaming`], the items a procedure takes as a stream, and the caller's
//! half, which sends a stub's `impl Stream` as the call's later chunks.
//!
//! On the wire a typed call with streaming input is one CALL carrying the
//! ordinary parameters (with `progress`), then one CALL per item (the item
//! its single positional argument, with `progress`), then an empty CALL
//! without `progress` that ends the input.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_util::{Stream, StreamExt};
use wamp_proto::{error_uri, Value};

use super::glue::Encode;
use crate::error::{ApplicationError, Error};
use crate::payload::CallResult;
use crate::session::{Call, CallHandle, InputSender, InputStream};

/// The items a caller streams into a procedure (progressive call
/// invocations), decoded as `T`: the type of a procedure's input-stream
/// parameter. At most one parameter of a procedure may be a `Streaming`;
/// the generated stub takes an `impl Stream<Item = T> + Send + 'static`
/// for it and sends each item as it comes, then ends the input.
///
/// The call's first CALL carries the procedure's other parameters, bound
/// as usual before the handler runs; every later chunk carries items, one
/// per positional argument (the typed stub sends one per chunk), and the
/// stream ends after the last chunk. A plain call (a caller that does not
/// stream its input) gives an empty stream.
///
/// Each item is `Ok(T)`, or an `Err` (`wamp.error.invalid_argument`,
/// naming the parameter and the item's index) for an item that does not
/// decode as `T` or a chunk with keyword arguments; the stream goes on
/// after such an item, and a handler returning `Result<_, ApplicationError>`
/// can pass it on with `?`. An input cut short (the caller canceled, or
/// the session ended, before its last chunk) ends with an `Err`
/// (`wamp.error.canceled`), so that the end of the stream always means
/// the caller sent everything it meant to. The stream is bounded as
/// [`InputStream`] is: a handler that stops reading holds the caller back.
/// A procedure without a `Streaming` parameter refuses a call whose input
/// streams (`wamp.error.invalid_argument`), rather than lose its items.
///
/// The macros recognize the parameter by its type's name (`Streaming<T>`,
/// bare or as a `wamp::` path); a type of your own with that name is an
/// argument when the parameter is marked `#[wamp(arg)]`.
///
/// ```
/// use wamp::service::{Progressive, Streaming};
/// use wamp::ApplicationError;
///
/// struct Adder;
///
/// #[wamp::service(prefix = "com.myapp")]
/// impl Adder {
///     /// Adds up the numbers streamed in, starting from `start`.
///     #[wamp::procedure("sum")]
///     async fn sum(&self, start: i64, mut numbers: Streaming<i64>) -> Result<i64, ApplicationError> {
///         let mut total = start;
///         while let Some(n) = numbers.next().await {
///             total += n?;
///         }
///         Ok(total)
///     }
///
///     /// Two-way: a running total after every number, then the total.
///     #[wamp::procedure("running_sum")]
///     fn running_sum(&self, numbers: Streaming<i64>) -> Progressive<i64, i64, ApplicationError> {
///         Progressive::try_new(move |progress| async move {
///             let mut numbers = numbers;
///             let mut total = 0;
///             while let Some(n) = numbers.next().await {
///                 total += n?;
///                 progress.send(total).await;
///             }
///             Ok(total)
///         })
///     }
/// }
///
/// # async fn frontend(session: wamp::Session) -> Result<(), wamp::CallError<ApplicationError>> {
/// let adder = AdderClient::new(session);
/// let total = adder.sum(10, futures_util::stream::iter([1, 2, 3])).await?;
/// assert_eq!(total, 16);
/// let mut running = adder.running_sum(futures_util::stream::iter([1, 2, 3]));
/// while let Some(t) = running.next().await {
///     println!("so far: {}", t?);
/// }
/// assert_eq!(running.finish().await?, 6);
/// # Ok(()) }
/// ```
pub struct Streaming<T> {
    chunks: Option<InputStream>,
    pending: std::vec::IntoIter<Value>,
    name: &'static str,
    index: usize,
    decode: fn(Value) -> Result<T, String>,
}

impl<T> std::fmt::Debug for Streaming<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming")
            .field("parameter", &self.name)
            .field("items_read", &self.index)
            .field("open", &self.chunks.is_some())
            .finish()
    }
}

impl<T> Streaming<T> {
    /// The items of `chunks` (`None`: a plain call, no items), for the
    /// parameter `name`, each decoded by `decode`.
    pub(crate) fn new(
        chunks: Option<InputStream>,
        name: &'static str,
        decode: fn(Value) -> Result<T, String>,
    ) -> Self {
        Streaming {
            chunks,
            pending: Vec::new().into_iter(),
            name,
            index: 0,
            decode,
        }
    }

    fn invalid(&self, index: usize, what: impl std::fmt::Display) -> ApplicationError {
        ApplicationError::invalid_argument(format!("input `{}`, item {index}: {what}", self.name))
    }
}

impl<T> Streaming<T> {
    /// The next item; `None` after the last one. The same as
    /// `StreamExt::next`, without importing it.
    pub async fn next(&mut self) -> Option<Result<T, ApplicationError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<T> Stream for Streaming<T> {
    type Item = Result<T, ApplicationError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(v) = this.pending.next() {
                let index = this.index;
                this.index += 1;
                return Poll::Ready(Some((this.decode)(v).map_err(|e| this.invalid(index, e))));
            }
            let Some(chunks) = this.chunks.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(Pin::new(&mut *chunks).poll_next(cx)) {
                None => {
                    let complete = chunks.is_complete();
                    this.chunks = None;
                    if complete {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(ApplicationError::new(error_uri::CANCELED).with_arg(
                        format!(
                        "input `{}` was cut short after {} item(s): the call was canceled, or the session \
                             ended, before the caller's last chunk",
                        this.name, this.index
                    ),
                    ))));
                }
                Some(chunk) => {
                    this.pending = chunk.args.into_iter();
                    if !chunk.kwargs.is_empty() {
                        let keys: Vec<&str> = chunk.kwargs.keys().map(String::as_str).collect();
                        return Poll::Ready(Some(Err(this.invalid(
                            this.index,
                            format!(
                                "items are positional arguments of the call's later chunks; got keyword arguments {keys:?}"
                            ),
                        ))));
                    }
                }
            }
        }
    }
}

/// A stub's input stream, each item encoded by its type's `Wire::encode`.
pub(crate) type Items = Pin<Box<dyn Stream<Item = Result<Value, Error>> + Send>>;

/// Encodes `items` as they come (generated code names `encode` at the item type).
pub(crate) fn items<S>(items: S, encode: Encode<S::Item>) -> Items
where
    S: Stream + Send + 'static,
    S::Item: 'static,
{
    Box::pin(
        items
            .enumerate()
            .map(move |(i, item)| encode(&item).map_err(|e| Error::Value(format!("input item {i}: {e}")))),
    )
}

/// The sending half of a typed call's input, run next to the wait for its
/// results.
pub(crate) type Pump = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Sends every item as a chunk of the call's input, each when the session
/// has room for it (flow control), then the empty last chunk. Fails (and
/// so fails the call) only for an item that cannot be sent; a call that
/// has ended meanwhile, or a session going down, stops the input quietly,
/// as the call's outcome says what happened.
pub(crate) fn pump(mut sender: InputSender, mut items: Items) -> Pump {
    Box::pin(async move {
        while let Some(item) = items.next().await {
            let chunk = CallResult {
                args: vec![item?],
                kwargs: Default::default(),
            };
            match sender.send(chunk, false).await {
                Ok(()) => {}
                Err(e @ Error::InvalidArgument(_)) => return Err(e),
                Err(_) => return Ok(()),
            }
        }
        let _ = sender.send(CallResult::new(), true).await;
        Ok(())
    })
}

/// Starts `call` with streaming input and its pump.
pub(crate) async fn start(call: Call, items: Items) -> Result<(CallHandle, Pump), Error> {
    let mut handle = call.stream_input().start().await?;
    let sender = handle
        .take_input()
        .expect("a call started with stream_input streams its input");
    Ok((handle, pump(sender, items)))
}

/// A call whose input is `items`, and whose single final result is awaited
/// while the input goes out. An item that cannot be sent cancels the call.
pub(crate) async fn call(call: Call, items: Items) -> Result<CallResult, Error> {
    let (handle, pump) = start(call, items).await?;
    let mut pump = Some(pump);
    let mut result = std::pin::pin!(handle.result());
    std::future::poll_fn(|cx| {
        if let Some(p) = pump.as_mut() {
            if let Poll::Ready(r) = p.as_mut().poll(cx) {
                pump = None;
                // Returning drops the handle (in `result`): the call is canceled.
                r?;
            }
        }
        result.as_mut().poll(cx)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Wire;

    fn decode(v: Value) -> Result<i64, String> {
        <i64 as Wire>::decode(v)
    }

    /// A `Streaming<i64>` of `chunks`, the last marked as such when `complete`.
    async fn streaming(chunks: Vec<CallResult>, complete: bool) -> Streaming<i64> {
        let (tx, input) = InputStream::channel(chunks.len().max(1));
        let n = chunks.len();
        for (i, c) in chunks.into_iter().enumerate() {
            tx.send((c, complete && i + 1 == n)).await.unwrap();
        }
        Streaming::new(Some(input), "numbers", decode)
    }

    async fn all(mut s: Streaming<i64>) -> Vec<Result<i64, String>> {
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            out.push(item.map_err(|e| format!("{}: {}", e.error, e.message().unwrap_or_default())));
        }
        out
    }

    #[tokio::test]
    async fn items_are_the_positional_arguments_of_each_chunk() {
        let chunks = vec![
            CallResult::new().with_arg(1),
            CallResult::new(),
            CallResult::new().with_arg(2).with_arg(3),
            CallResult::new().with_arg("four"),
            CallResult::new(),
        ];
        let got = all(streaming(chunks, true).await).await;
        assert_eq!(got[..3], [Ok(1), Ok(2), Ok(3)]);
        let err = got[3].as_ref().unwrap_err();
        assert!(
            err.starts_with("wamp.error.invalid_argument: input `numbers`, item 3: expected i64"),
            "{err}"
        );
        assert_eq!(got.len(), 4);
    }

    #[tokio::test]
    async fn an_input_cut_short_ends_with_an_error() {
        let got = all(streaming(vec![CallResult::new().with_arg(1)], false).await).await;
        assert_eq!(got[0], Ok(1));
        let err = got[1].as_ref().unwrap_err();
        assert!(
            err.starts_with("wamp.error.canceled: input `numbers` was cut short after 1 item(s)"),
            "{err}"
        );
        assert_eq!(got.len(), 2);
        // A plain call: no input, no items, no error.
        assert!(all(Streaming::new(None, "numbers", decode)).await.is_empty());
    }

    #[tokio::test]
    async fn keyword_arguments_are_not_items() {
        let mut chunk = CallResult::new().with_arg(1);
        chunk.kwargs.insert("n".into(), Value::UInt(2));
        let got = all(streaming(vec![chunk], true).await).await;
        let err = got[0].as_ref().unwrap_err();
        assert!(err.contains("keyword arguments [\"n\"]"), "{err}");
        assert_eq!(got[1], Ok(1));
    }
}
