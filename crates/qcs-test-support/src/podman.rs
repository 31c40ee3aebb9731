//! Podman for a test: storage of its own in a temp dir with the flags that work on these
//! machines (vfs, runc, cgroupfs, events in a file: what `scripts/setup/20-podman.sh` checks
//! Podman starts with), optionally its Docker-compatible service on a unix socket or loopback
//! TCP, and images imported from generated root filesystems (nothing is pulled). A missing
//! `podman` or `runc` fails the test with the setup script that installs them.

use std::ffi::OsString;
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{local, process, tools};

/// Fails the test unless Podman and runc are installed.
///
/// # Panics
/// When either is missing, naming `scripts/setup/20-podman.sh` (`30-engines.sh` installs them
/// too).
pub fn require() {
    for tool in ["podman", "runc"] {
        assert!(
            tools::find(tool).is_some(),
            "`{tool}` is not installed; run `bash scripts/setup/20-podman.sh` as root first \
             (`scripts/setup/30-engines.sh` installs Podman and runc too)"
        );
    }
}

/// Podman's root, run root and temp dir, in one directory; with every call's flags. Not removed
/// when dropped: [`Storage::remove`] does it (a [`Podman`] removes its own).
#[derive(Debug)]
pub struct Storage {
    dir: PathBuf,
}

impl Storage {
    /// New storage in a fresh directory `/tmp/<prefix>XXXXXX` (a short path: the service's
    /// socket goes in it).
    ///
    /// # Panics
    /// When Podman or runc is missing ([`require`]) or the directory cannot be made.
    pub fn create(prefix: &str) -> Self {
        require();
        Storage {
            dir: local::short_tempdir(prefix).keep(),
        }
    }

    /// The storage in `dir`, made earlier (to remove what an earlier run left).
    pub fn at(dir: PathBuf) -> Self {
        Storage { dir }
    }

    /// The directory holding the storage; a test may put its own files in it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The global flags of every `podman` call on this storage.
    pub fn flags(&self) -> Vec<OsString> {
        let d = &self.dir;
        let mut flags = Vec::new();
        for (flag, sub) in [
            ("--root", "root"),
            ("--runroot", "run"),
            ("--tmpdir", "tmp"),
        ] {
            flags.push(flag.into());
            flags.push(d.join(sub).into());
        }
        flags.extend(
            [
                "--storage-driver",
                "vfs",
                "--runtime",
                "runc",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ]
            .map(OsString::from),
        );
        flags
    }

    /// `podman` on this storage, with [`Storage::flags`].
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.args(self.flags());
        c
    }

    /// `podman run` on this storage with the limits runc can set on these machines (it cannot
    /// raise the open-files limit); add the run's flags, the image and its command.
    pub fn run_container(&self) -> Command {
        let mut c = self.cmd();
        c.args([
            "run",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
        ]);
        c
    }

    /// Runs `podman ARGS` on this storage; returns its stdout.
    ///
    /// # Panics
    /// When podman fails (with its output).
    pub fn run(&self, args: &[&str]) -> String {
        process::run_ok(self.cmd().args(args))
    }

    /// Runs `podman ARGS` on this storage for a clean-up: no output, and a failure is no
    /// failure of the test.
    pub fn quietly(&self, args: &[&str]) {
        let _ = self
            .cmd()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Removes every container and image, then the directory (what cannot be removed is
    /// printed, not a failure).
    pub fn remove(&self) {
        self.quietly(&["rm", "-a", "-f", "-t", "0"]);
        self.quietly(&["rmi", "-a", "-f"]);
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("cannot remove {}: {e}", self.dir.display());
        }
    }
}

/// Podman with [`Storage`] of its own, and optionally its Docker-compatible service; all of it
/// stopped and removed when dropped. Derefs to its [`Storage`] (`cmd`, `run`, `dir`).
#[derive(Debug)]
pub struct Podman {
    storage: Storage,
    service: Option<Child>,
    url: String,
}

impl std::ops::Deref for Podman {
    type Target = Storage;

    fn deref(&self) -> &Storage {
        &self.storage
    }
}

impl Default for Podman {
    fn default() -> Self {
        Self::new()
    }
}

impl Podman {
    /// Storage only; no service.
    ///
    /// # Panics
    /// When Podman or runc is missing ([`require`]).
    pub fn new() -> Self {
        Podman {
            storage: Storage::create("qcs-podman-"),
            service: None,
            url: String::new(),
        }
    }

    /// With the service on a unix socket in the storage's directory, once it accepts
    /// connections.
    ///
    /// # Panics
    /// When the service does not come up within [`process::START_LIMIT`] (with its log).
    pub fn with_unix_service() -> Self {
        let mut p = Self::new();
        let sock = p.dir().join("podman.sock");
        p.start_service(&format!("unix://{}", sock.display()));
        p.wait_for_service("podman system service", || {
            UnixStream::connect(&sock).is_ok()
        });
        p
    }

