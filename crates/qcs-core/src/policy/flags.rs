//! Policy given as command-line flags (`--fail-severity 5=0,4=2`, `--fail-cvss 3:7.0`, …),
//! read into a [`RawPolicy`]. The flags are parsed here, not in the binary, so that every input
//! form goes through the same validation.
//!
//! Flags win over the policy file and the criteria JSON per condition ([`RawPolicy::merge`]):
//! `--fail-severity 5=1` replaces the file's level-5 limit (`5=off` drops it), `--fail-cvss`
//! replaces the threshold (`off` drops it), `--potential=false` and `--fixable-only=false`
//! switch the file's `true` off; list flags add entries. A flag given with nothing in it
//! (`--fail-severity ""`) is an error, never "no condition".

use super::{Origin, RawExclusion, RawPolicy, Spanned};

/// The policy flags as the command line gave them (each list flag may be repeated and may hold
/// comma-separated values).
#[derive(Debug, Clone, Default)]
pub struct PolicyFlags {
    /// `--fail-severity 5=0,4=2`.
    pub fail_severity: Vec<String>,
    /// `--fail-qids 179203,170560-170590`.
    pub fail_qids: Vec<String>,
    /// `--fail-cves CVE-2021-44228`.
    pub fail_cves: Vec<String>,
    /// `--fail-software 'openssl=1\.1\..*'` (commas inside regex braces, brackets or groups do
    /// not split).
    pub fail_software: Vec<String>,
    /// `--fail-cvss 3:7.0` (or `off`).
    pub fail_cvss: Option<String>,
    /// `--potential` (`Some(true)`) or `--potential=false`; `None` when not given.
    pub potential: Option<bool>,
    /// `--fixable-only` or `--fixable-only=false`; `None` when not given.
    pub fixable_only: Option<bool>,
    /// `--exclude-qids`.
    pub exclude_qids: Vec<String>,
    /// `--exclude-cves`.
    pub exclude_cves: Vec<String>,
    /// `--baseline PATH`.
    pub baseline: Option<String>,
    /// `--baseline-mode all|new`.
    pub baseline_mode: Option<String>,
}

impl PolicyFlags {
    /// Reads the flags into a raw policy (problems are collected, not returned early).
    pub fn to_raw(&self) -> RawPolicy {
        let flag_bool = |v: Option<bool>, name: &str| {
            v.map(|b| {
                let shown = if b {
                    name.to_owned()
                } else {
                    format!("{name}=false")
                };
                Spanned::new(b, Origin::at(shown))
            })
        };
        let mut raw = RawPolicy {
            potential: flag_bool(self.potential, "--potential"),
            fixable_only: flag_bool(self.fixable_only, "--fixable-only"),
            baseline_path: self
                .baseline
                .as_ref()
                .map(|p| Spanned::new(p.clone(), Origin::at(format!("--baseline {p}")))),
            baseline_mode: self
                .baseline_mode
                .as_ref()
                .map(|m| Spanned::new(m.clone(), Origin::at(format!("--baseline-mode {m}")))),
            ..RawPolicy::default()
        };
        for (flag, values) in [
            ("--fail-severity", &self.fail_severity),
            ("--fail-qids", &self.fail_qids),
            ("--fail-cves", &self.fail_cves),
            ("--fail-software", &self.fail_software),
            ("--exclude-qids", &self.exclude_qids),
            ("--exclude-cves", &self.exclude_cves),
        ] {
            if values.iter().any(|v| split_list(v).is_empty()) {
                raw.issues.push(super::PolicyIssue {
                    level: super::IssueLevel::Error,
                    origin: Origin::at(format!("{flag} \"\"")),
                    message: "the value is empty".to_owned(),
                    hint: Some(format!(
                        "give at least one entry, or leave {flag} out (an empty value is \
                         never read as \"no condition\")"
                    )),
                });
            }
        }
        for item in self.fail_severity.iter().flat_map(|v| split_list(v)) {
            let origin = Origin::at(format!("--fail-severity {item}"));
            let (level, limit) = item.split_once('=').unwrap_or((item, ""));
            if limit.trim().eq_ignore_ascii_case("off") {
                raw.severity_off
                    .push(Spanned::new(level.trim().to_owned(), origin));
                continue;
            }
            match limit.trim().parse::<i64>() {
                Ok(l) => raw.severity.push((
                    Spanned::new(level.trim().to_owned(), origin.clone()),
                    Spanned::new(l, origin),
                )),
                Err(_) => raw.issues.push(super::PolicyIssue {
                    level: super::IssueLevel::Error,
                    origin,
                    message: format!("`{item}` is not LEVEL=LIMIT"),
                    hint: Some("write e.g. --fail-severity 5=0,4=2 (fail on any level 5, on more than 2 level 4), or 5=off to drop a level's limit".into()),
                }),
            }
        }
        raw.qids = spanned("--fail-qids", &self.fail_qids);
        raw.cves = spanned("--fail-cves", &self.fail_cves);
        raw.software = spanned("--fail-software", &self.fail_software);
        if let Some(c) = &self.fail_cvss {
            let origin = Origin::at(format!("--fail-cvss {c}"));
            if c.trim().eq_ignore_ascii_case("off") {
                raw.cvss_off = Some(origin);
            } else {
                match c.split_once(':').map(|(v, s)| (v, s.trim().parse::<f64>())) {
                    Some((v, Ok(score))) => {
                        raw.cvss = Some((
                            Spanned::new(v.trim().to_owned(), origin.clone()),
                            Spanned::new(score, origin),
                        ));
                    }
                    _ => raw.issues.push(super::PolicyIssue {
                        level: super::IssueLevel::Error,
                        origin,
                        message: format!("`{c}` is not VERSION:SCORE"),
                        hint: Some(
                            "write e.g. --fail-cvss 3:7.0 (version 2, 3 or max), or off".into(),
                        ),
                    }),
                }
            }
        }
        for q in spanned("--exclude-qids", &self.exclude_qids) {
            raw.exclude.push(RawExclusion {
                origin: q.origin.clone(),
                qid: Some(q),
                ..RawExclusion::default()
            });
        }
        for c in spanned("--exclude-cves", &self.exclude_cves) {
            raw.exclude.push(RawExclusion {
                origin: c.origin.clone(),
                cve: Some(c),
                ..RawExclusion::default()
            });
        }
        raw
    }
}

