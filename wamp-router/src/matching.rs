//! URI pattern index shared by the broker and the dealer.
//!
//! Holds exact, prefix and wildcard entries, and answers two questions:
//! the single best match for a URI (dealer: exact, then longest prefix, then
//! the most specific wildcard, as the WAMP spec orders them) and all matches
//! (broker: every subscription that covers a topic).

use std::collections::{BTreeMap, HashMap};

use wamp_proto::uri::{wildcard_matches, MatchPolicy};
use wamp_proto::Id;

/// An index of `(uri, policy) -> id`.
#[derive(Debug, Default)]
pub struct PatternIndex {
    exact: HashMap<String, Id>,
    prefix: HashMap<String, Id>,
    /// How many prefix patterns there are of each length (in bytes): a
    /// lookup tries only these lengths, not every prefix of the URI.
    prefix_lens: BTreeMap<usize, usize>,
    /// Wildcard patterns in insertion order, so ties go to the oldest.
    wildcard: Vec<(String, Id)>,
}

impl PatternIndex {
    /// The id stored for exactly this pattern and policy.
    pub fn get(&self, uri: &str, policy: MatchPolicy) -> Option<Id> {
        match policy {
            MatchPolicy::Exact => self.exact.get(uri).copied(),
            MatchPolicy::Prefix => self.prefix.get(uri).copied(),
            MatchPolicy::Wildcard => self.wildcard.iter().find(|(p, _)| p == uri).map(|(_, id)| *id),
        }
    }

    /// Stores an id for a pattern; the caller checks [`get`](Self::get) first.
    pub fn insert(&mut self, uri: String, policy: MatchPolicy, id: Id) {
        match policy {
            MatchPolicy::Exact => {
                self.exact.insert(uri, id);
            }
            MatchPolicy::Prefix => {
                let len = uri.len();
                if self.prefix.insert(uri, id).is_none() {
                    *self.prefix_lens.entry(len).or_default() += 1;
                }
            }
            MatchPolicy::Wildcard => self.wildcard.push((uri, id)),
        }
    }

    /// Removes a pattern.
    pub fn remove(&mut self, uri: &str, policy: MatchPolicy) {
        match policy {
            MatchPolicy::Exact => {
                self.exact.remove(uri);
            }
            MatchPolicy::Prefix => {
                if self.prefix.remove(uri).is_some() {
                    if let Some(n) = self.prefix_lens.get_mut(&uri.len()) {
                        *n -= 1;
                        if *n == 0 {
                            self.prefix_lens.remove(&uri.len());
                        }
                    }
                }
            }
            MatchPolicy::Wildcard => self.wildcard.retain(|(p, _)| p != uri),
        }
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefix.is_empty() && self.wildcard.is_empty()
    }

    /// The best match for a concrete URI: exact, else the longest prefix,
    /// else the most specific wildcard.
    pub fn best_match(&self, uri: &str) -> Option<(Id, MatchPolicy)> {
        if let Some(id) = self.exact.get(uri) {
            return Some((*id, MatchPolicy::Exact));
        }
        // Longest first.
        if let Some(id) = self.prefixes_of(uri).next_back() {
            return Some((id, MatchPolicy::Prefix));
        }
        let mut best: Option<&(String, Id)> = None;
        for entry in &self.wildcard {
            if wildcard_matches(&entry.0, uri) && best.is_none_or(|b| more_specific(&entry.0, &b.0)) {
                best = Some(entry);
            }
        }
        best.map(|(_, id)| (*id, MatchPolicy::Wildcard))
    }

    /// The prefix patterns `uri` starts with, shortest first: one lookup
    /// per length that prefix patterns have.
    fn prefixes_of<'a>(&'a self, uri: &'a str) -> impl DoubleEndedIterator<Item = Id> + 'a {
        self.prefix_lens
            .range(..=uri.len())
            .filter(|(len, _)| uri.is_char_boundary(**len))
            .filter_map(|(len, _)| self.prefix.get(&uri[..*len]).copied())
    }

    /// Every entry matching a concrete URI, with its policy.
    pub fn all_matches<'a>(&'a self, uri: &'a str) -> impl Iterator<Item = (Id, MatchPolicy)> + 'a {
        let exact = self.exact.get(uri).map(|id| (*id, MatchPolicy::Exact));
        let prefixes = self.prefixes_of(uri).map(|id| (id, MatchPolicy::Prefix));
        let wildcards = self
            .wildcard
            .iter()
            .filter(move |(p, _)| wildcard_matches(p, uri))
            .map(|(_, id)| (*id, MatchPolicy::Wildcard));
        exact.into_iter().chain(prefixes).chain(wildcards)
    }
}

