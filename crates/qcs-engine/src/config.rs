//! Engine configuration: the URL (`[engine] host`, `--engine`, `DOCKER_HOST`), the TLS cert
//! directory (`DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`), the containerd namespace, and the parsed
//! [`Endpoint`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::EngineError;

/// The engine URL used when nothing else is configured: Docker's socket.
#[cfg(not(windows))]
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// The engine URL used when nothing else is configured: Docker's named pipe (Docker Desktop,
/// `dockerd` on Windows).
#[cfg(windows)]
pub const DEFAULT_HOST: &str = "npipe:////./pipe/docker_engine";
/// The containerd namespace used when none is configured (the one Kubernetes uses).
pub const DEFAULT_NAMESPACE: &str = "k8s.io";
/// Docker's engine URL variable.
pub const ENV_DOCKER_HOST: &str = "DOCKER_HOST";
/// Docker's TLS certificate directory variable (`ca.pem`, `cert.pem`, `key.pem`).
pub const ENV_DOCKER_CERT_PATH: &str = "DOCKER_CERT_PATH";
/// Docker's "use TLS and verify the engine" variable (any non-empty value but `0`/`false`).
pub const ENV_DOCKER_TLS_VERIFY: &str = "DOCKER_TLS_VERIFY";

/// How to reach the container engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The engine URL: `unix://…`, `npipe://…` (Windows), `tcp://host:port`, `containerd://…` or
    /// `nerdctl://…`.
    pub host: String,
    /// For `tcp://`: the directory holding `ca.pem`, `cert.pem` and `key.pem`; TLS is used when set.
    pub cert_dir: Option<PathBuf>,
    /// The containerd namespace (containerd and nerdctl only).
    pub namespace: String,
    /// Timeout of one request to the engine.
    pub timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self::new(DEFAULT_HOST)
    }
}

impl EngineConfig {
    /// A configuration for `host` with no TLS, the default namespace and a 60 s request timeout.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            cert_dir: None,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            timeout: Duration::from_secs(60),
        }
    }

    /// Sets the TLS cert directory.
    #[must_use]
    pub fn with_cert_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cert_dir = Some(dir.into());
        self
    }

    /// Sets the containerd namespace.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Reads `DOCKER_HOST`, `DOCKER_CERT_PATH` and `DOCKER_TLS_VERIFY` from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env) with a custom variable lookup (for callers that resolve
    /// settings themselves, and for tests).
    ///
    /// `DOCKER_HOST` (non-empty) is the URL, else [`DEFAULT_HOST`]. `DOCKER_CERT_PATH` (non-empty)
    /// is the cert directory; when only `DOCKER_TLS_VERIFY` is set, the cert directory is
    /// `$HOME/.docker`, as with the Docker CLI.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let host = non_empty(ENV_DOCKER_HOST).unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let tls_verify = non_empty(ENV_DOCKER_TLS_VERIFY)
            .is_some_and(|v| !matches!(v.trim(), "0" | "false" | "FALSE" | "False"));
        let cert_dir = non_empty(ENV_DOCKER_CERT_PATH)
            .map(PathBuf::from)
            .or_else(|| {
                if tls_verify {
                    non_empty("HOME").map(|home| Path::new(&home).join(".docker"))
                } else {
                    None
                }
            });
        Self {
            cert_dir,
            ..Self::new(host)
        }
    }

    /// Parses [`host`](Self::host) into an [`Endpoint`].
    pub fn endpoint(&self) -> Result<Endpoint, EngineError> {
        Endpoint::parse(&self.host, self.cert_dir.as_deref())
    }

    /// Like [`endpoint`](Self::endpoint), and also refuses, before any I/O, a transport this
    /// platform does not have (a unix socket off unix, a named pipe off Windows) with
    /// [`EngineError::Unsupported`], so that a run finds it with the other settings.
    pub fn usable_endpoint(&self) -> Result<Endpoint, EngineError> {
        let endpoint = self.endpoint()?;
        let missing = match &endpoint {
            Endpoint::Unix(_) if !cfg!(unix) => {
                Some("unix sockets are not supported on this platform")
            }
            Endpoint::NamedPipe(_) if !cfg!(windows) => Some("named pipes exist only on Windows"),
            _ => None,
        };
        match missing {
            Some(reason) => Err(EngineError::Unsupported {
                url: self.host.trim().to_owned(),
                reason: reason.to_owned(),
            }),
            None => Ok(endpoint),
        }
    }
}

