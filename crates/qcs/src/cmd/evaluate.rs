//! `qcs evaluate`: judge saved image-details JSON offline, with the same policy and outputs as
//! `qcs scan`.
//!
//! When only the verdict is wanted (`json`, `table`, `junit`), a report file is judged while it
//! is read, a window at a time ([`ReportStream`]), and the few findings `summary.json` lists
//! are read again from the file: memory stays small and flat whatever the report's size. A
//! format that shows every finding (HTML, SARIF, GitLab, Markdown, plugin), a baseline (whose
//! entry depends on the image's repository, which may come after the vulnerabilities), a pipe,
//! or a document the streaming reader leaves aside (bad JSON, another document) is read whole
//! with the full model, which also gives the exact error with its line and column.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use qcs_core::evaluate::{BaselineInput, evaluate_full};
use qcs_core::exit::ExitCode;
use qcs_core::report::ReportError;
use qcs_core::report::stream::{ReportStream, evaluate_bytes};
use qcs_core::summary::{Evaluation, ImageResult, Summary};
use qcs_core::{ImageReport, Policy};
use tracing::debug;

use crate::cli::{EvaluateArgs, GlobalArgs};
use crate::error::CliError;
use crate::limits;
use crate::output;

/// Runs `qcs evaluate`.
pub(crate) fn run(args: &EvaluateArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    // A mistake in the settings still clears an earlier run's reports (never the reports read).
    let resolved = crate::config::locate(global).and_then(|file| {
        let policy = crate::policy_input::load(&args.policy, file.as_ref(), global.quiet)?;
        let out = crate::settings::output::resolve(&args.output, file.as_ref())?;
        let limit = limits::max_report(
            args.max_report_size.as_deref(),
            &crate::settings::process_env,
        )?;
        let baseline = crate::runs::load_baseline(&policy)?;
        Ok((policy, out, limit, baseline))
    });
    let (policy, out, limit, baseline) = resolved.map_err(|e| {
        output::clear_before_error(args.output.output_dir.as_deref(), false, &args.reports, e)
    })?;
    // The outputs are checked, and an earlier run's removed, before anything else can fail
    // (the reports read are never removed, even when named like an output).
    output::prepare(&out, false, &args.reports)?;

    // Every report is read (and judged as it is read); unusable input is a usage error (exit
    // 2), reported for all files.
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let every_finding = out.needs_every_finding();
    let baseline = baseline.as_ref().map(|(baseline, mode)| BaselineInput {
        baseline,
        mode: *mode,
    });
    let mut images = Vec::with_capacity(args.reports.len());
    let mut bad = Vec::new();
    let mut too_large = false;
    for path in &args.reports {
        match judge_file(path, limit, &policy, now, baseline, every_finding) {
            Ok(evaluation) => {
                debug!(
                    input = %path.display(),
                    outcome = evaluation.outcome.as_str(),
                    "evaluated"
                );
                images.push(ImageResult {
                    input: path.display().to_string(),
                    evaluation,
                });
            }
            Err(Unread::Report(e)) => bad.push(format!("report `{}`: {e}", path.display())),
            Err(Unread::File(limits::ReadError::TooLarge(limit))) => {
                too_large = true;
                bad.push(format!(
                    "report `{}` is larger than the limit of {}",
                    path.display(),
                    limits::fmt_size(limit)
                ));
            }
            Err(Unread::File(limits::ReadError::Io(e))) => {
                bad.push(format!("cannot read report `{}`: {e}", path.display()));
            }
        }
    }
    if !bad.is_empty() {
        return Err(CliError::BadInputs(
            bad,
            if too_large {
                "raise the limit with --max-report-size (or QCS_MAX_REPORT_SIZE), e.g. 1GiB, if \
                 the report is that large; otherwise check what the file or pipe holds"
            } else {
                "give image-details JSON as returned by GET /csapi/v1.3/images/{sha} \
                 (or written by `qcs scan` to qcs-reports/images/)"
            },
        ));
    }

    let mut summary = Summary::new(env!("CARGO_PKG_VERSION"), images);
    crate::cmd::scan::finish_summary(&mut summary, &out)?;
    // `--format plugin` copies each report given, as the plugin copied the API's answer.
    let plugin = output::PluginSources {
        reports: args.reports.iter().cloned().map(Some).collect(),
        options: qcs_report::plugin::Options {
            potential_checked: policy.potential,
        },
    };
    output::write_all(&summary, &out, &plugin, global.quiet)?;
    let code = summary.exit();
    // The process ends right after this; freeing every report string and finding one by one
    // would cost more than evaluating them, so the memory is left to the operating system.
    std::mem::forget(summary);
    Ok(if out.report_only {
        ExitCode::Passed
    } else {
        code
    })
}

/// Why a report gave no evaluation.
enum Unread {
    /// It could not be read (or is too large).
    File(limits::ReadError),
    /// It is no usable image report.
    Report(ReportError),
}

impl From<std::io::Error> for Unread {
    fn from(e: std::io::Error) -> Self {
        Self::File(limits::ReadError::Io(e))
    }
}

/// Reads and judges one report file (see the module documentation).
fn judge_file(
    path: &Path,
    limit: u64,
    policy: &Policy,
    now: jiff::Timestamp,
    baseline: Option<BaselineInput<'_>>,
    every_finding: bool,
) -> Result<Evaluation, Unread> {
    let full_model = every_finding || baseline.is_some();
    let whole = |policy: &Policy| -> Result<Evaluation, Unread> {
        let bytes = limits::read_limited(path, limit).map_err(Unread::File)?;
        if full_model {
            let report = ImageReport::from_json(&bytes).map_err(Unread::Report)?;
            return Ok(evaluate_full(policy, &report, now, baseline, every_finding));
        }
        judge_bytes(policy, &bytes, now).map_err(Unread::Report)
    };
    if full_model {
        return whole(policy);
    }
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        // a pipe or a device: read once, whole (within the limit)
        return whole(policy);
    }
    if meta.len() > limit {
        return Err(Unread::File(limits::ReadError::TooLarge(limit)));
    }
    let mut stream = ReportStream::new(policy, now);
    let streamed = loop {
        let n = match file.read(stream.space()) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            break stream.finish();
        }
        if stream.bytes_read() + n as u64 > limit {
            return Err(Unread::File(limits::ReadError::TooLarge(limit)));
        }
        if let Err(e) = stream.filled(n) {
            break Err(e);
        }
    };
    let done = match streamed {
        Ok(done) => done,
        Err(e) => {
            debug!(input = %path.display(), "{e}; reading the whole report");
            return whole(policy);
        }
    };
    // the findings summary.json lists, read again from the file
    let mut parts = Vec::with_capacity(done.wanted().len());
    for &(offset, len) in done.wanted() {
        let mut part = vec![0; len];
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut part)?;
        parts.push(part);
    }
    let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    match done.complete(&parts) {
        Ok(e) => Ok(e),
        Err(e) => {
            debug!(input = %path.display(), "{e}; reading the whole report");
            whole(policy)
        }
    }
}

/// Judges a report held in memory: on the fast path, else with the full model (which gives the
/// exact error).
fn judge_bytes(
    policy: &Policy,
    bytes: &[u8],
    now: jiff::Timestamp,
) -> Result<Evaluation, ReportError> {
    match evaluate_bytes(policy, bytes, now) {
        Ok(e) => Ok(e),
        Err(e) => {
            debug!("{e}; reading the whole report");
            let report = ImageReport::from_json(bytes)?;
            Ok(evaluate_full(policy, &report, now, None, false))
        }
    }
}