/// Whether wildcard pattern `a` is more specific than `b`: at the first
/// component where one is a wildcard and the other is not, the concrete one
/// wins.
fn more_specific(a: &str, b: &str) -> bool {
    for (ca, cb) in a.split('.').zip(b.split('.')) {
        match (ca.is_empty(), cb.is_empty()) {
            (false, true) => return true,
            (true, false) => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn index(entries: &[(&str, MatchPolicy, Id)]) -> PatternIndex {
        let mut idx = PatternIndex::default();
        for (uri, p, id) in entries {
            idx.insert((*uri).to_owned(), *p, *id);
        }
        idx
    }

    #[test]
    fn exact_beats_prefix_beats_wildcard() {
        use MatchPolicy::*;
        let idx = index(&[("a.b.c", Exact, 1), ("a.", Prefix, 2), ("a..c", Wildcard, 3)]);
        assert_eq!(idx.best_match("a.b.c"), Some((1, Exact)));
        assert_eq!(idx.best_match("a.x.c"), Some((2, Prefix)));
        let idx = index(&[("a..c", Wildcard, 3)]);
        assert_eq!(idx.best_match("a.x.c"), Some((3, Wildcard)));
        assert_eq!(idx.best_match("a.x.d"), None);
    }

    #[test]
    fn longer_prefix_wins() {
        use MatchPolicy::*;
        let idx = index(&[("com.myapp", Prefix, 1), ("com.myapp.item", Prefix, 2)]);
        assert_eq!(idx.best_match("com.myapp.item.42"), Some((2, Prefix)));
        assert_eq!(idx.best_match("com.myapp.user.1"), Some((1, Prefix)));
        assert_eq!(idx.best_match("com.other"), None);
    }

    #[test]
    fn prefix_lookup_tries_only_registered_lengths() {
        use MatchPolicy::*;
        // Two prefixes of one length, one longer; a non-ASCII URI whose
        // byte length 5 falls inside a character.
        let mut idx = index(&[
            ("com.a", Prefix, 1),
            ("com.b", Prefix, 2),
            ("com.a.items", Prefix, 3),
        ]);
        assert_eq!(idx.best_match("com.a.items.7"), Some((3, Prefix)));
        assert_eq!(idx.best_match("com.b.x"), Some((2, Prefix)));
        assert_eq!(idx.best_match("comé.x"), None);
        idx.remove("com.a", Prefix);
        assert_eq!(idx.best_match("com.a.x"), None);
        assert_eq!(
            idx.best_match("com.b.x"),
            Some((2, Prefix)),
            "same length, still there"
        );
        idx.remove("com.b", Prefix);
        idx.remove("com.a.items", Prefix);
        assert!(idx.prefix_lens.is_empty());
        // A URI far longer than any prefix costs one lookup per length.
        let idx = index(&[("com.long", Prefix, 4)]);
        let uri = format!("com.long.{}", "x".repeat(100_000));
        assert_eq!(idx.best_match(&uri), Some((4, Prefix)));
    }

    #[test]
    fn more_specific_wildcard_wins() {
        use MatchPolicy::*;
        let idx = index(&[("a..c", Wildcard, 1), ("a.b.", Wildcard, 2), ("..c", Wildcard, 3)]);
        assert_eq!(idx.best_match("a.b.c"), Some((2, Wildcard)));
        assert_eq!(idx.best_match("a.x.c"), Some((1, Wildcard)));
        assert_eq!(idx.best_match("z.x.c"), Some((3, Wildcard)));
    }

    #[test]
    fn all_matches_finds_every_pattern() {
        use MatchPolicy::*;
        let idx = index(&[
            ("a.b.c", Exact, 1),
            ("a.", Prefix, 2),
            ("a.b", Prefix, 3),
            ("a..c", Wildcard, 4),
            ("x", Prefix, 5),
        ]);
        let mut got: Vec<Id> = idx.all_matches("a.b.c").map(|(id, _)| id).collect();
        got.sort();
        assert_eq!(got, vec![1, 2, 3, 4]);
    }

    #[test]
    fn removal() {
        use MatchPolicy::*;
        let mut idx = index(&[("a..c", Wildcard, 1), ("a.", Prefix, 2)]);
        idx.remove("a.", Prefix);
        assert_eq!(idx.best_match("a.b.c"), Some((1, Wildcard)));
        idx.remove("a..c", Wildcard);
        assert!(idx.is_empty());
    }

    proptest! {
        /// The best match is always one of all matches, and exact entries
        /// always win.
        #[test]
        fn best_is_among_all(
            uri in "[ab]{1,2}(\\.[ab]{1,2}){0,3}",
            pats in proptest::collection::vec(("[ab]{0,2}(\\.[ab]{0,2}){0,3}", 0u8..3), 0..12),
        ) {
            let mut idx = PatternIndex::default();
            for (i, (p, kind)) in pats.iter().enumerate() {
                let policy = [MatchPolicy::Exact, MatchPolicy::Prefix, MatchPolicy::Wildcard][*kind as usize];
                if idx.get(p, policy).is_none() {
                    idx.insert(p.clone(), policy, i as Id + 1);
                }
            }
            let all: Vec<_> = idx.all_matches(&uri).collect();
            match idx.best_match(&uri) {
                Some(best) => {
                    prop_assert!(all.contains(&best));
                    if all.iter().any(|(_, p)| *p == MatchPolicy::Exact) {
                        prop_assert_eq!(best.1, MatchPolicy::Exact);
                    } else if all.iter().any(|(_, p)| *p == MatchPolicy::Prefix) {
                        prop_assert_eq!(best.1, MatchPolicy::Prefix);
                    }
                }
                None => prop_assert!(all.is_empty()),
            }
            for (id, policy) in all {
                let (p, _) = &pats[id as usize - 1];
                prop_assert!(policy.matches(p, &uri));
            }
        }
    }
}
