#![allow(unused)]

use wamp::EventDetails;

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.get")]
    async fn get(&self, details: EventDetails) {}
}

fn main() {}
