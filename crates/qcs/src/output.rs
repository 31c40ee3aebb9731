//! Writing the requested outputs and the verdict table on stderr.

use std::io::{BufWriter, Write};
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
        let err = |path: &Path, source| CliError::Write {
            what: spec.format.to_string(),
            path: path.to_owned(),
            source,
        };
        match spec.destination(&args.output_dir) {
            Destination::Stdout => {
                let out = std::io::stdout().lock();
                render(summary, spec.format, out).map_err(|e| err(Path::new("-"), e))?;
            }
            Destination::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| err(&path, e))?;
                }
                let file = std::fs::File::create(&path).map_err(|e| err(&path, e))?;
                render(summary, spec.format, BufWriter::new(file)).map_err(|e| err(&path, e))?;
            }
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

/// Writes one format into `out` and flushes it.
fn render(summary: &Summary, format: Format, mut out: impl Write) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(summary, &mut out)?,
        Format::Table => {
            out.write_all(table::render(summary, table::Style { color: false }).as_bytes())?;
        }
    }
    out.flush()
}
