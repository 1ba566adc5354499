#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! The WAMP URI grammar, in one place: the protocol crate (`wamp_proto::uri`)
//! checks every URI it sends and receives with it, and the `wamp` macros
//! check the URIs written in attributes with the same functions at compile
//! time. No dependencies, so a proc-macro crate can use it cheaply.
//!
//! URI rules of the WAMP specification ("URIs", "Relaxed/Loose URIs").
//!
//! A URI is a `.`-separated list of components. Under the *loose* rule a
//! component is any non-empty string without whitespace, `.` or `#`; under the
//! *strict* rule only `[0-9a-z_]`. Empty components (`com..get`, `com.app.`)
//! are allowed only in patterns: wildcard registrations/subscriptions use
//! them as "any one component", and a prefix may end with `.`.

use std::fmt;

pub mod pattern;

/// Which component rule to check against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UriRule {
    /// Components are non-empty and contain no whitespace, `.` or `#`.
    #[default]
    Loose,
    /// Components use only lowercase letters, digits and `_`.
    Strict,
}

/// How a registration or subscription URI is matched (`match` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum MatchPolicy {
    /// The URI must be equal.
    #[default]
    Exact,
    /// The pattern is a prefix of the URI.
    Prefix,
    /// Empty components of the pattern match any one component.
    Wildcard,
}

impl MatchPolicy {
    /// The wire name (`"exact"`, `"prefix"`, `"wildcard"`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchPolicy::Exact => "exact",
            MatchPolicy::Prefix => "prefix",
            MatchPolicy::Wildcard => "wildcard",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "exact" => Some(MatchPolicy::Exact),
            "prefix" => Some(MatchPolicy::Prefix),
            "wildcard" => Some(MatchPolicy::Wildcard),
            _ => None,
        }
    }

    /// Whether `uri` is matched by `pattern` under this policy.
    ///
    /// ```
    /// use wamp_uri::MatchPolicy;
    /// assert!(MatchPolicy::Wildcard.matches("com.myapp..get", "com.myapp.item.get"));
    /// assert!(!MatchPolicy::Wildcard.matches("com.myapp..get", "com.myapp.get"));
    /// assert!(MatchPolicy::Prefix.matches("com.myapp.", "com.myapp.a.b"));
    /// ```
    pub fn matches(self, pattern: &str, uri: &str) -> bool {
        match self {
            MatchPolicy::Exact => pattern == uri,
            MatchPolicy::Prefix => uri.starts_with(pattern),
            MatchPolicy::Wildcard => wildcard_matches(pattern, uri),
        }
    }
}

impl fmt::Display for MatchPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `uri` is in the `wamp.` namespace, which belongs to the router:
/// clients may call and subscribe there (meta API, meta events), but never
/// register or publish.
///
/// ```
/// use wamp_uri::is_router_namespace;
/// assert!(is_router_namespace("wamp.session.on_join"));
/// assert!(is_router_namespace("wamp"));
/// assert!(!is_router_namespace("wampx.foo"));
/// assert!(!is_router_namespace("com.wamp.foo"));
/// ```
pub fn is_router_namespace(uri: &str) -> bool {
    uri == "wamp" || uri.starts_with("wamp.")
}

