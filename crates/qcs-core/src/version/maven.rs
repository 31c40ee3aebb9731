//! Maven artifact versions in the order of Maven's `ComparableVersion` (the POM reference's
//! "version order specification").
//!
//! Written by hand. The one crate found (`maven-version` 0.1) panics on some input and ports an
//! old `ComparableVersion`; and Maven's own `ComparableVersion` is not a total order (Maven
//! 3.8.7 has `1` < `1-sp` < `1-0-alpha` < `1`), which a filter cannot use. So this follows the
//! specification's rules on a flat token list, arranged so that the order is total:
//!
//! - The string is lower-cased and split at `.`, `-` and every switch between digits and other
//!   characters (a switch counts as `-`). An empty token (`1..2`, a leading `-`) is `0`.
//! - Qualifiers: `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < (none) = `ga` =
//!   `final` = `release` < `sp` < any other qualifier (those by their text); `a`, `b`, `m`
//!   directly followed by a digit (`a1`, `m-2`) mean `alpha`, `beta`, `milestone`.
//! - Trimming: "null" tokens (`0`, and the qualifiers equal to none) are removed at the end and
//!   before every qualifier or `-number`, so `1.0.0` = `1`, `1.0.RELEASE` = `1`,
//!   `1.0-alpha` = `1-alpha`, `1.0-1` = `1-1`.
//! - Tokens are compared in turn: a qualifier (after `.` or `-`) < `-number` < `.number`, numbers
//!   by value, qualifiers by the list above. A version that runs out is padded with "no
//!   qualifier": `1-alpha` < `1` < `1-sp` < `1-1` < `1.1`.
//!
//! This agrees with Maven on the version shapes found in practice (`2.0-alpha-1` < `2.0-beta` <
//! `2.0-RC1` < `2.0-SNAPSHOT` < `2.0` = `2.0.0.Final` < `2.0-sp1` < `2.0.1`); it departs from
//! Maven only where Maven's own comparison is inconsistent or unusual (e.g. `1-0-1` = `1-1` here).

use std::cmp::Ordering;

/// Compares two Maven versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (x, y) = (atoms(a), atoms(b));
    let end = Atom::Qualifier(Qualifier::Release);
    let len = x.len().max(y.len());
    (0..len)
        .map(|i| atom_cmp(x.get(i).unwrap_or(&end), y.get(i).unwrap_or(&end)))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// Known qualifiers in Maven's order; the derived order is the version order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Qualifier {
    Alpha,
    Beta,
    Milestone,
    Rc,
    Snapshot,
    /// No qualifier, `ga`, `final`, `release`.
    Release,
    Sp,
    /// Any other qualifier, ordered by its (lower-case) text.
    Other(String),
}

impl Qualifier {
    fn new(text: &str, followed_by_digit: bool) -> Self {
        match text {
            "alpha" => Self::Alpha,
            "a" if followed_by_digit => Self::Alpha,
            "beta" => Self::Beta,
            "b" if followed_by_digit => Self::Beta,
            "milestone" => Self::Milestone,
            "m" if followed_by_digit => Self::Milestone,
            "rc" | "cr" => Self::Rc,
            "snapshot" => Self::Snapshot,
            "" | "ga" | "final" | "release" => Self::Release,
            "sp" => Self::Sp,
            other => Self::Other(other.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    /// A qualifier, after `.`, `-` or a digit.
    Qualifier(Qualifier),
    /// A number after `-` or after a non-digit (ASCII digits).
    HyphenNumber(String),
    /// A number after `.` or at the start (ASCII digits).
    DotNumber(String),
}

impl Atom {
    fn is_null(&self) -> bool {
        match self {
            Self::Qualifier(q) => *q == Qualifier::Release,
            Self::HyphenNumber(n) | Self::DotNumber(n) => n.bytes().all(|c| c == b'0'),
        }
    }

    /// Starts a new `-` level (Maven treats `.qualifier` like `-qualifier`).
    fn starts_level(&self) -> bool {
        !matches!(self, Self::DotNumber(_))
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Qualifier(_) => 0,
            Self::HyphenNumber(_) => 1,
            Self::DotNumber(_) => 2,
        }
    }
}

fn atom_cmp(x: &Atom, y: &Atom) -> Ordering {
    match (x, y) {
        (Atom::Qualifier(p), Atom::Qualifier(q)) => p.cmp(q),
        (Atom::HyphenNumber(m), Atom::HyphenNumber(n))
        | (Atom::DotNumber(m), Atom::DotNumber(n)) => super::cmp_decimal(m, n),
        _ => x.rank().cmp(&y.rank()),
    }
}

/// Tokenizes and trims a version (see the module documentation).
fn atoms(version: &str) -> Vec<Atom> {
    let lower: Vec<char> = version.to_lowercase().chars().collect();
    let mut atoms = Vec::new();
    let mut hyphen = false; // the separator before the current token is `-` (or a switch)
    let mut token = String::new();
    let mut token_is_digits = false;
    for (i, &c) in lower.iter().enumerate() {
        if c == '.' || c == '-' {
            let followed_by_digit = c == '-' && lower.get(i + 1).is_some_and(char::is_ascii_digit);
            atoms.push(atom(&token, token_is_digits, hyphen, followed_by_digit));
            token.clear();
            hyphen = c == '-';
            continue;
        }
        let is_digit = c.is_ascii_digit();
        if !token.is_empty() && is_digit != token_is_digits {
            atoms.push(atom(&token, token_is_digits, hyphen, is_digit));
            token.clear();
            hyphen = true;
        }
        token.push(c);
        token_is_digits = is_digit;
    }
    if !token.is_empty() {
        atoms.push(atom(&token, token_is_digits, hyphen, false));
    }
    trim(atoms)
}

fn atom(token: &str, is_digits: bool, hyphen: bool, followed_by_digit: bool) -> Atom {
    if token.is_empty() {
        // Maven reads an empty token as 0.
        if hyphen {
            Atom::HyphenNumber("0".to_owned())
        } else {
            Atom::DotNumber("0".to_owned())
        }
    } else if !is_digits {
        Atom::Qualifier(Qualifier::new(token, followed_by_digit))
    } else if hyphen {
        Atom::HyphenNumber(token.to_owned())
    } else {
        Atom::DotNumber(token.to_owned())
    }
}

/// Removes null atoms at the end and right before every atom that starts a `-` level.
fn trim(atoms: Vec<Atom>) -> Vec<Atom> {
    let mut kept: Vec<Atom> = Vec::with_capacity(atoms.len());
    for atom in atoms {
        if atom.starts_level() {
            while kept.last().is_some_and(Atom::is_null) {
                kept.pop();
            }
        }
        kept.push(atom);
    }
    while kept.last().is_some_and(Atom::is_null) {
        kept.pop();
    }
    kept
}
