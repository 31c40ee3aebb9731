//! A real HTTP proxy for one test: Debian's tinyproxy on 127.0.0.1 with a free port, its config
//! and log in a temp dir, optionally with `BasicAuth`. A missing tinyproxy fails the test with
//! the setup script to run: a proxy test that skipped itself would prove nothing.

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::{local, process, tools};

/// A running tinyproxy; stopped when dropped.
#[derive(Debug)]
pub struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        process::stop(&mut self.child);
    }
}

impl Tinyproxy {
    /// Starts tinyproxy and waits (bounded) until it accepts connections; `auth` adds
    /// `BasicAuth user password`.
    ///
    /// # Panics
    /// When tinyproxy is not installed (`scripts/setup/40-proxy.sh`) or does not start.
    pub fn start(auth: Option<(&str, &str)>) -> Self {
        let bin = tools::require("tinyproxy", "40-proxy.sh");
        let dir = tempfile::tempdir().expect("a temp dir");
        // tinyproxy needs a fixed port: take a free one from the kernel and hand it over.
        let port = local::free_port();
        let log = dir.path().join("tinyproxy.log");
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 16\nLogLevel Info\nLogFile \"{}\"\nAllow 127.0.0.1\n",
            log.display()
        );
        // As root, tinyproxy drops to this user, who must be able to write the log.
        conf.push_str("User nobody\nGroup nogroup\n");
        if let Some((user, password)) = auth {
            let _ = writeln!(conf, "BasicAuth {user} {password}");
        }
        let conf_path = dir.path().join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).expect("write the tinyproxy config");
        std::fs::write(&log, "").expect("create the tinyproxy log");
        let _ = Command::new("chmod").arg("777").arg(dir.path()).status();
        let _ = Command::new("chmod").arg("666").arg(&log).status();
        let child = Command::new(bin)
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy starts");
        let proxy = Tinyproxy {
            child,
            port,
            log,
            _dir: dir,
        };
        // Ready when it accepts connections (polled, bounded).
        process::wait_until(&format!("tinyproxy on port {port}"), &proxy.log, || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        proxy
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What tinyproxy logged so far (the requests it proxied).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
