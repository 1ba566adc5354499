//! URI pattern index shared by the broker and the dealer.
//!
//! Holds exact, prefix and wildcard entries, and answers two questions:
//! the single best match for a URI (dealer: exact, then longest prefix, then
//! the most specific wildcard, as the WAMP spec orders them) and all matches
//! (broker: every subscription that covers a topic).
//!
//! Both take time in proportion to the URI's length (and to the matches
//! found), however many patterns are stored:
//!
//! - exact entries are one hash lookup;
//! - prefix entries are found by hashing the URI once, incrementally: at
//!   each length some prefix pattern has, and only where the URI's byte
//!   there is the last byte of some pattern of that length (so prefixes
//!   ending in `.`, the usual kind, are looked up only where the URI has a
//!   `.`), the running hash is looked up, and a hit is compared with the
//!   URI's first bytes;
//! - wildcard entries live in a tree of URI components, walked along the
//!   URI, the concrete branch before the wildcard one, so the first match
//!   found is the most specific. A node with a few concrete children finds
//!   one by comparing them, a node with many by hashing the component. A
//!   URI with a number of components no wildcard pattern has (a pattern
//!   matches URIs of its own number only) skips the walk.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use wamp_proto::uri::MatchPolicy;
use wamp_proto::{Id, IdMap};

/// An index of `(uri, policy) -> id`.
#[derive(Debug, Default)]
pub struct PatternIndex {
    exact: HashMap<String, Id>,
    prefix: Prefixes,
    wildcard: WildcardNode,
    /// How many wildcard patterns there are of each number of components
    /// (index 0 unused): a URI of another number skips the tree.
    wildcard_depths: Vec<usize>,
}

/// The number of `.`-separated components of a URI or pattern.
fn components(uri: &str) -> usize {
    uri.bytes().filter(|&b| b == b'.').count() + 1
}

impl PatternIndex {
    /// The id stored for exactly this pattern and policy.
    pub fn get(&self, uri: &str, policy: MatchPolicy) -> Option<Id> {
        match policy {
            MatchPolicy::Exact => self.exact.get(uri).copied(),
            MatchPolicy::Prefix => self.prefix.get(uri),
            MatchPolicy::Wildcard => self.wildcard.get(uri),
        }
    }

    /// Stores an id for a pattern; the caller checks [`get`](Self::get) first.
    pub fn insert(&mut self, uri: String, policy: MatchPolicy, id: Id) {
        match policy {
            MatchPolicy::Exact => {
                self.exact.insert(uri, id);
            }
            MatchPolicy::Prefix => self.prefix.insert(uri, id),
            MatchPolicy::Wildcard => {
                if self.wildcard.get(&uri).is_none() {
                    let depth = components(&uri);
                    if self.wildcard_depths.len() <= depth {
                        self.wildcard_depths.resize(depth + 1, 0);
                    }
                    self.wildcard_depths[depth] += 1;
                }
                self.wildcard.insert(&uri, id);
            }
        }
    }

    /// Removes a pattern.
    pub fn remove(&mut self, uri: &str, policy: MatchPolicy) {
        match policy {
            MatchPolicy::Exact => {
                self.exact.remove(uri);
            }
            MatchPolicy::Prefix => self.prefix.remove(uri),
            MatchPolicy::Wildcard => {
                if self.wildcard.get(uri).is_none() {
                    return;
                }
                self.wildcard.remove(&mut uri.split('.'));
                let depth = components(uri);
                self.wildcard_depths[depth] -= 1;
                while self.wildcard_depths.last() == Some(&0) {
                    self.wildcard_depths.pop();
                }
            }
        }
    }

    /// Whether some wildcard pattern has as many components as `uri`.
    fn may_match_wildcard(&self, uri: &str) -> bool {
        // Without wildcard patterns, the URI's dots are not even counted.
        !self.wildcard_depths.is_empty() && self.wildcard_depths.get(components(uri)).is_some_and(|&n| n > 0)
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefix.by_hash.is_empty() && self.wildcard.is_empty()
    }

