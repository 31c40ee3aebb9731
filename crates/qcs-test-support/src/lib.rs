//! What the tests of the qcs crates share instead of each keeping a copy: the emulator as the
//! library tests start it and `qcs emulator` as a process, the qcs binary's scan world, the
//! tools a test needs installed (each failing with the setup script that installs it), process
//! and path helpers, and the real parts a test starts for itself (tinyproxy, Podman, headless
//! Chromium). A dev-dependency only; nothing here ships.

pub mod chromium;
pub mod emulator;
pub mod emulator_process;
pub mod local;
#[cfg(unix)]
pub mod podman;
pub mod process;
pub mod tinyproxy;
pub mod tools;
pub mod world;
