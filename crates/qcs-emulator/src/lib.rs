//! The Qualys CS API emulator, a Docker Engine API stand-in and the simulated CI/CD sensor.
//!
//! Start one with [`start`] and an [`EmulatorConfig`]; drive it over HTTP like the real
//! gateway (`/auth`, `/csapi/v1.3/images...`), over its control API (`/_emulator/...`), or
//! through the [`Control`] handle of the returned [`RunningEmulator`].
//!
//! ```no_run
//! use qcs_emulator::{EmulatorConfig, FaultRule, ReportSpec, start};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), qcs_emulator::EmulatorError> {
//! let emu = start(EmulatorConfig {
//!     listen: "127.0.0.1:0".parse().expect("address"),
//!     frozen_clock_ms: Some(1_717_243_200_000),
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//! let sha = emu.control().seed_generated(ReportSpec { vulnerabilities: 500, ..ReportSpec::default() })?;
//! emu.control().inject(FaultRule::status("images", 503).times(2))?;
//! emu.control().advance(Duration::from_secs(30));
//! println!("{}/csapi/v1.3/images/{sha}", emu.base_url());
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Modules: [`generate`] (realistic reports), [`auth`] (accounts, JWTs), [`qql`] (filters),
//! [`state`] (images and lifecycle), [`faults`], [`ratelimit`], [`log`] (request log),
//! [`control`] (the `/_emulator` API), [`docker`] (Docker stand-in and sensor), [`tls`],
//! [`config`] (settings and the scenario file), [`clock`], [`endpoint`] (endpoint keys),
//! [`watch`] (the sensor watching a real engine).

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod control;
pub mod docker;
pub mod endpoint;
pub mod error;
pub mod faults;
pub mod generate;
pub mod log;
pub mod qql;
pub mod ratelimit;
mod server;
mod shared;
pub mod state;
pub mod tls;
pub mod watch;

pub use auth::{Client, User};
pub use config::{
    DockerImage, DockerListen, DockerSeed, EmulatorConfig, ImageSeed, PreviousScan, Scenario,
    SensorState, SensorTiming,
};
pub use control::{LifecycleRequest, SeedRequest};
pub use error::EmulatorError;
pub use faults::{FaultAction, FaultRule};
pub use generate::{Base, ReportSpec, generate, generate_sha};
pub use log::LogSnapshot;
pub use ratelimit::RateLimitConfig;
pub use state::{Lifecycle, Phase, ProcessingProfile};

use rand::RngCore;
use rand::SeedableRng;
use shared::Shared;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

/// A running emulator. Dropping it without [`RunningEmulator::shutdown`] stops the listeners
/// too (their tasks are aborted).
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    tls: bool,
    ca_path: Option<PathBuf>,
    /// Where the Docker stand-in listens (a TCP port 0 replaced by the bound port).
    docker: Option<DockerListen>,
    watch_engine: Option<String>,
    users: Vec<User>,
    clients: Vec<Client>,
    control: Control,
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    tasks: JoinSet<()>,
    _tls_dir: Option<tempfile::TempDir>,
}

