//! WAMP IDs: integers in `1..=2^53`, so they survive IEEE-754 doubles in any
//! language.
//!
//! Two scopes exist (spec "IDs"): *global* IDs (sessions, publications) drawn
//! at random, and *session-scoped* request IDs that count up from 1 per
//! session. Router-scoped IDs (subscriptions, registrations) may be either;
//! the router here draws them at random too.

use std::sync::atomic::{AtomicU64, Ordering};

/// A WAMP ID.
pub type Id = u64;

/// The largest valid ID, `2^53`.
pub const MAX_ID: Id = 1 << 53;

/// Whether `id` is in the valid range `1..=2^53`.
pub fn is_valid(id: Id) -> bool {
    (1..=MAX_ID).contains(&id)
}

/// Draws a random ID, uniformly from `1..=2^53`, for the global scope.
pub fn random_id() -> Id {
    // A u64 with the top 11 bits cleared is uniform on 0..2^53; shifting by one
    // maps it onto 1..=2^53.
    (rand::random::<u64>() & (MAX_ID - 1)) + 1
}

/// Sequential IDs for the session scope: 1, 2, 3, ..., wrapping back to 1
/// after `2^53`. Lock-free, so a session can share it between tasks.
#[derive(Debug)]
pub struct IdSequence(AtomicU64);

impl IdSequence {
    /// A sequence whose first ID is 1.
    pub const fn new() -> Self {
        IdSequence(AtomicU64::new(0))
    }

    /// A sequence whose next ID is `next` (clamped into the valid range);
    /// used by tests of the wrap-around.
    pub fn starting_at(next: Id) -> Self {
        let next = next.clamp(1, MAX_ID);
        IdSequence(AtomicU64::new(next - 1))
    }

    /// The next ID of the sequence.
    pub fn next(&self) -> Id {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let next = if cur >= MAX_ID { 1 } else { cur + 1 };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(actual) => cur = actual,
            }
        }
    }
}

impl Default for IdSequence {
    fn default() -> Self {
        Self::new()
    }
}

/// A fast hasher for maps keyed by WAMP IDs (or tuples of them): a
/// multiply per word and a final mix, instead of SipHash's rounds.
///
/// Keyed per process with a random value, so IDs a peer picks (its request
/// IDs) cannot be chosen to collide; for IDs only, not arbitrary data.
#[derive(Debug, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(31);
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        // MurmurHash3's finalizer: every output bit depends on every input bit.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Builds [`IdHasher`]s with this process's key.
#[derive(Debug, Clone, Copy)]
pub struct BuildIdHasher(u64);

impl Default for BuildIdHasher {
    fn default() -> Self {
        static KEY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        BuildIdHasher(*KEY.get_or_init(rand::random))
    }
}

impl std::hash::BuildHasher for BuildIdHasher {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

/// A `HashMap` keyed by IDs, with [`IdHasher`].
pub type IdMap<K, V> = std::collections::HashMap<K, V, BuildIdHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sequence_starts_at_one_and_counts_up() {
        let s = IdSequence::new();
        assert_eq!((s.next(), s.next(), s.next()), (1, 2, 3));
    }

    #[test]
    fn sequence_wraps_after_max() {
        let s = IdSequence::starting_at(MAX_ID);
        assert_eq!(s.next(), MAX_ID);
        assert_eq!(s.next(), 1);
    }

    #[test]
    fn random_ids_are_distinct_in_practice() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| random_id()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    proptest! {
        #[test]
        fn random_ids_are_valid(_x in 0u8..255) {
            let id = random_id();
            prop_assert!(is_valid(id), "{id} out of range");
        }

        #[test]
        fn sequence_ids_are_valid(start in 1u64..=MAX_ID) {
            let s = IdSequence::starting_at(start);
            for _ in 0..3 {
                prop_assert!(is_valid(s.next()));
            }
        }
    }

    #[test]
    fn validity_bounds() {
        assert!(!is_valid(0));
        assert!(is_valid(1));
        assert!(is_valid(MAX_ID));
        assert!(!is_valid(MAX_ID + 1));
    }

    #[test]
    fn id_hasher_spreads_ids_and_tells_tuples_apart() {
        use std::hash::BuildHasher;
        let b = BuildIdHasher::default();
        let hashes: std::collections::HashSet<u64> = (1..=10_000u64).map(|i| b.hash_one(i)).collect();
        assert_eq!(hashes.len(), 10_000);
        // Sequential IDs spread over the buckets' low bits.
        let buckets: std::collections::HashSet<u64> = (1..=1024u64).map(|i| b.hash_one(i) & 1023).collect();
        assert!(buckets.len() > 600, "{} of 1024 buckets used", buckets.len());
        assert_ne!(b.hash_one((1u64, 2u64)), b.hash_one((2u64, 1u64)));
        let mut map: IdMap<(Id, Id), u32> = IdMap::default();
        map.insert((7, 9), 1);
        assert_eq!(map.get(&(7, 9)), Some(&1));
    }
}
