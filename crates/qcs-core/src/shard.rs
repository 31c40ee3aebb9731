//! `qcs scan --shard K/N`: a stable split of an image list over `N` runs, so that a CI matrix
//! can share one list with no scripting.
//!
//! An input belongs to shard `K` (1-based) when the 64-bit FNV-1a hash of its text (as given,
//! surrounding white space removed) modulo `N` is `K - 1`. The hash depends on nothing but the
//! input itself, so every input lands in exactly one shard whatever the order or the length of
//! the list, on every platform and in every `qcs` version.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One part of a split: shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, 1..=count.
    pub index: u32,
    /// How many shards the list is split into.
    pub count: u32,
}

/// A `--shard` value that is not `K/N` with `1 <= K <= N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard `{given}`: {why}")]
pub struct ShardError {
    /// The value given.
    pub given: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| ShardError {
            given: s.to_owned(),
            why,
        };
        let (k, n) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| err("expected K/N, e.g. 3/10"))?;
        let k: u32 = k
            .trim()
            .parse()
            .map_err(|_| err("K is not a whole number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| err("N is not a whole number"))?;
        if n == 0 {
            return Err(err("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(err("K must be between 1 and N"));
        }
        Ok(Shard { index: k, count: n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether `input` belongs to this shard.
    pub fn contains(&self, input: &str) -> bool {
        bucket(input, self.count) + 1 == self.index
    }
}

/// The 0-based shard of `input` among `count` (FNV-1a 64 of the trimmed text, modulo `count`).
/// `count` 0 is read as 1.
pub fn bucket(input: &str, count: u32) -> u32 {
    let hash = fnv1a(input.trim().as_bytes());
    // the remainder is below `count`, so it fits
    u32::try_from(hash % u64::from(count.max(1))).unwrap_or(0)
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        assert_eq!(
            "3/10".parse::<Shard>().ok(),
            Some(Shard {
                index: 3,
                count: 10
            })
        );
        for bad in ["0/10", "11/10", "1/0", "3", "a/b", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn known_hashes_and_a_stable_partition() {
        // FNV-1a 64 test vectors
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let inputs: Vec<String> = (0..100).map(|n| format!("acme/app-{n:03}:1.0")).collect();
        let mut sizes = [0usize; 10];
        for i in &inputs {
            let owners: Vec<u32> = (1..=10)
                .filter(|k| {
                    Shard {
                        index: *k,
                        count: 10,
                    }
                    .contains(i)
                })
                .collect();
            assert_eq!(owners.len(), 1, "{i} is in exactly one shard");
            sizes[(owners[0] - 1) as usize] += 1;
            assert!(Shard { index: 1, count: 1 }.contains(i));
            assert_eq!(bucket(&format!("  {i} "), 10), bucket(i, 10));
        }
        assert!(sizes.iter().all(|n| (3..=20).contains(n)), "{sizes:?}");
    }
}
