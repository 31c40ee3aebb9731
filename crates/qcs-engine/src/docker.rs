//! The Docker Engine API (Docker and Podman's compatible service) through `bollard`: unix socket
//! (unix), named pipe (Windows), plain TCP, and TCP+TLS with a client certificate from a cert
//! directory.

use std::collections::HashMap;
use std::error::Error as StdError;

use async_trait::async_trait;
use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{ListContainersOptions, TagImageOptions};

use crate::Engine;
use crate::config::{Endpoint, EngineConfig};
use crate::error::EngineError;
use crate::resolve::{
    ImageInput, ResolvedImage, SCAN_REPO, is_full_id, names_contain, scan_tag, sha_from_id,
};
use crate::sensor::{
    SENSOR_LABEL, SensorCandidate, SensorInfo, SensorState, is_sensor_label, judge,
};

/// A Docker Engine API client (Docker, Podman).
#[derive(Debug)]
pub struct DockerEngine {
    docker: Docker,
    url: String,
    kind: &'static str,
    tls: bool,
    path: Option<String>,
}

impl DockerEngine {
    /// Connects to the engine at `endpoint` (a [`Endpoint::Unix`], [`Endpoint::NamedPipe`] or
    /// [`Endpoint::Tcp`]) and checks that it answers (negotiating the API version, so older
    /// engines and Podman work). A unix socket off unix, or a named pipe off Windows, is
    /// [`EngineError::Unsupported`].
    pub async fn connect(config: &EngineConfig, endpoint: &Endpoint) -> Result<Self, EngineError> {
        let url = config.host.trim().to_owned();
        let timeout = config.timeout.as_secs().max(1);
        let version = bollard::API_DEFAULT_VERSION;
        let (docker, tls, path) = match endpoint {
            #[cfg(unix)]
            Endpoint::Unix(path) => {
                let shown = path.display().to_string();
                if !path.exists() {
                    return Err(EngineError::SocketMissing { url, path: shown });
                }
                let d = Docker::connect_with_unix(&shown, timeout, version)
                    .map_err(|e| classify(&url, false, Some(&shown), "connecting", &e))?;
                (d, false, Some(shown))
            }
            #[cfg(not(unix))]
            Endpoint::Unix(_) => {
                return Err(EngineError::Unsupported {
                    url,
                    reason: "unix sockets are not supported on this platform".to_owned(),
                });
            }
            #[cfg(windows)]
            Endpoint::NamedPipe(pipe) => {
                let d = Docker::connect_with_named_pipe(pipe, timeout, version)
                    .map_err(|e| classify(&url, false, Some(pipe), "connecting", &e))?;
                (d, false, Some(pipe.clone()))
            }
            #[cfg(not(windows))]
            Endpoint::NamedPipe(_) => {
                return Err(EngineError::Unsupported {
                    url,
                    reason: "named pipes exist only on Windows".to_owned(),
                });
            }
            Endpoint::Tcp { addr, tls: None } => {
                let d = Docker::connect_with_http(&format!("tcp://{addr}"), timeout, version)
                    .map_err(|e| classify(&url, false, None, "connecting", &e))?;
                (d, false, None)
            }
            Endpoint::Tcp {
                addr,
                tls: Some(files),
            } => (crate::tls::connect(&url, addr, files, timeout)?, true, None),
            Endpoint::Containerd(_) | Endpoint::Nerdctl(_) => {
                return Err(EngineError::InvalidUrl {
                    url,
                    reason: "not a Docker Engine API URL".to_owned(),
                });
            }
        };
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| classify(&url, tls, path.as_deref(), "connecting", &e))?;
        tracing::debug!(url = %url, "connected to the Docker Engine API");
        Ok(Self {
            docker,
            url,
            kind: endpoint.kind(),
            tls,
            path,
        })
    }

    fn err(&self, action: &str, e: &BollardError) -> EngineError {
        classify(&self.url, self.tls, self.path.as_deref(), action, e)
    }

    async fn inspect(&self, name: &str, input: &str) -> Result<ResolvedImage, EngineError> {
        // A bare 64-hex string is refused as a name by Podman (HTTP 500); `sha256:<id>` is an id
        // to Docker and Podman alike.
        let query = if is_full_id(name) {
            format!("sha256:{name}")
        } else {
            name.to_owned()
        };
        let inspect = self.docker.inspect_image(&query).await.map_err(|e| {
            if status_of(&e) == Some(404) {
                EngineError::ImageNotFound {
                    url: self.url.clone(),
                    image: input.to_owned(),
                }
            } else {
                self.err(&format!("inspecting image `{input}`"), &e)
            }
        })?;
        let id = inspect.id.unwrap_or_default();
        let sha = sha_from_id(&id).ok_or_else(|| EngineError::Engine {
            url: self.url.clone(),
            action: format!("inspecting image `{input}`"),
            detail: format!("the engine answered id `{id}`, which is not a sha256 image id"),
        })?;
        Ok(ResolvedImage {
            input: input.to_owned(),
            sha,
            repo_tags: inspect.repo_tags.unwrap_or_default(),
        })
    }
}