/// Whether a wildcard pattern matches a URI: same number of components, and
/// every non-empty pattern component equal to the URI's.
pub fn wildcard_matches(pattern: &str, uri: &str) -> bool {
    let mut p = pattern.split('.');
    let mut u = uri.split('.');
    loop {
        match (p.next(), u.next()) {
            (None, None) => return true,
            (Some(pc), Some(uc)) => {
                if !pc.is_empty() && pc != uc {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Why a URI was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUri {
    /// The URI as given.
    pub uri: String,
    /// What rule it broke.
    pub reason: &'static str,
}

impl fmt::Display for InvalidUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid URI {:?}: {}", self.uri, self.reason)
    }
}

impl std::error::Error for InvalidUri {}

/// Checks `uri` against `rule`. With `allow_empty`, empty components are
/// accepted (patterns); the URI itself must still be non-empty.
///
/// ```
/// use wamp_uri::{validate, UriRule};
/// assert!(validate("com.myapp.topic1", UriRule::Strict, false).is_ok());
/// assert!(validate("com.myapp..get", UriRule::Loose, false).is_err());
/// assert!(validate("com.myapp..get", UriRule::Loose, true).is_ok());
/// assert!(validate("com.MyApp", UriRule::Strict, false).is_err());
/// ```
pub fn validate(uri: &str, rule: UriRule, allow_empty: bool) -> Result<(), InvalidUri> {
    let fail = |reason| {
        Err(InvalidUri {
            uri: uri.to_owned(),
            reason,
        })
    };
    if uri.is_empty() {
        return fail("URI is empty");
    }
    const EMPTY: &str = "empty component (allowed only in wildcard or prefix patterns)";
    // One pass over the bytes (this runs for every CALL and PUBLISH);
    // non-ASCII characters are checked for whitespace afterwards.
    let mut component_len = 0usize;
    for b in uri.bytes() {
        if b == b'.' {
            if component_len == 0 && !allow_empty {
                return fail(EMPTY);
            }
            component_len = 0;
            continue;
        }
        component_len += 1;
        let ok = match rule {
            // Control characters too: a JSON peer reads a string that
            // starts with NUL as binary, and none belongs in a name.
            UriRule::Loose => {
                b >= 0x80 || !(b == b'#' || b.is_ascii_control() || (b as char).is_whitespace())
            }
            UriRule::Strict => b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_',
        };
        if !ok {
            return fail(match rule {
                UriRule::Loose => "a component contains whitespace, a control character or '#'",
                UriRule::Strict => "a component has a character other than [0-9a-z_]",
            });
        }
    }
    if component_len == 0 && !allow_empty {
        return fail(EMPTY);
    }
    if rule == UriRule::Loose && !uri.is_ascii() && uri.chars().any(char::is_whitespace) {
        return fail("a component contains whitespace, a control character or '#'");
    }
    Ok(())
}

/// Checks a registration or subscription URI for its match policy: exact
/// URIs need all components, patterns may leave some empty.
pub fn validate_pattern(uri: &str, policy: MatchPolicy, rule: UriRule) -> Result<(), InvalidUri> {
    validate(uri, rule, policy != MatchPolicy::Exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_rule() {
        for ok in ["com.myapp.topic1", "a", "com.My-App.x", "com.app.äöü"] {
            assert!(validate(ok, UriRule::Loose, false).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "com..x",
            ".com",
            "com.",
            "com.my app",
            "com.a#b",
            "com.\tx",
            "\0com.x",
            "com.\0",
            "com.a\u{1}b",
            "com.\u{7f}",
        ] {
            assert!(validate(bad, UriRule::Loose, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn strict_rule() {
        assert!(validate("com.my_app.topic1", UriRule::Strict, false).is_ok());
        for bad in ["com.MyApp", "com.my-app", "com.app.ä"] {
            assert!(validate(bad, UriRule::Strict, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_components_only_in_patterns() {
        assert!(validate_pattern("com.myapp..get", MatchPolicy::Wildcard, UriRule::Loose).is_ok());
        assert!(validate_pattern("com.myapp.", MatchPolicy::Prefix, UriRule::Loose).is_ok());
        assert!(validate_pattern("com.myapp..get", MatchPolicy::Exact, UriRule::Loose).is_err());
        assert!(validate_pattern("", MatchPolicy::Prefix, UriRule::Loose).is_err());
    }

    #[test]
    fn wildcard_matching_from_the_spec() {
        let p = "com.myapp..create";
        assert!(wildcard_matches(p, "com.myapp.product.create"));
        assert!(wildcard_matches(p, "com.myapp.123455.create"));
        assert!(!wildcard_matches(p, "com.myapp.product.delete"));
        assert!(!wildcard_matches(p, "com.myapp.product.123.create"));
        assert!(wildcard_matches("..", "a.b.c"));
        assert!(!wildcard_matches("..", "a.b"));
    }
}
