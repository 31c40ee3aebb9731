//! `qcs-report`: every output `qcs` writes, one module per format, all reading the
//! [`Summary`](qcs_core::summary::Summary) the evaluator produced. Nothing here judges an image.

pub mod format;
pub mod json;
pub mod table;

pub use format::{Format, FormatSpec, FormatSpecError};
