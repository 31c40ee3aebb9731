//! Earlier runs as inputs: the baseline (`--baseline`, `[baseline] path`), the history of
//! summaries behind the trend (`--history DIR`), and the build that writes a summary (from the
//! CI system's variables). Every file that cannot be used is a configuration error (exit 2)
//! with a hint, never a silent "everything is new" or "nothing is new".

use std::path::{Path, PathBuf};

use qcs_core::Policy;
use qcs_core::baseline::{Baseline, BaselineMode};
use qcs_core::summary::Summary;
use qcs_core::trend::{self, BuildInfo, TrendPoint};

use crate::error::CliError;
use crate::settings::EnvLookup;
use crate::webhook::payload::CiContext;

/// The largest baseline or summary read (as a report: 256 MiB).
const MAX_READ: u64 = 256 * 1024 * 1024;

/// How to keep a baseline, for hints.
const BASELINE_HINT: &str = "give an earlier run's summary.json or a saved image report \
(qcs-reports/images/<id>.json): keep the default branch's qcs-reports/ as a CI artifact and \
download it before the scan, or commit one (docs/policy.md, \"Baselines\"); without a baseline, \
leave out --baseline and [baseline] path";

/// The baseline the policy names (flags over the policy file), read and checked; `None`
/// without one. `mode = "new"` without a baseline is an error.
pub(crate) fn load_baseline(policy: &Policy) -> Result<Option<(Baseline, BaselineMode)>, CliError> {
    let mode = policy.baseline_mode.unwrap_or_default();
    let Some(path) = &policy.baseline_path else {
        if mode == BaselineMode::New {
            return Err(CliError::Usage(
                "the baseline mode is `new`, but no baseline is given".to_owned(),
                BASELINE_HINT.to_owned(),
            ));
        }
        return Ok(None);
    };
    let shown = format!("the baseline `{}` (from {})", path.value, path.origin);
    let bytes = crate::limits::read_limited(Path::new(&path.value), MAX_READ).map_err(|e| {
        let why = match e {
            crate::limits::ReadError::TooLarge(l) => {
                format!("it is larger than {}", crate::limits::fmt_size(l))
            }
            crate::limits::ReadError::Io(e) => e.to_string(),
        };
        CliError::Usage(
            format!("cannot read {shown}: {why}"),
            BASELINE_HINT.to_owned(),
        )
    })?;
    let baseline = Baseline::from_json(&path.value, &bytes).map_err(|e| {
        CliError::Usage(
            format!("{shown} is unusable: {e}"),
            BASELINE_HINT.to_owned(),
        )
    })?;
    Ok(Some((baseline, mode)))
}

/// The build writing a summary: the CI system's number and link, and the time; `None` outside
/// a known CI system (so that a local run's summary stays the same from run to run).
pub(crate) fn build_info(env: EnvLookup<'_>) -> Option<BuildInfo> {
    let ci = CiContext::detect(env);
    let system = ci.system?;
    let now = jiff::Timestamp::now();
    let now = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    Some(BuildInfo {
        system: Some(system.to_owned()),
        number: ci.build_number,
        url: ci.job_url,
        finished_at: Some(now.to_string()),
    })
}

/// Reads and parses one summary.json; `what` names it in errors.
pub(crate) fn read_summary(path: &Path) -> Result<Summary, String> {
    let bytes = crate::limits::read_limited(path, MAX_READ).map_err(|e| match e {
        crate::limits::ReadError::TooLarge(l) => format!(
            "summary `{}` is larger than {}",
            path.display(),
            crate::limits::fmt_size(l)
        ),
        crate::limits::ReadError::Io(e) => {
            format!("cannot read summary `{}`: {e}", path.display())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "`{}` is not a qcs summary.json (line {}, column {}): {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// The summaries of a history directory: `DIR/*.json` and `DIR/*/summary.json`, sorted by path.
fn history_files(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CliError::Read {
        what: "history directory",
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            let s = p.join("summary.json");
            if s.is_file() {
                files.push(s);
            }
        } else if p.extension().is_some_and(|x| x == "json") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// The trend from a history directory, with `current` (this run) as the last point.
pub(crate) fn trend_with_history(
    dir: &Path,
    current: &Summary,
) -> Result<Vec<TrendPoint>, CliError> {
    let mut points = Vec::new();
    let mut bad = Vec::new();
    for f in history_files(dir)? {
        match read_summary(&f) {
            Ok(s) => points.push(trend::point(&s, &label(&f))),
            Err(e) => bad.push(e),
        }
    }
    if !bad.is_empty() {
        return Err(CliError::BadInputs(
            bad,
            "--history reads DIR/*.json and DIR/*/summary.json as summaries of earlier runs: \
             move other files out of it",
        ));
    }
    trend::order(&mut points);
    if points.len() >= trend::MAX_POINTS {
        points.remove(0);
    }
    points.push(trend::point(current, "this run"));
    Ok(points)
}

/// How a summary file is labelled in a trend when it names no build: its directory's name
/// (`build-41/summary.json`), else its file name.
pub(crate) fn label(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    match (name.as_deref(), path.parent().and_then(Path::file_name)) {
        (Some("summary.json"), Some(dir)) => dir.to_string_lossy().into_owned(),
        (Some(n), _) => n.trim_end_matches(".json").to_owned(),
        _ => path.display().to_string(),
    }
}
