#![allow(unused)]

struct S;

#[wamp::service]
impl S {
    #[wamp::procedure("com.myapp.ticks")]
    fn ticks(&self) -> impl Iterator<Item = u32> {
        0..3
    }
}

fn main() {}
