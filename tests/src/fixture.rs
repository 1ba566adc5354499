//! The users and roles of the authentication tests
//! (`tests/python/auth_fixture.json`), shared with Crossbar.io
//! (`crossbar_node.py --auth`) and Autobahn|Python (`auth_client.py`).

use serde_json::Value as Json;
use wamp::proto::uri::MatchPolicy;
use wamp::router::auth::{
    Allow, AuthMethod, CryptosignUser, Permission, RealmConfig, Role, TicketUser, WampCraUser,
};

use crate::python::workspace_root;

/// The fixture's path.
pub fn fixture_path() -> String {
    workspace_root()
        .join("tests/python/auth_fixture.json")
        .display()
        .to_string()
}

/// The fixture.
pub fn fixture() -> Json {
    let text = std::fs::read_to_string(fixture_path()).expect("read auth_fixture.json");
    serde_json::from_str(&text).expect("auth_fixture.json is JSON")
}

/// The string at `path` (object keys) in `v`.
pub fn str_at<'a>(v: &'a Json, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_else(|| panic!("fixture has no string at {path:?}"))
}

/// The fixture's realm, users and roles as our router's configuration.
pub fn fixture_realm(fx: &Json) -> RealmConfig {
    let mut realm = RealmConfig::new(str_at(fx, &["realm"]));
    for (name, permissions) in fx["roles"].as_object().unwrap() {
        let mut role = Role::new(name);
        for p in permissions.as_array().unwrap() {
            let allowed = |k: &str| p["allow"][k].as_bool().unwrap_or(false);
            role = role.permit(Permission {
                uri: str_at(p, &["uri"]).to_owned(),
                match_policy: MatchPolicy::parse(str_at(p, &["match"])).unwrap(),
                allow: Allow {
                    call: allowed("call"),
                    register: allowed("register"),
                    publish: allowed("publish"),
                    subscribe: allowed("subscribe"),
                },
            });
        }
        realm = realm.role(role);
    }
    let tickets = fx["ticket"].as_object().unwrap().iter().map(|(authid, u)| {
        (
            authid.clone(),
            TicketUser::new(str_at(u, &["ticket"]), str_at(u, &["role"])),
        )
    });
    let cra = fx["wampcra"].as_object().unwrap().iter().map(|(authid, u)| {
        let mut user = WampCraUser::new(str_at(u, &["secret"]), str_at(u, &["role"]));
        if let Some(salt) = u["salt"].as_str() {
            let n = |k: &str| u[k].as_u64().unwrap() as u32;
            user = user.salted(salt, n("iterations"), n("keylen"));
        }
        (authid.clone(), user)
    });
    let keys = fx["cryptosign"].as_object().unwrap().iter().map(|(authid, u)| {
        (
            authid.clone(),
            CryptosignUser::new(str_at(u, &["public_key"]), str_at(u, &["role"])),
        )
    });
    realm
        .auth(AuthMethod::ticket(tickets))
        .auth(AuthMethod::wampcra(cra))
        .auth(AuthMethod::cryptosign(keys))
}