    /// The best match for a concrete URI: exact, else the longest prefix,
    /// else the most specific wildcard.
    pub fn best_match(&self, uri: &str) -> Option<(Id, MatchPolicy)> {
        if let Some(id) = self.exact.get(uri) {
            return Some((*id, MatchPolicy::Exact));
        }
        let mut longest = None;
        self.prefix.matches(uri, |id| longest = Some(id));
        if let Some(id) = longest {
            return Some((id, MatchPolicy::Prefix));
        }
        if !self.may_match_wildcard(uri) {
            return None;
        }
        let mut best = None;
        self.wildcard.matches(uri.split('.'), &mut |id| {
            best = Some(id);
            false // the first is the most specific
        });
        best.map(|id| (id, MatchPolicy::Wildcard))
    }

    /// Every entry matching a concrete URI, with its policy: exact, the
    /// prefixes shortest first, the wildcards most specific first.
    pub fn all_matches(&self, uri: &str) -> Vec<(Id, MatchPolicy)> {
        let mut all = Vec::new();
        if let Some(id) = self.exact.get(uri) {
            all.push((*id, MatchPolicy::Exact));
        }
        self.prefix.matches(uri, |id| all.push((id, MatchPolicy::Prefix)));
        if self.may_match_wildcard(uri) {
            self.wildcard.matches(uri.split('.'), &mut |id| {
                all.push((id, MatchPolicy::Wildcard));
                true
            });
        }
        all
    }
}

/// Prefix patterns by the hash of their bytes, with the lengths they have.
#[derive(Debug, Default)]
struct Prefixes {
    /// Keyed per index, so that nobody can choose patterns that collide.
    hasher: RandomState,
    /// Hash of a pattern's bytes -> the patterns with that hash (one,
    /// unless two collide). The keys are keyed hashes already, so this map
    /// only mixes them ([`IdMap`]) rather than hashing them again.
    by_hash: IdMap<u64, Vec<(String, Id)>>,
    /// The lengths in bytes patterns have, shortest first: a lookup looks
    /// only at these lengths.
    lens: Vec<PrefixLen>,
}

/// The byte that ends `bytes[..len]`, as an index into [`PrefixLen::ends`]
/// (0 for an empty prefix, which ends nothing and matches everything).
fn end_at(bytes: &[u8], len: usize) -> usize {
    len.checked_sub(1).map_or(0, |i| usize::from(bytes[i]))
}

/// The prefix patterns of one length.
#[derive(Debug)]
struct PrefixLen {
    len: usize,
    /// How many end with each byte: a URI whose byte at `len - 1` ends
    /// none of them is not looked up at this length. (1 KiB per length in
    /// use, so at most about a megabyte for the lengths below 1 KiB; a
    /// longer pattern takes more than that itself.)
    ends: Box<[u32; 256]>,
}

impl PrefixLen {
    fn is_empty(&self) -> bool {
        self.ends.iter().all(|&n| n == 0)
    }
}

impl Prefixes {
    fn hash(&self, bytes: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(bytes);
        h.finish()
    }

    fn get(&self, uri: &str) -> Option<Id> {
        let bucket = self.by_hash.get(&self.hash(uri.as_bytes()))?;
        bucket.iter().find(|(p, _)| p == uri).map(|(_, id)| *id)
    }

    fn insert(&mut self, uri: String, id: Id) {
        let len = uri.len();
        let bucket = self.by_hash.entry(self.hash(uri.as_bytes())).or_default();
        match bucket.iter_mut().find(|(p, _)| *p == uri) {
            Some(entry) => entry.1 = id,
            None => {
                let end = end_at(uri.as_bytes(), len);
                bucket.push((uri, id));
                let at = match self.lens.binary_search_by_key(&len, |l| l.len) {
                    Ok(at) => at,
                    Err(at) => {
                        let ends = Box::new([0; 256]);
                        self.lens.insert(at, PrefixLen { len, ends });
                        at
                    }
                };
                self.lens[at].ends[end] += 1;
            }
        }
    }

    fn remove(&mut self, uri: &str) {
        let key = self.hash(uri.as_bytes());
        let Some(bucket) = self.by_hash.get_mut(&key) else {
            return;
        };
        let Some(pos) = bucket.iter().position(|(p, _)| p == uri) else {
            return;
        };
        bucket.swap_remove(pos);
        if bucket.is_empty() {
            self.by_hash.remove(&key);
        }
        if let Ok(at) = self.lens.binary_search_by_key(&uri.len(), |l| l.len) {
            self.lens[at].ends[end_at(uri.as_bytes(), uri.len())] -= 1;
            if self.lens[at].is_empty() {
                self.lens.remove(at);
            }
        }
    }

