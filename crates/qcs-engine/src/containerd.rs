//! containerd through its own gRPC API (`qcs-containerd-api`): images are resolved by name, digest
//! or id (the config digest, as Docker and the sensor see it), "tagging" creates an image record
//! with the new name and the same target, and the sensor is the container labelled
//! `io.kubernetes.container.name=qualys-container-sensor`.

use std::error::Error as StdError;
use std::path::Path;

use async_trait::async_trait;
use qcs_containerd_api::services::v1::{
    Container, CreateImageRequest, GetImageRequest, GetRequest, Image, ListContainersRequest,
    ListImagesRequest, ReadContentRequest, UpdateImageRequest, containers_client::ContainersClient,
    content_client::ContentClient, images_client::ImagesClient, tasks_client::TasksClient,
    version_client::VersionClient,
};
use qcs_containerd_api::tonic::{
    self, Code, Request,
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
use qcs_containerd_api::types::Descriptor;
use qcs_containerd_api::types::v1::Status as TaskStatus;

use crate::Engine;
use crate::config::EngineConfig;
use crate::error::EngineError;
use crate::resolve::{ImageInput, ResolvedImage, SCAN_REPO, sha_from_id};
use crate::sensor::{
    K8S_CONTAINER_NAME_LABEL, K8S_SENSOR_NAME, SensorCandidate, SensorInfo, SensorState, judge,
};

/// The largest manifest or index read from the content store (they are a few KiB).
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// A containerd client bound to one namespace.
#[derive(Debug)]
pub struct ContainerdEngine {
    channel: Channel,
    url: String,
    namespace: String,
}

impl ContainerdEngine {
    /// Connects to containerd's socket at `socket` and checks it answers (the version call).
    pub async fn connect(config: &EngineConfig, socket: &Path) -> Result<Self, EngineError> {
        let url = config.host.trim().to_owned();
        let namespace = config.namespace.trim().to_owned();
        if namespace.is_empty()
            || !namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(EngineError::InvalidUrl {
                url,
                reason: format!(
                    "containerd namespace `{namespace}` is not valid (letters, digits, `.`, `_`, `-`)"
                ),
            });
        }
        let shown = socket.display().to_string();
        if !socket.exists() {
            return Err(EngineError::SocketMissing { url, path: shown });
        }
        let channel = channel_to(socket)
            .await
            .map_err(|e| connect_error(&url, &shown, &e))?;
        let engine = Self {
            channel,
            url,
            namespace,
        };
        VersionClient::new(engine.channel.clone())
            .version(())
            .await
            .map_err(|s| engine.status_error("asking containerd's version", &s))?;
        Ok(engine)
    }

    fn req<T>(&self, msg: T) -> Request<T> {
        let mut req = Request::new(msg);
        // The namespace was checked in `connect`, so it is always a valid header value.
        if let Ok(v) = MetadataValue::try_from(self.namespace.as_str()) {
            req.metadata_mut().insert("containerd-namespace", v);
        }
        req
    }

    fn status_error(&self, action: &str, s: &tonic::Status) -> EngineError {
        // A connection that failed can come back as `Unknown: transport error` rather than
        // `Unavailable` (it depends on when the channel notices): both mean unreachable.
        let transport = s.message() == "transport error"
            || std::error::Error::source(s)
                .is_some_and(|e| e.downcast_ref::<tonic::transport::Error>().is_some());
        match s.code() {
            Code::Unavailable => EngineError::Unreachable {
                url: self.url.clone(),
                detail: format!("{action}: {}", s.message()),
            },
            Code::Unknown if transport => EngineError::Unreachable {
                url: self.url.clone(),
                detail: format!("{action}: {}", s.message()),
            },
            Code::PermissionDenied => EngineError::PermissionDenied {
                url: self.url.clone(),
                path: action.to_owned(),
            },
            _ => EngineError::Engine {
                url: self.url.clone(),
                action: action.to_owned(),
                detail: format!("{:?}: {}", s.code(), s.message()),
            },
        }
    }

    async fn get_image(&self, name: &str) -> Result<Option<Image>, EngineError> {
        let res = ImagesClient::new(self.channel.clone())
            .get(self.req(GetImageRequest {
                name: name.to_owned(),
            }))
            .await;
        match res {
            Ok(r) => Ok(r.into_inner().image),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(self.status_error(&format!("getting image `{name}`"), &s)),
        }
    }

    async fn list_images(&self) -> Result<Vec<Image>, EngineError> {
        Ok(ImagesClient::new(self.channel.clone())
            .list(self.req(ListImagesRequest { filters: vec![] }))
            .await
            .map_err(|s| self.status_error("listing images", &s))?
            .into_inner()
            .images)
    }

    async fn read_blob(&self, digest: &str) -> Result<Vec<u8>, EngineError> {
        let action = format!("reading blob {digest}");
        let mut stream = ContentClient::new(self.channel.clone())
            .read(self.req(ReadContentRequest {
                digest: digest.to_owned(),
                offset: 0,
                size: 0,
            }))
            .await
            .map_err(|s| self.status_error(&action, &s))?
            .into_inner();
        let mut data = Vec::new();
        while let Some(chunk) = stream
            .message()
            .await
            .map_err(|s| self.status_error(&action, &s))?
        {
            data.extend_from_slice(&chunk.data);
            if data.len() > MAX_MANIFEST_BYTES {
                return Err(EngineError::Engine {
                    url: self.url.clone(),
                    action,
                    detail: format!("larger than {MAX_MANIFEST_BYTES} bytes"),
                });
            }
        }
        Ok(data)
    }

    /// The image id (config digest, 64 hex) of an image record's target.
    async fn image_id(&self, image: &Image) -> Result<String, EngineError> {
        let action = format!("reading the manifest of image `{}`", image.name);
        let bad = |detail: String| EngineError::Engine {
            url: self.url.clone(),
            action: action.clone(),
            detail,
        };
        let target = image
            .target
            .as_ref()
            .ok_or_else(|| bad("the image record has no target".to_owned()))?;
        let mut digest = target.digest.clone();
        // An index points at one manifest per platform; at most two hops.
        for _ in 0..3 {
            let blob = self.read_blob(&digest).await?;
            let doc: serde_json::Value = serde_json::from_slice(&blob)
                .map_err(|e| bad(format!("blob {digest} is not JSON: {e}")))?;
            if let Some(config) = doc
                .get("config")
                .and_then(|c| c.get("digest"))
                .and_then(serde_json::Value::as_str)
            {
                return sha_from_id(config)
                    .ok_or_else(|| bad(format!("config digest `{config}` is not sha256")));
            }
            let manifests = doc
                .get("manifests")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| bad(format!("blob {digest} is neither a manifest nor an index")))?;
            digest = pick_platform(manifests)
                .ok_or_else(|| bad(format!("index {digest} lists no manifest")))?;
        }
        Err(bad("too many nested indexes".to_owned()))
    }

    /// Finds the image record an input names.
    async fn find(&self, input: &str) -> Result<Option<(Image, String)>, EngineError> {
        match ImageInput::parse(input)? {
            ImageInput::Id(id) => {
                for image in self.list_images().await? {
                    if image.name.starts_with("sha256:") && !image.name.contains(&id) {
                        continue;
                    }
                    let sha = self.image_id(&image).await?;
                    if sha.starts_with(&id) {
                        return Ok(Some((image, sha)));
                    }
                }
                Ok(None)
            }
            ImageInput::Reference(r) => {
                if let Some((name, digest)) = r.split_once('@') {
                    let wanted = repository_candidates(name);
                    for image in self.list_images().await? {
                        let same_digest = image.target.as_ref().is_some_and(|t| t.digest == digest);
                        let repo = repository_of(&image.name);
                        if same_digest && wanted.iter().any(|w| repository_of(w) == repo) {
                            let sha = self.image_id(&image).await?;
                            return Ok(Some((image, sha)));
                        }
                    }
                    return Ok(None);
                }
                for name in repository_candidates(&r) {
                    if let Some(image) = self.get_image(&name).await? {
                        let sha = self.image_id(&image).await?;
                        return Ok(Some((image, sha)));
                    }
                }
                Ok(None)
            }
        }
    }

    async fn names_of(&self, target: Option<&Descriptor>) -> Result<Vec<String>, EngineError> {
        let Some(target) = target else {
            return Ok(vec![]);
        };
        Ok(self
            .list_images()
            .await?
            .into_iter()
            .filter(|i| {
                !i.name.starts_with("sha256:")
                    && i.target.as_ref().is_some_and(|t| t.digest == target.digest)
            })
            .map(|i| i.name)
            .collect())
    }

    async fn task_state(&self, container_id: &str) -> Result<SensorState, EngineError> {
        let res = TasksClient::new(self.channel.clone())
            .get(self.req(GetRequest {
                container_id: container_id.to_owned(),
                exec_id: String::new(),
            }))
            .await;
        let process = match res {
            Ok(r) => r.into_inner().process,
            Err(s) if s.code() == Code::NotFound => None,
            Err(s) => {
                return Err(self.status_error(&format!("getting the task of `{container_id}`"), &s));
            }
        };
        let Some(process) = process else {
            return Ok(SensorState::Other(
                "not started (it has no task)".to_owned(),
            ));
        };
        Ok(match TaskStatus::try_from(process.status) {
            Ok(TaskStatus::Running) => SensorState::Running,
            Ok(TaskStatus::Paused | TaskStatus::Pausing) => SensorState::Paused,
            Ok(TaskStatus::Stopped) => SensorState::Other("stopped".to_owned()),
            Ok(TaskStatus::Created) => SensorState::Other("created, not started".to_owned()),
            _ => SensorState::Other(format!("in an unknown state ({})", process.status)),
        })
    }
}

