//! `qcs-engine`: the connector's hands on the build host. Container engines behind one trait,
//! [`Engine`]: the Docker Engine API (Docker, Podman; unix socket, Windows named pipe, TCP,
//! TCP+TLS), containerd's own API, and `nerdctl` as a fallback. Each resolves image inputs to
//! image ids, tags images `qualys_scan_target:<id>` for the Qualys CI/CD sensor, and checks that
//! sensor.
//!
//! ```no_run
//! # async fn run() -> Result<(), qcs_engine::EngineError> {
//! let engine = qcs_engine::connect(&qcs_engine::EngineConfig::from_env()).await?;
//! engine.check_sensor().await?;
//! let image = engine.resolve("app:1.0").await?;
//! let tag = engine.tag(&image).await?;
//! # let _ = tag; Ok(()) }
//! ```

pub mod config;
pub mod containerd;
pub mod docker;
pub mod error;
pub mod nerdctl;
pub mod resolve;
pub mod sensor;
mod tls;

use async_trait::async_trait;

pub use config::{DEFAULT_HOST, DEFAULT_NAMESPACE, Endpoint, EngineConfig, TlsFiles};
pub use error::EngineError;
pub use resolve::{ResolvedImage, SCAN_REPO, UniqueImage, dedupe, scan_tag};
pub use sensor::SensorInfo;

/// A container engine on the build host.
#[async_trait]
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// The engine kind and URL, for logs and reports (never holds secrets): e.g.
    /// `docker unix:///var/run/docker.sock`.
    fn describe(&self) -> String;

    /// Resolves an input (12- or 64-hex id, `name:tag`, `registry/name:tag`, `name@sha256:…`) to
    /// the image's 64-hex id and its names.
    async fn resolve(&self, input: &str) -> Result<ResolvedImage, EngineError>;

    /// Tags the image `qualys_scan_target:<id>`, checks the tag landed, and returns that reference.
    async fn tag(&self, image: &ResolvedImage) -> Result<String, EngineError>;

    /// Finds the Qualys sensor container and checks it is running, not paused, and in CI/CD mode.
    async fn check_sensor(&self) -> Result<SensorInfo, EngineError>;
}

/// Connects to the engine named by `config.host`, picking the implementation from the URL
/// scheme, and checks that it answers.
pub async fn connect(config: &EngineConfig) -> Result<Box<dyn Engine>, EngineError> {
    let endpoint = config.endpoint()?;
    Ok(match &endpoint {
        Endpoint::Unix(_) | Endpoint::NamedPipe(_) | Endpoint::Tcp { .. } => {
            Box::new(docker::DockerEngine::connect(config, &endpoint).await?)
        }
        Endpoint::Containerd(path) => {
            Box::new(containerd::ContainerdEngine::connect(config, path).await?)
        }
        Endpoint::Nerdctl(path) => Box::new(nerdctl::NerdctlEngine::connect(config, path).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transport this platform lacks is a configuration error that says so, with a hint
    /// naming what works here, before any I/O.
    #[tokio::test]
    async fn a_transport_this_platform_lacks_is_a_clear_configuration_error() {
        #[cfg(windows)]
        let (url, lacks, works) = ("unix:///var/run/docker.sock", "unix sockets", "npipe://");
        #[cfg(not(windows))]
        let (url, lacks, works) = (
            "npipe:////./pipe/docker_engine",
            "named pipes",
            "unix:///var/run/docker.sock",
        );
        let e = connect(&EngineConfig::new(url))
            .await
            .expect_err("not on this platform");
        assert!(matches!(e, EngineError::Unsupported { .. }), "{e:?}");
        let shown = e.report();
        assert!(
            shown.contains(&format!("`{url}`")) && shown.contains(lacks),
            "{shown}"
        );
        assert!(shown.contains(works), "{shown}");
        assert_eq!(e.exit_code().code(), 2);
    }
}
