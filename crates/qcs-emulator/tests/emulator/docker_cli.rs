//! The real docker CLI drives the Docker stand-in over its unix socket, no daemon anywhere:
//! `docker version`, `images`, `image inspect`, `tag`, `rmi`, and the simulated sensor scanning
//! what `docker tag <id> qualys_scan_target:<id>` tagged. Then a shell pipeline as a user writes
//! it: the CLI tags, curl polls the emulated Qualys API until the report is there.
//!
//! The CLI is Debian's (`/usr/bin/docker`, from `scripts/setup/35-docker-cli.sh`); another one at
//! `/usr/local/bin/docker` (such as Docker 28, which spells the scan repository
//! `docker.io/library/qualys_scan_target`) is driven too when present. `QCS_DOCKER_CLI=PATH`
//! chooses one CLI instead.

use crate::common::*;
use qcs_emulator::{
    DockerImage, DockerSeed, EmulatorConfig, Phase, ReportSpec, RunningEmulator, SensorState,
    SensorTiming, start,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const ID_API: &str = "c0ffee00111122223333444455556666777788889999aaaabbbbccccddddeeee";
const ID_LONE: &str = "b0a710ad000011112222333344445555666677778888999900001111deadbeef";

/// The CLIs to drive: Debian's (required), and any other at /usr/local/bin.
fn clis() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("QCS_DOCKER_CLI") {
        return vec![PathBuf::from(p)];
    }
    let debian = Path::new("/usr/bin/docker");
    assert!(
        debian.exists(),
        "the docker CLI is not installed at /usr/bin/docker; run `bash scripts/setup/35-docker-cli.sh` as root first"
    );
    let mut v = vec![debian.to_owned()];
    let other = Path::new("/usr/local/bin/docker");
    if other.exists() && std::fs::canonicalize(other).ok() != std::fs::canonicalize(debian).ok() {
        v.push(other.to_owned());
    }
    v
}

/// One docker CLI with its own config directory, pointed at the stand-in.
struct Cli {
    path: PathBuf,
    host: String,
    config: tempfile::TempDir,
}

impl Cli {
    fn new(path: &Path, host: String) -> Self {
        Cli {
            path: path.to_owned(),
            host,
            config: tempfile::tempdir().expect("config dir"),
        }
    }

