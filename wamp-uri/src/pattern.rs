//! Typed URI patterns, as `#[wamp::procedure]` and `#[wamp::topic]` take them:
//! `<name>` / `<string:name>` bind one component as a string (any `FromStr`),
//! `<int:name>` one component as an integer, `<suffix:name>` the rest of the
//! URI (prefix match, last only). From the pattern come the wire URI and the
//! match policy: `com.myapp.item.<int:id>.get_name` registers
//! `com.myapp.item..get_name` with `match = "wildcard"`, and
//! `com.myapp.<suffix:path>` registers `com.myapp.` with `match = "prefix"`.

//!
//! Literal components follow the loose URI rule of [`validate`],
//! checked by that same function.

use crate::{validate, MatchPolicy, UriRule};

/// How a pattern variable binds its component(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    /// `<name>` or `<string:name>`: one component, as a string.
    Str,
    /// `<int:name>`: one component, as an integer.
    Int,
    /// `<suffix:name>`: the rest of the URI (prefix match).
    Suffix,
}

/// A variable of a pattern.
#[derive(Debug, Clone)]
pub struct Var {
    /// Its name (a Rust identifier).
    pub name: String,
    /// What it binds.
    pub kind: VarKind,
    /// Component index in the concrete URI.
    pub index: usize,
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub struct UriPattern {
    /// The pattern as written (after the service prefix).
    pub pattern: String,
    /// The URI on the wire.
    pub wire: String,
    /// The match policy the variables imply.
    pub policy: MatchPolicy,
    /// The variables, in order.
    pub vars: Vec<Var>,
    /// `format!` string for the concrete URI, with `{}` per variable in order.
    pub format: String,
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a pattern; the error message says what is wrong and how to fix it.
pub fn parse(pattern: &str) -> Result<UriPattern, String> {
    if pattern.is_empty() {
        return Err("the URI is empty".into());
    }
    let components: Vec<&str> = pattern.split('.').collect();
    let mut vars: Vec<Var> = Vec::new();
    let mut wire_parts = Vec::new();
    let mut format_parts = Vec::new();
    let mut policy = MatchPolicy::Exact;
    for (index, c) in components.iter().enumerate() {
        if c.starts_with('<') || c.ends_with('>') || c.contains('<') || c.contains('>') {
            let inner = c
                .strip_prefix('<')
                .and_then(|c| c.strip_suffix('>'))
                .ok_or_else(|| {
                    format!("component {c:?}: a pattern variable must be a whole component, like `<int:id>`")
                })?;
            let (kind, name) = match inner.split_once(':') {
                None => (VarKind::Str, inner),
                Some(("string", n)) => (VarKind::Str, n),
                Some(("int", n)) => (VarKind::Int, n),
                Some(("suffix", n)) => (VarKind::Suffix, n),
                Some((other, _)) => {
                    return Err(format!(
                        "unknown pattern type `{other}` in `<{inner}>`: use `string`, `int` or `suffix`"
                    ))
                }
            };
            if !valid_name(name) {
                return Err(format!("`<{inner}>`: `{name}` is not a valid parameter name"));
            }
            if vars.iter().any(|v| v.name == name) {
                return Err(format!("pattern variable `{name}` appears twice"));
            }
            if kind == VarKind::Suffix {
                if index + 1 != components.len() {
                    return Err(format!("`<suffix:{name}>` must be the last component of the URI"));
                }
                if index == 0 {
                    return Err(format!(
                        "`<suffix:{name}>` needs at least one literal component before it"
                    ));
                }
                policy = MatchPolicy::Prefix;
                wire_parts.push(String::new());
            } else {
                if policy == MatchPolicy::Exact {
                    policy = MatchPolicy::Wildcard;
                }
                wire_parts.push(String::new());
            }
            format_parts.push("{}".to_owned());
            vars.push(Var {
                name: name.to_owned(),
                kind,
                index,
            });
        } else {
            if c.is_empty() {
                return Err(
                    "empty URI component: write a pattern variable like `<name>` instead of `..`".to_owned(),
                );
            }
            if let Err(e) = validate(c, UriRule::Loose, false) {
                return Err(format!("URI component {c:?}: {}", e.reason));
            }
            wire_parts.push((*c).to_owned());
            format_parts.push(c.replace('{', "{{").replace('}', "}}"));
        }
    }
    if policy == MatchPolicy::Prefix && vars.iter().any(|v| v.kind != VarKind::Suffix) {
        return Err("`<suffix:...>` cannot be combined with other pattern variables".into());
    }
    Ok(UriPattern {
        pattern: pattern.to_owned(),
        wire: wire_parts.join("."),
        policy,
        vars,
        format: format_parts.join("."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_and_prefix() {
        let p = parse("com.myapp.item.<int:id>.get_name").unwrap();
        assert_eq!(
            (p.wire.as_str(), p.policy),
            ("com.myapp.item..get_name", MatchPolicy::Wildcard)
        );
        assert_eq!((p.vars[0].index, p.vars[0].kind), (3, VarKind::Int));
        assert_eq!(p.format, "com.myapp.item.{}.get_name");
        let p = parse("com.myapp.<suffix:path>").unwrap();
        assert_eq!((p.wire.as_str(), p.policy), ("com.myapp.", MatchPolicy::Prefix));
        let p = parse("com.myapp.<string:obj_type>.<int:id>.get_name").unwrap();
        assert_eq!(p.wire, "com.myapp...get_name");
        assert_eq!(parse("com.myapp.hello").unwrap().policy, MatchPolicy::Exact);
    }

    #[test]
    fn errors() {
        for (bad, needle) in [
            ("com.<float:x>", "unknown pattern type"),
            ("com.<a>.<a>", "twice"),
            ("com.<suffix:p>.x", "last"),
            ("com..x", "empty URI component"),
            ("com.item<int:id>", "whole component"),
            ("com.<int:>", "not a valid parameter name"),
            ("com.my app", "whitespace"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}
