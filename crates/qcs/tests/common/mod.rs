//! Helpers shared by the binary's integration tests.

// Each test binary uses a different subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

/// How a [`ScanWorld`] is set up beyond its images: [`WorldOptions::default`] is what
/// [`ScanWorld::start`] uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WorldOptions {
    /// What an image looks like while its scan is processed.
    pub(crate) profile: qcs_emulator::ProcessingProfile,
    /// From tagging to the sensor's upload, seconds.
    pub(crate) scan_delay_secs: u64,
    /// From the upload to the processed report, seconds.
    pub(crate) processing_delay_secs: u64,
    /// `qcs scan --interval`.
    pub(crate) interval: &'static str,
}

impl Default for WorldOptions {
    fn default() -> Self {
        WorldOptions {
            profile: qcs_emulator::ProcessingProfile::default(),
            scan_delay_secs: 1,
            processing_delay_secs: 0,
            interval: "200ms",
        }
    }
}

/// The Qualys emulator with its Docker Engine API stand-in (on a unix socket in a temp dir)
/// holding `images`, the simulated CI/CD sensor running, uploading a tagged image 1 s later and
/// processing it at once (the tag check right after tagging needs the tag still there), and a
/// user `ci-user` with the CS module. [`ScanWorld::start_with`] changes the timings, the
/// processing profile and the poll interval.
pub(crate) struct ScanWorld {
    pub(crate) emu: qcs_emulator::RunningEmulator,
    pub(crate) socket: PathBuf,
    /// The working and output directory of `qcs scan`.
    pub(crate) out: tempfile::TempDir,
    /// `ci-user`'s password.
    pub(crate) password: &'static str,
    /// How the world was set up.
    pub(crate) options: WorldOptions,
    _dir: tempfile::TempDir,
}

impl ScanWorld {
    /// Starts the emulator and the stand-in.
    pub(crate) async fn start(
        images: Vec<qcs_emulator::DockerImage>,
        password: &'static str,
    ) -> Self {
        Self::start_with(images, password, WorldOptions::default()).await
    }

    /// Starts the emulator and the stand-in set up as `options` says.
    pub(crate) async fn start_with(
        images: Vec<qcs_emulator::DockerImage>,
        password: &'static str,
        options: WorldOptions,
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
                scan_delay_secs: options.scan_delay_secs,
                processing_delay_secs: options.processing_delay_secs,
                ..qcs_emulator::SensorTiming::default()
            },
            processing_profile: options.profile,
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
            options,
            _dir: dir,
        }
    }

    /// The `summary.json` of the last run.
    pub(crate) fn summary(&self) -> serde_json::Value {
        summary_json(self.out.path())
    }

    /// The 64-hex id of the stand-in's image tagged `tag`.
    pub(crate) fn id_of(&self, tag: &str) -> String {
        self.emu
            .control()
            .docker_images()
            .into_iter()
            .find(|(_, tags)| tags.iter().any(|t| t == tag))
            .map_or_else(
                || panic!("no image tagged {tag} in the stand-in"),
                |(id, _)| id,
            )
    }

    /// Requests the emulator logged for an endpoint key (`images`, `images/{id}`,
    /// `docker/images/tag`, …).
    pub(crate) fn count(&self, endpoint: &str) -> u64 {
        self.emu
            .control()
            .requests()
            .counts
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// `qcs scan` pointed at this world's Qualys API (not yet at its engine), with a clean
    /// environment, `ci-user`'s credentials, a short fixed interval and the output directory.
    pub(crate) fn scan_without_engine(&self) -> Command {
        Command::from_std(self.scan_process_without_engine())
    }

    /// [`ScanWorld::scan_without_engine`] as a [`std::process::Command`], for a test that
    /// spawns the process (to signal it, or to read its stderr while it runs).
    pub(crate) fn scan_process_without_engine(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_qcs"));
        c.env_clear()
            .env("NO_COLOR", "1")
            .env("QUALYS_USERNAME", "ci-user")
            .env("QUALYS_PASSWORD", self.password)
            .current_dir(self.out.path())
            .args(["scan", "--gateway-url", &self.emu.base_url()])
            .args(["--interval", self.options.interval, "--output-dir"])
            .arg(self.out.path());
        c
    }

    /// `qcs scan` pointed at this world's Qualys API and Docker stand-in.
    pub(crate) fn scan(&self) -> Command {
        Command::from_std(self.scan_process())
    }

    /// [`ScanWorld::scan`] as a [`std::process::Command`].
    pub(crate) fn scan_process(&self) -> std::process::Command {
        let mut c = self.scan_process_without_engine();
        c.args(["--engine", &format!("unix://{}", self.socket.display())]);
        c
    }
}

/// Runs the command off the async runtime, so that the in-process emulator keeps serving:
/// the exit code, stdout and stderr.
pub(crate) async fn run(mut cmd: Command) -> (Option<i32>, String, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("the command runs"))
        .await
        .expect("the command's thread");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The entry of `summary.json` for the input `input`.
pub(crate) fn image<'a>(summary: &'a serde_json::Value, input: &str) -> &'a serde_json::Value {
    summary["images"]
        .as_array()
        .expect("summary.json lists images")
        .iter()
        .find(|i| i["input"] == input)
        .unwrap_or_else(|| panic!("no image {input} in {summary}"))
}

/// Sends each line of a child's stderr on the returned channel, from a thread.
pub(crate) fn stderr_lines(stderr: std::process::ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads stderr until a line contains `marker` (panics after 60 s); returns what was read.
pub(crate) fn until(rx: &mpsc::Receiver<String>, marker: &str, seen: &mut String) {
    let end = Instant::now() + Duration::from_secs(60);
    while !seen.contains(marker) {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(e) => panic!("no `{marker}` on stderr within 60 s ({e}):\n{seen}"),
        }
    }
}

/// Sends `signal` (`INT`, `TERM`, …) to the child with kill(1).
pub(crate) fn kill(child: &Child, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{signal}");
}

/// Waits for the exit (at most 30 s; the process is killed after that): the code and how long
/// it took.
pub(crate) fn wait_exit(mut child: Child) -> (Option<i32>, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return (status.code(), start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qcs did not exit within 30 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
