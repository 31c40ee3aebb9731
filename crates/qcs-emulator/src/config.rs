//! Emulator settings: [`EmulatorConfig`] for the library and CLI, and the [`Scenario`] TOML file
//! that overrides it (users, clients, images, faults, timings, rate limit, Docker stand-in).

use crate::auth::{Client, User};
use crate::error::EmulatorError;
use crate::faults::FaultRule;
use crate::generate::ReportSpec;
use crate::ratelimit::RateLimitConfig;
use crate::state::ProcessingProfile;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything [`crate::start`] needs. `Default` listens on `127.0.0.1:8443` without TLS, with
/// the user `qcs-demo`/`qcs-demo` and the OAuth client `qcs-demo`/`qcs-demo` (both with CS).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address of the CS API listener (port 0: any free port).
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate from a generated test CA.
    pub tls: bool,
    /// Where the CA certificate (`ca.pem`) and server key/cert go when `tls` is set
    /// (default: a fresh temporary directory, removed at shutdown).
    pub tls_dir: Option<PathBuf>,
    /// Scenario file applied on top of these settings at start.
    pub scenario: Option<PathBuf>,
    /// Directory of image-details JSON files (`*.json`) to load at start, processed at once.
    pub image_dir: Option<PathBuf>,
    /// Serve the Docker Engine API stand-in (with the simulated CI/CD sensor) there: a unix
    /// socket (unix only) or a TCP address (every platform; the choice on Windows).
    pub docker_socket: Option<DockerListen>,
    /// Watch a real Docker-compatible engine (e.g. `unix:///run/podman.sock`) for images tagged
    /// `qualys_scan_target:<sha>`.
    pub watch_engine: Option<String>,
    /// `Some(t)`: a frozen clock starting at epoch ms `t` that moves only when advanced
    /// (for tests); `None`: wall time.
    pub frozen_clock_ms: Option<u64>,
    /// Lifetime of minted tokens, seconds (the real gateway: 4 h).
    pub token_lifetime_secs: u64,
    /// CS API rate limit.
    pub rate_limit: RateLimitConfig,
    /// Accounts accepted by `POST /auth`.
    pub users: Vec<User>,
    /// Clients accepted by `POST /auth/oidc` and `/auth/oauth`.
    pub clients: Vec<Client>,
    /// Images seeded at start.
    pub images: Vec<ImageSeed>,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Timings of the simulated sensor and platform.
    pub sensor: SensorTiming,
    /// The Docker Engine API stand-in's initial content.
    pub docker: DockerSeed,
    /// Seed for fault probabilities and generated content.
    pub seed: u64,
    /// What an image looks like while its scan is processed (`lastScanned`, counts,
    /// `scanStatus`). Default: [`ProcessingProfile::LastScannedWhenProcessed`].
    pub processing_profile: ProcessingProfile,
    /// Rate limit of `GET /csapi/vxx/images/list` (the real gateway: 120 per 60 s), counted
    /// apart from [`EmulatorConfig::rate_limit`].
    pub list_rate_limit: RateLimitConfig,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            tls: false,
            tls_dir: None,
            scenario: None,
            image_dir: None,
            docker_socket: None,
            watch_engine: None,
            frozen_clock_ms: None,
            token_lifetime_secs: 4 * 3600,
            rate_limit: RateLimitConfig::default(),
            users: vec![User::demo()],
            clients: vec![Client::demo()],
            images: Vec::new(),
            faults: Vec::new(),
            sensor: SensorTiming::default(),
            docker: DockerSeed::default(),
            seed: 1,
            processing_profile: ProcessingProfile::default(),
            list_rate_limit: RateLimitConfig {
                limit: 120,
                window_secs: 60,
            },
        }
    }
}

impl EmulatorConfig {
    /// Settings for a demo (`qcs demo`): any free port on 127.0.0.1, the Docker stand-in on
    /// `docker_socket` (a unix socket path, or a [`DockerListen`]) with a running CI/CD sensor
    /// and one image `qcs-demo/app:1.0` (a Debian image with 30 findings, `Log4Shell` among
    /// them), and short sensor delays (2 s to the upload, 3 s of processing).
    pub fn demo(docker_socket: impl Into<DockerListen>) -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            docker_socket: Some(docker_socket.into()),
            sensor: SensorTiming {
                scan_delay_secs: 2,
                processing_delay_secs: 3,
                ..SensorTiming::default()
            },
            ..EmulatorConfig::default()
        }
    }
}

