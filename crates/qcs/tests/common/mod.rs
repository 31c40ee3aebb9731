//! Helpers shared by the binary's integration tests: the `qcs` binary under test, and what
//! `qcs-test-support` shares with the other crates' tests (the scan world, process helpers),
//! under the names these tests use.

// Each test binary uses a different subset.
#![allow(dead_code, unused_imports)]

use assert_cmd::Command;

pub(crate) use qcs_test_support::local::repo;
pub(crate) use qcs_test_support::process::{kill, stderr_lines, until, wait_exit};
pub(crate) use qcs_test_support::world::{ScanWorld, WorldOptions, image, run, summary_json};

/// The `qcs` binary under test, for what `qcs-test-support` starts ([`ScanWorld::start`],
/// `EmulatorProcess::start`).
pub(crate) const QCS: &str = env!("CARGO_BIN_EXE_qcs");

/// The `qcs` binary with a clean environment: no log filter, no config, no colours.
pub(crate) fn qcs() -> Command {
    let mut c = Command::cargo_bin("qcs").expect("the qcs binary is built");
    c.env_remove("QCS_LOG")
        .env_remove("QCS_CONFIG")
        .env("NO_COLOR", "1");
    c
}
