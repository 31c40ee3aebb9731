//! Version ordering for software conditions (`pkg<1.2.3`) in every ecosystem: comparing never
//! panics and is a total order on what it is given: reflexive, antisymmetric, and transitive on
//! the three strings of each input.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use qcs_core::version::{Ecosystem, compare};

const ECOSYSTEMS: [Ecosystem; 5] = [
    Ecosystem::Dpkg,
    Ecosystem::Rpm,
    Ecosystem::Apk,
    Ecosystem::Maven,
    Ecosystem::Semver,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let eco = ECOSYSTEMS[usize::from(pick) % ECOSYSTEMS.len()];
    let mut parts = text.splitn(3, '\n');
    let (Some(a), Some(b), Some(c)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    assert_eq!(compare(eco, a, a), Ordering::Equal, "{eco:?}: {a:?} != itself");
    let ab = compare(eco, a, b);
    assert_eq!(ab, compare(eco, b, a).reverse(), "{eco:?}: {a:?} vs {b:?} not antisymmetric");
    let bc = compare(eco, b, c);
    if ab == bc && ab != Ordering::Equal {
        assert_eq!(compare(eco, a, c), ab, "{eco:?}: {a:?}, {b:?}, {c:?} not transitive");
    }
});