/// Where the Docker Engine API stand-in listens.
///
/// Written as text (`--docker-socket`, [`DockerListen::parse`]): a plain path or `unix://PATH` is
/// a unix socket, `tcp://IP:PORT` a TCP listener (port 0: any free port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerListen {
    /// A unix socket at this path; Docker clients use `unix://<path>`. Unix only: on other
    /// platforms [`crate::start`] refuses it with a hint to use [`DockerListen::Tcp`].
    Unix(PathBuf),
    /// Plain HTTP on this TCP address (port 0: any free port; [`crate::RunningEmulator`] tells
    /// the bound one); Docker clients use `tcp://<addr>`. Every platform.
    Tcp(SocketAddr),
}

impl DockerListen {
    /// Where `qcs demo` puts the stand-in: the unix socket `docker.sock` in `dir` on unix, any
    /// free port on `127.0.0.1` elsewhere (Windows has no unix sockets in Tokio).
    pub fn local(dir: &Path) -> Self {
        if cfg!(unix) {
            DockerListen::Unix(dir.join("docker.sock"))
        } else {
            DockerListen::Tcp(SocketAddr::from(([127, 0, 0, 1], 0)))
        }
    }

    /// Parses `tcp://IP:PORT`, `unix://PATH` or a plain path (a unix socket).
    pub fn parse(value: &str) -> Result<Self, EmulatorError> {
        let invalid = |reason: &str| EmulatorError::DockerListen {
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(addr) = value.strip_prefix("tcp://") {
            let addr = addr.trim_end_matches('/');
            return addr.parse().map(DockerListen::Tcp).map_err(|_| {
                invalid("after tcp:// comes an IP address and a port, e.g. 127.0.0.1:2375")
            });
        }
        if value.contains("://") && !value.starts_with("unix://") {
            return Err(invalid("the scheme must be unix:// or tcp://"));
        }
        let path = value.strip_prefix("unix://").unwrap_or(value);
        if path.is_empty() {
            return Err(invalid("the socket path is empty"));
        }
        Ok(DockerListen::Unix(PathBuf::from(path)))
    }

    /// The URL a Docker client uses: `unix:///path/docker.sock` or `tcp://127.0.0.1:2375`.
    pub fn url(&self) -> String {
        match self {
            DockerListen::Unix(p) => format!("unix://{}", p.display()),
            DockerListen::Tcp(a) => format!("tcp://{a}"),
        }
    }
}

impl From<PathBuf> for DockerListen {
    fn from(path: PathBuf) -> Self {
        DockerListen::Unix(path)
    }
}

impl From<SocketAddr> for DockerListen {
    fn from(addr: SocketAddr) -> Self {
        DockerListen::Tcp(addr)
    }
}

impl std::str::FromStr for DockerListen {
    type Err = EmulatorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::fmt::Display for DockerListen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url())
    }
}

/// Delays of the simulated CI/CD sensor and platform, seconds of emulator time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorTiming {
    /// From tagging `qualys_scan_target:<sha>` to the inventory upload (the image becomes known).
    pub scan_delay_secs: u64,
    /// From the upload to the processed report.
    pub processing_delay_secs: u64,
    /// Poll interval of the engine watcher (real time, milliseconds).
    pub watch_interval_ms: u64,
}

impl Default for SensorTiming {
    fn default() -> Self {
        SensorTiming {
            scan_delay_secs: 5,
            processing_delay_secs: 10,
            watch_interval_ms: 500,
        }
    }
}

/// An image to seed: from a file or from the generator, with its lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ImageSeed {
    /// An image-details JSON file (relative paths: to the scenario file's directory).
    pub file: Option<PathBuf>,
    /// Generate the document instead (ignored when `file` is set).
    pub generate: Option<ReportSpec>,
    /// Override the document's `sha`.
    pub sha: Option<String>,
    /// Seconds after start when the inventory is uploaded.
    pub upload_after_secs: u64,
    /// Seconds after the upload when processing finishes.
    pub processing_secs: u64,
    /// Never uploaded: the image stays unknown (404).
    pub never_scanned: bool,
    /// Uploaded but never processed (`vulnerabilities: null` forever).
    pub never_processed: bool,
    /// A re-scan: the platform already holds an earlier processed report of this sha, served
    /// until this one is processed.
    pub previous_scan: Option<PreviousScan>,
}

/// An earlier scan of the same sha that the platform already holds (a re-scan).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreviousScan {
    /// How long before the image is stored (at start, or by the control API) the earlier scan
    /// was uploaded and processed, seconds. Default 86400 (a day).
    pub age_secs: u64,
    /// The earlier report. Default: the same image with no vulnerabilities (a clean earlier
    /// scan, so that a client taking it by mistake passes what it should fail).
    pub generate: Option<ReportSpec>,
}

impl Default for PreviousScan {
    fn default() -> Self {
        PreviousScan {
            age_secs: 86_400,
            generate: None,
        }
    }
}

