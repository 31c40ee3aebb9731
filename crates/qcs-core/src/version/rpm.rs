//! RPM package versions (`[epoch:]version[-release]`) in rpm's order.
//!
//! Uses the `rpm-version` crate (from the rpm-rs project), whose per-field comparison is rpm's
//! `rpmvercmp`: alphanumeric segments, numbers newer than letters, `~` older than anything
//! (even the end), `^` newer than the end but older than any further segment; separators only
//! separate. The split into epoch, version and release is written here to match rpm's own
//! `parseEVR` (the crate splits at the first `-`, rpm at the last one, and rpm takes an epoch only
//! from leading digits before `:`).
//!
//! Every string is accepted. A missing epoch is `0`. A missing release sorts before any release
//! (`1.0` < `1.0-1`): rpm's dependency matching instead ignores the release when one side has
//! none, but that is not an order (`1.0-1` = `1.0` = `1.0-2` would make `1.0-1` = `1.0-2`).

use std::cmp::Ordering;

use rpm_version::Evr;

/// Compares two RPM `[epoch:]version[-release]` strings.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = split_evr(a);
    let (eb, vb, rb) = split_evr(b);
    Evr::new(ea, va, ra).cmp(&Evr::new(eb, vb, rb))
}

/// Splits like rpm's `parseEVR`: leading digits followed by `:` are the epoch, the release is
/// what follows the last `-`.
fn split_evr(s: &str) -> (&str, &str, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = match s[digits..].strip_prefix(':') {
        Some(rest) => (&s[..digits], rest),
        None => ("", s),
    };
    let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
    (epoch, version, release)
}