    /// With the service on `tcp://127.0.0.1:<port>`, once it accepts connections.
    ///
    /// # Panics
    /// When the service does not come up within [`process::START_LIMIT`] (with its log).
    pub fn with_tcp_service(port: u16) -> Self {
        let mut p = Self::new();
        p.start_service(&format!("tcp://127.0.0.1:{port}"));
        p.wait_for_service("podman system service (tcp)", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        p
    }

    fn start_service(&mut self, url: &str) {
        let log = self.dir().join("service.log");
        let mut cmd = self.cmd();
        cmd.args(["system", "service", "--time", "0", url]);
        self.service = Some(process::spawn_logged(&mut cmd, &log));
        url.clone_into(&mut self.url);
    }

    fn wait_for_service(&self, what: &str, ready: impl FnMut() -> bool) {
        process::wait_until(what, &self.dir().join("service.log"), ready);
    }

    /// The service's URL (`unix://…` or `tcp://…`); empty without a service.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Imports a root filesystem of one file, `/marker`, holding `marker` (different markers
    /// make different images) as `name`, or untagged; returns the 64-hex image id.
    ///
    /// # Panics
    /// When the import fails.
    pub fn import(&self, name: Option<&str>, marker: &str) -> String {
        let tar = rootfs_tar(self.dir(), marker, false);
        self.import_tar(&tar, name, None)
    }

    /// Imports a root filesystem that runs: a static busybox (`sh`, `sleep`), `/sensor.sh` that
    /// sleeps (the image's command) and `/marker` holding `marker`, as `name`; returns the
    /// 64-hex image id.
    ///
    /// # Panics
    /// When `/bin/busybox` is missing (`scripts/setup/30-engines.sh`) or the import fails.
    pub fn import_runnable(&self, name: &str, marker: &str) -> String {
        let tar = rootfs_tar(self.dir(), marker, true);
        self.import_tar(&tar, Some(name), Some("CMD [\"/bin/sh\", \"/sensor.sh\"]"))
    }

    fn import_tar(&self, tar: &Path, name: Option<&str>, change: Option<&str>) -> String {
        let mut cmd = self.cmd();
        cmd.args(["import", "--quiet"]);
        if let Some(change) = change {
            cmd.args(["--change", change]);
        }
        cmd.arg(tar).args(name);
        let out = process::run_ok(&mut cmd);
        let id = out.lines().last().unwrap_or_default().trim();
        let id = id.strip_prefix("sha256:").unwrap_or(id);
        assert_eq!(id.len(), 64, "podman import printed no image id: {out}");
        id.to_owned()
    }

    /// Runs a sensor-like container (product.md §7 flags: detached, no network) named `name`
    /// from an image of [`Podman::import_runnable`], labelled `label` (`KEY=VALUE`, such as
    /// `VersionInfo=Qualys Sensor 1.x`), with `args` after `/bin/sh /sensor.sh`.
    ///
    /// # Panics
    /// When podman fails.
    pub fn run_sensor(&self, name: &str, image: &str, label: &str, args: &[&str]) {
        let mut cmd = self.run_container();
        cmd.args(["-d", "--name", name, "--network", "none", "--label", label])
            .args([image, "/bin/sh", "/sensor.sh"])
            .args(args);
        process::run_ok(&mut cmd);
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        self.quietly(&["rm", "-f", "-a", "-t", "0"]);
        if let Some(mut s) = self.service.take() {
            process::stop(&mut s);
        }
        self.storage.remove();
    }
}

/// Writes `rootfs-<marker>.tar` in `dir`: `/marker` holding `marker`, and with `runnable` a
/// static busybox (`sh`, `sleep`) and `/sensor.sh` that sleeps.
fn rootfs_tar(dir: &Path, marker: &str, runnable: bool) -> PathBuf {
    let root = dir.join(format!("rootfs-{marker}"));
    let made = |r: std::io::Result<()>| r.unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    made(std::fs::create_dir_all(&root));
    if runnable {
        let busybox = Path::new("/bin/busybox");
        tools::require_path(
            busybox,
            "a static busybox (busybox-static)",
            "30-engines.sh",
        );
        made(std::fs::create_dir_all(root.join("bin")));
        made(std::fs::create_dir_all(root.join("tmp")));
        made(std::fs::copy(busybox, root.join("bin/busybox")).map(drop));
        for applet in ["sh", "sleep"] {
            let link = root.join("bin").join(applet);
            if !link.exists() {
                made(std::os::unix::fs::symlink("busybox", link));
            }
        }
        made(std::fs::write(root.join("sensor.sh"), "exec sleep 3600\n"));
    }
    made(std::fs::write(root.join("marker"), marker));
    let tar = dir.join(format!("rootfs-{marker}.tar"));
    process::run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg("."),
    );
    tar
}