fn spanned(flag: &str, values: &[String]) -> Vec<Spanned<String>> {
    values
        .iter()
        .flat_map(|v| split_list(v))
        .map(|item| Spanned::new(item.to_owned(), Origin::at(format!("{flag} {item}"))))
        .collect()
}

/// Splits a comma list, keeping commas that sit inside `{}`, `[]` or `()` (regex syntax such as
/// `a{1,3}`) or follow a backslash. Entries are trimmed; empty ones are dropped.
pub fn split_list(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut escaped) = (0i32, 0usize, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            ',' if depth <= 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out.retain(|x| !x.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_outside_regex_syntax() {
        assert_eq!(split_list("a, b,,c "), ["a", "b", "c"]);
        assert_eq!(
            split_list("lib{1,3}=.*,x[,]y,(a,b)"),
            ["lib{1,3}=.*", "x[,]y", "(a,b)"]
        );
        assert_eq!(split_list(r"a\,b,c"), [r"a\,b", "c"]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn flags_map_onto_the_policy() {
        let flags = PolicyFlags {
            fail_severity: vec!["5=0,4=2".into()],
            fail_qids: vec!["1,2-4".into(), "9".into()],
            fail_cvss: Some("max:9.8".into()),
            exclude_cves: vec!["CVE-2021-44228".into()],
            potential: Some(true),
            ..PolicyFlags::default()
        };
        let (p, issues) = flags.to_raw().validate();
        assert!(issues.is_empty(), "{issues:?}");
        let p = p.unwrap();
        assert_eq!(p.severity, [None, None, None, Some(2), Some(0)]);
        assert_eq!(p.qids.len(), 3);
        assert!((p.cvss.unwrap().score - 9.8).abs() < 1e-9);
        assert_eq!(p.exclusions.len(), 1);
        assert!(p.potential);
    }

    /// Issue 12, item 7: `--fail-severity ""` (an empty CI variable, say) is an error, never
    /// "no condition"; the same for every list flag.
    #[test]
    fn an_empty_flag_is_an_error() {
        for f in [
            PolicyFlags {
                fail_severity: vec![String::new()],
                ..PolicyFlags::default()
            },
            PolicyFlags {
                fail_cves: vec![" , ".into()],
                ..PolicyFlags::default()
            },
            PolicyFlags {
                exclude_qids: vec![String::new()],
                ..PolicyFlags::default()
            },
        ] {
            let (p, issues) = f.to_raw().validate();
            assert!(p.is_none(), "{f:?}");
            assert_eq!(issues[0].message, "the value is empty");
        }
    }

    #[test]
    fn bad_flags_are_all_reported_with_the_flag_name() {
        let flags = PolicyFlags {
            fail_severity: vec!["5".into(), "7=1".into()],
            fail_cves: vec!["CVE-1".into()],
            fail_cvss: Some("7.0".into()),
            exclude_qids: vec!["9-3".into()],
            ..PolicyFlags::default()
        };
        let (p, issues) = flags.to_raw().validate();
        assert!(p.is_none());
        let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 5, "{text:#?}");
        for want in [
            "--fail-severity 5",
            "--fail-severity 7=1",
            "--fail-cves CVE-1",
            "--fail-cvss 7.0",
            "--exclude-qids 9-3",
        ] {
            assert!(
                text.iter().any(|t| t.starts_with(want)),
                "{want} missing in {text:#?}"
            );
        }
    }
}
