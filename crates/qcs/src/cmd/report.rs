//! `qcs report merge` and `qcs report trend`: reports from the summaries of earlier runs.
//!
//! `merge` reads each run's `summary.json`, checks that this `qcs` can merge it (same schema
//! version, same major.minor `qcs`), combines the images ([`qcs_core::merge`]: an image judged
//! alike appears once, judged differently it is a conflict and an error), copies each run's raw
//! reports (`images/<12-hex id>.json` beside its summary) into the output directory's `images/`
//! (a hard link when it can, else a copy), and writes the formats asked for. Its exit code is
//! the merged summary's.
//!
//! `trend` writes the reports of the latest of the summaries given, with the trend of all.

use std::path::{Path, PathBuf};

use qcs_core::exit::ExitCode;
use qcs_core::summary::Summary;

use crate::cli::{GlobalArgs, MergeArgs, ReportCommand, TrendArgs};
use crate::error::{CliError, print_problem};
use crate::output;
use crate::runs;
use crate::settings::output::OutputSettings;

/// Runs `qcs report …`.
pub(crate) fn run(cmd: &ReportCommand, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    match cmd {
        ReportCommand::Merge(args) => merge(args, global),
        ReportCommand::Trend(args) => trend(args, global),
    }
}

/// Reads every summary given; all unusable ones are reported at once (exit 2).
fn read_all(paths: &[PathBuf]) -> Result<Vec<(String, Summary)>, CliError> {
    let mut out = Vec::with_capacity(paths.len());
    let mut bad = Vec::new();
    for p in paths {
        match runs::read_summary(p) {
            Ok(s) => {
                let source = p.display().to_string();
                match qcs_core::merge::check_compatible(&source, &s, env!("CARGO_PKG_VERSION")) {
                    Ok(()) => out.push((source, s)),
                    Err(e) => bad.push(e.to_string()),
                }
            }
            Err(e) => bad.push(e),
        }
    }
    if bad.is_empty() {
        Ok(out)
    } else {
        Err(CliError::BadInputs(
            bad,
            "give summary.json files written by this qcs version (qcs scan, qcs evaluate, qcs \
             report merge); rerun the runs with one qcs version",
        ))
    }
}

/// The output settings, resolved and prepared (an earlier run's files removed).
fn outputs(
    args: &crate::cli::OutputArgs,
    global: &GlobalArgs,
    raw_images: bool,
    keep: &[PathBuf],
) -> Result<OutputSettings, CliError> {
    let file = crate::config::locate(global)?;
    let out = crate::settings::output::resolve(args, file.as_ref())?;
    output::prepare(&out, raw_images, keep)?;
    Ok(out)
}

fn merge(args: &MergeArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let out = outputs(&args.output, global, true, &args.summaries)?;
    for p in &args.summaries {
        if let Some(dir) = p.parent()
            && same_dir(dir, &out.dir)
        {
            return Err(CliError::Usage(
                format!(
                    "the output directory `{}` holds the summary `{}` being merged",
                    out.dir.display(),
                    p.display()
                ),
                "write the merged reports to a directory of their own: --output-dir merged"
                    .to_owned(),
            ));
        }
    }
    let runs_read = read_all(&args.summaries)?;
    let dirs: Vec<PathBuf> = args
        .summaries
        .iter()
        .map(|p| match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        })
        .collect();
    let shards: Vec<_> = runs_read.iter().filter_map(|(_, s)| s.shard).collect();
    let merged = qcs_core::merge::merge(runs_read, env!("CARGO_PKG_VERSION"));
    let mut summary = merged.summary;
    if !global.quiet {
        note_missing_shards(&shards);
    }
    for c in &summary.conflicts {
        let said: Vec<String> = c
            .runs
            .iter()
            .map(|r| {
                format!(
                    "{} in `{}`{}",
                    r.outcome.as_str(),
                    r.source,
                    r.total
                        .map(|t| format!(" ({t} findings)"))
                        .unwrap_or_default()
                )
            })
            .collect();
        print_problem(
            &format!(
                "conflict: image {} was judged differently by the runs: {}",
                c.sha.get(..12).unwrap_or(&c.sha),
                said.join(", ")
            ),
            "the runs must scan each image once with one policy (qcs scan --shard K/N with one \
             N); the merged result is an error for this image (exit 5)",
        );
    }
    copy_raw_reports(&summary, &merged.origins, &dirs, &out.dir, global.quiet)?;
    if out.needs_every_finding() {
        attach_raw_reports(&mut summary, &out.dir, global.quiet);
    }
    summary.build = runs::build_info(&crate::settings::process_env);
    if let Some(dir) = &out.history {
        summary.trend = runs::trend_with_history(dir, &summary)?;
    }
    let plugin = output::PluginSources::saved_in(&summary, &out.dir, false);
    output::write_all(&summary, &out, &plugin, global.quiet)?;
    let code = summary.exit();
    Ok(if out.report_only && code != ExitCode::Config {
        ExitCode::Passed
    } else {
        code
    })
}

