//! The world of the qcs binary's scan tests: the emulator with its Docker Engine API stand-in
//! (on a unix socket in a temp dir) and the simulated CI/CD sensor, a user with the CS module,
//! and `qcs scan` pointed at both; with what the tests read afterwards (`summary.json`, an
//! image's entry, the emulator's request counts). The binary under test is a parameter:
//! `CARGO_BIN_EXE_qcs` is known only to the `qcs` package's own tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use qcs_emulator::{
    DockerImage, DockerSeed, EmulatorConfig, ProcessingProfile, RunningEmulator, SensorState,
    SensorTiming, User,
};

/// How a [`ScanWorld`] is set up beyond its images: [`WorldOptions::default`] is what
/// [`ScanWorld::start`] uses.
#[derive(Debug, Clone, Copy)]
pub struct WorldOptions {
    /// What an image looks like while its scan is processed.
    pub profile: ProcessingProfile,
    /// From tagging to the sensor's upload, seconds.
    pub scan_delay_secs: u64,
    /// From the upload to the processed report, seconds.
    pub processing_delay_secs: u64,
    /// `qcs scan --interval`.
    pub interval: &'static str,
}

impl Default for WorldOptions {
    fn default() -> Self {
        WorldOptions {
            profile: ProcessingProfile::default(),
            scan_delay_secs: 1,
            processing_delay_secs: 0,
            interval: "200ms",
        }
    }
}

/// The Qualys emulator with its Docker Engine API stand-in (on a unix socket in a temp dir)
/// holding the images, the simulated CI/CD sensor running, uploading a tagged image 1 s later and
/// processing it at once (the tag check right after tagging needs the tag still there), and a
/// user `ci-user` with the CS module. [`ScanWorld::start_with`] changes the timings, the
/// processing profile and the poll interval.
pub struct ScanWorld {
    /// The emulator (in this process).
    pub emu: RunningEmulator,
    /// The stand-in's unix socket.
    pub socket: PathBuf,
    /// The working and output directory of `qcs scan`.
    pub out: tempfile::TempDir,
    /// `ci-user`'s password.
    pub password: &'static str,
    /// How the world was set up.
    pub options: WorldOptions,
    /// The qcs binary under test.
    bin: PathBuf,
    _dir: tempfile::TempDir,
}

impl ScanWorld {
    /// Starts the emulator and the stand-in holding `images`, for the qcs binary `bin`
    /// (`env!("CARGO_BIN_EXE_qcs")`).
    pub async fn start(
        bin: impl Into<PathBuf>,
        images: Vec<DockerImage>,
        password: &'static str,
    ) -> Self {
        Self::start_with(bin, images, password, WorldOptions::default()).await
    }

    /// Starts the emulator and the stand-in set up as `options` says.
    ///
    /// # Panics
    /// When the emulator cannot start.
    pub async fn start_with(
        bin: impl Into<PathBuf>,
        images: Vec<DockerImage>,
        password: &'static str,
        options: WorldOptions,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let socket = dir.path().join("docker.sock");
        let emu = qcs_emulator::start(EmulatorConfig {
            docker_socket: Some(socket.clone().into()),
            docker: DockerSeed {
                sensor: SensorState::Running,
                images,
            },
            sensor: SensorTiming {
                scan_delay_secs: options.scan_delay_secs,
                processing_delay_secs: options.processing_delay_secs,
                ..SensorTiming::default()
            },
            processing_profile: options.profile,
            ..EmulatorConfig::demo(socket.clone())
        })
        .await
        .expect("the emulator starts");
        emu.control().add_user(User {
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
            bin: bin.into(),
            _dir: dir,
        }
    }

    /// The `summary.json` of the last run.
    pub fn summary(&self) -> serde_json::Value {
        summary_json(self.out.path())
    }

    /// The 64-hex id of the stand-in's image tagged `tag`.
    ///
    /// # Panics
    /// When no image has the tag.
    pub fn id_of(&self, tag: &str) -> String {
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
    pub fn count(&self, endpoint: &str) -> u64 {
        crate::emulator::count(&self.emu, endpoint)
    }

    /// `qcs scan` pointed at this world's Qualys API (not yet at its engine), with a clean
    /// environment, `ci-user`'s credentials, a short fixed interval and the output directory.
    pub fn scan_without_engine(&self) -> Command {
        Command::from_std(self.scan_process_without_engine())
    }

    /// [`ScanWorld::scan_without_engine`] as a [`std::process::Command`], for a test that
    /// spawns the process (to signal it, or to read its stderr while it runs).
    pub fn scan_process_without_engine(&self) -> std::process::Command {
        let mut c = std::process::Command::new(&self.bin);
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
    pub fn scan(&self) -> Command {
        Command::from_std(self.scan_process())
    }

    /// [`ScanWorld::scan`] as a [`std::process::Command`].
    pub fn scan_process(&self) -> std::process::Command {
        let mut c = self.scan_process_without_engine();
        c.args(["--engine", &format!("unix://{}", self.socket.display())]);
        c
    }
}

/// The `summary.json` written in `dir`, as JSON.
///
/// # Panics
/// When it is missing or not JSON.
pub fn summary_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary written"))
        .expect("summary parses")
}

/// The entry of `summary.json` for the input `input`.
///
/// # Panics
/// When the summary has no such image.
pub fn image<'a>(summary: &'a serde_json::Value, input: &str) -> &'a serde_json::Value {
    summary["images"]
        .as_array()
        .expect("summary.json lists images")
        .iter()
        .find(|i| i["input"] == input)
        .unwrap_or_else(|| panic!("no image {input} in {summary}"))
}

/// Runs the command off the async runtime, so that the in-process emulator keeps serving:
/// the exit code, stdout and stderr.
///
/// # Panics
/// When the command cannot run.
pub async fn run(mut cmd: Command) -> (Option<i32>, String, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("the command runs"))
        .await
        .expect("the command's thread");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
