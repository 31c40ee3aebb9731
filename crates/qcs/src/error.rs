//! The errors a command can end with, each mapped to its documented exit code and printed as
//! `error: …` with an optional `hint: …`.

use std::io::Write as _;
use std::path::PathBuf;

use owo_colors::OwoColorize;
use qcs_core::exit::ExitCode;
use qcs_core::policy::{IssueLevel, PolicyIssue};

use crate::diagnostics::{self, Sources};

/// A failure that ends the command before (or instead of) a verdict.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The policy has errors (every problem is listed, with the texts they point into).
    #[error("the policy is invalid ({} error{})", count_errors(.0), if count_errors(.0) == 1 { "" } else { "s" })]
    Policy(Vec<PolicyIssue>, Sources),
    /// The config file has errors (every one is listed, with its place and a hint).
    #[error("the config file `{}` is invalid ({} error{})", .0.display(), .1.len(), if .1.len() == 1 { "" } else { "s" })]
    Config(PathBuf, Vec<PolicyIssue>, Sources),
    /// An input file could not be read.
    #[error("cannot read {what} `{}`: {source}", path.display())]
    Read {
        /// What the file is (report, criteria JSON, …).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Input files that are not usable, all of them.
    #[error("{}", .0.join("\n"))]
    BadInputs(Vec<String>, &'static str),
    /// The emulator could not start (address in use, bad scenario, …).
    #[error("the emulator could not start: {0}")]
    Emulator(String),
    /// The async runtime could not start.
    #[error("{0}")]
    Runtime(String),
    /// The Qualys API client failed (configuration 2, API 4, no result 5).
    #[error(transparent)]
    Qualys(#[from] qcs_qualys::QualysError),
    /// The container engine settings are unusable (exit 2) or the engine failed (exit 3).
    #[error(transparent)]
    Engine(#[from] qcs_engine::EngineError),
    /// A usage mistake found before any work (the message, the hint).
    #[error("{0}")]
    Usage(String, String),
    /// An output could not be written.
    #[error("cannot write {what} to `{}`: {source}", path.display())]
    Write {
        /// The output.
        what: String,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn count_errors(issues: &[PolicyIssue]) -> usize {
    issues
        .iter()
        .filter(|i| i.level == IssueLevel::Error)
        .count()
}

impl CliError {
    /// The documented exit code for this failure.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Policy(..)
            | Self::Config(..)
            | Self::Emulator(_)
            | Self::Runtime(_)
            | Self::Read { .. }
            | Self::BadInputs(..)
            | Self::Usage(..)
            | Self::Write { .. } => ExitCode::Config,
            Self::Qualys(e) => e.exit_code(),
            Self::Engine(e) => e.exit_code(),
        }
    }

    fn hint(&self) -> &str {
        match self {
            Self::Policy(..) => "fix the entries above; `qcs policy check` shows them all",
            Self::Config(..) => "fix the entries above; `qcs policy check qcs.toml` shows them all",
            Self::Read { .. } => "check the path and the file's permissions",
            Self::BadInputs(_, hint) => hint,
            Self::Usage(_, hint) => hint,
            Self::Write { .. } => {
                "check that the output directory and every --format path can be written (--output-dir); qcs checks them before it starts"
            }
            Self::Emulator(_) => "choose another --listen address, or fix the scenario file",
            Self::Runtime(_) => "the system may be out of threads or file descriptors",
            Self::Qualys(e) => e.hint(),
            Self::Engine(e) => e.hint(),
        }
    }
}

/// Prints a failure to stderr.
pub(crate) fn print(e: &CliError) {
    if let CliError::Policy(issues, sources) | CliError::Config(_, issues, sources) = e {
        diagnostics::eprint(issues, sources);
    }
    print_problem(&e.to_string(), e.hint());
}

/// Prints `error: <message>` and `  hint: <hint>` to stderr.
pub(crate) fn print_problem(message: &str, hint: &str) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{} {message}", "error:".red().bold());
    let _ = writeln!(err, "  {} {hint}", "hint:".cyan().bold());
}
