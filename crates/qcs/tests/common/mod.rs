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

/// The Qualys emulator with its Docker Engine API stand-in (on a unix socket in a temp dir)
/// holding `images`, the simulated CI/CD sensor running, uploading a tagged image 1 s later and
/// processing it at once (the tag check right after tagging needs the tag still there), and a
/// user `ci-user` with the CS module.
pub(crate) struct ScanWorld {
    pub(crate) emu: qcs_emulator::RunningEmulator,
    pub(crate) socket: PathBuf,
    /// The working and output directory of `qcs scan`.
    pub(crate) out: tempfile::TempDir,
    /// `ci-user`'s password.
    pub(crate) password: &'static str,
    _dir: tempfile::TempDir,
}

impl ScanWorld {
    /// Starts the emulator and the stand-in.
    pub(crate) async fn start(
        images: Vec<qcs_emulator::DockerImage>,
        password: &'static str,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let socket = dir.path().join("docker.sock");
        let emu = qcs_emulator::start(qcs_emulator::EmulatorConfig {
            docker_socket: Some(socket.clone().into()),
            docker: qcs_emulator::DockerSeed {
                sensor: qcs_emulator::SensorState::Running,
                images,
            },
            sensor: qcs_emulator::SensorTiming {
                scan_delay_secs: 1,
                processing_delay_secs: 0,
                ..qcs_emulator::SensorTiming::default()
            },
            ..qcs_emulator::EmulatorConfig::demo(socket.clone())
        })
        .await
        .expect("the emulator starts");
        emu.control().add_user(qcs_emulator::User {
            username: "ci-user".into(),
            password: password.into(),
            modules: vec!["CS".into()],
        });
        ScanWorld {
            emu,
            socket,
            out: tempfile::tempdir().expect("a temp dir"),
            password,
            _dir: dir,
        }
    }

    /// `qcs scan` pointed at this world's Qualys API (not yet at its engine), with a clean
    /// environment, `ci-user`'s credentials, a short fixed interval and the output directory.
    pub(crate) fn scan_without_engine(&self) -> Command {
        let mut c = Command::cargo_bin("qcs").expect("the qcs binary is built");
        c.env_clear()
            .env("NO_COLOR", "1")
            .env("QUALYS_USERNAME", "ci-user")
            .env("QUALYS_PASSWORD", self.password)
            .current_dir(self.out.path())
            .args(["scan", "--gateway-url", &self.emu.base_url()])
            .args(["--interval", "200ms", "--output-dir"])
            .arg(self.out.path());
        c
    }

    /// `qcs scan` pointed at this world's Qualys API and Docker stand-in.
    pub(crate) fn scan(&self) -> Command {
        let mut c = self.scan_without_engine();
        c.args(["--engine", &format!("unix://{}", self.socket.display())]);
        c
    }
}