/// A parsed engine URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Docker Engine API on a unix socket (Docker, Podman). Unix only: elsewhere connecting fails
    /// with [`EngineError::Unsupported`].
    Unix(PathBuf),
    /// Docker Engine API on a Windows named pipe, e.g. `//./pipe/docker_engine` (from
    /// `npipe:////./pipe/docker_engine`). Windows only: elsewhere connecting fails with
    /// [`EngineError::Unsupported`].
    NamedPipe(String),
    /// Docker Engine API over TCP, plain or TLS.
    Tcp {
        /// `host:port`.
        addr: String,
        /// The cert directory when TLS is used.
        tls: Option<TlsFiles>,
    },
    /// containerd's gRPC API on a unix socket.
    Containerd(PathBuf),
    /// The `nerdctl` binary at this path (talks to containerd itself).
    Nerdctl(PathBuf),
}

/// The three PEM files of a Docker TLS cert directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA that signed the engine's certificate.
    pub ca: PathBuf,
    /// The client certificate.
    pub cert: PathBuf,
    /// The client key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files `ca.pem`, `cert.pem`, `key.pem` in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

impl Endpoint {
    /// Parses an engine URL. A bare absolute path whose file name contains `nerdctl` is taken as
    /// the nerdctl binary (the original plugin's convention); a bare path ending in `.sock` as a
    /// unix socket.
    pub fn parse(url: &str, cert_dir: Option<&Path>) -> Result<Self, EngineError> {
        let invalid = |reason: &str| EngineError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let url_trimmed = url.trim();
        if url_trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let path_of = |rest: &str| -> Result<PathBuf, EngineError> {
            if rest.starts_with('/') {
                Ok(PathBuf::from(rest))
            } else {
                Err(invalid(
                    "the path must be absolute (three slashes: scheme:///path)",
                ))
            }
        };
        if let Some(rest) = url_trimmed.strip_prefix("unix://") {
            return path_of(rest).map(Self::Unix);
        }
        if let Some(rest) = url_trimmed.strip_prefix("npipe://") {
            // Docker's form: npipe:////./pipe/<name> (or //<server>/pipe/<name>).
            return if rest.starts_with("//") && rest.len() > 2 {
                Ok(Self::NamedPipe(rest.to_owned()))
            } else {
                Err(invalid(
                    "a named pipe URL has four slashes: npipe:////./pipe/docker_engine",
                ))
            };
        }
        if let Some(rest) = url_trimmed.strip_prefix("containerd://") {
            return path_of(rest).map(Self::Containerd);
        }
        if let Some(rest) = url_trimmed.strip_prefix("nerdctl://") {
            return path_of(rest).map(Self::Nerdctl);
        }
        if let Some(rest) = url_trimmed
            .strip_prefix("tcp://")
            .or_else(|| url_trimmed.strip_prefix("https://"))
            .or_else(|| url_trimmed.strip_prefix("http://"))
        {
            let addr = rest.trim_end_matches('/');
            if let Some((_, host)) = addr.rsplit_once('@') {
                // Never echo credentials: show the URL without them.
                let scheme = &url_trimmed[..url_trimmed.len() - rest.len()];
                return Err(EngineError::InvalidUrl {
                    url: format!("{scheme}***@{host}"),
                    reason:
                        "credentials in the engine URL are not supported; use a TLS cert directory"
                            .to_owned(),
                });
            }
            let (host, port) = addr
                .rsplit_once(':')
                .ok_or_else(|| invalid("a tcp:// URL needs host:port"))?;
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(invalid("a tcp:// URL needs host:port with a numeric port"));
            }
            if addr.contains('/') {
                return Err(invalid("a tcp:// URL takes no path"));
            }
            let tls = cert_dir.map(TlsFiles::in_dir);
            if tls.is_none() && url_trimmed.starts_with("https://") {
                return Err(invalid(
                    "https:// needs a cert directory (--cert-dir or DOCKER_CERT_PATH)",
                ));
            }
            return Ok(Self::Tcp {
                addr: addr.to_owned(),
                tls,
            });
        }
        if url_trimmed.starts_with('/') {
            let path = PathBuf::from(url_trimmed);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.contains("nerdctl") {
                return Ok(Self::Nerdctl(path));
            }
            if Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("sock"))
            {
                return Ok(Self::Unix(path));
            }
        }
        Err(invalid(
            "expected unix://, npipe://, tcp://, containerd:// or nerdctl:// followed by a path or host:port",
        ))
    }

    /// The kind of engine API, for messages: `docker`, `docker+tls`, `containerd`, `nerdctl`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unix(_) | Self::NamedPipe(_) | Self::Tcp { tls: None, .. } => "docker",
            Self::Tcp { tls: Some(_), .. } => "docker+tls",
            Self::Containerd(_) => "containerd",
            Self::Nerdctl(_) => "nerdctl",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn defaults_without_environment() {
        let c = EngineConfig::from_lookup(env(&[]));
        assert_eq!(c.host, DEFAULT_HOST);
        assert_eq!(c.cert_dir, None);
        assert_eq!(c.namespace, "k8s.io");
        #[cfg(not(windows))]
        let default = Endpoint::Unix("/var/run/docker.sock".into());
        #[cfg(windows)]
        let default = Endpoint::NamedPipe("//./pipe/docker_engine".into());
        assert_eq!(c.endpoint().unwrap(), default);
    }

    #[test]
    fn docker_variables_are_honoured() {
        let c = EngineConfig::from_lookup(env(&[
            ("DOCKER_HOST", "tcp://build:2376"),
            ("DOCKER_CERT_PATH", "/certs"),
        ]));
        assert_eq!(
            c.endpoint().unwrap(),
            Endpoint::Tcp {
                addr: "build:2376".into(),
                tls: Some(TlsFiles::in_dir(Path::new("/certs")))
            }
        );
        let c = EngineConfig::from_lookup(env(&[
            ("DOCKER_HOST", "tcp://build:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("HOME", "/home/ci"),
        ]));
        assert_eq!(c.cert_dir, Some(PathBuf::from("/home/ci/.docker")));
        let c = EngineConfig::from_lookup(env(&[
            ("DOCKER_HOST", ""),
            ("DOCKER_TLS_VERIFY", "0"),
            ("HOME", "/home/ci"),
        ]));
        assert_eq!(c.host, DEFAULT_HOST);
        assert_eq!(c.cert_dir, None);
    }

    #[test]
    fn urls_parse_to_endpoints() {
        let p = |u: &str| Endpoint::parse(u, None);
        assert_eq!(
            p("containerd:///run/containerd/containerd.sock").unwrap(),
            Endpoint::Containerd("/run/containerd/containerd.sock".into())
        );
        assert_eq!(
            p("nerdctl:///usr/local/bin/nerdctl").unwrap(),
            Endpoint::Nerdctl("/usr/local/bin/nerdctl".into())
        );
        assert_eq!(
            p("/usr/local/bin/nerdctl").unwrap(),
            Endpoint::Nerdctl("/usr/local/bin/nerdctl".into())
        );
        assert_eq!(
            p("/run/podman/podman.sock").unwrap(),
            Endpoint::Unix("/run/podman/podman.sock".into())
        );
        assert_eq!(
            p("npipe:////./pipe/docker_engine").unwrap(),
            Endpoint::NamedPipe("//./pipe/docker_engine".into())
        );
        assert_eq!(
            p("tcp://127.0.0.1:2375").unwrap(),
            Endpoint::Tcp {
                addr: "127.0.0.1:2375".into(),
                tls: None
            }
        );
    }

    #[test]
    fn credentials_in_a_url_are_refused_and_not_echoed() {
        let e = Endpoint::parse("tcp://ci:s3cret@build:2376", None).unwrap_err();
        let msg = e.to_string();
        assert!(!msg.contains("s3cret") && !msg.contains("ci:"), "{msg}");
        assert!(msg.contains("tcp://***@build:2376"), "{msg}");
        assert_eq!(e.exit_code().code(), 2);
    }

    #[test]
    fn bad_urls_are_configuration_errors() {
        for bad in [
            "",
            "unix://relative.sock",
            "tcp://host",
            "tcp://host:port",
            "tcp://:2375",
            "ssh://host",
            "https://host:2376",
            "tcp://host:2376/path",
            "npipe://./pipe/docker_engine",
            "npipe://",
        ] {
            let e = Endpoint::parse(bad, None).unwrap_err();
            assert!(matches!(e, EngineError::InvalidUrl { .. }), "{bad}: {e}");
            assert_eq!(e.exit_code().code(), 2);
            assert!(e.to_string().contains(&format!("`{bad}`")), "{e}");
        }
    }
}
