//! Finding the config file (`--config PATH`, else `QCS_CONFIG`, else `./qcs.toml` if present)
//! and the policy it holds: a `[policy]` table, or `policy = "path"` naming a policy file
//! (relative to the config file's directory).
//!
//! Every key of the file is checked when it is read, at every level: an unknown top-level key
//! (`polciy = …`), an unknown table (`[wiat]`, `[Policy.fail]`), an unknown key inside a table,
//! a secret and every key of the `[policy]` table are errors with `file:line:col` and a
//! "did you mean" hint, so a typo can never drop a setting (or the whole policy) silently.

use std::ops::Range;
use std::path::{Path, PathBuf};

use qcs_core::policy::file::{line_col, unknown_key_hint};
use qcs_core::policy::{IssueLevel, Origin, PolicyIssue};
use toml::de::{DeTable, DeValue};

use crate::cli::GlobalArgs;
use crate::diagnostics::Sources;
use crate::env::QCS_CONFIG;
use crate::error::CliError;

/// The keys of `[qualys]`.
pub(crate) const QUALYS_KEYS: &[&str] = &[
    "platform",
    "api-url",
    "gateway-url",
    "auth",
    "oauth-endpoint",
    "ca-bundle",
    "request-timeout",
];
/// The keys of `[proxy]`.
pub(crate) const PROXY_KEYS: &[&str] = &["url", "no-proxy"];
/// The keys of `[engine]`.
pub(crate) const ENGINE_KEYS: &[&str] = &["host", "cert-dir", "namespace", "sensor-check"];
/// The keys of `[output]`.
pub(crate) const OUTPUT_KEYS: &[&str] = &["dir", "formats", "dockerfile"];
/// The keys of `[webhook]` (`url` and `secret` are known only to be refused as secrets).
pub(crate) const WEBHOOK_KEYS: &[&str] = &["url-env", "timeout", "url", "secret"];

