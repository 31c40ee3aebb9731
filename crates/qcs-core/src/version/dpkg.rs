//! Debian/Ubuntu package versions in dpkg's order (`[epoch:]upstream[-revision]`).
//!
//! Uses the `debversion` crate (dpkg's own `verrevcmp` algorithm: epochs numerically, then the
//! upstream version and the revision by alternating non-digit parts, where `~` sorts before
//! everything, even the end, letters before other characters, and digit parts by value).
//!
//! A string dpkg would reject (empty, spaces, characters outside `[A-Za-z0-9.+~:-]`, an epoch
//! that is not a small number) has no dpkg order: such strings sort before every valid version
//! and among themselves by the [generic ordering](super#generic-ordering).

use std::cmp::Ordering;
use std::str::FromStr;

use debversion::Version;

/// Compares two dpkg versions; see the module documentation for invalid strings.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    // `Version::from_str` only accepts ASCII, which also keeps `debversion`'s char/byte
    // indexing in its comparison safe.
    match (Version::from_str(a).ok(), Version::from_str(b).ok()) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => super::generic(a, b),
    }
}
