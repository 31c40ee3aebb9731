//! Test fixtures: a real Podman service, a real containerd, stunnel with client certificates,
//! each started in a temp dir by the test and stopped when the fixture is dropped.
// Test-only helpers: each test file uses some of them, and a failed setup step should panic
// (a failed test with its message), like the `#[test]` functions that call them.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qcs_engine::EngineError;

/// How long a service may take to come up.
const START_LIMIT: Duration = Duration::from_secs(30);

/// Fails the test with a clear message when `tool` is not installed.
pub fn require(tool: &str) -> PathBuf {
    for dir in [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{tool}` is not installed: these tests need the real engines; run `bash scripts/setup/30-engines.sh` as root first"
    );
}

/// Runs a command, failing the test with its output when it fails; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `ready` every 50 ms until it is true, or fails after [`START_LIMIT`] with `what`
/// and the service's log.
pub fn wait_until(what: &str, log: &Path, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < START_LIMIT,
            "{what} did not come up within {START_LIMIT:?}; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_logged(cmd: &mut Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A temp dir with a short path (unix socket paths are limited to 108 bytes).
pub fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("qcs-eng-")
        .tempdir_in("/tmp")
        .unwrap()
}

/// Writes a root filesystem tarball: a static busybox (`sleep`, `sh`), `/sensor.sh` that sleeps,
/// and `/marker` holding `marker` (so different markers give different images).
pub fn rootfs_tar(dir: &Path, marker: &str) -> PathBuf {
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "/bin/busybox is missing: install Debian's busybox-static (scripts/setup/30-engines.sh)"
    );
    let root = dir.join(format!("rootfs-{marker}"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep"] {
        let link = root.join("bin").join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", link).unwrap();
        }
    }
    std::fs::write(root.join("sensor.sh"), "exec sleep 3600\n").unwrap();
    std::fs::write(root.join("marker"), marker).unwrap();
    let tar = dir.join(format!("rootfs-{marker}.tar"));
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    tar
}

/// A Podman with its own storage in a temp dir, and its Docker-compatible service.
pub struct Podman {
    pub dir: tempfile::TempDir,
    service: Option<Child>,
    /// The service URL (`unix://…` or `tcp://…`).
    pub url: String,
}

impl Podman {
    /// Storage only; no service yet.
    pub fn new() -> Self {
        require("podman");
        require("runc");
        Self {
            dir: short_tempdir(),
            service: None,
            url: String::new(),
        }
    }

    /// Starts with the service on a unix socket in the temp dir.
    pub fn with_unix_service() -> Self {
        let mut p = Self::new();
        let sock = p.dir.path().join("podman.sock");
        p.start_service(&format!("unix://{}", sock.display()));
        let log = p.dir.path().join("service.log");
        wait_until("podman system service", &log, || {
            UnixStream::connect(&sock).is_ok()
        });
        p
    }

    /// Starts with the service on `tcp://127.0.0.1:<port>`.
    pub fn with_tcp_service(port: u16) -> Self {
        let mut p = Self::new();
        p.start_service(&format!("tcp://127.0.0.1:{port}"));
        let log = p.dir.path().join("service.log");
        wait_until("podman system service (tcp)", &log, || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        p
    }

    fn start_service(&mut self, url: &str) {
        let log = self.dir.path().join("service.log");
        let mut cmd = self.cmd();
        cmd.args(["system", "service", "--time", "0", url]);
        self.service = Some(spawn_logged(&mut cmd, &log));
        url.clone_into(&mut self.url);
    }

    /// `podman` with this fixture's storage and the flags that work on these machines.
    pub fn cmd(&self) -> Command {
        let d = self.dir.path();
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("run"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .args([
                "--storage-driver",
                "vfs",
                "--runtime",
                "runc",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ]);
        c
    }

    /// Runs podman with `args`, returning stdout.
    pub fn run(&self, args: &[&str]) -> String {
        run(self.cmd().args(args))
    }

    /// Imports a generated root filesystem as `name`; returns the 64-hex image id.
    pub fn import(&self, name: &str, marker: &str) -> String {
        let tar = rootfs_tar(self.dir.path(), marker);
        let out = run(self
            .cmd()
            .args(["import", "--change", "CMD [\"/bin/sh\", \"/sensor.sh\"]"])
            .arg(&tar)
            .arg(name));
        let id = out.lines().last().unwrap_or_default().trim();
        id.strip_prefix("sha256:").unwrap_or(id).to_owned()
    }

    /// Runs a sensor-like container (product.md §7 flags) named `name`, labelled as the Qualys
    /// sensor, with `args` after `/bin/sh /sensor.sh`.
    pub fn run_sensor(&self, name: &str, image: &str, label: &str, args: &[&str]) {
        let label = format!("VersionInfo={label}");
        let mut cmd = self.cmd();
        cmd.args([
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "none",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "--label",
            &label,
            image,
            "/bin/sh",
            "/sensor.sh",
        ])
        .args(args);
        run(&mut cmd);
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self
            .cmd()
            .args(["rm", "-f", "-a", "-t", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut s) = self.service.take() {
            stop(&mut s);
        }
    }
}

/// A containerd with its own socket, root and state in a temp dir (CRI plugin off).
pub struct Containerd {
    pub dir: tempfile::TempDir,
    child: Child,
    pub socket: PathBuf,
    started: Vec<String>,
}

impl Containerd {
    pub fn start() -> Self {
        require("containerd");
        require("ctr");
        require("containerd-shim-runc-v2");
        let dir = short_tempdir();
        let d = dir.path();
        let socket = d.join("c.sock");
        let config = format!(
            "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{sock}\"\n[ttrpc]\n  address = \"{sock}.ttrpc\"\n\
             [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n",
            root = d.join("root").display(),
            state = d.join("state").display(),
            sock = socket.display(),
        );
        let config_path = d.join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let log = d.join("containerd.log");
        let child = spawn_logged(
            Command::new("containerd").arg("--config").arg(&config_path),
            &log,
        );
        let c = Self {
            dir,
            child,
            socket,
            started: Vec::new(),
        };
        let sock = c.socket.clone();
        wait_until("containerd", &log, || UnixStream::connect(&sock).is_ok());
        c
    }

    pub fn url(&self) -> String {
        format!("containerd://{}", self.socket.display())
    }

    /// `ctr` on this containerd, namespace k8s.io.
    pub fn ctr(&self, args: &[&str]) -> String {
        run(Command::new("ctr")
            .arg("-a")
            .arg(&self.socket)
            .args(["-n", "k8s.io"])
            .args(args))
    }

    /// Runs a container with `ctr run -d` (native snapshotter) and remembers it for cleanup.
    pub fn run_container(&mut self, id: &str, image: &str, labels: &[&str], args: &[&str]) {
        let mut cmd: Vec<&str> = vec!["run", "-d", "--snapshotter", "native"];
        for l in labels {
            cmd.push("--label");
            cmd.push(l);
        }
        cmd.push(image);
        cmd.push(id);
        cmd.extend_from_slice(args);
        self.ctr(&cmd);
        self.started.push(id.to_owned());
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for id in &self.started {
            let _ = Command::new("ctr")
                .arg("-a")
                .arg(&self.socket)
                .args(["-n", "k8s.io", "task", "rm", "-f", id])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        stop(&mut self.child);
    }
}

/// Asserts the error's message names `parts`, that it has a hint, and its exit code is 3.
pub fn assert_engine_error(e: &EngineError, parts: &[&str]) {
    let msg = e.to_string();
    for p in parts {
        assert!(msg.contains(p), "message `{msg}` should contain `{p}`");
    }
    assert!(!e.hint().is_empty());
    assert!(e.report().contains("hint: "), "{}", e.report());
    assert_eq!(e.exit_code().code(), 3, "{msg}");
}
