//! `qcs-core`: the pure heart of `qcs`.
//!
//! Everything here is deterministic and free of I/O, clocks and async: the Qualys image report
//! model ([`report`]), identifiers ([`ids`]), the policy and its three input forms ([`policy`]),
//! the evaluator ([`evaluate()`]), version ordering for software filters ([`version`]), the
//! `summary.json` contract ([`summary`]) and the process exit codes ([`exit`]).
//!
//! The verdict for an image is computed once, by [`evaluate()`]; every output format reads the
//! resulting [`Evaluation`] and never judges again.

pub mod baseline;
pub mod evaluate;
pub mod exit;
pub mod ids;
pub mod merge;
pub mod policy;
pub mod report;
pub mod shard;
pub mod summary;
pub mod trend;
pub mod version;

pub use evaluate::{Evaluation, Outcome, evaluate};
pub use policy::Policy;
pub use report::ImageReport;
