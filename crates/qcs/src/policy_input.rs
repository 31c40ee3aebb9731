//! Turning the policy inputs of a command into one validated policy: the policy file
//! (`--policy`, or the config's `[policy]`), the plugin's criteria JSON, then flags on top.
//! The later form wins per condition (`qcs_core::policy` documents the rule); what it replaced
//! is printed as a `note:` unless quiet.
//!
//! A policy file that holds criteria JSON (`--policy criteria.json`, or `policy = "…json"` in
//! the config) is read as criteria JSON, as `qcs policy check` reads it.

use std::io::Write as _;
use std::path::Path;

use owo_colors::OwoColorize as _;

use qcs_core::Policy;
use qcs_core::policy::{IssueLevel, PolicyIssue, RawPolicy, criteria, file};

use crate::cli::PolicyArgs;
use crate::config::{self, ConfigFile, ConfigPolicy};
use crate::diagnostics::{self, Sources};
use crate::error::CliError;

/// Reads and validates the policy (the config file's when `--policy` is not given); warnings
/// are printed unless `quiet`, errors returned all at once.
pub(crate) fn load(
    args: &PolicyArgs,
    file: Option<&ConfigFile>,
    quiet: bool,
) -> Result<Policy, CliError> {
    let mut sources = Sources::default();
    let mut raw = RawPolicy::default();
    if let Some(path) = &args.policy {
        raw = read_policy_file(path, &mut sources)?;
    } else if let Some(cfg) = file {
        match cfg.policy()? {
            ConfigPolicy::None => {}
            ConfigPolicy::Table => {
                let name = cfg.path.display().to_string();
                raw = file::from_toml(&name, &cfg.text, Some("policy"));
                sources.add(name, cfg.text.clone());
            }
            ConfigPolicy::File(path) => raw = read_policy_file(&path, &mut sources)?,
        }
    }
    if let Some(path) = &args.criteria_json {
        raw.merge(read_criteria(path)?);
    }
    raw.merge(args.flags().to_raw());
    let (policy, issues) = raw.validate();
    match policy {
        Some(p) => {
            let warnings: Vec<PolicyIssue> = issues
                .into_iter()
                .filter(|i| i.level == IssueLevel::Warning)
                .collect();
            if !quiet {
                diagnostics::eprint(&warnings, &sources);
                let mut err = anstream::stderr().lock();
                for o in &p.overrides {
                    let _ = writeln!(err, "{} {o}", "note:".cyan().bold());
                }
            }
            Ok(p)
        }
        None => Err(CliError::Policy(issues, sources)),
    }
}

/// Whether a policy file holds the plugin's criteria JSON rather than TOML: a `.json` name, or
/// text that starts with `{` (which TOML never does).
pub(crate) fn is_criteria(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
}

/// Reads a policy file into a raw policy (as criteria JSON when it holds that), remembering
/// its text for diagnostics.
pub(crate) fn read_policy_file(path: &Path, sources: &mut Sources) -> Result<RawPolicy, CliError> {
    let text = config::read_text(path, "policy file")?;
    if is_criteria(path, &text) {
        return criteria_from_text(path, &text);
    }
    let name = path.display().to_string();
    let raw = file::from_toml(&name, &text, None);
    sources.add(name, text);
    Ok(raw)
}

/// Reads the Jenkins plugin's criteria JSON into a raw policy.
pub(crate) fn read_criteria(path: &Path) -> Result<RawPolicy, CliError> {
    let text = config::read_text(path, "criteria JSON")?;
    criteria_from_text(path, &text)
}

/// Criteria JSON text into a raw policy: bad JSON, and a key given twice in one object, are
/// errors with their line and column.
fn criteria_from_text(path: &Path, text: &str) -> Result<RawPolicy, CliError> {
    let doc = criteria::parse_json(text).map_err(|e| {
        CliError::BadInputs(
            vec![format!(
                "criteria JSON `{}` is not valid at line {}, column {}: {}",
                path.display(),
                e.line,
                e.column,
                e.message
            )],
            "the file must hold the plugin's {\"failConditions\": {...}} object, each key once",
        )
    })?;
    Ok(criteria::from_json(&path.display().to_string(), &doc))
}
