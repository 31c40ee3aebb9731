//! Turning the policy inputs of a command into one validated policy: the policy file
//! (`--policy`, or the config's `[policy]`), the plugin's criteria JSON, then flags on top.

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
            }
            Ok(p)
        }
        None => Err(CliError::Policy(issues, sources)),
    }
}

/// Reads a policy file into a raw policy, remembering its text for diagnostics.
pub(crate) fn read_policy_file(
    path: &std::path::Path,
    sources: &mut Sources,
) -> Result<RawPolicy, CliError> {
    let text = config::read_text(path, "policy file")?;
    let name = path.display().to_string();
    let raw = file::from_toml(&name, &text, None);
    sources.add(name, text);
    Ok(raw)
}

/// Reads the Jenkins plugin's criteria JSON into a raw policy.
pub(crate) fn read_criteria(path: &std::path::Path) -> Result<RawPolicy, CliError> {
    let text = config::read_text(path, "criteria JSON")?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CliError::BadInputs(
            vec![format!(
                "criteria JSON `{}` is not valid JSON at line {}, column {}: {e}",
                path.display(),
                e.line(),
                e.column()
            )],
            "the file must hold the plugin's {\"failConditions\": {...}} object",
        )
    })?;
    Ok(criteria::from_json(&path.display().to_string(), &doc))
}
