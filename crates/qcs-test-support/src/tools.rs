//! The tools a test needs on the machine. A missing one fails the test with the setup script
//! (`scripts/setup/*.sh`) that installs it: a test that skipped itself would prove nothing.

use std::path::{Path, PathBuf};

/// Where [`require`] looks, in this order.
const DIRS: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The path of the installed `tool`, if it is in one of the usual directories.
pub fn find(tool: &str) -> Option<PathBuf> {
    DIRS.iter()
        .map(|dir| Path::new(dir).join(tool))
        .find(|p| p.exists())
}

/// The path of the installed `tool`.
///
/// # Panics
/// When `tool` is in none of the usual directories: the message names `setup`, the script
/// under `scripts/setup/` that installs it (`"30-engines.sh"`).
pub fn require(tool: &str, setup: &str) -> PathBuf {
    find(tool).unwrap_or_else(|| {
        panic!("`{tool}` is not installed; run `bash scripts/setup/{setup}` as root first")
    })
}

/// Checks that `what` is at `path` (a file a setup script puts in a fixed place).
///
/// # Panics
/// When nothing is at `path`: the message names `setup`, the script under `scripts/setup/`
/// that installs it.
pub fn require_path(path: &Path, what: &str, setup: &str) {
    assert!(
        path.exists(),
        "{what} is missing at {}\nhint: run `bash scripts/setup/{setup}` as root first",
        path.display()
    );
}
