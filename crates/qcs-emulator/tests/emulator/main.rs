//! Integration tests: the emulator over real HTTP(S) on 127.0.0.1 and its Docker stand-in on a
//! unix socket and on TCP. Time moves only through the control API / handle (frozen clock), never
//! sleeps.

mod api;
mod common;
// Unix sockets and a real Podman service: unix only.
#[cfg(unix)]
mod docker;
// The real docker CLI (Debian's, Linux) against the stand-in's unix socket; its shell-pipeline
// test runs on a real clock and polls with a deadline.
#[cfg(target_os = "linux")]
mod docker_cli;
mod docker_refs;
mod docker_tcp;
mod endpoints;
mod faults;
mod jenkins;
#[cfg(unix)]
mod podman;
mod profiles;
mod tls;