impl RunningEmulator {
    /// The gateway URL, e.g. `http://127.0.0.1:8443` or `https://127.0.0.1:8443` (no slash).
    /// With TLS, a wildcard listen address is given as `localhost`; the certificate covers
    /// `localhost`, `127.0.0.1` and `::1`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        if self.addr.ip().is_unspecified() {
            format!("{scheme}://localhost:{}", self.addr.port())
        } else {
            format!("{scheme}://{}", self.addr)
        }
    }

    /// The bound address of the CS API listener.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) to trust, when TLS is on.
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }

    /// The Docker stand-in's unix socket, when it runs on one (use as `unix://<path>`); `None`
    /// when it listens on TCP (see [`docker_listen`](Self::docker_listen)).
    pub fn docker_socket(&self) -> Option<&Path> {
        match &self.docker {
            Some(DockerListen::Unix(path)) => Some(path),
            _ => None,
        }
    }

    /// Where the Docker stand-in listens, when it runs: its unix socket, or its bound TCP
    /// address (the real port when port 0 was asked for).
    pub fn docker_listen(&self) -> Option<&DockerListen> {
        self.docker.as_ref()
    }

    /// The Docker stand-in's URL for a Docker client (`DOCKER_HOST`, `qcs scan --engine`):
    /// `unix:///path/docker.sock` or `tcp://127.0.0.1:<port>`; `None` when it does not run.
    pub fn docker_host(&self) -> Option<String> {
        self.docker.as_ref().map(DockerListen::url)
    }

    /// Users accepted by `POST /auth` at start.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// OAuth clients accepted at start.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// The control handle (seed images, advance the clock, inject faults, read the log).
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// A human-readable summary: URLs, accepted credentials, CA path, Docker socket.
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "Qualys CS API emulator listening on {}", self.base_url());
        let _ = writeln!(s, "  control API:    {}/_emulator/state", self.base_url());
        for u in &self.users {
            let _ = writeln!(
                s,
                "  user:           {} / {} (modules: {})",
                u.username,
                u.password,
                u.modules.join(", ")
            );
        }
        for c in &self.clients {
            let _ = writeln!(
                s,
                "  OAuth client:   {} / {} (modules: {})",
                c.client_id,
                c.client_secret,
                c.modules.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "  processing:     {} (lastScanned, counts and scanStatus while a report is processed)",
            self.control.processing_profile()
        );
        if let Some(ca) = &self.ca_path {
            let _ = writeln!(s, "  CA certificate: {}", ca.display());
        }
        if let Some(d) = &self.docker {
            let _ = writeln!(s, "  Docker API:     {}", d.url());
        }
        if let Some(w) = &self.watch_engine {
            let _ = writeln!(s, "  watching:       {w} for qualys_scan_target:<sha> tags");
        }
        s
    }

    /// Stops the listeners and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        while self.tasks.join_next().await.is_some() {}
        if let Some(DockerListen::Unix(p)) = &self.docker {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Runs until Ctrl-C (SIGINT), then shuts down.
    pub async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
        self.shutdown().await;
    }
}

/// In-process control of a running emulator (the same operations as `/_emulator/...`).
#[derive(Debug, Clone)]
pub struct Control {
    shared: Arc<Shared>,
    watch: Option<watch::WatchTrigger>,
}

impl Control {
    /// Emulator now, epoch ms.
    pub fn now_ms(&self) -> u64 {
        self.shared.clock.now_ms()
    }

    /// Moves the emulator clock forward; returns the new now.
    pub fn advance(&self, by: Duration) -> u64 {
        self.shared
            .clock
            .advance(u64::try_from(by.as_millis()).unwrap_or(u64::MAX))
    }

    /// Stores an image; returns its sha and current phase.
    pub fn seed_image(&self, req: SeedRequest) -> Result<(String, Phase), EmulatorError> {
        control::seed_image(&self.shared, req).map_err(|reason| EmulatorError::Image {
            source_name: "seed request".into(),
            reason,
        })
    }

    /// Stores a generated image, processed at once; returns its sha.
    pub fn seed_generated(&self, spec: ReportSpec) -> Result<String, EmulatorError> {
        self.seed_image(SeedRequest {
            generate: Some(spec),
            ..SeedRequest::default()
        })
        .map(|(sha, _)| sha)
    }

    /// Current phase of an image (64- or 12-hex id); `Unknown` when not stored.
    pub fn phase(&self, id: &str) -> Phase {
        self.shared
            .images
            .get(id)
            .map_or(Phase::Unknown, |e| e.phase(self.now_ms()))
    }