#[async_trait]
impl Engine for ContainerdEngine {
    fn describe(&self) -> String {
        format!("containerd {} (namespace {})", self.url, self.namespace)
    }

    async fn resolve(&self, input: &str) -> Result<ResolvedImage, EngineError> {
        let trimmed = input.trim();
        let Some((image, sha)) = self.find(trimmed).await? else {
            return Err(EngineError::ImageNotFound {
                url: self.url.clone(),
                image: format!("{trimmed}` in namespace `{}", self.namespace),
            });
        };
        let repo_tags = self.names_of(image.target.as_ref()).await?;
        Ok(ResolvedImage {
            input: trimmed.to_owned(),
            sha,
            repo_tags,
        })
    }

    async fn tag(&self, image: &ResolvedImage) -> Result<String, EngineError> {
        let tag = crate::resolve::scan_tag(&image.sha);
        let name = format!("docker.io/library/{SCAN_REPO}:{}", image.sha);
        let shown = format!("{} ({})", image.input, image.sha);
        let refused = |detail: String| EngineError::TagRefused {
            url: self.url.clone(),
            image: shown.clone(),
            tag: tag.clone(),
            detail,
        };
        let Some((source, _)) = self.find(&image.sha).await? else {
            return Err(EngineError::ImageNotFound {
                url: self.url.clone(),
                image: shown,
            });
        };
        let target = source.target.clone();
        let record = Image {
            name: name.clone(),
            target: target.clone(),
            ..Default::default()
        };
        let mut images = ImagesClient::new(self.channel.clone());
        let created = images
            .create(self.req(CreateImageRequest {
                image: Some(record.clone()),
                source_date_epoch: None,
            }))
            .await;
        match created {
            Ok(_) => {}
            Err(s) if s.code() == Code::AlreadyExists => {
                images
                    .update(self.req(UpdateImageRequest {
                        image: Some(record),
                        update_mask: None,
                        source_date_epoch: None,
                    }))
                    .await
                    .map_err(|s| refused(format!("{:?}: {}", s.code(), s.message())))?;
            }
            Err(s) => return Err(refused(format!("{:?}: {}", s.code(), s.message()))),
        }
        let landed = self.get_image(&name).await?;
        let same = landed
            .as_ref()
            .and_then(|i| i.target.as_ref())
            .zip(target.as_ref())
            .is_some_and(|(a, b)| a.digest == b.digest);
        if !same {
            return Err(refused(format!(
                "the image record `{name}` does not point at the image's manifest after creating it"
            )));
        }
        tracing::info!(image = %image.input, %name, "tagged for the sensor (containerd)");
        Ok(tag)
    }

