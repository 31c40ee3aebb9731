//! Process exit codes (`product.md` §4): a contract with every CI system that runs `qcs`.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | every image passed |
//! | 1 | at least one image violates the policy |
//! | 2 | usage or configuration error (bad flag, invalid policy, unreadable input, missing credentials) |
//! | 3 | container engine or sensor error |
//! | 4 | Qualys API error (authentication, CS module missing, HTTP or network failure after retries) |
//! | 5 | no complete scan result: timed out, or the report is not processed yet |
//! | 130 | `qcs scan` was interrupted (SIGINT); the reports hold every image judged so far |
//! | 143 | `qcs scan` was terminated (SIGTERM); the same |
//!
//! A policy failure (1) wins over errors: it is definitive. Otherwise the first error code in the
//! order 2, 3, 4, 5.

use serde::Serialize;

/// One of the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u8")]
pub enum ExitCode {
    /// 0: every image passed.
    Passed = 0,
    /// 1: at least one image violates the policy.
    PolicyFailed = 1,
    /// 2: usage or configuration error.
    Config = 2,
    /// 3: container engine or sensor error.
    Engine = 3,
    /// 4: Qualys API error.
    Api = 4,
    /// 5: no complete scan result.
    NoResult = 5,
    /// 130 (128 + SIGINT): the scan was interrupted; never an image's code, only the process's.
    Interrupted = 130,
    /// 143 (128 + SIGTERM): the scan was terminated; never an image's code, only the process's.
    Terminated = 143,
}

impl From<ExitCode> for u8 {
    fn from(c: ExitCode) -> u8 {
        c as u8
    }
}

impl ExitCode {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self.into()
    }

    /// Combines per-image codes into the process code: 1 wins, then the lowest error code.
    pub fn combine(codes: impl IntoIterator<Item = ExitCode>) -> ExitCode {
        let mut worst_error: Option<ExitCode> = None;
        for c in codes {
            match c {
                ExitCode::PolicyFailed => return ExitCode::PolicyFailed,
                ExitCode::Passed => {}
                e => worst_error = Some(worst_error.map_or(e, |w| w.min(e))),
            }
        }
        worst_error.unwrap_or(ExitCode::Passed)
    }
}

#[cfg(test)]
mod tests {
    use super::ExitCode::*;
    use super::*;

    #[test]
    fn policy_failure_wins_then_lowest_error() {
        assert_eq!(ExitCode::combine([]), Passed);
        assert_eq!(ExitCode::combine([Passed, Passed]), Passed);
        assert_eq!(
            ExitCode::combine([NoResult, PolicyFailed, Config]),
            PolicyFailed
        );
        assert_eq!(ExitCode::combine([NoResult, Api, Passed]), Api);
        assert_eq!(ExitCode::combine([NoResult, Engine, Config]), Config);
        assert_eq!(NoResult.code(), 5);
    }
}
