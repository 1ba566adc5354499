//! URI rules of the WAMP specification ("URIs", "Relaxed/Loose URIs"): the
//! workspace's one URI grammar, `wamp-uri`, which the `wamp` macros use too.

pub use wamp_uri::{
    is_router_namespace, validate, validate_pattern, wildcard_matches, InvalidUri, MatchPolicy, UriRule,
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn strict_implies_loose(uri in "[a-z0-9_]{1,5}(\\.[a-z0-9_]{1,5}){0,4}") {
            prop_assert!(validate(&uri, UriRule::Strict, false).is_ok());
            prop_assert!(validate(&uri, UriRule::Loose, false).is_ok());
        }

        #[test]
        fn a_uri_matches_itself_under_every_policy(uri in "[a-z]{1,4}(\\.[a-z]{1,4}){0,4}") {
            for p in [MatchPolicy::Exact, MatchPolicy::Prefix, MatchPolicy::Wildcard] {
                prop_assert!(p.matches(&uri, &uri));
            }
        }

        #[test]
        fn validate_never_panics(s in "\\PC{0,40}") {
            let _ = validate(&s, UriRule::Loose, true);
            let _ = validate(&s, UriRule::Strict, false);
        }
    }
}
