#![allow(unused)]

use wamp::InvocationDetails;

struct S;

#[wamp::service]
impl S {
    #[wamp::topic("com.myapp.on_event")]
    async fn on_event(&self, details: InvocationDetails) {}
}

fn main() {}
