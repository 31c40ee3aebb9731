//! `qcs-qualys` against the emulator over real HTTP(S) on 127.0.0.1: auth, every fault kind,
//! waiting, TLS, and a real tinyproxy (`scripts/setup/40-proxy.sh`).

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod auth;
mod common;
mod faults;
mod proxy;
mod readiness;
mod tls;
mod wait;
