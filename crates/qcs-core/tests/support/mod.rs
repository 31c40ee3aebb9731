//! Test support shared between test binaries.

pub mod vectors;
