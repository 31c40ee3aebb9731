//! `qcs policy check FILE`: validate a policy and print every problem at once with its location.

use std::fmt::Write as _;
use std::io::Write as _;

use qcs_core::Policy;
use qcs_core::exit::ExitCode;
use qcs_core::policy::{ExclusionTarget, IssueLevel};

use crate::cli::{GlobalArgs, PolicyCommand};
use crate::diagnostics::{self, Sources};
use crate::error::CliError;
use crate::policy_input::{read_criteria, read_policy_file};

/// Runs `qcs policy …`.
pub(crate) fn run(cmd: &PolicyCommand, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let PolicyCommand::Check { file } = cmd;
    let mut sources = Sources::default();
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let raw = if is_json {
        read_criteria(file)?
    } else {
        read_policy_file(file, &mut sources)?
    };
    let (policy, issues) = raw.validate();
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
    s
}
