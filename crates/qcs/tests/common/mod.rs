//! Helpers shared by the binary's integration tests.

// Each test binary uses a different subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A path in the repository.
pub(crate) fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The `qcs` binary with a clean environment: no log filter, no config, no colours.
pub(crate) fn qcs() -> Command {
    let mut c = Command::cargo_bin("qcs").expect("the qcs binary is built");
    c.env_remove("QCS_LOG")
        .env_remove("QCS_CONFIG")
        .env("NO_COLOR", "1");
    c
}

/// The `summary.json` written in `dir`, as JSON.
pub(crate) fn summary_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary written"))
        .expect("summary parses")
}