impl PreviousScan {
    /// The earlier document for `doc` (the new one).
    pub fn document(&self, doc: &serde_json::Value) -> serde_json::Value {
        let mut prev = match &self.generate {
            Some(spec) => crate::generate::generate(spec),
            None => {
                let mut d = doc.clone();
                if let Some(o) = d.as_object_mut() {
                    o.insert("vulnerabilities".into(), serde_json::json!([]));
                    for s in o
                        .get_mut("softwares")
                        .and_then(serde_json::Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(so) = s.as_object_mut() {
                            so.insert("vulnerabilities".into(), serde_json::json!([]));
                        }
                    }
                }
                d
            }
        };
        if let (Some(o), Some(sha)) = (prev.as_object_mut(), doc.get("sha")) {
            o.insert("sha".into(), sha.clone());
            o.remove("imageId");
        }
        prev
    }
}

/// What the simulated sensor container looks like to the plugin's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SensorState {
    /// Running, CI/CD mode (`--cicd-deployed-sensor` in its command).
    #[default]
    Running,
    /// No sensor container at all.
    Missing,
    /// The sensor container is paused.
    Paused,
    /// Running, but deployed in general mode (no `--cicd-deployed-sensor`).
    NotCicd,
}

/// An image in the Docker Engine API stand-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DockerImage {
    /// `repo:tag` names (`RepoTags`); may be empty (a dangling image).
    pub tags: Vec<String>,
    /// The report the platform will have once the sensor scanned it (default: generated
    /// from the image's sha).
    pub report: Option<ReportSpec>,
    /// The sensor never uploads this image (it stays unknown to the API).
    pub never_scanned: bool,
    /// Uploaded but never processed.
    pub never_processed: bool,
    /// A re-scan: the platform already holds an earlier processed report of this image when the
    /// emulator starts (for images given at start; the report's `sha` is the image's id).
    pub previous_scan: Option<PreviousScan>,
}

/// Initial content of the Docker Engine API stand-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DockerSeed {
    /// State of the sensor container.
    pub sensor: SensorState,
    /// Images (default: one, `qcs-demo/app:1.0`).
    pub images: Vec<DockerImage>,
}

impl Default for DockerSeed {
    fn default() -> Self {
        DockerSeed {
            sensor: SensorState::Running,
            images: vec![DockerImage {
                tags: vec!["qcs-demo/app:1.0".into()],
                ..DockerImage::default()
            }],
        }
    }
}

/// The scenario file: every table is optional and overrides the matching setting.
///
/// ```toml
/// seed = 7
/// token-lifetime-secs = 600
/// image-dir = "reports"
/// [rate-limit]
/// limit = 100
/// window_secs = 60
/// [sensor]
/// scan_delay_secs = 2
/// processing_delay_secs = 3
/// [[users]]
/// username = "no-cs"
/// password = "secret"
/// modules = ["VM SCANNER"]
/// [[images]]
/// generate = { seed = 3, base = "alpine", vulnerabilities = 25, packages = 40 }
/// never_processed = true
/// [[faults]]
/// endpoint = "images"
/// kind = "status"
/// status = 503
/// times = 2
/// [docker]
/// sensor = "paused"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// Seed for fault probabilities.
    pub seed: Option<u64>,
    /// Token lifetime, seconds.
    pub token_lifetime_secs: Option<u64>,
    /// Frozen clock start (epoch ms).
    pub frozen_clock_ms: Option<u64>,
    /// What an image looks like while processed (`processing-profile = "..."`).
    pub processing_profile: Option<ProcessingProfile>,
    /// Older spelling: `true` is `last-scanned-when-processed`, `false` `last-scanned-at-upload`.
    pub hide_last_scanned_while_processing: Option<bool>,
    /// Rate limit of `/csapi/vxx/images/list`.
    pub list_rate_limit: Option<RateLimitConfig>,
    /// Directory of image-details JSON files (relative to the scenario file).
    pub image_dir: Option<PathBuf>,
    /// Rate limit.
    pub rate_limit: Option<RateLimitConfig>,
    /// Sensor and platform delays.
    pub sensor: Option<SensorTiming>,
    /// Users (replace the default `qcs-demo` user when given).
    pub users: Option<Vec<User>>,
    /// OAuth clients (replace the default client when given).
    pub clients: Option<Vec<Client>>,
    /// Images to seed (added).
    pub images: Vec<ImageSeed>,
    /// Fault rules (added).
    pub faults: Vec<FaultRule>,
    /// Docker stand-in content (replaces the default).
    pub docker: Option<DockerSeed>,
}