    async fn check_sensor(&self) -> Result<SensorInfo, EngineError> {
        let filter = format!("labels.\"{K8S_CONTAINER_NAME_LABEL}\"=={K8S_SENSOR_NAME}");
        let containers = ContainersClient::new(self.channel.clone())
            .list(self.req(ListContainersRequest {
                filters: vec![filter],
            }))
            .await
            .map_err(|s| self.status_error("listing containers", &s))?
            .into_inner()
            .containers;
        let mut candidates = Vec::new();
        for c in containers {
            let state = self.task_state(&c.id).await?;
            candidates.push(SensorCandidate {
                info: SensorInfo {
                    version: c.labels.get("VersionInfo").cloned(),
                    command: spec_args(&c),
                    name: c.id.clone(),
                    id: c.id,
                },
                state,
            });
        }
        judge(
            &self.url,
            candidates,
            &format!(
                "labelled {K8S_CONTAINER_NAME_LABEL}={K8S_SENSOR_NAME} in namespace `{}`",
                self.namespace
            ),
        )
    }
}

/// The `process.args` of a container's OCI spec (JSON in the spec's `Any`); empty when absent.
fn spec_args(c: &Container) -> Vec<String> {
    c.spec
        .as_ref()
        .and_then(|any| serde_json::from_slice::<serde_json::Value>(&any.value).ok())
        .and_then(|spec| {
            spec.get("process")
                .and_then(|p| p.get("args"))
                .and_then(serde_json::Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
        })
        .unwrap_or_default()
}

/// From an index's `manifests`, the one for this machine's platform (linux), else the first.
fn pick_platform(manifests: &[serde_json::Value]) -> Option<String> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let digest = |m: &serde_json::Value| {
        m.get("digest")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    manifests
        .iter()
        .find(|m| {
            let p = m.get("platform");
            let field = |k: &str| {
                p.and_then(|p| p.get(k))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            field("os") == "linux" && field("architecture") == arch
        })
        .and_then(digest)
        .or_else(|| manifests.first().and_then(digest))
}

/// The names containerd may hold a reference under: as given, and the fully qualified forms
/// (`docker.io/library/x:latest`, `localhost/x:latest` as Podman saves it).
fn repository_candidates(reference: &str) -> Vec<String> {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    let with_tag = if last.contains(':') || reference.contains('@') {
        reference.to_owned()
    } else {
        format!("{reference}:latest")
    };
    let first = with_tag.split('/').next().unwrap_or_default();
    let has_domain = with_tag.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut out = vec![reference.to_owned()];
    if with_tag != reference {
        out.push(with_tag.clone());
    }
    if !has_domain {
        if with_tag.contains('/') {
            out.push(format!("docker.io/{with_tag}"));
        } else {
            out.push(format!("docker.io/library/{with_tag}"));
        }
        out.push(format!("localhost/{with_tag}"));
    }
    out
}

/// The repository part of a name (without `:tag` or `@digest`), normalised like Docker's.
fn repository_of(name: &str) -> String {
    let no_digest = name.split('@').next().unwrap_or(name);
    let repo = match no_digest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => no_digest,
    };
    crate::resolve::normalize_name(repo).to_owned()
}

/// A gRPC channel over containerd's socket: a Unix socket, or a named pipe on Windows. The
/// endpoint's URI is required by tonic but never used; every connection opens `socket`.
pub async fn channel_to(socket: &Path) -> Result<Channel, tonic::transport::Error> {
    let socket = socket.to_path_buf();
    Endpoint::from_static("http://[::]:50051")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move {
                #[cfg(unix)]
                let stream = tokio::net::UnixStream::connect(&socket).await?;
                #[cfg(windows)]
                let stream = tokio::net::windows::named_pipe::ClientOptions::new().open(&socket)?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
}

fn connect_error(url: &str, path: &str, e: &(dyn StdError + 'static)) -> EngineError {
    use std::io::ErrorKind;
    let mut kind = None;
    let mut detail: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !detail.iter().any(|d| d.contains(&s)) {
            detail.push(s);
        }
        if kind.is_none() {
            kind = err
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind);
        }
        cur = err.source();
    }
    match kind {
        Some(ErrorKind::NotFound) => EngineError::SocketMissing {
            url: url.to_owned(),
            path: path.to_owned(),
        },
        Some(ErrorKind::PermissionDenied) => EngineError::PermissionDenied {
            url: url.to_owned(),
            path: path.to_owned(),
        },
        _ => EngineError::Unreachable {
            url: url.to_owned(),
            detail: detail.join(": "),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_like_docker() {
        assert_eq!(
            repository_candidates("app"),
            vec![
                "app",
                "app:latest",
                "docker.io/library/app:latest",
                "localhost/app:latest"
            ]
        );
        assert_eq!(
            repository_candidates("team/app:1"),
            vec!["team/app:1", "docker.io/team/app:1", "localhost/team/app:1"]
        );
        assert_eq!(
            repository_candidates("registry.example.com:5000/team/app:2"),
            vec!["registry.example.com:5000/team/app:2"]
        );
        assert_eq!(repository_of("docker.io/library/app:1"), "app");
        assert_eq!(
            repository_of("localhost:5000/app@sha256:ab"),
            "localhost:5000/app"
        );
    }

    #[test]
    fn the_platform_manifest_is_picked() {
        let m: Vec<serde_json::Value> = serde_json::from_str(
            r#"[{"digest":"sha256:a","platform":{"os":"linux","architecture":"s390x"}},
                {"digest":"sha256:b","platform":{"os":"linux","architecture":"amd64"}},
                {"digest":"sha256:c","platform":{"os":"linux","architecture":"arm64"}}]"#,
        )
        .unwrap();
        let got = pick_platform(&m).unwrap();
        let expected = match std::env::consts::ARCH {
            "x86_64" => "sha256:b",
            "aarch64" => "sha256:c",
            _ => "sha256:a", // no match: the first
        };
        assert_eq!(got, expected);
        assert_eq!(pick_platform(&[]), None);
    }
}
