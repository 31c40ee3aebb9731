//! Version ordering for software filters with `<`, `<=`, `>`, `>=`: one ordering per package
//! ecosystem, chosen from the report's `operatingSystem` and the package name.
//!
//! Every ordering here is a total order on all strings (reflexive, antisymmetric, transitive),
//! never panics and does no I/O, so a filter gives the same answer whatever the input. Versions
//! that are not valid in their ecosystem still get a place in the order (each module says where),
//! usually through the [generic ordering](self#generic-ordering) below.
//!
//! Leading and trailing whitespace is ignored by every ordering.
//!
//! # Generic ordering
//!
//! The fallback for strings that no ecosystem grammar accepts: the string is split into runs of
//! ASCII digits and runs of anything else. Runs are compared pairwise from the left: two numeric
//! runs by value (leading zeros ignored, any length), two text runs by their bytes, and a text run
//! sorts before a numeric run (as in RPM: `1.0a` < `1.0.1`). When one string runs out first it is
//! the smaller one (`1.2` < `1.2.1` < `1.2.1a`).

mod apk;
mod dpkg;
mod maven;
mod rpm;
mod semver;

use std::cmp::Ordering;

/// The version scheme a package's versions follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    /// Debian/Ubuntu packages (dpkg ordering).
    Dpkg,
    /// RHEL-family, Amazon, SUSE, Fedora packages (rpmvercmp ordering).
    Rpm,
    /// Alpine packages (apk ordering).
    Apk,
    /// Maven artifacts (`group:artifact` names).
    Maven,
    /// Semantic versions (everything else), with the generic ordering for non-semver strings.
    Semver,
}

/// Lower-case fragments of `operatingSystem` values of dpkg-based distributions.
const DPKG_OS: &[&str] = &[
    "debian", "ubuntu", "mint", "kali", "raspbian", "devuan", "pop!_os",
];

/// Lower-case fragments of `operatingSystem` values of RPM-based distributions.
const RPM_OS: &[&str] = &[
    "red hat",
    "redhat",
    "rhel",
    "centos",
    "rocky",
    "alma",
    "oracle",
    "amazon",
    "suse",
    "sles",
    "fedora",
    "photon",
    "mariner",
    "azure linux",
    "openeuler",
    "anolis",
    "opencloudos",
];

/// Lower-case fragments of `operatingSystem` values of apk-based distributions.
const APK_OS: &[&str] = &["alpine", "wolfi", "chainguard"];

impl Ecosystem {
    /// Chooses the ordering from the report's `operatingSystem` and the package name.
    ///
    /// A name of the form `group:artifact` (one containing `:`) is a Maven artifact whatever the
    /// operating system. Otherwise the operating system decides, case-insensitively: Debian,
    /// Ubuntu and their derivatives use dpkg; Red Hat Enterprise Linux, `CentOS`, Rocky, Alma,
    /// Oracle, Amazon, SUSE/openSUSE, Fedora and the like use RPM; Alpine uses apk. Anything
    /// else, or no operating system at all, uses semantic versions.
    pub fn detect(operating_system: Option<&str>, package_name: &str) -> Self {
        if package_name.contains(':') {
            return Self::Maven;
        }
        let Some(os) = operating_system else {
            return Self::Semver;
        };
        let os = os.to_lowercase();
        let has = |fragments: &[&str]| fragments.iter().any(|f| os.contains(f));
        if has(DPKG_OS) {
            Self::Dpkg
        } else if has(APK_OS) {
            Self::Apk
        } else if has(RPM_OS) {
            Self::Rpm
        } else {
            Self::Semver
        }
    }

    /// A short lower-case name for messages and reports: `dpkg`, `rpm`, `apk`, `maven` or
    /// `semver`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dpkg => "dpkg",
            Self::Rpm => "rpm",
            Self::Apk => "apk",
            Self::Maven => "maven",
            Self::Semver => "semver",
        }
    }
}

/// Compares two versions in the given ecosystem.
///
/// A total order on all strings; it never panics. Surrounding whitespace is ignored.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim(), b.trim());
    match ecosystem {
        Ecosystem::Dpkg => dpkg::compare(a, b),
        Ecosystem::Rpm => rpm::compare(a, b),
        Ecosystem::Apk => apk::compare(a, b),
        Ecosystem::Maven => maven::compare(a, b),
        Ecosystem::Semver => self::semver::compare(a, b),
    }
}

/// Compares an installed version with a filter's bound (`name<BOUND`). A bound names an upstream
/// version unless it spells out more: when it has no distribution revision (dpkg `-revision`,
/// RPM `-release`, apk `-rN`) the installed version's revision is ignored, and when it has no
/// epoch (`N:`, dpkg and RPM) the installed epoch is ignored. So `openssl<=1.1.1k` covers
/// `1:1.1.1k-7.el8`, as RPM's own dependency matching does for a release-less requirement.
pub fn compare_to_bound(ecosystem: Ecosystem, installed: &str, bound: &str) -> Ordering {
    let (mut installed, bound) = (installed.trim(), bound.trim());
    if matches!(ecosystem, Ecosystem::Dpkg | Ecosystem::Rpm) && epoch_split(bound).is_none() {
        if let Some((_, rest)) = epoch_split(installed) {
            installed = rest;
        }
    }
    let revisioned = matches!(ecosystem, Ecosystem::Dpkg | Ecosystem::Rpm | Ecosystem::Apk);
    if revisioned && strip_revision(ecosystem, bound).is_none() {
        if let Some(upstream) = strip_revision(ecosystem, installed) {
            installed = upstream;
        }
    }
    compare(ecosystem, installed, bound)
}

/// `N:rest` when the version starts with a numeric epoch.
fn epoch_split(v: &str) -> Option<(&str, &str)> {
    v.split_once(':')
        .filter(|(e, _)| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
}

/// The version without its revision, when it has one.
fn strip_revision(ecosystem: Ecosystem, v: &str) -> Option<&str> {
    match ecosystem {
        // apk: `1.36.1-r2`; a `-` not followed by `r<digits>` is part of the version.
        Ecosystem::Apk => v.rsplit_once("-r").and_then(|(up, rev)| {
            (!rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit())).then_some(up)
        }),
        // dpkg and RPM: the revision/release follows the last `-`.
        _ => v
            .rsplit_once('-')
            .map(|(up, _)| up)
            .filter(|up| !up.is_empty()),
    }
}

/// The [generic ordering](self#generic-ordering): numeric and non-numeric runs, numbers by value,
/// text by bytes, text before numbers, shorter first.
fn generic(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (Runs(a), Runs(b));
    loop {
        let ordering = match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                match (
                    x.bytes().all(|c| c.is_ascii_digit()),
                    y.bytes().all(|c| c.is_ascii_digit()),
                ) {
                    (true, true) => cmp_decimal(x, y),
                    (false, false) => x.cmp(y),
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                }
            }
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
}

/// Splits a string into maximal runs of ASCII digits and maximal runs of anything else.
struct Runs<'a>(&'a str);

impl<'a> Iterator for Runs<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let first = self.0.bytes().next()?;
        let digits = first.is_ascii_digit();
        // A byte-wise split at an ASCII byte never cuts a UTF-8 sequence.
        let end = self
            .0
            .bytes()
            .position(|c| c.is_ascii_digit() != digits)
            .unwrap_or(self.0.len());
        let (run, rest) = self.0.split_at(end);
        self.0 = rest;
        Some(run)
    }
}

/// Compares two strings of ASCII digits by numeric value, of any length, ignoring leading zeros.
fn cmp_decimal(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}
