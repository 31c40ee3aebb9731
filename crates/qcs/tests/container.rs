//! The container image as users get it: the binary of the release archive
//! (`scripts/release.sh`), staged by `scripts/container-context.sh` and built from the
//! `Containerfile` with the real Podman (vfs storage, runc, its own root in a temp dir, no
//! network, never pulling), then run: its version and help, its user and files, `qcs demo`, and
//! `qcs scan` reaching a `qcs emulator` on the host's loopback, with the emulator's Docker API
//! stand-in mounted as the engine socket.
//!
//! The image is built once per run of this test binary; the last test to finish removes it with
//! its storage. A run that leaves them behind (a filtered one) has them removed by the next run.

// The image is a Linux image built with Podman: nothing to run elsewhere.
#![cfg(unix)]
// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use qcs_test_support::emulator_process::EmulatorProcess;
use qcs_test_support::podman::{self, Storage};
use qcs_test_support::process::{output, run_ok};
use serde_json::Value;

/// The image's user and group.
const QCS_ID: u32 = 65532;
/// The tests below that use the image: the last of them to finish removes it.
const IMAGE_TESTS: usize = 4;
/// The group given the engine socket in the scan test, like a host's `docker` group.
const ENGINE_GID: u32 = 998;
/// The longest a container may run (podman kills it after that).
const RUN_LIMIT_SECS: &str = "180";
/// Prefix of the temp dirs holding a run's Podman storage: `qcs-ctr-<pid>-…`.
const STORAGE_PREFIX: &str = "qcs-ctr-";
/// `ci-user`'s password on the host's emulator.
const PASSWORD: &str = "Pw-Container-Secret-5d2a";
/// Passes `--fail-cves CVE-2021-44228`: a few findings, no `Log4Shell`.
const CLEAN: &str = "acme/clean:1.0";
/// Fails it: `Log4Shell` among 30 findings.
const VULNERABLE: &str = "acme/vuln:1.0";

/// The version in the workspace's Cargo.toml (`[workspace.package] version`).
fn workspace_version() -> String {
    let text = std::fs::read_to_string(common::repo("Cargo.toml")).unwrap();
    let manifest: toml::Value = toml::from_str(&text).unwrap();
    manifest["workspace"]["package"]["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// This machine's image architecture and the release target whose binary goes into it.
fn platform() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "x86_64" => ("amd64", "x86_64-unknown-linux-musl"),
        "aarch64" => ("arm64", "aarch64-unknown-linux-musl"),
        other => panic!("the image is built for amd64 and arm64, not {other}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Removes the Podman storage left by earlier runs of this test binary that have ended
/// (`/tmp/qcs-ctr-<pid>-…`).
fn remove_stale_storage() {
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(STORAGE_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            Storage::at(entry.path()).remove();
        }
    }
}

/// The image, built from the release archive.
struct Built {
    storage: Storage,
    image: String,
    version: String,
}

impl Built {
    /// `podman run` with this machine's limits (`Storage::run_container`) and a time limit.
    fn run(&self) -> Command {
        let mut c = self.storage.run_container();
        c.args(["--timeout", RUN_LIMIT_SECS]);
        c
    }
}

/// Storage removed when dropped, unless taken out.
struct Cleanup(Option<Storage>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.remove();
        }
    }
}

