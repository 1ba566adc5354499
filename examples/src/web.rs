//! The backend of the browser example (`examples/web/`): a typed catalog
//! service and a ticker, for a page served by `wamp router --web
//! examples/web` that uses Autobahn|JS.
//!
//! - `com.example.web.item.<int:id>.get_name` (registered as the wildcard
//!   `com.example.web.item..get_name`) answers an item's name, or the error
//!   `com.example.web.error.not_found` with `{"id": ID}`.
//! - `com.example.web.on_tick` gets an event every interval: the counter
//!   (positional) and the time (`{"time": "..."}`).

use std::time::{Duration, SystemTime};

use wamp::Session;

use crate::rpc_timeservice::utc_timestamp;
use crate::{spawn_periodic, Backend, BoxError, Transcript};

/// The topic the ticker publishes to.
pub const TICK_TOPIC: &str = "com.example.web.on_tick";

/// Errors of the catalog.
#[derive(Debug, PartialEq, wamp::WampError)]
pub enum CatalogError {
    /// No item with this id.
    #[wamp(uri = "com.example.web.error.not_found")]
    NotFound {
        /// The id asked for.
        id: u64,
    },
}

/// A catalog of named items.
pub struct Catalog {
    /// Item names, by id.
    pub names: Vec<String>,
}

#[wamp::service(prefix = "com.example.web")]
impl Catalog {
    /// The name of item `id`, taken from the URI of the call.
    #[wamp::procedure("item.<int:id>.get_name")]
    async fn get_name(&self, id: u64) -> Result<String, CatalogError> {
        self.names
            .get(id as usize)
            .cloned()
            .ok_or(CatalogError::NotFound { id })
    }
}

/// The example's catalog.
pub fn catalog() -> Catalog {
    Catalog {
        names: ["apple", "banana", "cherry"].map(String::from).to_vec(),
    }
}

/// Attaches the catalog and starts the ticker.
pub async fn backend(session: Session, interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(catalog()).await?;
    log.say("Attached the catalog: com.example.web.item.<int:id>.get_name");
    let publisher = session.clone();
    let ticker = spawn_periodic(interval, move |counter| {
        let session = publisher.clone();
        async move {
            session
                .publish(TICK_TOPIC)
                .arg(counter)
                .kwarg("time", utc_timestamp(SystemTime::now()))
                .await
                .map(|_| ())
        }
    });
    log.say(format!("Publishing to {TICK_TOPIC} every {interval:?}"));
    Ok(Backend::new(log).with_attached(attached).with_task(ticker))
}
