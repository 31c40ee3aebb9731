//! `EngineError`: every way talking to a container engine can fail, each with the engine URL, the
//! image where one is involved, a hint saying what to do, and the process exit code.

use qcs_core::exit::ExitCode;

// Hints that name the platform's own ways to reach an engine: unix sockets and systemd on unix,
// Docker's named pipe on Windows.

/// Hint of [`EngineError::InvalidUrl`].
#[cfg(not(windows))]
const HINT_INVALID_URL: &str = "use unix:///path/to/docker.sock, tcp://host:port (TLS with --cert-dir or DOCKER_CERT_PATH), containerd:///run/containerd/containerd.sock or nerdctl:///path/to/nerdctl";
/// Hint of [`EngineError::InvalidUrl`].
#[cfg(windows)]
const HINT_INVALID_URL: &str = "use npipe:////./pipe/docker_engine (Docker's named pipe), tcp://host:port (TLS with --cert-dir or DOCKER_CERT_PATH), containerd:////./pipe/containerd-containerd or nerdctl:///path/to/nerdctl";

/// Hint of [`EngineError::Unsupported`].
#[cfg(not(windows))]
const HINT_UNSUPPORTED: &str = "named pipes (npipe://) exist only on Windows: use unix:///var/run/docker.sock or tcp://host:port (TLS with --cert-dir or DOCKER_CERT_PATH)";
/// Hint of [`EngineError::Unsupported`].
#[cfg(windows)]
const HINT_UNSUPPORTED: &str = "on Windows, reach Docker through its named pipe, npipe:////./pipe/docker_engine (the default), or over tcp://host:port (TLS with --cert-dir or DOCKER_CERT_PATH)";

/// Hint of [`EngineError::SocketMissing`].
#[cfg(not(windows))]
const HINT_SOCKET_MISSING: &str = "is the engine installed and started on this host? Set --engine or DOCKER_HOST to its socket (Podman: `podman system service`, socket usually /run/podman/podman.sock)";
/// Hint of [`EngineError::SocketMissing`].
#[cfg(windows)]
const HINT_SOCKET_MISSING: &str = "is the engine installed and started on this host? Set --engine or DOCKER_HOST to its named pipe (Docker Desktop: npipe:////./pipe/docker_engine; Podman machine: npipe:////./pipe/podman-machine-default) or to tcp://host:port";

/// Hint of [`EngineError::PermissionDenied`].
#[cfg(not(windows))]
const HINT_PERMISSION_DENIED: &str = "run as a user allowed to use the socket (e.g. a member of the `docker` group) or point --engine at a socket this user can open";
/// Hint of [`EngineError::PermissionDenied`].
#[cfg(windows)]
const HINT_PERMISSION_DENIED: &str = "run as a user allowed to use Docker's pipe (an administrator, or a member of the `docker-users` group) or point --engine at an engine this user can open";

/// Hint of [`EngineError::Unreachable`].
#[cfg(not(windows))]
const HINT_UNREACHABLE: &str = "start the engine (systemctl start docker / podman.socket / containerd) or correct --engine / DOCKER_HOST";
/// Hint of [`EngineError::Unreachable`].
#[cfg(windows)]
const HINT_UNREACHABLE: &str = "start the engine (Docker Desktop, the docker service, podman machine start) or correct --engine / DOCKER_HOST";

