//! Headless Chromium for a test: Debian's `chromium` (`QCS_CHROMIUM` overrides
//! `/usr/bin/chromium`), Node.js and `playwright-core` under `QCS_BROWSER_DIR` (default
//! `/opt/qcs-browser`), all installed by `scripts/setup/70-chromium.sh`; a missing one fails the
//! test. The flags every launch uses are here, whether a test drives the browser through
//! playwright-core or launches it itself.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use crate::tools;

/// The script that installs Chromium, Node.js and playwright-core.
const SETUP: &str = "70-chromium.sh";

/// Chromium's flags for a test, besides `--headless` and a fresh `--user-data-dir`
/// (playwright-core adds both itself; [`Browser::headless`] adds them for a direct launch): no
/// sandbox (tests may run as root), no GPU, and nothing that reaches the network on its own.
pub const FLAGS: [&str; 7] = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The installed browser and what drives it.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The Chromium executable.
    pub chromium: PathBuf,
    /// Node.js, which runs the playwright-core scripts.
    pub node: PathBuf,
    /// The `playwright-core` package directory (for `require`).
    pub playwright: PathBuf,
}

impl Browser {
    /// The browser, Node.js and playwright-core.
    ///
    /// # Panics
    /// When one is missing, naming `scripts/setup/70-chromium.sh`.
    pub fn require() -> Self {
        let env_or = |var: &str, default: &str| {
            std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
        };
        let browser = Browser {
            chromium: env_or("QCS_CHROMIUM", "/usr/bin/chromium"),
            node: PathBuf::from("/usr/bin/node"),
            playwright: env_or("QCS_BROWSER_DIR", "/opt/qcs-browser")
                .join("node_modules/playwright-core"),
        };
        tools::require_path(&browser.chromium, "chromium", SETUP);
        tools::require_path(&browser.node, "node", SETUP);
        tools::require_path(
            &browser.playwright.join("package.json"),
            "playwright-core",
            SETUP,
        );
        browser
    }

    /// Chromium launched directly: `--headless`, [`FLAGS`] and a fresh `--user-data-dir`
    /// (removed when the returned [`Headless`] is dropped); add the page and what to do with it
    /// (`--dump-dom URL`).
    ///
    /// # Panics
    /// When the profile directory cannot be made.
    pub fn headless(&self) -> Headless {
        let profile = tempfile::tempdir().expect("a temp dir for Chromium's profile");
        let mut user_data_dir = OsString::from("--user-data-dir=");
        user_data_dir.push(profile.path());
        let mut command = Command::new(&self.chromium);
        command.arg("--headless").args(FLAGS).arg(user_data_dir);
        Headless {
            command,
            _profile: profile,
        }
    }
}

/// A Chromium command with its own profile directory, which lives as long as this.
#[derive(Debug)]
pub struct Headless {
    /// `chromium --headless …`.
    pub command: Command,
    _profile: tempfile::TempDir,
}

#[cfg(test)]
mod tests {
    use super::Browser;

    /// What `scripts/setup/70-chromium.sh` checks, through [`Browser::headless`].
    #[test]
    fn headless_chromium_renders_a_page() {
        let mut headless = Browser::require().headless();
        let out = crate::process::run_ok(
            headless
                .command
                .args(["--dump-dom", "data:text/html,<p>ok</p>"]),
        );
        assert!(out.contains("<p>ok</p>"), "{out}");
    }
}
