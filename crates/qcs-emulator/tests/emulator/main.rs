//! Integration tests: the emulator over real HTTP(S) on 127.0.0.1 and its Docker stand-in on a
//! unix socket and on TCP. Time moves only through the control API / handle (frozen clock), never
//! sleeps.

mod api;
mod common;
// Unix sockets and a real Podman service: unix only.
#[cfg(unix)]
mod docker;
mod docker_tcp;
mod faults;
#[cfg(unix)]
mod podman;
mod tls;