#[async_trait]
impl Engine for DockerEngine {
    fn describe(&self) -> String {
        format!("{} {}", self.kind, self.url)
    }

    async fn resolve(&self, input: &str) -> Result<ResolvedImage, EngineError> {
        let trimmed = input.trim();
        let name = match ImageInput::parse(trimmed)? {
            ImageInput::Id(id) => id,
            ImageInput::Reference(r) => r,
        };
        let image = self.inspect(&name, trimmed).await?;
        if let ImageInput::Id(id) = ImageInput::parse(trimmed)? {
            if !image.sha.starts_with(&id) {
                return Err(EngineError::ImageNotFound {
                    url: self.url.clone(),
                    image: trimmed.to_owned(),
                });
            }
        }
        Ok(image)
    }

    async fn tag(&self, image: &ResolvedImage) -> Result<String, EngineError> {
        let tag = scan_tag(&image.sha);
        let shown = format!("{} ({})", image.input, &image.sha);
        // The image must still be there (Podman answers 500, not 404, for an unknown full id).
        self.inspect(&image.sha, &shown).await?;
        let options = TagImageOptions {
            repo: Some(SCAN_REPO.to_owned()),
            tag: Some(image.sha.clone()),
        };
        self.docker
            .tag_image(&image.sha, Some(options))
            .await
            .map_err(|e| match status_of(&e) {
                Some(404) => EngineError::ImageNotFound {
                    url: self.url.clone(),
                    image: shown.clone(),
                },
                Some(status) => EngineError::TagRefused {
                    url: self.url.clone(),
                    image: shown.clone(),
                    tag: tag.clone(),
                    detail: format!("HTTP {status}: {}", server_message(&e)),
                },
                None => self.err(&format!("tagging image `{shown}`"), &e),
            })?;
        let after = self.inspect(&image.sha, &image.input).await?;
        if !names_contain(&after.repo_tags, &tag) {
            return Err(EngineError::TagRefused {
                url: self.url.clone(),
                image: shown,
                tag,
                detail: format!(
                    "the engine accepted the request but the image's names are [{}]",
                    after.repo_tags.join(", ")
                ),
            });
        }
        tracing::info!(image = %image.input, %tag, "tagged for the sensor");
        Ok(tag)
    }

    async fn check_sensor(&self) -> Result<SensorInfo, EngineError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![SENSOR_LABEL.to_owned()],
            )])),
            ..Default::default()
        };
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.err("listing containers", &e))?;
        let mut candidates = Vec::new();
        for summary in list {
            let labelled = summary
                .labels
                .as_ref()
                .and_then(|l| l.get(SENSOR_LABEL))
                .is_some_and(|v| is_sensor_label(v));
            let Some(id) = summary.id.filter(|_| labelled) else {
                continue;
            };
            let c = match self.docker.inspect_container(&id, None).await {
                Ok(c) => c,
                Err(e) if status_of(&e) == Some(404) => continue, // removed meanwhile
                Err(e) => return Err(self.err(&format!("inspecting container `{id}`"), &e)),
            };
            let name = c
                .name
                .as_deref()
                .map(|n| n.trim_start_matches('/').to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| id.clone());
            let mut command: Vec<String> = c.path.into_iter().filter(|p| !p.is_empty()).collect();
            command.extend(c.args.unwrap_or_default());
            let state = c.state.unwrap_or_default();
            let status = state
                .status
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string());
            let state = if state.paused == Some(true) || status == "paused" {
                SensorState::Paused
            } else if status == "running" {
                SensorState::Running
            } else {
                SensorState::Other(status)
            };
            let version = c
                .config
                .and_then(|cfg| cfg.labels)
                .and_then(|mut l| l.remove(SENSOR_LABEL));
            candidates.push(SensorCandidate {
                info: SensorInfo {
                    id,
                    name,
                    version,
                    command,
                },
                state,
            });
        }
        judge(
            &self.url,
            candidates,
            "labelled VersionInfo containing \"Qualys Sensor\"",
        )
    }
}

