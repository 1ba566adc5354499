//! The users and roles of the authentication tests
//! (`tests/python/auth_fixture.json`), shared with Crossbar.io
//! (`crossbar_node.py --auth`) and Autobahn|Python (`auth_client.py`).

use serde_json::Value as Json;

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
