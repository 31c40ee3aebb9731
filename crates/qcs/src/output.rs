//! Writing the requested outputs, the raw image details of each scanned image, and the verdict
//! table on stderr.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use qcs_core::summary::Summary;
use qcs_report::format::Destination;
use qcs_report::{Format, gitlab, html, json, junit, markdown, sarif, table};

use crate::error::CliError;
use crate::settings::output::OutputSettings;

/// Writes every requested format and prints the verdict table on stderr unless quiet.
pub(crate) fn write_all(
    summary: &Summary,
    settings: &OutputSettings,
    quiet: bool,
) -> Result<(), CliError> {
    for spec in &settings.formats {
        let err = |path: &Path, source| CliError::Write {
            what: spec.format.to_string(),
            path: path.to_owned(),
            source,
        };
        match spec.destination(&settings.dir) {
            Destination::Stdout => {
                let out = std::io::stdout().lock();
                render(summary, spec.format, settings, out).map_err(|e| err(Path::new("-"), e))?;
            }
            Destination::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| err(&path, e))?;
                }
                let file = std::fs::File::create(&path).map_err(|e| err(&path, e))?;
                render(summary, spec.format, settings, BufWriter::new(file))
                    .map_err(|e| err(&path, e))?;
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

/// Saves an image's details as received from the API to `<dir>/images/<12-hex id>.json`;
/// returns the path.
pub(crate) fn save_raw(dir: &Path, sha: &str, bytes: &[u8]) -> Result<PathBuf, CliError> {
    let short = sha.get(..12).unwrap_or(sha);
    let images = dir.join("images");
    let path = images.join(format!("{short}.json"));
    let err = |source| CliError::Write {
        what: format!("the image details of {short}"),
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&images).map_err(err)?;
    std::fs::write(&path, bytes).map_err(err)?;
    Ok(path)
}

/// Writes one format into `out` and flushes it.
fn render(
    summary: &Summary,
    format: Format,
    settings: &OutputSettings,
    mut out: impl Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(summary, &mut out)?,
        Format::Table => {
            out.write_all(table::render(summary, table::Style { color: false }).as_bytes())?;
        }
        Format::Sarif => sarif::write(summary, &settings.sarif, &mut out)?,
        Format::Junit => junit::write(summary, &mut out)?,
        Format::Gitlab => gitlab::write(summary, &mut out)?,
        Format::Markdown => markdown::write(summary, &mut out)?,
        Format::Html => html::write(summary, &mut out)?,
    }
    out.flush()
}
