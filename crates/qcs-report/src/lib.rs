//! `qcs-report`: every output `qcs` writes, one module per format, all reading the
//! [`Summary`](qcs_core::summary::Summary) the evaluator produced. Nothing here judges an image.

mod common;
pub mod format;
pub mod gitlab;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod plugin;
pub mod sarif;
pub mod table;

pub use format::{Format, FormatSpec, FormatSpecError};
