//! The `nerdctl` fallback: when only the path of the `nerdctl` binary is configured (the original
//! plugin's containerd mode), run it (`-n <namespace>`) and read its Docker-compatible JSON.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::Value;
use tokio::process::Command;

use crate::Engine;
use crate::config::EngineConfig;
use crate::error::EngineError;
use crate::resolve::{ImageInput, ResolvedImage, names_contain, scan_tag, sha_from_id};
use crate::sensor::{
    K8S_CONTAINER_NAME_LABEL, K8S_SENSOR_NAME, SensorCandidate, SensorInfo, SensorState, judge,
};

/// `nerdctl` run as a child process.
#[derive(Debug)]
pub struct NerdctlEngine {
    binary: PathBuf,
    url: String,
    namespace: String,
    timeout: std::time::Duration,
}

/// What one nerdctl run printed.
struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl NerdctlEngine {
    /// Checks the binary exists and that `nerdctl version` answers.
    pub async fn connect(config: &EngineConfig, binary: &Path) -> Result<Self, EngineError> {
        let url = config.host.trim().to_owned();
        if !binary.exists() {
            return Err(EngineError::SocketMissing {
                url,
                path: binary.display().to_string(),
            });
        }
        let engine = Self {
            binary: binary.to_owned(),
            url,
            namespace: config.namespace.trim().to_owned(),
            timeout: config.timeout,
        };
        let out = engine.run(&["version"]).await?;
        if !out.ok {
            return Err(EngineError::Unreachable {
                url: engine.url.clone(),
                detail: format!("`nerdctl version` failed: {}", out.stderr.trim()),
            });
        }
        Ok(engine)
    }

    async fn run(&self, args: &[&str]) -> Result<Output, EngineError> {
        let shown = || format!("nerdctl -n {} {}", self.namespace, args.join(" "));
        let mut cmd = Command::new(&self.binary);
        cmd.arg("-n")
            .arg(&self.namespace)
            .args(args)
            .kill_on_drop(true);
        let out = tokio::time::timeout(self.timeout, cmd.output())
            .await
            .map_err(|_| EngineError::Unreachable {
                url: self.url.clone(),
                detail: format!("`{}` did not finish in {:?}", shown(), self.timeout),
            })?
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => EngineError::SocketMissing {
                    url: self.url.clone(),
                    path: self.binary.display().to_string(),
                },
                std::io::ErrorKind::PermissionDenied => EngineError::PermissionDenied {
                    url: self.url.clone(),
                    path: self.binary.display().to_string(),
                },
                _ => EngineError::Unreachable {
                    url: self.url.clone(),
                    detail: format!("cannot run `{}`: {e}", shown()),
                },
            })?;
        Ok(Output {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    fn failed(&self, action: &str, out: &Output) -> EngineError {
        let stderr = out.stderr.trim();
        let lower = stderr.to_ascii_lowercase();
        if lower.contains("permission denied") {
            return EngineError::PermissionDenied {
                url: self.url.clone(),
                path: format!("{} ({stderr})", self.binary.display()),
            };
        }
        if lower.contains("connection refused") || lower.contains("no such file or directory") {
            return EngineError::Unreachable {
                url: self.url.clone(),
                detail: format!("{action}: {stderr}"),
            };
        }
        EngineError::Engine {
            url: self.url.clone(),
            action: action.to_owned(),
            detail: stderr.to_owned(),
        }
    }

    async fn inspect_image(&self, name: &str, input: &str) -> Result<ResolvedImage, EngineError> {
        let out = self
            .run(&["image", "inspect", "--format", "{{json .}}", name])
            .await?;
        if !out.ok {
            let lower = out.stderr.to_ascii_lowercase();
            if lower.contains("no such") || lower.contains("not found") {
                return Err(EngineError::ImageNotFound {
                    url: self.url.clone(),
                    image: input.to_owned(),
                });
            }
            return Err(self.failed(&format!("inspecting image `{input}`"), &out));
        }
        let doc = json_docs(&out.stdout).into_iter().next();
        let id = doc
            .as_ref()
            .and_then(|d| d.get("Id"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let sha = sha_from_id(id).ok_or_else(|| EngineError::Engine {
            url: self.url.clone(),
            action: format!("inspecting image `{input}`"),
            detail: format!("nerdctl printed no sha256 image id (got `{id}`)"),
        })?;
        let repo_tags = doc
            .as_ref()
            .and_then(|d| d.get("RepoTags"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(ResolvedImage {
            input: input.to_owned(),
            sha,
            repo_tags,
        })
    }
}

#[async_trait]
impl Engine for NerdctlEngine {
    fn describe(&self) -> String {
        format!("nerdctl {} (namespace {})", self.url, self.namespace)
    }

    async fn resolve(&self, input: &str) -> Result<ResolvedImage, EngineError> {
        let trimmed = input.trim();
        let name = match ImageInput::parse(trimmed)? {
            ImageInput::Id(id) => id,
            ImageInput::Reference(r) => r,
        };
        self.inspect_image(&name, trimmed).await
    }

    async fn tag(&self, image: &ResolvedImage) -> Result<String, EngineError> {
        let tag = scan_tag(&image.sha);
        let shown = format!("{} ({})", image.input, image.sha);
        let out = self.run(&["tag", &image.input, &tag]).await?;
        if !out.ok {
            return Err(EngineError::TagRefused {
                url: self.url.clone(),
                image: shown,
                tag,
                detail: out.stderr.trim().to_owned(),
            });
        }
        let after = self.inspect_image(&tag, &image.input).await?;
        if after.sha != image.sha || !names_contain(&after.repo_tags, &tag) {
            return Err(EngineError::TagRefused {
                url: self.url.clone(),
                image: shown,
                tag,
                detail: format!(
                    "after tagging, `{}` names image {} with names [{}]",
                    scan_tag(&image.sha),
                    after.sha,
                    after.repo_tags.join(", ")
                ),
            });
        }
        Ok(tag)
    }

    async fn check_sensor(&self) -> Result<SensorInfo, EngineError> {
        let filter = format!("label={K8S_CONTAINER_NAME_LABEL}={K8S_SENSOR_NAME}");
        let out = self
            .run(&["ps", "-a", "--filter", &filter, "--format", "{{json .}}"])
            .await?;
        if !out.ok {
            return Err(self.failed("listing containers", &out));
        }
        let mut candidates = Vec::new();
        for row in json_docs(&out.stdout) {
            let Some(id) = row
                .get("ID")
                .or_else(|| row.get("Id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            let out = self
                .run(&["inspect", "--format", "{{json .}}", &id])
                .await?;
            if !out.ok {
                return Err(self.failed(&format!("inspecting container `{id}`"), &out));
            }
            let Some(c) = json_docs(&out.stdout).into_iter().next() else {
                continue;
            };
            let mut command: Vec<String> = c
                .get("Path")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .into_iter()
                .collect();
            if let Some(args) = c.get("Args").and_then(Value::as_array) {
                command.extend(args.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
            let st = c.get("State");
            let status = st
                .and_then(|s| s.get("Status"))
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned();
            let paused = st
                .and_then(|s| s.get("Paused"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let state = if paused || status == "paused" {
                SensorState::Paused
            } else if status == "running" {
                SensorState::Running
            } else {
                SensorState::Other(status)
            };
            let name = c
                .get("Name")
                .and_then(Value::as_str)
                .map(|n| n.trim_start_matches('/').to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| id.clone());
            candidates.push(SensorCandidate {
                info: SensorInfo {
                    id,
                    name,
                    version: None,
                    command,
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

/// JSON documents printed by nerdctl: one array, or one object per line.
fn json_docs(stdout: &str) -> Vec<Value> {
    let trimmed = stdout.trim();
    if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(trimmed) {
        return a;
    }
    trimmed
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .flat_map(|v| match v {
            Value::Array(a) => a,
            other => vec![other],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_forms_are_read() {
        assert_eq!(json_docs(r#"[{"a":1},{"a":2}]"#).len(), 2);
        assert_eq!(json_docs("{\"a\":1}\n{\"a\":2}\n").len(), 2);
        assert!(json_docs("garbage").is_empty());
    }
}