    /// Calls `found` with every pattern `uri` starts with, shortest first.
    /// The URI is hashed once: the hasher takes its bytes up to each
    /// length patterns have, and its state there is the hash of that
    /// prefix (SipHash reads a byte stream, however it is split).
    fn matches(&self, uri: &str, mut found: impl FnMut(Id)) {
        if self.lens.is_empty() {
            return;
        }
        let bytes = uri.as_bytes();
        let mut h = self.hasher.build_hasher();
        let mut hashed = 0;
        for &PrefixLen { len, ref ends } in &self.lens {
            if len > bytes.len() {
                break;
            }
            if ends[end_at(bytes, len)] == 0 {
                continue;
            }
            h.write(&bytes[hashed..len]);
            hashed = len;
            let Some(bucket) = self.by_hash.get(&h.finish()) else {
                continue;
            };
            if let Some((_, id)) = bucket.iter().find(|(p, _)| p.as_bytes() == &bytes[..len]) {
                found(*id);
            }
        }
    }
}

/// A tree of wildcard patterns by component: a pattern `a..c` is the path
/// `a`, any, `c`, with its id at the end.
#[derive(Debug, Default)]
struct WildcardNode {
    id: Option<Id>,
    concrete: Children,
    any: Option<Box<WildcardNode>>,
}

/// Most nodes have a few concrete children (`com`, `myapp`, ...) and a
/// few have many. Comparing a few short strings costs less than hashing
/// one with SipHash, so a node keeps a short list up to this many children
/// and a map beyond.
const FEW_CHILDREN: usize = 8;

/// A wildcard node's concrete children by component.
#[derive(Debug)]
enum Children {
    /// At most [`FEW_CHILDREN`], looked up by comparing.
    Few(Vec<(Box<str>, WildcardNode)>),
    /// More, looked up by hash (keyed: components come from peers).
    Many(HashMap<Box<str>, WildcardNode>),
}

impl Default for Children {
    fn default() -> Self {
        Children::Few(Vec::new())
    }
}

impl Children {
    fn is_empty(&self) -> bool {
        match self {
            Children::Few(v) => v.is_empty(),
            Children::Many(m) => m.is_empty(),
        }
    }

    fn get(&self, component: &str) -> Option<&WildcardNode> {
        match self {
            Children::Few(v) => v.iter().find(|(c, _)| &**c == component).map(|(_, n)| n),
            Children::Many(m) => m.get(component),
        }
    }

    fn get_mut(&mut self, component: &str) -> Option<&mut WildcardNode> {
        match self {
            Children::Few(v) => v.iter_mut().find(|(c, _)| &**c == component).map(|(_, n)| n),
            Children::Many(m) => m.get_mut(component),
        }
    }

    /// The child for `component`, added empty if there is none.
    fn get_or_add(&mut self, component: &str) -> &mut WildcardNode {
        if let Children::Few(v) = self {
            if v.len() >= FEW_CHILDREN && !v.iter().any(|(c, _)| &**c == component) {
                *self = Children::Many(std::mem::take(v).into_iter().collect());
            }
        }
        match self {
            Children::Few(v) => match v.iter().position(|(c, _)| &**c == component) {
                Some(i) => &mut v[i].1,
                None => {
                    v.push((component.into(), WildcardNode::default()));
                    &mut v.last_mut().expect("just pushed").1
                }
            },
            Children::Many(m) => m.entry(component.into()).or_default(),
        }
    }

    /// Removes a child (a map that shrinks stays a map).
    fn remove(&mut self, component: &str) {
        match self {
            Children::Few(v) => v.retain(|(c, _)| &**c != component),
            Children::Many(m) => {
                m.remove(component);
            }
        }
    }
}

impl WildcardNode {
    fn is_empty(&self) -> bool {
        self.id.is_none() && self.concrete.is_empty() && self.any.is_none()
    }

    fn child(&self, component: &str) -> Option<&WildcardNode> {
        if component.is_empty() {
            self.any.as_deref()
        } else {
            self.concrete.get(component)
        }
    }