impl Scenario {
    /// Parses a scenario from TOML text; `path` is only used in the error.
    pub fn parse(text: &str, path: &Path) -> Result<Self, EmulatorError> {
        let s: Scenario = toml::from_str(text).map_err(|e| EmulatorError::Scenario {
            path: path.to_owned(),
            message: e.to_string().trim().to_owned(),
        })?;
        for f in &s.faults {
            f.validate()?;
        }
        Ok(s)
    }

    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Read {
            what: "scenario file",
            path: path.to_owned(),
            source,
        })?;
        let mut s = Self::parse(&text, path)?;
        // Relative paths are relative to the scenario file.
        let dir = path.parent().unwrap_or(Path::new("."));
        if let Some(d) = s.image_dir.as_mut() {
            if d.is_relative() {
                *d = dir.join(&*d);
            }
        }
        for i in &mut s.images {
            if let Some(f) = i.file.as_mut() {
                if f.is_relative() {
                    *f = dir.join(&*f);
                }
            }
        }
        Ok(s)
    }

    /// Applies the scenario on top of `config`.
    pub fn apply(self, config: &mut EmulatorConfig) {
        if let Some(v) = self.seed {
            config.seed = v;
        }
        if let Some(v) = self.token_lifetime_secs {
            config.token_lifetime_secs = v;
        }
        if let Some(v) = self.frozen_clock_ms {
            config.frozen_clock_ms = Some(v);
        }
        if let Some(v) = self.hide_last_scanned_while_processing {
            config.processing_profile = if v {
                ProcessingProfile::LastScannedWhenProcessed
            } else {
                ProcessingProfile::LastScannedAtUpload
            };
        }
        if let Some(v) = self.processing_profile {
            config.processing_profile = v;
        }
        if let Some(v) = self.list_rate_limit {
            config.list_rate_limit = v;
        }
        if let Some(v) = self.image_dir {
            config.image_dir = Some(v);
        }
        if let Some(v) = self.rate_limit {
            config.rate_limit = v;
        }
        if let Some(v) = self.sensor {
            config.sensor = v;
        }
        if let Some(v) = self.users {
            config.users = v;
        }
        if let Some(v) = self.clients {
            config.clients = v;
        }
        if let Some(v) = self.docker {
            config.docker = v;
        }
        config.images.extend(self.images);
        config.faults.extend(self.faults);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_and_applies() {
        let text = r#"
seed = 7
token-lifetime-secs = 600
[rate-limit]
limit = 100
window_secs = 60
[sensor]
scan_delay_secs = 2
processing_delay_secs = 3
[[users]]
username = "no-cs"
password = "secret"
modules = ["VM SCANNER"]
[[images]]
generate = { seed = 3, base = "alpine", vulnerabilities = 25, packages = 40 }
never_processed = true
[[faults]]
endpoint = "images"
kind = "status"
status = 503
times = 2
[docker]
sensor = "paused"
"#;
        let s = Scenario::parse(text, Path::new("s.toml")).expect("valid");
        let mut c = EmulatorConfig::default();
        s.apply(&mut c);
        assert_eq!(c.seed, 7);
        assert_eq!(c.token_lifetime_secs, 600);
        assert_eq!(c.rate_limit.limit, 100);
        assert_eq!(c.users.len(), 1);
        assert_eq!(c.users[0].modules, vec!["VM SCANNER".to_owned()]);
        assert_eq!(c.clients.len(), 1, "default client kept");
        assert_eq!(
            c.images[0].generate.as_ref().map(|g| g.vulnerabilities),
            Some(25)
        );
        assert!(c.images[0].never_processed);
        assert_eq!(c.faults[0].times, Some(2));
        assert_eq!(c.docker.sensor, SensorState::Paused);
        assert_eq!(c.sensor.scan_delay_secs, 2);
    }

    #[test]
    fn mistakes_are_reported_with_file_and_position() {
        let e = Scenario::parse("sede = 7\n", Path::new("bad.toml")).expect_err("unknown key");
        let msg = e.to_string();
        assert!(msg.contains("bad.toml") && msg.contains("sede"), "{msg}");
        let e = Scenario::parse(
            "[[faults]]\nendpoint = \"images\"\nkind = \"status\"\nstatus = 7\n",
            Path::new("f.toml"),
        )
        .expect_err("bad status");
        assert!(e.to_string().contains("status 7"), "{e}");
    }

    #[test]
    fn the_scenario_in_the_docs_parses() {
        let doc = include_str!("../../../docs/emulator.md");
        let start = doc
            .find("```toml\n")
            .expect("a toml block in docs/emulator.md")
            + 8;
        let len = doc[start..].find("```").expect("closed");
        let s = Scenario::parse(&doc[start..start + len], Path::new("docs/emulator.md"))
            .expect("valid");
        assert_eq!(s.users.as_ref().map(Vec::len), Some(2));
        assert_eq!(s.docker.as_ref().map(|d| d.images.len()), Some(1));
        assert_eq!(s.faults.len(), 1);
    }
}
