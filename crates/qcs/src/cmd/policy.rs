//! `qcs policy check FILE`: validate a policy and print every problem at once with its location.
//! FILE is a policy file (TOML), the plugin's criteria JSON (a `.json` name, or text starting
//! with `{`), or a config file (`qcs.toml`, or TOML with config tables): then every key of the
//! config is checked, its `[policy]` table, and the policy file it names.

use std::fmt::Write as _;
use std::io::Write as _;

use qcs_core::Policy;
use qcs_core::exit::ExitCode;
use qcs_core::policy::{ExclusionTarget, IssueLevel};

use crate::cli::{GlobalArgs, PolicyCommand};
use crate::diagnostics::{self, Sources};
use crate::error::CliError;
use crate::policy_input::read_policy_file;

/// Runs `qcs policy …`.
pub(crate) fn run(cmd: &PolicyCommand, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let PolicyCommand::Check { file } = cmd;
    let mut sources = Sources::default();
    let text = crate::config::read_text(file, "policy file")?;
    let (policy, issues) = if !crate::policy_input::is_criteria(file, &text)
        && crate::config::looks_like_config(file, &text)
    {
        check_config(file, text, &mut sources)?
    } else {
        read_policy_file(file, &mut sources)?.validate()
    };
    diagnostics::eprint(&issues, &sources);
    let errors = issues
        .iter()
        .filter(|i| i.level == IssueLevel::Error)
        .count();
    let warnings = issues.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match policy {
        Some(p) => {
            if !global.quiet {
                let mut out = anstream::stdout().lock();
                let _ = write!(out, "{}", describe(&p));
                let _ = writeln!(
                    out,
                    "{}: valid ({})",
                    file.display(),
                    plural(warnings, "warning")
                );
            }
            Ok(ExitCode::Passed)
        }
        None => {
            let mut err = anstream::stderr().lock();
            let _ = writeln!(
                err,
                "{}: invalid ({}, {})",
                file.display(),
                plural(errors, "error"),
                plural(warnings, "warning")
            );
            Ok(ExitCode::Config)
        }
    }
}

/// Checks a config file: every key of it (with its `[policy]` table), and the policy file its
/// `policy = "…"` names. Returns the config's policy (none: no conditions) and every issue.
fn check_config(
    file: &std::path::Path,
    text: String,
    sources: &mut Sources,
) -> Result<(Option<Policy>, Vec<qcs_core::policy::PolicyIssue>), CliError> {
    let name = file.display().to_string();
    let mut issues = crate::config::check(&name, &text);
    let cfg = crate::config::ConfigFile {
        path: file.to_owned(),
        text,
    };
    let config_ok = !issues.iter().any(|i| i.level == IssueLevel::Error);
    let policy = match cfg.policy() {
        Ok(crate::config::ConfigPolicy::File(path)) => {
            let (p, more) = read_policy_file(&path, sources)?.validate();
            issues.extend(more);
            p
        }
        Ok(crate::config::ConfigPolicy::Table) => {
            qcs_core::policy::file::from_toml(&name, &cfg.text, Some("policy"))
                .validate()
                .0
        }
        Ok(crate::config::ConfigPolicy::None) | Err(_) => Some(Policy::default()),
    };
    sources.add(name, cfg.text);
    Ok((policy.filter(|_| config_ok), issues))
}

/// What the policy does, in a few lines.
pub(crate) fn describe(p: &Policy) -> String {
    let mut s = String::new();
    let levels: Vec<String> = (1..=5)
        .rev()
        .filter_map(|l| p.severity[l - 1].map(|n| format!("more than {n} of severity {l}")))
        .collect();
    if p.has_conditions() {
        s.push_str("fails on:\n");
        if !levels.is_empty() {
            let _ = writeln!(s, "  {}", levels.join(", "));
        }
        if !p.qids.is_empty() {
            let q: Vec<String> = p.qids.iter().map(ToString::to_string).collect();
            let _ = writeln!(s, "  QIDs {}", q.join(", "));
        }
        if !p.cves.is_empty() {
            let c: Vec<&str> = p.cves.iter().map(qcs_core::ids::CveId::as_str).collect();
            let _ = writeln!(s, "  CVEs {}", c.join(", "));
        }
        for f in &p.software {
            let _ = writeln!(s, "  installed software matching {}", f.text);
        }
        if let Some(c) = p.cvss {
            let _ = writeln!(
                s,
                "  CVSS v{} base score >= {:.1}",
                c.version.as_str(),
                c.score
            );
        }
    } else {
        s.push_str("fails on: nothing (no condition configured; a missing scan still fails)\n");
    }
    let scope = match (p.potential, p.fixable_only) {
        (false, false) => "confirmed vulnerabilities",
        (true, false) => "confirmed and potential vulnerabilities",
        (false, true) => "confirmed vulnerabilities with a patch",
        (true, true) => "confirmed and potential vulnerabilities with a patch",
    };
    let _ = writeln!(s, "judges: {scope}");
    for e in &p.exclusions {
        let what = match &e.target {
            ExclusionTarget::Qid(q) => format!("QID {q}"),
            ExclusionTarget::Cve(c) => format!("{c}"),
        };
        let until = e.expires.map(|d| format!(" until {d}")).unwrap_or_default();
        let why = e
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let _ = writeln!(s, "excludes: {what}{until}{why}");
    }
    for o in &p.overrides {
        let _ = writeln!(s, "overrides: {o}");
    }
    s
}