/// Builds the image: unpacks the release archive, stages the context, `podman build`.
fn build() -> Built {
    podman::require();
    remove_stale_storage();
    let version = workspace_version();
    let (arch, target) = platform();
    let dist =
        std::env::var_os("QCS_DIST").map_or_else(|| common::repo("target/dist"), PathBuf::from);
    let archive = dist.join(format!("qcs-{target}.tar.gz"));
    assert!(
        archive.is_file(),
        "{} is missing: these tests put the release archive's binary in the image; make it with \
         `scripts/release.sh --out target/dist` (or set QCS_DIST to the directory holding it)",
        archive.display()
    );
    // Removed with the storage, even when a step below fails.
    let mut cleanup = Cleanup(Some(Storage::create(&format!(
        "{STORAGE_PREFIX}{}-",
        std::process::id()
    ))));
    let storage = cleanup.0.as_ref().unwrap();

    let unpacked = storage.dir().join("dist");
    std::fs::create_dir_all(&unpacked).unwrap();
    run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&unpacked),
    );
    let top = format!("qcs-{version}-{target}");
    let binary = unpacked.join(&top).join("qcs");
    assert!(
        binary.is_file(),
        "{} does not hold {top}/qcs (it holds {:?}): remake it from this checkout with \
         `scripts/release.sh --out target/dist`",
        archive.display(),
        std::fs::read_dir(&unpacked)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect::<Vec<_>>()
    );

    let context = storage.dir().join("context");
    let staged = run_ok(
        Command::new("bash")
            .arg(common::repo("scripts/container-context.sh"))
            .arg(&context)
            .arg(format!("{arch}={}", binary.display())),
    );
    assert!(staged.contains(&format!("{arch}: ")), "{staged}");

    let image = format!("localhost/qcs-container-test:{version}");
    // Podman sets TARGETARCH itself, but 4.x warns first that it is missing.
    storage.run(&[
        "build",
        "--network",
        "none",
        "--pull=never",
        "--build-arg",
        &format!("TARGETARCH={arch}"),
        "--build-arg",
        &format!("VERSION={version}"),
        "-t",
        &image,
        context.to_str().unwrap(),
    ]);
    let size = storage.run(&["image", "inspect", "--format", "{{.Size}}", &image]);
    eprintln!("built {image} ({} bytes)", size.trim());
    Built {
        storage: cleanup.0.take().unwrap(),
        image,
        version,
    }
}

static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
static FINISHED: AtomicUsize = AtomicUsize::new(0);

/// A test's use of the image; when the last test lets go of it, the image and its storage
/// are removed.
struct Lease(Option<&'static Built>);

impl std::ops::Deref for Lease {
    type Target = Built;

    fn deref(&self) -> &Built {
        self.0.unwrap()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if FINISHED.fetch_add(1, Ordering::SeqCst) + 1 == IMAGE_TESTS {
            if let Some(built) = self.0 {
                built.storage.remove();
            }
        }
    }
}

/// The image, built by the first test that asks for it.
fn image() -> Lease {
    let built = BUILT.get_or_init(|| {
        std::panic::catch_unwind(build).map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "the build panicked".to_owned())
        })
    });
    // Counted even when the build failed, so that the last test still cleans up.
    let lease = Lease(built.as_ref().ok());
    if let Err(e) = built {
        panic!("the image could not be built: {e}");
    }
    lease
}

/// A named container, removed when dropped.
struct Container<'a> {
    storage: &'a Storage,
    name: String,
}

impl<'a> Container<'a> {
    fn named(storage: &'a Storage, what: &str) -> Self {
        Container {
            storage,
            name: format!("qcs-test-{what}-{}", std::process::id()),
        }
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        self.storage.quietly(&["rm", "-f", "-t", "0", &self.name]);
    }
}

/// `podman image mount` or `podman mount`, undone when dropped.
struct Mount<'a> {
    storage: &'a Storage,
    kind: &'static [&'static str],
    name: String,
    root: PathBuf,
}

impl<'a> Mount<'a> {
    fn image(storage: &'a Storage, name: &str) -> Self {
        Self::new(storage, &["image"], name)
    }

    fn container(storage: &'a Storage, name: &str) -> Self {
        Self::new(storage, &[], name)
    }

    fn new(storage: &'a Storage, kind: &'static [&'static str], name: &str) -> Self {
        let mut args = kind.to_vec();
        args.extend(["mount", name]);
        let root = PathBuf::from(storage.run(&args).trim());
        Mount {
            storage,
            kind,
            name: name.to_owned(),
            root,
        }
    }
}

impl Drop for Mount<'_> {
    fn drop(&mut self) {
        let mut args = self.kind.to_vec();
        args.extend(["unmount", &self.name]);
        self.storage.quietly(&args);
    }
}

