//! Test support shared between test binaries.

pub(crate) mod vectors;