/// The tables of a config file with their keys; `policy` (a table or a file name) is read by
/// `qcs_core::policy::file`.
fn tables() -> [(&'static str, &'static [&'static str]); 6] {
    [
        ("qualys", QUALYS_KEYS),
        ("proxy", PROXY_KEYS),
        ("engine", ENGINE_KEYS),
        ("wait", crate::settings::WAIT_KEYS),
        ("output", OUTPUT_KEYS),
        ("webhook", WEBHOOK_KEYS),
    ]
}

/// The top-level keys of a config file.
const TOP_KEYS: &[&str] = &[
    "qualys", "proxy", "engine", "wait", "policy", "output", "webhook",
];

/// Keys that would hold a secret: refused with [`crate::settings::SECRET_HINT`] wherever they
/// appear.
const SECRET_KEYS: &[&str] = &[
    "username",
    "password",
    "client-id",
    "client-secret",
    "token",
    "secret",
];

/// A config file as read.
#[derive(Debug)]
pub(crate) struct ConfigFile {
    /// Where it was found.
    pub(crate) path: PathBuf,
    /// Its text.
    pub(crate) text: String,
}

/// Where the config's policy is.
#[derive(Debug)]
pub(crate) enum ConfigPolicy {
    /// No policy in the config.
    None,
    /// A `[policy]` table in the config itself.
    Table,
    /// `policy = "path"`: a separate policy file.
    File(PathBuf),
}

/// Reads the config file, if any: an explicitly named one (`--config`, else `QCS_CONFIG`) must
/// exist; `./qcs.toml` is optional; `--no-config` reads none.
pub(crate) fn locate(global: &GlobalArgs) -> Result<Option<ConfigFile>, CliError> {
    if global.no_config {
        return Ok(None);
    }
    let named = global.config.clone().or_else(|| {
        std::env::var_os(QCS_CONFIG)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let path = match named {
        Some(p) => p,
        None => {
            let p = PathBuf::from("qcs.toml");
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let text = read_text(&path, "config file")?;
    let file = ConfigFile { path, text };
    file.refuse_mistakes()?;
    Ok(Some(file))
}

/// Whether a TOML document looks like a config file rather than a policy file: it has a
/// top-level key of the config (other than a policy file's `fail` and `exclude`).
pub(crate) fn looks_like_config(path: &Path, text: &str) -> bool {
    if path.file_name().is_some_and(|n| n == "qcs.toml") {
        return true;
    }
    let Ok(doc) = DeTable::parse(text) else {
        return false;
    };
    doc.get_ref()
        .keys()
        .any(|k| TOP_KEYS.contains(&k.get_ref().as_ref()))
}

/// Every problem of a config file's text: TOML syntax, unknown or misspelt keys at every level
/// (with the closest known key), values that should be tables, secrets, and every problem of
/// its `[policy]` table (errors and warnings). `name` is the file name shown in locations.
pub(crate) fn check(name: &str, text: &str) -> Vec<PolicyIssue> {
    let mut issues = Vec::new();
    let mut push = |span: Range<usize>, message: String, hint: String| {
        let (line, col) = line_col(text, span.start);
        issues.push(PolicyIssue {
            level: IssueLevel::Error,
            origin: Origin {
                place: format!("{name}:{line}:{col}"),
                span: Some(span),
                file: Some(name.to_owned()),
            },
            message,
            hint: Some(hint),
        });
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in &errors {
            push(
                e.span().unwrap_or(0..0),
                e.message().trim().to_owned(),
                "fix the TOML syntax at this place".to_owned(),
            );
        }
        return issues;
    }
    let doc = doc.into_inner();
    let mut policy_table = false;
    for (key, value) in &doc {
        let k: &str = key.get_ref();
        if !TOP_KEYS.contains(&k) {
            let what = if matches!(value.get_ref(), DeValue::Table(_)) {
                format!("unknown table `[{k}]`")
            } else {
                format!("unknown key `{k}`")
            };
            push(key.span(), what, unknown_key_hint(k, TOP_KEYS));
            continue;
        }
        if k == "policy" {
            match value.get_ref() {
                DeValue::Table(_) => policy_table = true,
                DeValue::String(_) => {}
                other => push(
                    value.span(),
                    format!(
                        "`policy` is {}, neither a table nor a file name",
                        qcs_core::policy::file::kind(other)
                    ),
                    "write policy = \"qcs-policy.toml\", or a [policy] table with [policy.fail]"
                        .to_owned(),
                ),
            }
            continue;
        }
        let Some((_, known)) = tables().into_iter().find(|(t, _)| *t == k) else {
            continue;
        };
        let DeValue::Table(t) = value.get_ref() else {
            push(
                value.span(),
                format!(
                    "`{k}` is {}, not a table",
                    qcs_core::policy::file::kind(value.get_ref())
                ),
                format!("write it as a [{k}] table"),
            );
            continue;
        };
        for (sub, _) in t {
            let s: &str = sub.get_ref();
            if SECRET_KEYS.contains(&s) || (k == "webhook" && s == "url") {
                let hint = if k == "webhook" {
                    crate::settings::webhook::SECRET_HINT
                } else {
                    crate::settings::SECRET_HINT
                };
                push(sub.span(), format!("`{s}` in [{k}]"), hint.to_owned());
            } else if !known.contains(&s) {
                push(
                    sub.span(),
                    format!("unknown key `{s}` in [{k}]"),
                    unknown_key_hint(s, known),
                );
            }
        }
    }
    if policy_table {
        let (_, policy_issues) =
            qcs_core::policy::file::from_toml(name, text, Some("policy")).validate();
        issues.extend(policy_issues);
    }
    issues
}

/// Reads a UTF-8 text file, naming it in the error.
pub(crate) fn read_text(path: &Path, what: &'static str) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

impl ConfigFile {
    /// Refuses a config file with any error (every one of them reported with its place);
    /// warnings are left to the reader of the setting (the policy's are printed when it loads).
    pub(crate) fn refuse_mistakes(&self) -> Result<(), CliError> {
        let name = self.path.display().to_string();
        let issues = check(&name, &self.text);
        if issues.iter().any(|i| i.level == IssueLevel::Error) {
            let mut sources = Sources::default();
            sources.add(name, self.text.clone());
            let errors = issues
                .into_iter()
                .filter(|i| i.level == IssueLevel::Error)
                .collect();
            return Err(CliError::Config(self.path.clone(), errors, sources));
        }
        Ok(())
    }

    /// Where this config keeps its policy. A config that is not valid TOML is reported when the
    /// policy table is read (with its position), so it counts as having a table here.
    pub(crate) fn policy(&self) -> Result<ConfigPolicy, CliError> {
        let Ok(doc) = toml::from_str::<toml::Table>(&self.text) else {
            return Ok(ConfigPolicy::Table);
        };
        match doc.get("policy") {
            None => Ok(ConfigPolicy::None),
            Some(toml::Value::Table(_)) => Ok(ConfigPolicy::Table),
            Some(toml::Value::String(p)) => {
                let base = self.path.parent().unwrap_or_else(|| Path::new(""));
                Ok(ConfigPolicy::File(base.join(p)))
            }
            Some(other) => Err(CliError::BadInputs(
                vec![format!(
                    "config `{}`: `policy` is a {}, neither a table nor a file name",
                    self.path.display(),
                    other.type_str()
                )],
                "write policy = \"qcs-policy.toml\", or a [policy] table with [policy.fail]",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> Vec<String> {
        check("qcs.toml", text)
            .into_iter()
            .map(|i| {
                format!(
                    "{}: {} ({})",
                    i.origin,
                    i.message,
                    i.hint.unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn every_key_at_every_level_is_checked() {
        let all = "[qualys]\nplatform = \"US1\"\n[proxy]\nurl = \"http://p:3128\"\n\
                   [engine]\nhost = \"unix:///x\"\n[wait]\ntimeout = \"1m\"\n\
                   [output]\ndir = \"out\"\n[webhook]\nurl-env = \"HOOK\"\n\
                   [policy.fail]\ncves = [\"CVE-2021-44228\"]\n";
        assert!(messages(all).is_empty(), "{:#?}", messages(all));
        assert!(messages("policy = \"p.toml\"\n").is_empty());
        for (text, want) in [
            (
                "polciy = \"p.toml\"\n",
                "qcs.toml:1:1: unknown key `polciy` (did you mean `policy`?",
            ),
            (
                "[WAIT]\n",
                "qcs.toml:1:2: unknown table `[WAIT]` (did you mean `wait`?",
            ),
            (
                "[[wait]]\ntimeout = \"1m\"\n",
                "`wait` is a list, not a table",
            ),
            (
                "policy = 3\n",
                "`policy` is an integer, neither a table nor a file name",
            ),
            (
                "[qualys]\nplatfrom = \"US1\"\n",
                "unknown key `platfrom` in [qualys] (did you mean `platform`?",
            ),
            (
                "[qualys.proxy]\nurl = \"x\"\n",
                "unknown key `proxy` in [qualys]",
            ),
            (
                "[webhook]\nurl = \"https://x\"\n",
                "`url` in [webhook] (the webhook URL",
            ),
            (
                "[proxy]\npassword = \"x\"\n",
                "`password` in [proxy] (secrets never go",
            ),
            (
                "[policy.fail]\ncvss = { version = \"3\", scroe = 9 }\n",
                "unknown key `policy.fail.cvss.scroe`",
            ),
            (
                "[policy]\n[[policy.exclude]]\nqid = \"1\"\nreson = \"x\"\n",
                "unknown key `policy.exclude.reson`",
            ),
            ("[wait\n", "qcs.toml:1:"),
        ] {
            let got = messages(text);
            assert!(got.iter().any(|m| m.contains(want)), "{want}\n{got:#?}");
        }
        assert!(looks_like_config(Path::new("ci/gate.toml"), "[wait]\n"));
        assert!(looks_like_config(Path::new("qcs.toml"), ""));
        assert!(!looks_like_config(Path::new("p.toml"), "[fail]\n"));
    }
}