/// Every entry under `root`: relative path → metadata (symlinks not followed).
fn tree(root: &Path) -> Vec<(String, std::fs::Metadata)> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path.clone());
            }
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, meta));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn the_image_runs_qcs_and_prints_the_workspace_version() {
    let img = image();
    let out = output(
        img.run()
            .args(["--rm", "--network", "none", &img.image, "--version"]),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("qcs {}", img.version));

    // No arguments: the default command is --help.
    let out = output(img.run().args(["--rm", "--network", "none", &img.image]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let help = text(&out.stdout);
    assert!(
        help.contains("Usage: qcs") && help.contains("scan"),
        "{help}"
    );
}

#[test]
fn the_image_holds_qcs_the_ca_bundle_and_a_non_root_user_and_nothing_else() {
    let img = image();
    let inspect: Value =
        serde_json::from_str(&img.storage.run(&["image", "inspect", &img.image])).unwrap();
    let config = &inspect[0]["Config"];
    assert_eq!(config["User"], "65532:65532", "{config}");
    assert_eq!(config["WorkingDir"], "/work", "{config}");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/local/bin/qcs"])
    );
    assert_eq!(config["Cmd"], serde_json::json!(["--help"]));
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for var in [
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        "HOME=/home/qcs",
    ] {
        assert!(env.contains(&var), "{env:?}");
    }
    let labels = &config["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://github.com/qcs-scan/qcs"
    );
    assert_eq!(labels["org.opencontainers.image.title"], "qcs");
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    assert_eq!(
        labels["org.opencontainers.image.version"],
        img.version.as_str()
    );
    assert!(
        labels["org.opencontainers.image.description"]
            .as_str()
            .is_some_and(|d| d.contains("Qualys")),
        "{labels}"
    );

    let mount = Mount::image(&img.storage, &img.image);
    let root = &mount.root;
    let entries = tree(root);
    let files: BTreeSet<&str> = entries
        .iter()
        .filter(|(_, m)| !m.is_dir())
        .map(|(p, _)| p.as_str())
        .collect();
    // The release binary is static: no loader, no libraries, and no shell.
    assert_eq!(
        files,
        BTreeSet::from([
            "etc/group",
            "etc/nsswitch.conf",
            "etc/passwd",
            "etc/ssl/certs/ca-certificates.crt",
            "usr/local/bin/qcs",
        ]),
        "{entries:?}"
    );
    let meta = |path: &str| {
        entries
            .iter()
            .find(|(p, _)| p == path)
            .map_or_else(|| panic!("no {path} in the image"), |(_, m)| m)
    };
    for owned in ["home/qcs", "work"] {
        let m = meta(owned);
        assert!(m.is_dir(), "{owned}");
        assert_eq!((m.uid(), m.gid()), (QCS_ID, QCS_ID), "{owned}");
        assert_eq!(m.mode() & 0o700, 0o700, "{owned}: {:o}", m.mode());
    }
    assert_eq!(meta("tmp").mode() & 0o7777, 0o1777);
    assert_eq!(meta("tmp").uid(), 0);
    let qcs = meta("usr/local/bin/qcs");
    assert_eq!((qcs.uid(), qcs.mode() & 0o7777), (0, 0o755));
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("qcs:x:65532:65532:") && l.contains(":/home/qcs:")),
        "{passwd}"
    );
    assert!(
        std::fs::read_to_string(root.join("etc/group"))
            .unwrap()
            .contains("qcs:x:65532:")
    );
    assert_eq!(
        std::fs::read(root.join("etc/ssl/certs/ca-certificates.crt")).unwrap(),
        std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap(),
        "the build machine's CA bundle"
    );
}

#[test]
fn qcs_demo_runs_in_the_container_as_the_non_root_user() {
    let img = image();
    let container = Container::named(&img.storage, "demo");
    // No network at all: the demo's emulator listens on the container's loopback.
    let out = output(img.run().args([
        "--name",
        &container.name,
        "--network",
        "none",
        &img.image,
        "demo",
    ]));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("runs in CI/CD mode"), "{stderr}");
    assert!(
        stderr.contains("FAILED") && stderr.contains("PASSED"),
        "the verdict table: {stderr}"
    );
    assert!(stdout.contains("What happened"), "{stdout}");
    assert!(
        stdout.contains("would exit with code 1 here"),
        "the explanation: {stdout}"
    );
    assert!(stdout.contains("qcs-reports/summary.json"), "{stdout}");

    // The reports are in the working directory /work, written by the image's user.
    let mount = Mount::container(&img.storage, &container.name);
    let reports = mount.root.join("work/qcs-reports");
    let summary_meta = std::fs::metadata(reports.join("summary.json")).unwrap();
    assert_eq!((summary_meta.uid(), summary_meta.gid()), (QCS_ID, QCS_ID));
    let s = common::summary_json(&reports);
    assert_eq!(s["exit_code"], 1, "{s}");
    assert!(reports.join("demo-policy.toml").is_file());
    assert!(reports.join("report.html").is_file());
}

