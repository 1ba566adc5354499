#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::topic("com.myapp.news", get_retained = 1)]
    async fn news(&self, title: String) {}
}

fn main() {}