fn status_of(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn server_message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.trim().to_owned(),
        other => other.to_string(),
    }
}

/// Visits the error and its sources, descending into the error an `io::Error` wraps (whose
/// `source()` skips it).
fn walk(e: &(dyn StdError + 'static), visit: &mut dyn FnMut(&(dyn StdError + 'static))) {
    visit(e);
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        walk(inner, visit);
    } else if let Some(source) = e.source() {
        walk(source, visit);
    }
}

/// The error and its sources as one line, without repeats.
fn chain_text(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    walk(e, &mut |err| {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    });
    parts.join(": ")
}

/// Whether a rustls error is anywhere in the chain.
fn has_tls_error(e: &(dyn StdError + 'static)) -> bool {
    let mut found = false;
    walk(e, &mut |err| found |= err.is::<rustls::Error>());
    found
}

/// The most specific I/O error kind in the chain (`Other` only when there is no other).
fn io_kind(e: &(dyn StdError + 'static)) -> Option<std::io::ErrorKind> {
    let mut kind = None;
    walk(e, &mut |err| {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if kind.is_none() || kind == Some(std::io::ErrorKind::Other) {
                kind = Some(io.kind());
            }
        }
    });
    kind
}

/// Maps a bollard error to the matching [`EngineError`].
fn classify(
    url: &str,
    tls: bool,
    path: Option<&str>,
    action: &str,
    e: &BollardError,
) -> EngineError {
    use std::io::ErrorKind;
    let url = url.to_owned();
    match e {
        BollardError::SocketNotFoundError(p) => {
            return EngineError::SocketMissing {
                url,
                path: p.clone(),
            };
        }
        BollardError::RequestTimeoutError => {
            return EngineError::Unreachable {
                url,
                detail: format!("{action}: no answer before the request timeout"),
            };
        }
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => {
            return EngineError::Engine {
                url,
                action: action.to_owned(),
                detail: format!("HTTP {status_code}: {}", message.trim()),
            };
        }
        _ => {}
    }
    let detail = chain_text(e);
    if tls && has_tls_error(e) {
        return EngineError::Tls { url, detail };
    }
    let shown_path = || path.map_or_else(|| url.clone(), str::to_owned);
    match io_kind(e) {
        Some(ErrorKind::NotFound) if path.is_some() => EngineError::SocketMissing {
            path: shown_path(),
            url,
        },
        Some(ErrorKind::PermissionDenied) => EngineError::PermissionDenied {
            path: shown_path(),
            url,
        },
        // With TLS 1.3 the server judges the client certificate after the client has finished
        // its handshake, so a rejection can also surface as the pooled connection being closed
        // before the request ("connection was not ready"), with no I/O error at all (`None`).
        Some(
            ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::BrokenPipe
            | ErrorKind::InvalidData,
        )
        | None
            if tls =>
        {
            EngineError::Tls {
                url,
                detail: format!(
                    "the engine closed the TLS connection ({detail}); does it require a client certificate it did not accept?"
                ),
            }
        }
        Some(ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) if path.is_none() && !tls => {
            EngineError::Unreachable {
                url,
                detail: format!(
                    "{action}: {detail} (does the engine expect TLS? give a cert directory with --cert-dir or DOCKER_CERT_PATH)"
                ),
            }
        }
        _ => EngineError::Unreachable {
            url,
            detail: format!("{action}: {detail}"),
        },
    }
}
