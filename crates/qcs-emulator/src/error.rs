//! Errors from starting and configuring the emulator.

use std::path::PathBuf;

/// How to name an engine to watch, on this platform.
#[cfg(unix)]
const WATCH_HINT: &str = "give unix:///path/to/podman.sock";
/// How to name an engine to watch, on this platform (no unix sockets: TCP only).
#[cfg(not(unix))]
const WATCH_HINT: &str =
    "give tcp://host:port: on this platform the engine has to be watched over TCP";

/// Why the emulator could not start or a setting was refused. Each message says what failed,
/// with which value, and a hint.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {addr}: {source} (hint: pick another address with --listen, e.g. 127.0.0.1:0 for any free port)"
    )]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error(
        "cannot read {what} {path}: {source} (hint: check the path; relative paths in a scenario file are relative to that file)"
    )]
    Read {
        /// What the file is (scenario file, image document, ...).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error(
        "cannot write {what} {path}: {source} (hint: check that the directory exists and is writable)"
    )]
    Write {
        /// What the file is.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The scenario file is not valid TOML for the emulator.
    #[error(
        "scenario file {path} is invalid: {message} (hint: see docs/emulator.md, \"Scenario file\")"
    )]
    Scenario {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An image document could not be used.
    #[error(
        "image {source_name} cannot be used: {reason} (hint: an image document is the JSON body of GET /csapi/v1.3/images/{{sha}}, with a 64-hex `sha`)"
    )]
    Image {
        /// Where it came from (file path or `generate` spec).
        source_name: String,
        /// Why.
        reason: String,
    },
    /// A fault rule is invalid.
    #[error(transparent)]
    Fault(#[from] crate::faults::FaultError),
    /// The test CA or server certificate could not be made.
    #[error("cannot create the TLS certificate: {0} (hint: this is a bug; please report it)")]
    Tls(String),
    /// The Docker socket could not be bound.
    #[error(
        "cannot listen on the Docker socket {path}: {source} (hint: remove a stale socket file or choose another --docker-socket path)"
    )]
    DockerSocket {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Docker socket is a unix socket on a platform without them (Windows).
    #[error(
        "cannot listen on the Docker socket {path}: unix sockets are not supported on this platform (hint: give a TCP address instead, e.g. --docker-socket tcp://127.0.0.1:2375, or port 0 for any free port)"
    )]
    DockerSocketUnsupported {
        /// The socket path.
        path: PathBuf,
    },
    /// The Docker stand-in's TCP address could not be bound.
    #[error(
        "cannot listen for the Docker Engine API stand-in on {addr}: {source} (hint: choose another --docker-socket address, e.g. tcp://127.0.0.1:0 for any free port)"
    )]
    DockerBind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Where the Docker stand-in should listen cannot be understood.
    #[error(
        "Docker stand-in address `{value}` is not valid: {reason} (hint: give a unix socket path (a plain path or unix:///path) or a TCP address such as tcp://127.0.0.1:2375; port 0 picks any free port)"
    )]
    DockerListen {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The watched engine URL is not usable.
    #[error("cannot watch the container engine at {url}: {reason} (hint: {hint})", hint = WATCH_HINT)]
    WatchEngine {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
}