/// `qcs emulator` (the binary under test, on the host) on a free port of 127.0.0.1 with its
/// Docker API stand-in on a unix socket: the CI/CD sensor running, uploading a tagged image 1 s
/// later, processing it at once; a user `ci-user` with the CS module.
struct HostEmulator {
    url: String,
    socket: PathBuf,
    _process: EmulatorProcess,
}

impl HostEmulator {
    fn start() -> Self {
        let scenario = format!(
            r#"[sensor]
scan_delay_secs = 1
processing_delay_secs = 0

[[users]]
username = "ci-user"
password = "{PASSWORD}"
modules = ["CS"]

[docker]
sensor = "running"

[[docker.images]]
tags = ["{CLEAN}"]
report = {{ seed = 5, base = "debian", vulnerabilities = 12, packages = 40, app_share = 0.2, log4shell = false }}

[[docker.images]]
tags = ["{VULNERABLE}"]
report = {{ seed = 5, base = "debian", vulnerabilities = 30, packages = 90, log4shell = true }}
"#
        );
        let process = EmulatorProcess::with_scenario(common::QCS, &scenario);
        let socket = process.socket();
        // As a Docker socket is: root and a group (`docker`) may use it, nobody else.
        std::os::unix::fs::chown(&socket, Some(0), Some(ENGINE_GID)).unwrap();
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o660)).unwrap();
        HostEmulator {
            url: process.url(),
            socket,
            _process: process,
        }
    }
}

#[test]
fn qcs_scan_in_the_container_reaches_the_emulator_on_the_host_and_writes_its_verdict() {
    let img = image();
    let emu = HostEmulator::start();
    // The bind-mounted working directory, writable by the image's user.
    let work = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(work.path(), Some(QCS_ID), Some(QCS_ID)).unwrap();

    let out = output(
        img.run()
            .args(["--rm", "--network", "host"])
            .arg("-v")
            .arg(format!("{}:/var/run/docker.sock", emu.socket.display()))
            .args(["--group-add", &ENGINE_GID.to_string()])
            .arg("-v")
            .arg(format!("{}:/work", work.path().display()))
            // The values come from podman's environment, never from its command line.
            .args(["-e", "QUALYS_USERNAME", "-e", "QUALYS_PASSWORD"])
            .env("QUALYS_USERNAME", "ci-user")
            .env("QUALYS_PASSWORD", PASSWORD)
            .args([&img.image, "scan", VULNERABLE, CLEAN])
            .args(["--gateway-url", &emu.url])
            .args(["--fail-cves", "CVE-2021-44228"])
            .args(["--interval", "200ms", "--timeout", "60s"]),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a policy violation: {stdout}\n{stderr}"
    );
    assert!(stderr.contains("runs in CI/CD mode"), "{stderr}");
    assert!(
        stderr.contains("FAILED") && stderr.contains("PASSED"),
        "the verdict table: {stderr}"
    );
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "the password leaked"
    );

    let reports = work.path().join("qcs-reports");
    let meta = std::fs::metadata(reports.join("summary.json")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (QCS_ID, QCS_ID));
    let s = common::summary_json(&reports);
    assert_eq!(s["exit_code"], 1, "{s}");
    let outcome = |input: &str| {
        s["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["input"] == input)
            .map_or_else(|| panic!("no {input} in {s}"), |i| i["outcome"].clone())
    };
    assert_eq!(outcome(VULNERABLE), "failed");
    assert_eq!(outcome(CLEAN), "passed");
    for i in s["images"].as_array().unwrap() {
        let id = i["image_id"].as_str().unwrap();
        assert!(reports.join(format!("images/{id}.json")).is_file(), "{id}");
    }
}