/// Whether two directories are the same (compared canonically when both exist).
fn same_dir(a: &Path, b: &Path) -> bool {
    let a = if a.as_os_str().is_empty() {
        Path::new(".")
    } else {
        a
    };
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// With `--shard K/N` runs: says which of the N shards are not among those merged.
fn note_missing_shards(shards: &[qcs_core::shard::Shard]) {
    let Some(n) = shards.iter().map(|s| s.count).max() else {
        return;
    };
    let missing: Vec<String> = (1..=n)
        .filter(|k| !shards.iter().any(|s| s.index == *k && s.count == n))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "note: the merged runs are shards of {n}, and shard{} {} {} not among them",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
        );
    }
}

/// Copies (or hard-links) each merged image's raw report from its run's `images/` into
/// `out/images/`. A run without the file (an image without a report) is left out.
fn copy_raw_reports(
    summary: &Summary,
    origins: &[usize],
    dirs: &[PathBuf],
    out: &Path,
    quiet: bool,
) -> Result<(), CliError> {
    let images = out.join("images");
    let mut missing = 0usize;
    for (img, origin) in summary.images.iter().zip(origins) {
        let Some(id) = img.evaluation.sha.as_deref().and_then(|s| s.get(..12)) else {
            continue;
        };
        let Some(dir) = dirs.get(*origin) else {
            continue;
        };
        let name = format!("{id}.json");
        let from = dir.join("images").join(&name);
        if !from.is_file() {
            if img.evaluation.counts.is_some() {
                missing += 1;
            }
            continue;
        }
        let to = images.join(&name);
        let err = |source| CliError::Write {
            what: format!("the raw report of {id}"),
            path: to.clone(),
            source,
        };
        std::fs::create_dir_all(&images).map_err(err)?;
        let _ = std::fs::remove_file(&to);
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(err)?;
        }
    }
    if missing > 0 && !quiet {
        eprintln!(
            "note: {missing} judged image{} had no raw report (images/<id>.json) beside its \
             summary; formats that copy raw reports (plugin) leave {} out",
            if missing == 1 { "" } else { "s" },
            if missing == 1 { "it" } else { "them" },
        );
    }
    Ok(())
}

/// For the formats that show every finding (HTML, SARIF, GitLab, Markdown, plugin): reads each
/// merged image's raw report from `out/images/` and fills its every finding with details and
/// its installed software ([`qcs_core::evaluate::attach_report_findings`]), since the merged
/// summaries list only the deciding findings. An image whose raw report is missing or unusable
/// keeps the findings its summary lists (a note says how many).
fn attach_raw_reports(summary: &mut Summary, out: &Path, quiet: bool) {
    let images = out.join("images");
    let mut unusable = 0usize;
    for img in &mut summary.images {
        let e = &mut img.evaluation;
        if e.counts.is_none() {
            continue;
        }
        let Some(id) = e.sha.as_deref().and_then(|s| s.get(..12)) else {
            continue;
        };
        let path = images.join(format!("{id}.json"));
        let report = crate::limits::read_limited(&path, crate::limits::DEFAULT_MAX_REPORT)
            .ok()
            .and_then(|bytes| qcs_core::ImageReport::from_json(&bytes).ok());
        match report {
            Some(r) => qcs_core::evaluate::attach_report_findings(e, &r),
            None => unusable += 1,
        }
    }
    if unusable > 0 && !quiet {
        eprintln!(
            "note: {unusable} judged image{} had no usable raw report (images/<id>.json); the \
             merged HTML, SARIF, GitLab, Markdown and plugin reports show only the findings its \
             summary lists (those that decide the verdict)",
            if unusable == 1 { "" } else { "s" },
        );
    }
}

fn trend(args: &TrendArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let out = outputs(&args.output, global, false, &args.summaries)?;
    let mut bad = Vec::new();
    let mut read = Vec::new();
    for p in &args.summaries {
        match runs::read_summary(p) {
            Ok(s) => read.push((p.clone(), s)),
            Err(e) => bad.push(e),
        }
    }
    if !bad.is_empty() {
        return Err(CliError::BadInputs(
            bad,
            "give summary.json files written by qcs (qcs scan, qcs evaluate, qcs report merge)",
        ));
    }
    let mut points: Vec<(usize, qcs_core::trend::TrendPoint)> = read
        .iter()
        .enumerate()
        .map(|(i, (p, s))| (i, qcs_core::trend::point(s, &runs::label(p))))
        .collect();
    // order the points, remembering which summary is the latest
    let mut only: Vec<_> = points.iter().map(|(_, p)| p.clone()).collect();
    qcs_core::trend::order(&mut only);
    points.sort_by_key(|(_, p)| only.iter().position(|q| q == p).unwrap_or(usize::MAX));
    let latest = points.last().map_or(0, |(i, _)| *i);
    let Some((_, mut summary)) = read.into_iter().nth(latest) else {
        return Ok(ExitCode::Passed);
    };
    summary.trend = only;
    let plugin = output::PluginSources::default();
    output::write_all(&summary, &out, &plugin, global.quiet)?;
    Ok(ExitCode::Passed)
}
