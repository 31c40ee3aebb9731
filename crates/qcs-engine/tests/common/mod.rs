//! Test fixtures: a real containerd started in a temp dir by the test and stopped when the
//! fixture is dropped, and the check of an engine error; Podman and the rest come from
//! `qcs-test-support`.
// Test-only helpers: each test file uses some of them, and a failed setup step should panic
// (a failed test with its message), like the `#[test]` functions that call them.
#![allow(dead_code, unused_imports, unreachable_pub, clippy::unwrap_used)]

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use qcs_engine::EngineError;
use qcs_test_support::process::{self, run_ok, spawn_logged};
use qcs_test_support::{local, tools};

pub use qcs_test_support::local::free_port;
pub use qcs_test_support::podman::Podman;
pub use qcs_test_support::process::wait_until;

/// The path of `tool`, which these tests need installed.
///
/// # Panics
/// When it is missing, naming `scripts/setup/30-engines.sh`, which installs the real engines.
pub fn require(tool: &str) -> PathBuf {
    tools::require(tool, "30-engines.sh")
}

/// A temp dir with a short path (unix socket paths are limited to 108 bytes).
pub fn short_tempdir() -> tempfile::TempDir {
    local::short_tempdir("qcs-eng-")
}

/// A containerd with its own socket, root and state in a temp dir (CRI plugin off).
pub struct Containerd {
    pub dir: tempfile::TempDir,
    child: Child,
    pub socket: PathBuf,
    started: Vec<String>,
}

impl Containerd {
    pub fn start() -> Self {
        require("containerd");
        require("ctr");
        require("containerd-shim-runc-v2");
        let dir = short_tempdir();
        let d = dir.path();
        let socket = d.join("c.sock");
        let config = format!(
            "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{sock}\"\n[ttrpc]\n  address = \"{sock}.ttrpc\"\n\
             [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n",
            root = d.join("root").display(),
            state = d.join("state").display(),
            sock = socket.display(),
        );
        let config_path = d.join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let log = d.join("containerd.log");
        let child = spawn_logged(
            Command::new("containerd").arg("--config").arg(&config_path),
            &log,
        );
        let c = Self {
            dir,
            child,
            socket,
            started: Vec::new(),
        };
        let sock = c.socket.clone();
        wait_until("containerd", &log, || UnixStream::connect(&sock).is_ok());
        c
    }

    pub fn url(&self) -> String {
        format!("containerd://{}", self.socket.display())
    }

    /// `ctr` on this containerd, namespace k8s.io.
    pub fn ctr(&self, args: &[&str]) -> String {
        run_ok(
            Command::new("ctr")
                .arg("-a")
                .arg(&self.socket)
                .args(["-n", "k8s.io"])
                .args(args),
        )
    }

    /// Runs a container with `ctr run -d` (native snapshotter) and remembers it for cleanup.
    pub fn run_container(&mut self, id: &str, image: &str, labels: &[&str], args: &[&str]) {
        let mut cmd: Vec<&str> = vec!["run", "-d", "--snapshotter", "native"];
        for l in labels {
            cmd.push("--label");
            cmd.push(l);
        }
        cmd.push(image);
        cmd.push(id);
        cmd.extend_from_slice(args);
        self.ctr(&cmd);
        self.started.push(id.to_owned());
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for id in &self.started {
            let _ = Command::new("ctr")
                .arg("-a")
                .arg(&self.socket)
                .args(["-n", "k8s.io", "task", "rm", "-f", id])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        process::stop(&mut self.child);
    }
}

/// Asserts the error's message names `parts`, that it has a hint, and its exit code is 3.
pub fn assert_engine_error(e: &EngineError, parts: &[&str]) {
    let msg = e.to_string();
    for p in parts {
        assert!(msg.contains(p), "message `{msg}` should contain `{p}`");
    }
    assert!(!e.hint().is_empty());
    assert!(e.report().contains("hint: "), "{}", e.report());
    assert_eq!(e.exit_code().code(), 3, "{msg}");
}
