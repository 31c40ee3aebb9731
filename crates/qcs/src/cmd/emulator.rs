//! `qcs emulator`: run the Qualys CS API emulator (and, on request, its Docker Engine API
//! stand-in with a simulated CI/CD sensor, on a unix socket or, with `tcp://IP:PORT`, on TCP)
//! until interrupted. See `docs/emulator.md`.

use std::io::Write as _;

use qcs_core::exit::ExitCode;
use qcs_emulator::{EmulatorConfig, Scenario};

use crate::cli::EmulatorArgs;
use crate::error::CliError;

/// Runs `qcs emulator`.
pub(crate) fn run(args: &EmulatorArgs) -> Result<ExitCode, CliError> {
    let mut config = EmulatorConfig {
        listen: args.listen,
        tls: args.tls,
        tls_dir: args.tls_dir.clone(),
        image_dir: args.images.clone(),
        docker_socket: args.docker_socket.clone(),
        watch_engine: args.watch_engine.clone(),
        ..EmulatorConfig::default()
    };
    // The scenario file first, then the flags that must win over it.
    if let Some(path) = &args.scenario {
        Scenario::load(path)
            .map_err(|e| CliError::Emulator(e.to_string()))?
            .apply(&mut config);
    }
    if let Some(profile) = args.processing_profile {
        config.processing_profile = profile;
    }
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::Runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let emulator = qcs_emulator::start(config)
            .await
            .map_err(|e| CliError::Emulator(e.to_string()))?;
        // Listen for Ctrl-C before saying so: a SIGINT right after the banner must stop the
        // emulator cleanly, not kill the process.
        #[cfg(unix)]
        let mut interrupt =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| CliError::Runtime(format!("cannot listen for Ctrl-C: {e}")))?;
        let mut out = anstream::stdout().lock();
        let _ = writeln!(out, "{}", emulator.describe());
        let _ = writeln!(out, "Press Ctrl-C to stop.");
        let _ = out.flush();
        drop(out);
        #[cfg(unix)]
        {
            interrupt.recv().await;
            emulator.shutdown().await;
        }
        #[cfg(not(unix))]
        emulator.wait().await;
        Ok(ExitCode::Passed)
    })
}