/// A failure of the container engine or of the sensor check.
///
/// `Display` gives one line saying what failed, with which engine URL and image; [`hint`](Self::hint)
/// says what to do about it. Every variant maps to exit code 3 ([`ExitCode::Engine`]) except
/// [`InvalidUrl`](Self::InvalidUrl), [`Unsupported`](Self::Unsupported) and
/// [`InvalidImage`](Self::InvalidImage), which are configuration errors (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The engine URL cannot be understood.
    #[error("container engine URL `{url}` is not valid: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The engine URL is valid but names a transport this platform lacks: a unix socket on
    /// Windows, a named pipe elsewhere.
    #[error("container engine URL `{url}` cannot be used on this platform: {reason}")]
    Unsupported {
        /// The URL as given.
        url: String,
        /// What this platform lacks.
        reason: String,
    },
    /// An image input that is no image reference at all (empty, spaces, …).
    #[error("image `{input}` is not a valid image id or reference: {reason}")]
    InvalidImage {
        /// The input as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The unix socket (or the nerdctl binary) does not exist.
    #[error("container engine {url}: {path} does not exist")]
    SocketMissing {
        /// The engine URL.
        url: String,
        /// The socket or binary path.
        path: String,
    },
    /// The socket exists but this user may not use it.
    #[error("container engine {url}: permission denied on {path}")]
    PermissionDenied {
        /// The engine URL.
        url: String,
        /// The socket or binary path.
        path: String,
    },
    /// Nothing answers at the URL, or the connection broke.
    #[error("container engine {url} is not reachable: {detail}")]
    Unreachable {
        /// The engine URL.
        url: String,
        /// The underlying error.
        detail: String,
    },
    /// The TLS setup or handshake failed (certificate files, server certificate, client certificate).
    #[error("container engine {url}: TLS failed: {detail}")]
    Tls {
        /// The engine URL.
        url: String,
        /// The underlying error.
        detail: String,
    },
    /// The engine does not know the image.
    #[error("container engine {url}: image `{image}` not found")]
    ImageNotFound {
        /// The engine URL.
        url: String,
        /// The image input.
        image: String,
    },
    /// The engine refused to tag the image, or the tag did not land.
    #[error("container engine {url}: tagging image `{image}` as `{tag}` failed: {detail}")]
    TagRefused {
        /// The engine URL.
        url: String,
        /// The image (input and id).
        image: String,
        /// The tag reference asked for.
        tag: String,
        /// What the engine said, or what the check found.
        detail: String,
    },
    /// No Qualys sensor container at all.
    #[error("container engine {url}: the Qualys sensor container is not running ({detail})")]
    SensorMissing {
        /// The engine URL.
        url: String,
        /// What was looked for, or the state of the container found.
        detail: String,
    },
    /// The sensor container is paused.
    #[error("container engine {url}: the Qualys sensor container `{container}` is paused")]
    SensorPaused {
        /// The engine URL.
        url: String,
        /// The container name or id.
        container: String,
    },
    /// The sensor runs, but not in CI/CD mode.
    #[error(
        "container engine {url}: the Qualys sensor container `{container}` is not deployed in CI/CD mode (command: {command})"
    )]
    SensorNotCicd {
        /// The engine URL.
        url: String,
        /// The container name or id.
        container: String,
        /// Its command line.
        command: String,
    },
    /// Any other failure answered by the engine (unexpected status, malformed answer, nerdctl error).
    #[error("container engine {url}: {action} failed: {detail}")]
    Engine {
        /// The engine URL.
        url: String,
        /// What was being done (e.g. "inspecting image `x`").
        action: String,
        /// What the engine said.
        detail: String,
    },
}

impl EngineError {
    /// What the user should do about this error.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => HINT_INVALID_URL,
            Self::Unsupported { .. } => HINT_UNSUPPORTED,
            Self::InvalidImage { .. } => {
                "give a 12- or 64-hex image id, name:tag, registry/name:tag or name@sha256:<digest>"
            }
            Self::SocketMissing { .. } => HINT_SOCKET_MISSING,
            Self::PermissionDenied { .. } => HINT_PERMISSION_DENIED,
            Self::Unreachable { .. } => HINT_UNREACHABLE,
            Self::Tls { .. } => {
                "check the cert directory holds ca.pem (the CA that signed the engine's certificate), cert.pem and key.pem (a client certificate the engine trusts), and that the URL's host name matches the engine's certificate"
            }
            Self::ImageNotFound { .. } => {
                "build or load the image on this engine before the scan, and check the name/tag or id (and, for containerd, the namespace)"
            }
            Self::TagRefused { .. } => {
                "check that the engine's image store is writable and that this user may tag images; see the engine's log"
            }
            Self::SensorMissing { .. } => {
                "start the Qualys container sensor in CI/CD mode (--cicd-deployed-sensor) on this host, or pass --skip-sensor-check if it runs elsewhere"
            }
            Self::SensorPaused { .. } => {
                "unpause the sensor container (docker unpause / podman unpause / ctr task resume)"
            }
            Self::SensorNotCicd { .. } => {
                "redeploy the sensor with --cicd-deployed-sensor (or -c): a general sensor does not scan images tagged qualys_scan_target"
            }
            Self::Engine { .. } => "see the engine's log for details",
        }
    }

    /// The process exit code for this error (`product.md` §4).
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::InvalidUrl { .. } | Self::Unsupported { .. } | Self::InvalidImage { .. } => {
                ExitCode::Config
            }
            _ => ExitCode::Engine,
        }
    }

    /// The message and the hint, as printed to a user: `<message>\n  hint: <hint>`.
    pub fn report(&self) -> String {
        format!("{self}\n  hint: {}", self.hint())
    }
}
