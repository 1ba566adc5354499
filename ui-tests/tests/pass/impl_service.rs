use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wamp::{CallResult, EventDetails, InvocationDetails, ProgressSender};

#[derive(Debug, wamp::WampError)]
pub enum ShopError {
    #[wamp(uri = "com.shop.error.not_found")]
    NotFound { id: u64 },
    #[wamp(uri = "com.shop.error.closed")]
    Closed,
}

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Order {
    pub product: String,
    pub count: u32,
}

pub struct Shop;

#[wamp::service(prefix = "com.shop")]
impl Shop {
    #[wamp::procedure("item.<int:id>.price")]
    async fn price(&self, id: u64) -> Result<f64, ShopError> {
        if id == 0 { Err(ShopError::NotFound { id }) } else { Ok(1.5) }
    }

    #[wamp::procedure("<string:kind>.<int:id>.get_name", invoke = "roundrobin", concurrency = 8)]
    async fn name(&self, kind: String, id: i32, details: InvocationDetails) -> String {
        format!("{kind}{id}{:?}", details.caller)
    }

    #[wamp::procedure("files.<suffix:path>")]
    fn file(&self, path: String) -> Vec<u8> {
        path.into_bytes()
    }

    #[wamp::procedure("order", disclose_caller = true)]
    async fn order(&self, #[wamp(kwargs)] order: Order, #[wamp(kwarg = "note")] n: Option<String>) -> CallResult {
        CallResult::new().with_arg(order.count).with_kwarg("note", n)
    }

    #[wamp::procedure("count")]
    async fn count(&self, to: u32, progress: Option<ProgressSender>) -> Result<(), ShopError> {
        let _ = (to, progress);
        Ok(())
    }

    #[wamp::procedure("com.shop..open", match = "wildcard")]
    async fn open(&self) {}

    #[wamp::topic("<city>.on_sale")]
    async fn on_sale(&self, city: String, discount: u8, details: EventDetails) {
        let _ = (city, discount, details);
    }

    /// Not a handler: left alone.
    fn helper(&self) -> u8 {
        1
    }
}

fn main() {
    let _ = Shop.helper();
    let _ = <Shop as wamp::Service>::describe();
    let _client: fn(wamp::Session) -> ShopClient = ShopClient::new;
}
