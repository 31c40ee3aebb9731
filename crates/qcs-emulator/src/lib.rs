//! The Qualys CS API emulator, a Docker Engine API stand-in and the simulated CI/CD sensor.
//!
//! Module map: [`generate`] builds realistic image-details documents.

pub mod generate;

pub use generate::{Base, ReportSpec, generate, generate_sha};