    fn get(&self, pattern: &str) -> Option<Id> {
        let mut node = self;
        for c in pattern.split('.') {
            node = node.child(c)?;
        }
        node.id
    }

    fn insert(&mut self, pattern: &str, id: Id) {
        let mut node = self;
        for c in pattern.split('.') {
            node = if c.is_empty() {
                node.any.get_or_insert_with(Default::default)
            } else {
                node.concrete.get_or_add(c)
            };
        }
        node.id = Some(id);
    }

    /// Removes the pattern whose remaining components are `rest`, pruning
    /// the branches it leaves empty; whether this node is now empty.
    fn remove(&mut self, rest: &mut std::str::Split<'_, char>) -> bool {
        match rest.next() {
            None => self.id = None,
            Some("") => {
                if let Some(any) = &mut self.any {
                    if any.remove(rest) {
                        self.any = None;
                    }
                }
            }
            Some(c) => {
                if let Some(child) = self.concrete.get_mut(c) {
                    if child.remove(rest) {
                        self.concrete.remove(c);
                    }
                }
            }
        }
        self.is_empty()
    }

    /// Calls `found` with every pattern matching the URI's remaining
    /// components `rest`, most specific first (at the first component where
    /// two differ, the concrete one comes first), while it returns `true`.
    fn matches(&self, mut rest: std::str::Split<'_, char>, found: &mut impl FnMut(Id) -> bool) -> bool {
        let Some(first) = rest.next() else {
            return self.id.is_none_or(&mut *found);
        };
        if let Some(child) = self.concrete.get(first) {
            if !child.matches(rest.clone(), found) {
                return false;
            }
        }
        match &self.any {
            Some(any) => any.matches(rest, found),
            None => true,
        }
    }
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