    /// Adds a fault rule; returns its id.
    pub fn inject(&self, rule: FaultRule) -> Result<u64, EmulatorError> {
        Ok(self.shared.faults.add(rule)?)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The request log with counts per endpoint.
    pub fn requests(&self) -> LogSnapshot {
        self.shared.log.snapshot()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Expires every token issued so far.
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// Adds or replaces a user.
    pub fn add_user(&self, user: User) {
        let mut g = self
            .shared
            .users
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.retain(|u| u.username != user.username);
        g.push(user);
    }

    /// Images seeded from now on are listed with `vulnerabilities: null` even once processed,
    /// as on a platform whose list does not fill in the counts (their details still complete).
    pub fn set_list_without_counts(&self, on: bool) {
        self.shared.images.set_list_without_counts(on);
    }

    /// Changes the CS API rate limit.
    pub fn set_rate_limit(&self, limit: RateLimitConfig) {
        self.shared.rate.reconfigure(limit);
    }

    /// Changes the rate limit of `/csapi/vxx/images/list` (default 120 per 60 s).
    pub fn set_list_rate_limit(&self, limit: RateLimitConfig) {
        self.shared.list_rate.reconfigure(limit);
    }

    /// The processing profile of images stored from now on (images already stored keep theirs).
    pub fn set_processing_profile(&self, profile: ProcessingProfile) {
        self.shared.images.set_profile(profile);
    }

    /// The processing profile images are stored with.
    pub fn processing_profile(&self) -> ProcessingProfile {
        self.shared.images.profile()
    }

    /// Switches the Docker stand-in's sensor (no effect without the stand-in).
    pub fn set_sensor_state(&self, state: SensorState) {
        if let Some(d) = &self.shared.docker {
            d.set_sensor_state(state);
        }
    }

    /// Adds an image to the Docker stand-in; returns its 64-hex id (`None` without the stand-in).
    pub fn add_docker_image(&self, image: &DockerImage) -> Option<String> {
        let seed = self.now_ms() ^ self.shared.images.len() as u64;
        self.shared
            .docker
            .as_ref()
            .map(|d| d.add_image(image, seed, self.now_ms()))
    }

    /// Runs one pass of the engine watcher now and waits for it (tests use this instead of
    /// waiting for the next interval). Errors when no engine is watched or the pass failed.
    pub async fn watch_now(&self) -> Result<(), EmulatorError> {
        let err = |reason: String| EmulatorError::WatchEngine {
            url: "(watched engine)".into(),
            reason,
        };
        let Some(tx) = &self.watch else {
            return Err(err(
                "no engine is watched (start with watch_engine / --watch-engine)".into(),
            ));
        };
        let (reply, done) = tokio::sync::oneshot::channel();
        tx.send(reply)
            .await
            .map_err(|_| err("the watcher has stopped".into()))?;
        done.await
            .map_err(|_| err("the watcher has stopped".into()))?
            .map_err(err)
    }

    /// The Docker stand-in's images with their current tags.
    pub fn docker_images(&self) -> Vec<(String, Vec<String>)> {
        self.shared
            .docker
            .as_ref()
            .map(|d| d.images(self.now_ms()))
            .unwrap_or_default()
    }
}

fn load_json(path: &Path) -> Result<serde_json::Value, EmulatorError> {
    let bytes = std::fs::read(path).map_err(|source| EmulatorError::Read {
        what: "image document",
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| EmulatorError::Image {
        source_name: path.display().to_string(),
        reason: format!("not valid JSON: {e}"),
    })
}

fn seed_images(shared: &Shared, config: &EmulatorConfig) -> Result<(), EmulatorError> {
    let now = shared.clock.now_ms();
    if let Some(dir) = &config.image_dir {
        let rd = std::fs::read_dir(dir).map_err(|source| EmulatorError::Read {
            what: "image directory",
            path: dir.clone(),
            source,
        })?;
        let mut files: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let doc = load_json(&f)?;
            shared
                .images
                .insert_fresh(doc, Lifecycle::processed_at(now))
                .map_err(|e| EmulatorError::Image {
                    source_name: f.display().to_string(),
                    reason: e.to_string(),
                })?;
        }
    }
    for (i, seed) in config.images.iter().enumerate() {
        let (mut doc, name) = match (&seed.file, &seed.generate) {
            (Some(f), _) => (load_json(f)?, f.display().to_string()),
            (None, Some(spec)) => (generate(spec), format!("images[{i}] (generated)")),
            (None, None) => {
                return Err(EmulatorError::Image {
                    source_name: format!("images[{i}]"),
                    reason: "neither `file` nor `generate` is given".into(),
                });
            }
        };
        if let (Some(sha), Some(o)) = (&seed.sha, doc.as_object_mut()) {
            o.insert("sha".into(), serde_json::Value::String(sha.clone()));
            o.remove("imageId");
        }
        let up = now.saturating_add(seed.upload_after_secs.saturating_mul(1000));
        let life = Lifecycle {
            uploaded_at: (!seed.never_scanned).then_some(up),
            processed_at: (!seed.never_processed)
                .then_some(up.saturating_add(seed.processing_secs.saturating_mul(1000))),
        };
        let stored = match &seed.previous_scan {
            Some(p) => {
                let prev = p.document(&doc);
                let at = now.saturating_sub(p.age_secs.saturating_mul(1000));
                shared.images.insert_rescan(doc, life, prev, at)
            }
            None => shared.images.insert_fresh(doc, life),
        };
        stored.map_err(|e| EmulatorError::Image {
            source_name: name,
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

/// Docker stand-in images with a `previous_scan`: the platform holds their earlier report from
/// the start, so that the sensor's upload after tagging is a re-scan.
fn seed_docker_previous_scans(
    shared: &Shared,
    config: &EmulatorConfig,
) -> Result<(), EmulatorError> {
    let Some(docker) = &shared.docker else {
        return Ok(());
    };
    let now = shared.clock.now_ms();
    let ids = docker.images(now);
    for (i, (img, (id, _))) in config.docker.images.iter().zip(ids).enumerate() {
        let Some(p) = &img.previous_scan else {
            continue;
        };
        let mut spec = p.generate.clone().unwrap_or_else(|| {
            let mut s = img.report.clone().unwrap_or_default();
            s.vulnerabilities = 0;
            s
        });
        spec.sha = Some(id.clone());
        if let Some(t) = img.tags.first() {
            let (repo, tag) = t.rsplit_once(':').unwrap_or((t.as_str(), "latest"));
            repo.clone_into(&mut spec.repository);
            tag.clone_into(&mut spec.tag);
        }
        spec.scan_error = None;
        let at = now.saturating_sub(p.age_secs.saturating_mul(1000));
        shared
            .images
            .insert_fresh(generate(&spec), Lifecycle::processed_at(at))
            .map_err(|e| EmulatorError::Image {
                source_name: format!("docker.images[{i}].previous_scan"),
                reason: e.to_string(),
            })?;
    }
    Ok(())
}

/// Binds the Docker stand-in's unix socket, replacing a stale socket file.
#[cfg(unix)]
fn bind_docker_unix(path: &Path) -> Result<tokio::net::UnixListener, EmulatorError> {
    if path.exists() {
        // A stale socket from an earlier run; a live one would still refuse the bind below.
        let _ = std::fs::remove_file(path);
    }
    tokio::net::UnixListener::bind(path).map_err(|source| EmulatorError::DockerSocket {
        path: path.to_owned(),
        source,
    })
}

/// Starts the emulator: binds the listeners, seeds images and faults, and returns at once.
/// Needs a Tokio runtime.
#[allow(clippy::single_match_else, reason = "two cases of equal weight")]
pub async fn start(mut config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    if let Some(path) = config.scenario.clone() {
        Scenario::load(&path)?.apply(&mut config);
    }
    let clock = config
        .frozen_clock_ms
        .map_or_else(clock::Clock::system, clock::Clock::frozen);
    let mut key = vec![0u8; 64];
    rand_chacha::ChaCha20Rng::from_os_rng().fill_bytes(&mut key);
    let docker = config
        .docker_socket
        .as_ref()
        .map(|_| docker::DockerState::new(&config.docker, config.seed, clock.now_ms()));
    let shared = Arc::new(Shared::new(
        clock,
        auth::TokenSigner::new(key),
        config.users.clone(),
        config.clients.clone(),
        config.rate_limit,
        config.seed,
        config.token_lifetime_secs,
        config.sensor,
        docker,
    ));
    shared.images.set_profile(config.processing_profile);
    shared.list_rate.reconfigure(config.list_rate_limit);
    seed_images(&shared, &config)?;
    seed_docker_previous_scans(&shared, &config)?;
    for f in &config.faults {
        shared.faults.add(f.clone())?;
    }

    let (tls_dir, tls) = if config.tls {
        let (dir, keep) = match &config.tls_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|source| EmulatorError::Write {
                    what: "TLS directory",
                    path: d.clone(),
                    source,
                })?;
                (d.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("qcs-emulator-tls-")
                    .tempdir()
                    .map_err(|source| EmulatorError::Write {
                        what: "TLS directory",
                        path: std::env::temp_dir(),
                        source,
                    })?;
                (t.path().to_owned(), Some(t))
            }
        };
        (keep, Some(tls::generate(&dir)?))
    } else {
        (None, None)
    };

    let _ = shared
        .scheme
        .set(if tls.is_some() { "https" } else { "http" });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;

    let app = api::router(shared.clone())
        .merge(control::router(shared.clone()))
        .layer(axum::middleware::from_fn_with_state(
            (shared.clone(), false),
            api::fault_layer,
        ));
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let mut tasks = JoinSet::new();
    let acceptor = tls
        .as_ref()
        .map(|m| tokio_rustls::TlsAcceptor::from(m.server_config.clone()));
    tasks.spawn(server::serve_tcp(
        listener,
        app,
        acceptor,
        shutdown_rx.clone(),
    ));

    let mut docker_bound = None;
    if let Some(listen) = &config.docker_socket {
        let dapp = docker::router(shared.clone()).layer(axum::middleware::from_fn_with_state(
            (shared.clone(), true),
            api::fault_layer,
        ));
        docker_bound = Some(match listen {
            #[cfg(unix)]
            DockerListen::Unix(path) => {
                let ul = bind_docker_unix(path)?;
                tasks.spawn(server::serve_unix(ul, dapp, shutdown_rx.clone()));
                listen.clone()
            }
            // No unix sockets here (Windows): the stand-in has to listen on TCP.
            #[cfg(not(unix))]
            DockerListen::Unix(path) => {
                return Err(EmulatorError::DockerSocketUnsupported { path: path.clone() });
            }
            DockerListen::Tcp(addr) => {
                let bind_err = |source| EmulatorError::DockerBind {
                    addr: *addr,
                    source,
                };
                let tl = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(bind_err)?;
                let bound = tl.local_addr().map_err(bind_err)?;
                tasks.spawn(server::serve_tcp(tl, dapp, None, shutdown_rx.clone()));
                DockerListen::Tcp(bound)
            }
        });
    }

    let mut watch_trigger = None;
    if let Some(url) = &config.watch_engine {
        let client = watch::check(url).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        tasks.spawn(watch::run(shared.clone(), client, rx, shutdown_rx.clone()));
        watch_trigger = Some(tx);
    }

    Ok(RunningEmulator {
        addr,
        tls: tls.is_some(),
        ca_path: tls.map(|m| m.ca_path),
        docker: docker_bound,
        watch_engine: config.watch_engine.clone(),
        users: config.users.clone(),
        clients: config.clients.clone(),
        control: Control {
            shared,
            watch: watch_trigger,
        },
        shutdown_tx,
        tasks,
        _tls_dir: tls_dir,
    })
}
