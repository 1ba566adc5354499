//! Pattern-based procedures from the programming guide:
//! `com.myapp.item.<int:id>.get_name` and
//! `com.myapp.<string:obj_type>.<int:id>.get_name`, registered as wildcard
//! patterns (`com.myapp.item..get_name`, `com.myapp...get_name`) whose URI
//! components become typed parameters.
//!
//! A call to `com.myapp.item.1.get_name` matches both patterns. Routers pick
//! the more specific one; both answer the same for items, so the result
//! does not depend on the choice.

use std::time::Duration;

use wamp::Session;

use crate::{describe_call_error, expect, Backend, BoxError, Transcript};

/// Item names by id.
pub const ITEMS: [&str; 3] = ["anvil", "bucket", "candle"];
/// User names by id.
pub const USERS: [&str; 3] = ["alice", "bob", "carol"];

/// Errors of the `get_name` procedures.
#[derive(Debug, Clone, PartialEq, wamp::WampError)]
pub enum LookupError {
    /// The object type is neither `item` nor `user` (no payload, as in the guide).
    #[wamp(uri = "com.myapp.error.no_such_object_type")]
    NoSuchObjectType,
    /// No object of that type has this id.
    #[wamp(uri = "com.myapp.error.no_such_object")]
    NoSuchObject {
        /// The object type asked for.
        obj_type: String,
        /// The id asked for.
        id: u64,
    },
}

fn lookup(obj_type: &str, id: u64) -> Result<String, LookupError> {
    let table = match obj_type {
        "item" => &ITEMS,
        "user" => &USERS,
        _ => return Err(LookupError::NoSuchObjectType),
    };
    let name = usize::try_from(id).ok().and_then(|i| table.get(i));
    name.map(|n| n.to_string())
        .ok_or_else(|| LookupError::NoSuchObject {
            obj_type: obj_type.to_owned(),
            id,
        })
}

/// A tiny database behind the two patterns.
pub struct Names;

#[wamp::service(prefix = "com.myapp")]
impl Names {
    /// `com.myapp.item.<int:id>.get_name`: the guide's `get_item_name(id)`.
    #[wamp::procedure("item.<int:id>.get_name")]
    async fn get_item_name(&self, id: u64) -> Result<String, LookupError> {
        lookup("item", id)
    }

    /// `com.myapp.<string:obj_type>.<int:id>.get_name`: the guide's
    /// `get_object_name(obj_type, id)`.
    #[wamp::procedure("<string:obj_type>.<int:id>.get_name")]
    async fn get_object_name(&self, obj_type: String, id: u64) -> Result<String, LookupError> {
        lookup(&obj_type, id)
    }
}

/// Registers both patterns.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(Names).await?;
    log.say("Registered com.myapp.item..get_name and com.myapp...get_name (wildcard)");
    Ok(Backend::new(log).with_attached(attached))
}

/// Calls concrete URIs of both patterns, through the typed stubs (which
/// format the URI from the arguments) and by plain URI.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    let names = NamesClient::new(session.clone());
    out.say(format!("item 1: {}", names.get_item_name(1).await?));
    for (obj_type, id) in [("user", 0), ("item", 2), ("user", 7), ("planet", 1)] {
        match names.get_object_name(obj_type.into(), id).await {
            Ok(name) => out.say(format!("{obj_type} {id}: {name}")),
            Err(e) => out.say(format!("{obj_type} {id}: error {}", describe_call_error(&e))),
        }
    }
    let r = session.call("com.myapp.user.2.get_name").await?;
    out.say(format!(
        "com.myapp.user.2.get_name: {}",
        wamp::Payload::arg::<String>(&r, 0)?
    ));
    Ok(out.lines())
}

/// Checks the frontend's output, line by line.
pub fn check(lines: &[String]) -> Result<(), String> {
    expect::lines(
        lines,
        &[
            "item 1: bucket",
            "user 0: alice",
            "item 2: candle",
            r#"user 7: error com.myapp.error.no_such_object NoSuchObject { obj_type: "user", id: 7 }"#,
            "planet 1: error com.myapp.error.no_such_object_type NoSuchObjectType",
            "com.myapp.user.2.get_name: carol",
        ],
    )
}
