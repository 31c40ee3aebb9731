//! Writing the requested outputs and the verdict table on stderr.

use std::io::Write as _;
use std::path::Path;

use qcs_core::summary::Summary;
use qcs_report::format::Destination;
use qcs_report::{Format, FormatSpec, json, table};

use crate::cli::OutputArgs;
use crate::error::CliError;

/// Writes every requested format (default: `json`) and prints the verdict table on stderr
/// unless quiet.
pub(crate) fn write_all(summary: &Summary, args: &OutputArgs, quiet: bool) -> Result<(), CliError> {
    let default = [FormatSpec {
        format: Format::Json,
        path: None,
    }];
    let specs: &[FormatSpec] = if args.formats.is_empty() {
        &default
    } else {
        &args.formats
    };
    for spec in specs {
        let bytes = match spec.format {
            Format::Json => json::render(summary),
            Format::Table => table::render(summary, table::Style { color: false }).into_bytes(),
        };
        match spec.destination(&args.output_dir) {
            Destination::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)
                    .and_then(|()| out.flush())
                    .map_err(|source| CliError::Write {
                        what: spec.format.to_string(),
                        path: "-".into(),
                        source,
                    })?;
            }
            Destination::File(path) => write_file(&path, &bytes, spec.format)?,
        }
    }
    if !quiet {
        let text = table::render(
            summary,
            table::Style {
                color: crate::diagnostics::stderr_color(),
            },
        );
        let _ = anstream::stderr().lock().write_all(text.as_bytes());
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8], format: Format) -> Result<(), CliError> {
    let err = |source| CliError::Write {
        what: format.to_string(),
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    std::fs::write(path, bytes).map_err(err)
}
