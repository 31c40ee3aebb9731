//! `qcs evaluate`: judge saved image-details JSON offline, with the same policy and outputs as
//! `qcs scan`.

use qcs_core::ImageReport;
use qcs_core::evaluate::{BaselineInput, evaluate_full};
use qcs_core::exit::ExitCode;
use qcs_core::summary::{ImageResult, Summary};
use tracing::debug;

use crate::cli::{EvaluateArgs, GlobalArgs};
use crate::error::CliError;
use crate::limits;
use crate::output;

/// Runs `qcs evaluate`.
pub(crate) fn run(args: &EvaluateArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    // A mistake in the settings still clears an earlier run's reports (never the reports read).
    let resolved = crate::config::locate(global.config.as_deref()).and_then(|file| {
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

    // Read every report first: unusable input is a usage error (exit 2), reported for all files.
    let mut reports = Vec::with_capacity(args.reports.len());
    let mut bad = Vec::new();
    let mut too_large = false;
    for path in &args.reports {
        match limits::read_limited(path, limit).map(|bytes| ImageReport::from_json(&bytes)) {
            Ok(Ok(r)) => reports.push((path.display().to_string(), r)),
            Ok(Err(e)) => bad.push(format!("report `{}`: {e}", path.display())),
            Err(limits::ReadError::TooLarge(limit)) => {
                too_large = true;
                bad.push(format!(
                    "report `{}` is larger than the limit of {}",
                    path.display(),
                    limits::fmt_size(limit)
                ));
            }
            Err(limits::ReadError::Io(e)) => {
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

    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let every_finding = out.needs_every_finding();
    let images: Vec<ImageResult> = reports
        .iter()
        .map(|(input, report)| {
            let evaluation = evaluate_full(
                &policy,
                report,
                now,
                baseline.as_ref().map(|(baseline, mode)| BaselineInput {
                    baseline,
                    mode: *mode,
                }),
                every_finding,
            );
            debug!(input, outcome = evaluation.outcome.as_str(), "evaluated");
            ImageResult {
                input: input.clone(),
                evaluation,
            }
        })
        .collect();
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
    std::mem::forget(reports);
    Ok(if out.report_only {
        ExitCode::Passed
    } else {
        code
    })
}
