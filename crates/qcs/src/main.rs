//! `qcs`: Qualys container scanning for any CI. This is the binary: command-line parsing,
//! wiring of the library crates, printing, and the process exit code.

mod cli;
mod cmd;
mod config;
mod diagnostics;
mod env;
mod error;
mod images;
mod interrupt;
mod limits;
mod logging;
mod output;
mod policy_input;
mod progress;
mod runs;
mod settings;
mod webhook;

use std::process::ExitCode;

use clap::Parser;

// A report holds tens of thousands of small strings; mimalloc allocates and frees them several
// times faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.global.verbose, cli.global.quiet);
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code.code()),
        Err(e) => {
            error::print(&e);
            ExitCode::from(e.exit_code().code())
        }
    }
}