    /// The ids of every match of `uri`, sorted.
    fn ids(idx: &PatternIndex, uri: &str) -> Vec<Id> {
        let mut v: Vec<Id> = idx.all_matches(uri).into_iter().map(|(id, _)| id).collect();
        v.sort();
        v
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
    fn a_node_with_many_children_keeps_them_all() {
        use MatchPolicy::*;
        // More concrete children under `a` than a short list holds, and
        // each with a wildcard below: the node becomes a map on the way.
        let n = 3 * FEW_CHILDREN as Id;
        let mut idx = PatternIndex::default();
        for i in 0..n {
            idx.insert(format!("a.c{i}..x"), Wildcard, i + 1);
        }
        idx.insert("a...x".into(), Wildcard, 100);
        for i in 0..n {
            assert_eq!(idx.get(&format!("a.c{i}..x"), Wildcard), Some(i + 1));
            let mut all = idx.all_matches(&format!("a.c{i}.y.x"));
            all.sort();
            assert_eq!(all, vec![(i + 1, Wildcard), (100, Wildcard)]);
            assert_eq!(idx.best_match(&format!("a.c{i}.y.x")), Some((i + 1, Wildcard)));
        }
        assert_eq!(idx.best_match("a.other.y.x"), Some((100, Wildcard)));
        for i in (0..n).rev() {
            idx.remove(&format!("a.c{i}..x"), Wildcard);
            assert_eq!(idx.best_match(&format!("a.c{i}.y.x")), Some((100, Wildcard)));
        }
        idx.remove("a...x", Wildcard);
        assert!(idx.is_empty());
        assert_eq!(idx.best_match("a.c1.y.x"), None);
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
        assert!(idx.prefix.lens.is_empty());
        assert!(idx.is_empty());
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
        assert_eq!(ids(&idx, "a.b.c"), vec![1, 2, 3, 4]);
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

    #[test]
    fn the_filters_skip_only_what_cannot_match() {
        use MatchPolicy::*;
        // Two prefixes of one length, ending in different bytes.
        let mut idx = index(&[
            ("com.app.", Prefix, 1),
            ("com.appx", Prefix, 2),
            ("com..status", Wildcard, 3),
            ("", Prefix, 4),
        ]);
        assert_eq!(ids(&idx, "com.app.z"), vec![1, 4]);
        assert_eq!(ids(&idx, "com.appxy"), vec![2, 4]);
        assert_eq!(ids(&idx, "com.a.status"), vec![3, 4]);
        assert_eq!(
            ids(&idx, "com.a.b.status"),
            vec![4],
            "another number of components"
        );
        idx.remove("com.appx", Prefix);
        assert_eq!(ids(&idx, "com.appxy"), vec![4]);
        assert_eq!(
            ids(&idx, "com.app.z"),
            vec![1, 4],
            "the other end of that length stays"
        );
        // Removing what is not there, or storing a pattern again, leaves
        // the counts as they were.
        idx.remove("x..y", Wildcard);
        idx.remove("com.appx", Prefix);
        idx.insert("com..status".into(), Wildcard, 5);
        assert_eq!(ids(&idx, "com.a.status"), vec![4, 5]);
        idx.remove("com..status", Wildcard);
        assert_eq!(ids(&idx, "com.a.status"), vec![4]);
        idx.remove("com.app.", Prefix);
        idx.remove("", Prefix);
        assert!(idx.is_empty());
        assert!(idx.wildcard_depths.is_empty() && idx.prefix.lens.is_empty());
    }

    /// The index as a list, matched the plain way: what the index must
    /// agree with.
    #[derive(Default)]
    struct Model(Vec<(String, MatchPolicy, Id)>);

    impl Model {
        fn all(&self, uri: &str) -> Vec<(Id, MatchPolicy)> {
            let mut v: Vec<_> = self
                .0
                .iter()
                .filter(|(p, policy, _)| policy.matches(p, uri))
                .map(|(_, policy, id)| (*id, *policy))
                .collect();
            v.sort();
            v
        }

        fn best(&self, uri: &str) -> Option<(Id, MatchPolicy)> {
            let of = |policy| {
                self.0
                    .iter()
                    .filter(move |(p, pol, _)| *pol == policy && policy.matches(p, uri))
            };
            if let Some((_, _, id)) = of(MatchPolicy::Exact).next() {
                return Some((*id, MatchPolicy::Exact));
            }
            if let Some((_, _, id)) = of(MatchPolicy::Prefix).max_by_key(|(p, ..)| p.len()) {
                return Some((*id, MatchPolicy::Prefix));
            }
            let mut best: Option<&(String, MatchPolicy, Id)> = None;
            for e in of(MatchPolicy::Wildcard) {
                if best.is_none_or(|b| more_specific(&e.0, &b.0)) {
                    best = Some(e);
                }
            }
            best.map(|(_, _, id)| (*id, MatchPolicy::Wildcard))
        }
    }

    /// Whether wildcard pattern `a` is more specific than `b`: at the first
    /// component where one is a wildcard and the other is not, the
    /// concrete one wins.
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

    proptest! {
        /// Inserting and removing in any order, the index finds what the
        /// list finds: every match, and the same best one.
        #[test]
        fn agrees_with_the_plain_list(
            uris in proptest::collection::vec("[ab]{1,2}(\\.[ab]{1,2}){0,3}", 1..6),
            ops in proptest::collection::vec(("[ab]{0,2}(\\.[ab]{0,2}){0,3}", 0u8..3, proptest::bool::weighted(0.75)), 0..40),
        ) {
            let mut idx = PatternIndex::default();
            let mut model = Model::default();
            for (i, (p, kind, add)) in ops.iter().enumerate() {
                let policy = [MatchPolicy::Exact, MatchPolicy::Prefix, MatchPolicy::Wildcard][*kind as usize];
                let present = model.0.iter().position(|(q, pol, _)| q == p && *pol == policy);
                prop_assert_eq!(idx.get(p, policy), present.map(|i| model.0[i].2));
                match (add, present) {
                    (true, None) => {
                        idx.insert(p.to_string(), policy, i as Id + 1);
                        model.0.push((p.clone(), policy, i as Id + 1));
                    }
                    (false, Some(at)) => {
                        idx.remove(p, policy);
                        model.0.remove(at);
                    }
                    _ => {}
                }
                for uri in &uris {
                    let mut all = idx.all_matches(uri);
                    all.sort();
                    prop_assert_eq!(all, model.all(uri), "all matches of {}", uri);
                    prop_assert_eq!(idx.best_match(uri), model.best(uri), "best match of {}", uri);
                }
            }
            prop_assert_eq!(idx.is_empty(), model.0.is_empty());
        }

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
            let all = idx.all_matches(&uri);
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
