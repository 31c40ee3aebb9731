//! Semantic versions (semantic versioning 2.0 precedence), read leniently, with the generic ordering for
//! strings that are not semantic versions.
//!
//! Uses the `semver` crate for parsing and for precedence (pre-releases before the release,
//! identifiers numerically or by text, build metadata ignored). Lenient: a leading `v`/`V` is
//! dropped and a missing minor or patch counts as `0` (`v1.2` = `1.2.0`, `1` = `1.0.0`).
//!
//! So that semantic and other versions (`1.2.3.4`, `2024-01-05`, `1.0.1k`) share one total order,
//! every string is first placed by its leading `major.minor.patch` numbers (read the same lenient
//! way, missing ones `0`, none at all `0.0.0`). Between equal leading numbers, semantic versions
//! come first (by precedence) and the other strings after them by the
//! [generic ordering](super#generic-ordering): `1.2.3-rc.1` < `1.2.3` < `1.2.3.4` < `1.2.4`.

use std::cmp::Ordering;

use ::semver::Version;

/// Compares two versions as described in the module documentation.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (ka, kb) = (leading_numbers(a), leading_numbers(b));
    let by_numbers = ka
        .iter()
        .zip(&kb)
        .map(|(x, y)| super::cmp_decimal(x, y))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal);
    if by_numbers != Ordering::Equal {
        return by_numbers;
    }
    match (parse_lenient(a), parse_lenient(b)) {
        (Some(x), Some(y)) => x.cmp_precedence(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => super::generic(a, b),
    }
}

/// Drops one leading `v` or `V`.
fn without_v(s: &str) -> &str {
    s.strip_prefix(['v', 'V']).unwrap_or(s)
}

/// Up to three leading dot-separated numbers (ASCII digits); missing ones are `""` (zero).
fn leading_numbers(s: &str) -> [&str; 3] {
    let mut numbers = [""; 3];
    let mut rest = without_v(s);
    for (i, slot) in numbers.iter_mut().enumerate() {
        if i > 0 {
            match rest.strip_prefix('.') {
                Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
                _ => break,
            }
        }
        let end = rest
            .bytes()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, r) = rest.split_at(end);
        *slot = digits;
        rest = r;
    }
    numbers
}

/// Parses a semantic version, allowing a leading `v` and a missing minor or patch.
fn parse_lenient(s: &str) -> Option<Version> {
    let s = without_v(s);
    let core_end = s.find(['-', '+']).unwrap_or(s.len());
    let (core, tail) = s.split_at(core_end);
    match core.split('.').count() {
        1 => Version::parse(&format!("{core}.0.0{tail}")).ok(),
        2 => Version::parse(&format!("{core}.0{tail}")).ok(),
        _ => Version::parse(s).ok(),
    }
}