    /// The CLI with `DOCKER_HOST` (`host_flag`: `--host` instead), nothing else from the
    /// environment that could point it elsewhere.
    fn command(&self, host_flag: bool, args: &[&str]) -> Command {
        let mut c = Command::new(&self.path);
        for k in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_API_VERSION",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
            "DOCKER_DEFAULT_PLATFORM",
        ] {
            c.env_remove(k);
        }
        c.env("DOCKER_CONFIG", self.config.path())
            .env("HOME", self.config.path());
        if host_flag {
            c.arg("--host").arg(&self.host);
        } else {
            c.env("DOCKER_HOST", &self.host);
        }
        c.args(args);
        c
    }

    async fn output(&self, host_flag: bool, args: &[&str]) -> Output {
        let cmd = self.command(host_flag, args);
        let what = format!("{} {}", self.path.display(), args.join(" "));
        tokio::task::spawn_blocking(move || {
            let mut cmd = cmd;
            cmd.output()
                .unwrap_or_else(|e| panic!("`{what}` does not start: {e}"))
        })
        .await
        .expect("join")
    }

    /// Runs `docker ARGS`, which must succeed; its stdout, trimmed.
    async fn ok(&self, args: &[&str]) -> String {
        self.ok_with(false, args).await
    }

    async fn ok_with(&self, host_flag: bool, args: &[&str]) -> String {
        let out = self.output(host_flag, args).await;
        assert!(
            out.status.success(),
            "`{} {}` failed ({}): {}{}",
            self.path.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs `docker ARGS`, which must fail; its stderr.
    async fn fails(&self, args: &[&str]) -> String {
        let out = self.output(false, args).await;
        assert!(
            !out.status.success(),
            "`{} {}` succeeded: {}",
            self.path.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    async fn repo_tags(&self, name: &str) -> Value {
        let s = self
            .ok(&["image", "inspect", "--format", "{{json .RepoTags}}", name])
            .await;
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("{e}: {s}"))
    }
}

fn seed() -> DockerSeed {
    let image = |id: &str, tags: &[&str]| DockerImage {
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        report: Some(ReportSpec {
            sha: Some(id.to_owned()),
            vulnerabilities: 12,
            packages: 20,
            ..ReportSpec::default()
        }),
        ..DockerImage::default()
    };
    DockerSeed {
        sensor: SensorState::Running,
        images: vec![image(ID_API, &["acme/api:1.0"]), image(ID_LONE, &[])],
    }
}

async fn stand_in(frozen: bool, timing: SensorTiming) -> (RunningEmulator, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = start(EmulatorConfig {
        docker_socket: Some(dir.path().join("docker.sock").into()),
        docker: seed(),
        sensor: timing,
        frozen_clock_ms: frozen.then_some(T0),
        ..config()
    })
    .await
    .expect("start");
    (emu, dir)
}

/// Polls the emulated Qualys API (as a client would) until the image's report is processed;
/// bounded.
async fn wait_for_report(emu: &RunningEmulator, sha: &str, within: Duration) -> Value {
    let token = demo_token(emu).await;
    let deadline = Instant::now() + within;
    loop {
        let r = get(emu, &token, &format!("/csapi/v1.3/images/{sha}")).await;
        if r.status().as_u16() == 200 {
            let d = json(r).await;
            if d["vulnerabilities"].is_array() {
                return d;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no processed report for {sha} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How the CLI spelled the scan repository in its tag request, from the request log.
fn scan_tag_request(emu: &RunningEmulator) -> String {
    emu.control()
        .requests()
        .entries
        .iter()
        .rev()
        .find(|e| e.endpoint == "docker/images/tag" && e.path.contains("qualys_scan_target"))
        .map(|e| e.path.clone())
        .expect("a tag request")
}

#[tokio::test]
async fn the_docker_cli_drives_the_stand_in_and_its_sensor() {
    for path in clis() {
        let (emu, _dir) = stand_in(
            true,
            SensorTiming {
                scan_delay_secs: 5,
                processing_delay_secs: 10,
                watch_interval_ms: 500,
            },
        )
        .await;
        let host = emu.docker_host().expect("a Docker host");
        assert!(host.starts_with("unix://"), "{host}");
        let cli = Cli::new(&path, host);
        let client = cli.ok(&["--version"]).await;
        eprintln!("driving the stand-in with {}: {client}", path.display());

        // version: the server's API 1.43, and the client negotiated up from 1.24.
        let v = cli
            .ok(&[
                "version",
                "--format",
                "{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Client.APIVersion}}",
            ])
            .await;
        let parts: Vec<&str> = v.split_whitespace().collect();
        assert_eq!(parts[..2], ["1.43", "1.12"], "{v}");
        let client_api: Vec<u32> = parts[2]
            .split('.')
            .map(|x| x.parse().expect("number"))
            .collect();
        assert!(
            client_api >= vec![1, 41] && client_api <= vec![1, 43],
            "the client uses min(its own, 1.43), never the 1.24 fallback: {v}"
        );
        let plain = cli.ok(&["version"]).await;
        assert!(
            plain.contains("1.43 (minimum version 1.12)"),
            "docker version shows the server API: {plain}"
        );
        // The same through --host.
        assert_eq!(
            cli.ok_with(true, &["version", "--format", "{{.Server.APIVersion}}"])
                .await,
            "1.43"
        );

        // images and inspect.
        let list = cli
            .ok(&[
                "images",
                "--no-trunc",
                "--format",
                "{{.Repository}}:{{.Tag}} {{.ID}}",
            ])
            .await;
        assert!(
            list.contains(&format!("acme/api:1.0 sha256:{ID_API}")),
            "{list}"
        );
        assert!(
            list.contains(&format!("<none>:<none> sha256:{ID_LONE}")),
            "{list}"
        );
        for name in [
            "acme/api:1.0",
            "docker.io/acme/api:1.0",
            &ID_API[..12],
            &format!("sha256:{ID_API}"),
        ] {
            assert_eq!(
                cli.ok(&["image", "inspect", "--format", "{{.Id}}", name])
                    .await,
                format!("sha256:{ID_API}"),
                "{name}"
            );
        }
        let err = cli.fails(&["image", "inspect", "acme/api:2.0"]).await;
        assert!(err.contains("No such image: acme/api:2.0"), "{err}");

        // docker tag <id> qualys_scan_target:<id>: the sensor scans the image.
        let t = demo_token(&emu).await;
        let scan_tag = format!("qualys_scan_target:{ID_API}");
        cli.ok(&["tag", ID_API, &scan_tag]).await;
        eprintln!("  its tag request: {}", scan_tag_request(&emu));
        assert_eq!(
            cli.repo_tags("acme/api:1.0").await,
            json!(["acme/api:1.0", scan_tag]),
            "the scan tag in the familiar form"
        );
        let filtered = cli
            .ok(&["images", "qualys_scan_target", "--format", "{{.Tag}}"])
            .await;
        assert_eq!(filtered, ID_API);
        assert_eq!(
            get(&emu, &t, &format!("/csapi/v1.3/images/{ID_API}"))
                .await
                .status()
                .as_u16(),
            404,
            "not uploaded yet"
        );
        emu.control().advance(Duration::from_secs(5));
        assert_eq!(emu.control().phase(ID_API), Phase::Processing);
        // Uploaded: the scan tag is gone, since the image has another tag.
        assert_eq!(cli.repo_tags(ID_API).await, json!(["acme/api:1.0"]));
        emu.control().advance(Duration::from_secs(10));
        let d = wait_for_report(&emu, ID_API, Duration::from_secs(10)).await;
        assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(12));
        assert_eq!(d["repo"][0]["repository"], "acme/api");
        assert_eq!(d["repo"][0]["tag"], "1.0");

        // An image whose only tag is the scan tag keeps it; a short id names the source.
        let lone_tag = format!("qualys_scan_target:{ID_LONE}");
        cli.ok(&["tag", &ID_LONE[..12], &lone_tag]).await;
        emu.control().advance(Duration::from_secs(15));
        wait_for_report(&emu, ID_LONE, Duration::from_secs(10)).await;
        assert_eq!(cli.repo_tags(&lone_tag).await, json!([lone_tag]));

        // rmi: a second name is untagged, the last one deletes the image.
        cli.ok(&["tag", "acme/api:1.0", "acme/api:candidate"]).await;
        let out = cli.ok(&["rmi", "acme/api:candidate"]).await;
        assert_eq!(out, "Untagged: acme/api:candidate");
        let out = cli.ok(&["rmi", &lone_tag]).await;
        assert!(
            out.contains(&format!("Untagged: {lone_tag}"))
                && out.contains(&format!("Deleted: sha256:{ID_LONE}")),
            "{out}"
        );
        let list = cli.ok(&["images", "--quiet", "--no-trunc"]).await;
        assert_eq!(list, format!("sha256:{ID_API}"));
        let err = cli.fails(&["rmi", "nope"]).await;
        // (the CLI 20.10 words it from the 404 itself, newer ones show the daemon's message)
        assert!(err.contains("No such image: nope"), "{err}");
        emu.shutdown().await;
    }
}

/// A pipeline as a user writes it, on a running clock: the docker CLI finds the image and tags
/// it for the sensor, curl authenticates and polls the plugin's list filter, then fetches the
/// report. Bounded by a deadline in the script, no fixed sleeps.
#[tokio::test]
async fn a_shell_pipeline_tags_with_the_cli_and_reads_the_report() {
    let cli = clis().remove(0);
    let (emu, dir) = stand_in(
        false,
        SensorTiming {
            scan_delay_secs: 1,
            processing_delay_secs: 1,
            watch_interval_ms: 500,
        },
    )
    .await;
    let script = r#"
set -euo pipefail
id=$(docker image inspect --format '{{.Id}}' acme/api:1.0)
sha=${id#sha256:}
tagged=$(date +%s)
docker tag "$id" "qualys_scan_target:$sha"
token=$(curl -fsS -X POST "$GW/auth" -d username=qcs-demo -d password=qcs-demo -d token=true)
deadline=$(( $(date +%s) + 60 ))
until curl -fsS -G "$GW/csapi/v1.3/images" -H "Authorization: Bearer $token" \
    --data-urlencode "filter=sha:$sha and lastScanned: [now-$(( $(date +%s) - tagged + 1 ))s ... now]" \
    -o list.json -w '%{http_code}' | grep -q '^200$' \
  && curl -fsS -H "Authorization: Bearer $token" "$GW/csapi/v1.3/images/$sha" -o report.json \
  && grep -q '"vulnerabilities":\[{' report.json; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "no report for $sha within 60 s" >&2
    exit 1
  fi
  sleep 0.1
done
echo "report for $sha"
docker image inspect --format '{{json .RepoTags}}' "$sha"
"#;
    let bin = cli.parent().expect("dir").to_owned();
    let gw = emu.base_url();
    let host = emu.docker_host().expect("host");
    let config = dir.path().join("docker-config");
    let work = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(&work)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("DOCKER_HOST", host)
            .env("DOCKER_CONFIG", config)
            .env("GW", gw)
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("all_proxy")
            .env_remove("ALL_PROXY")
            .output()
            .expect("bash runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the pipeline failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("report for {ID_API}")), "{stdout}");
    // By the time the report was processed the sensor had removed the scan tag.
    assert!(
        stdout.trim_end().ends_with(r#"["acme/api:1.0"]"#),
        "{stdout}"
    );
    let report: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    assert_eq!(report["sha"], ID_API);
    assert_eq!(report["vulnerabilities"].as_array().map(Vec::len), Some(12));
    emu.shutdown().await;
}
