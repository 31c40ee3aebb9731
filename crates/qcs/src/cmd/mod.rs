//! One module per command; [`run`] dispatches.

mod demo;
mod emulator;
mod evaluate;
mod migrate;
mod platforms;
mod policy;
mod report;
mod scan;
mod snippet;
mod test_connection;

use qcs_core::exit::ExitCode;

use crate::cli::{Cli, Command};
use crate::error::CliError;

/// Runs the chosen command and returns the exit code it ends with.
pub(crate) fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Scan(args) => scan::run(&args, &cli.global),
        Command::Demo(args) => demo::run(&args, &cli.global),
        Command::Evaluate(args) => evaluate::run(&args, &cli.global),
        Command::Policy(cmd) => policy::run(&cmd, &cli.global),
        Command::Emulator(args) => emulator::run(&args),
        Command::TestConnection(args) => test_connection::run(&args, &cli.global),
        Command::Platforms(args) => platforms::run(&args),
        Command::Snippet(args) => snippet::run(&args, &cli.global),
        Command::Migrate(cmd) => migrate::run(&cmd),
        Command::Report(cmd) => report::run(&cmd, &cli.global),
    }
}
