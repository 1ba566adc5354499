#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    /// `invoke` is a registration option; topics take `match` and `get_retained`.
    #[wamp::topic("com.myapp.on_event", invoke = "roundrobin")]
    async fn on_event(&self) {}
}

fn main() {}
