//! Turning the policy inputs of a command (criteria JSON, flags) into one validated policy.

use qcs_core::Policy;
use qcs_core::policy::{IssueLevel, RawPolicy, criteria};

use crate::cli::PolicyArgs;
use crate::error::{CliError, print_issues};

/// Reads and validates the policy; warnings are printed, errors returned all at once.
pub(crate) fn load(args: &PolicyArgs, quiet: bool) -> Result<Policy, CliError> {
    let mut raw = RawPolicy::default();
    if let Some(path) = &args.criteria_json {
        let bytes = std::fs::read(path).map_err(|source| CliError::Read {
            what: "criteria JSON",
            path: path.clone(),
            source,
        })?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
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
        raw = criteria::from_json(&path.display().to_string(), &doc);
    }
    raw.merge(args.flags().to_raw());
    let (policy, issues) = raw.validate();
    match policy {
        Some(p) => {
            let warnings: Vec<_> = issues
                .into_iter()
                .filter(|i| i.level == IssueLevel::Warning)
                .collect();
            if !quiet {
                print_issues(&warnings);
            }
            Ok(p)
        }
        None => Err(CliError::Policy(issues)),
    }
}
