#![allow(unused)]

struct S;

#[wamp::service(prefix = "com.myapp")]
impl S {
    #[wamp::topic("on_sale")]
    async fn on_sale(&self, discount: u8) {}

    /// Its stub would be `SClient::publish_on_sale`, the topic's publish stub.
    #[wamp::procedure("publish_on_sale")]
    async fn publish_on_sale(&self, discount: u8) {}
}

fn main() {}
