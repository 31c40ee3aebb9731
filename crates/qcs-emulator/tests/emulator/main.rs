//! Integration tests: the emulator over real HTTP(S) on 127.0.0.1 and its Docker stand-in on a
//! unix socket. Time moves only through the control API / handle (frozen clock), never sleeps.

mod api;
mod common;
mod docker;
mod faults;
mod podman;
mod tls;
