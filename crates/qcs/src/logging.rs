//! Log set-up: `-v`/`-vv` or `QCS_LOG` (a tracing filter such as `qcs=trace`), written to stderr.

use tracing_subscriber::EnvFilter;

use crate::env::QCS_LOG;

/// Installs the subscriber: `QCS_LOG` wins; otherwise warnings, or more with `-v`.
pub(crate) fn init(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "qcs=debug,info",
        (false, _) => "trace",
    };
    let filter = std::env::var(QCS_LOG)
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
