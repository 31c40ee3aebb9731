//! Version ordering for software filters with `<`, `<=`, `>`, `>=` (placeholder until the
//! ecosystem orderings land).

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
    /// Semantic versions (everything else).
    Semver,
}

impl Ecosystem {
    /// Chooses the ordering from the report's `operatingSystem` and the package name.
    pub fn detect(_operating_system: Option<&str>, package_name: &str) -> Self {
        if package_name.contains(':') { Self::Maven } else { Self::Semver }
    }
}

/// Compares two versions in the given ecosystem.
pub fn compare(_ecosystem: Ecosystem, a: &str, b: &str) -> Ordering {
    a.cmp(b)
}
