//! `qcs emulator` as a user runs it, for the qcs binary's tests: the binary under test (a
//! parameter: `CARGO_BIN_EXE_qcs` is known only to the `qcs` package's own tests) started with
//! the given arguments or with a scenario and its Docker API stand-in on a unix socket, its
//! banner read up to `Press Ctrl-C to stop.` (bounded), its stdout drained after that and its
//! stderr in a log file; killed when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::local;
use crate::process::{self, START_LIMIT};

/// A running `qcs emulator`.
#[derive(Debug)]
pub struct EmulatorProcess {
    child: Child,
    banner: String,
    log: PathBuf,
    dir: tempfile::TempDir,
}

/// The stand-in's socket in the process's directory.
const SOCKET: &str = "docker.sock";

impl EmulatorProcess {
    /// Starts `BIN emulator ARGS` (no colours, no `QCS_LOG`) and waits until its banner says it
    /// serves.
    ///
    /// # Panics
    /// When it does not start, stops before its banner ends, or takes longer than
    /// [`START_LIMIT`] (with what it printed and logged).
    pub fn start<S: AsRef<OsStr>>(bin: impl AsRef<OsStr>, args: &[S]) -> Self {
        Self::start_in(local::short_tempdir("qcs-emu-"), bin, args)
    }

    /// Starts `BIN emulator --listen 127.0.0.1:0 --scenario FILE --docker-socket SOCKET` with
    /// `scenario` (TOML) in FILE and the Docker API stand-in on [`EmulatorProcess::socket`].
    ///
    /// # Panics
    /// As [`EmulatorProcess::start`], and when the stand-in's socket is missing once it serves.
    pub fn with_scenario(bin: impl AsRef<OsStr>, scenario: &str) -> Self {
        let dir = local::short_tempdir("qcs-emu-");
        let file = dir.path().join("scenario.toml");
        std::fs::write(&file, scenario).expect("write the scenario");
        let socket = dir.path().join(SOCKET);
        let args = [
            OsStr::new("--listen"),
            OsStr::new("127.0.0.1:0"),
            OsStr::new("--scenario"),
            file.as_os_str(),
            OsStr::new("--docker-socket"),
            socket.as_os_str(),
        ];
        let emulator = Self::start_in(dir, bin, &args);
        assert!(
            socket.exists(),
            "qcs emulator has no Docker API socket at {}: {}\n{}",
            socket.display(),
            emulator.banner,
            emulator.log()
        );
        emulator
    }

    fn start_in<S: AsRef<OsStr>>(
        dir: tempfile::TempDir,
        bin: impl AsRef<OsStr>,
        args: &[S],
    ) -> Self {
        let log = dir.path().join("emulator.log");
        let stderr = std::fs::File::create(&log).expect("the emulator's log");
        let mut child = Command::new(bin)
            .arg("emulator")
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("QCS_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("qcs emulator starts");
        // Read the banner on a thread so that the wait is bounded, and keep draining stdout
        // after it so that the emulator never blocks on a full pipe.
        let stdout = child.stdout.take().expect("the emulator's stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut banner = String::new();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                banner.push_str(&line);
                banner.push('\n');
                if line.contains("Ctrl-C") {
                    break;
                }
            }
            let _ = tx.send(banner);
            for _ in lines {}
        });
        let mut emulator = EmulatorProcess {
            child,
            banner: String::new(),
            log,
            dir,
        };
        emulator.banner = rx.recv_timeout(START_LIMIT).unwrap_or_else(|e| {
            panic!(
                "qcs emulator did not start within {START_LIMIT:?} ({e}); its log:\n{}",
                emulator.log()
            )
        });
        assert!(
            emulator.banner.contains("Ctrl-C"),
            "qcs emulator stopped at start: {}\n{}",
            emulator.banner,
            emulator.log()
        );
        emulator
    }

    /// The Docker API stand-in's unix socket of [`EmulatorProcess::with_scenario`].
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join(SOCKET)
    }

    /// What it printed up to `Press Ctrl-C to stop.`.
    pub fn banner(&self) -> &str {
        &self.banner
    }

    /// The value of the banner line `label` (`Docker API:`, `CA certificate:`), trimmed.
    ///
    /// # Panics
    /// When the banner has no such line.
    pub fn banner_value(&self, label: &str) -> &str {
        self.banner
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map_or_else(
                || panic!("no `{label}` in the banner:\n{}", self.banner),
                str::trim,
            )
    }

    /// The URL it serves the Qualys API on (`http://127.0.0.1:<port>`, `https://…` with TLS),
    /// without a trailing slash.
    ///
    /// # Panics
    /// When the banner names no URL on 127.0.0.1.
    pub fn url(&self) -> String {
        self.banner
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:") || w.starts_with("https://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in the banner:\n{}", self.banner))
            .trim_end_matches('/')
            .to_owned()
    }

    /// `127.0.0.1:<port>` of [`EmulatorProcess::url`].
    pub fn addr(&self) -> String {
        let url = self.url();
        let addr = url.split_once("://").map_or(url.as_str(), |(_, a)| a);
        addr.to_owned()
    }

    /// The process (to signal it or wait for it).
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// What it wrote on stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGINT (Ctrl-C) and waits for the exit: its code.
    ///
    /// # Panics
    /// When the signal cannot be sent or it does not exit within 30 s.
    pub fn interrupt(mut self) -> Option<i32> {
        process::kill(&self.child, "INT");
        process::wait_exit(&mut self.child).0
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        process::stop(&mut self.child);
    }
}
