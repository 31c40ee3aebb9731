//! The mapping from the plugin's settings to `qcs.toml` and `qcs-policy.toml`: pure, no I/O.
//!
//! Which source wins follows the plugin (`plugin-behaviour.md` §3): a job with
//! `useLocalConfig: true` uses its own settings; otherwise the Jenkins-wide ones, with only
//! `imageIds` from the job. `webhookUrl`, `dockerUrl` and `dockerCert` fall back to the
//! Jenkins-wide value when the job leaves them empty. A known `platform` other than `PCP` wins
//! over `apiServer`. A list counts only when its switch is on. The form's defaults apply where
//! a saved job relies on them (a severity limit 0, CVSS version `2`, threshold `0.0`); an
//! exclusion list without `excludeBy` excludes nothing.
//!
//! Every written setting carries a comment saying where it came from. Secrets are never
//! written, and never shown: they become instructions (which variable or credential to set).
//! What cannot be read, or maps only approximately, becomes a row of the table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use qcs_core::policy::IssueLevel;

use super::model::{Field, Fields, Job, Origin, Row, Value};

/// What the migration reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sources<'a> {
    /// The Jenkins-wide configuration, when given.
    pub(crate) global: Option<&'a Fields>,
    /// The job's step, when given.
    pub(crate) job: Option<&'a Job>,
    /// Credential ids known from `credentials.xml`: `true` for the plugin's OAuth type.
    pub(crate) credential_kinds: &'a BTreeMap<String, bool>,
    /// The policy file's name, as `qcs.toml` refers to it.
    pub(crate) policy_file: &'a str,
}

/// A secret `qcs` reads from the environment, and how to provide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction {
    /// The plugin's setting, with where it was read.
    pub(crate) setting: String,
    /// Its value as it may be shown: a credential id, `(encrypted)` or `(set)`.
    pub(crate) shown: String,
    /// What to do.
    pub(crate) text: String,
}

/// A Jenkins credential to bind to environment variables (for the freestyle steps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    /// The credential's id.
    pub(crate) id: String,
    /// `Username and password (separated)` variables, or a single `Secret text` variable.
    pub(crate) vars: (String, Option<String>),
}

/// The result: the two files, the instructions and the table.
#[derive(Debug, Clone)]
pub(crate) struct Migration {
    /// `qcs.toml`.
    pub(crate) config: String,
    /// `qcs-policy.toml`.
    pub(crate) policy: String,
    /// Secrets to provide.
    pub(crate) instructions: Vec<Instruction>,
    /// Settings that need a look.
    pub(crate) rows: Vec<Row>,
    /// The images (`imageIds`), when known.
    pub(crate) images: Vec<String>,
    /// Credentials to bind in a freestyle job, in order.
    pub(crate) bindings: Vec<Binding>,
    /// How many settings each file got.
    pub(crate) counts: (usize, usize),
}

/// Why the settings cannot be migrated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MigrateError {
    /// What is wrong.
    pub(crate) message: String,
    /// What to do about it.
    pub(crate) hint: &'static str,
}

/// Fields that never say anything on their own.
const BOOKKEEPING: &[&str] = &["useGlobalConfig", "useLocalConfig", "isFailOnSevereVulns"];
/// Fields a job keeps even when it uses the Jenkins-wide configuration.
const JOB_ALWAYS: &[&str] = &["imageIds", "webhookUrl", "dockerUrl", "dockerCert"];

/// Maps the plugin's settings.
pub(crate) fn migrate(src: &Sources<'_>) -> Result<Migration, MigrateError> {
    let local = src.job.is_some_and(|j| {
        j.fields
            .get("useLocalConfig")
            .and_then(|f| f.value.boolean())
            .unwrap_or(false)
    });
    let mut m = Mapper {
        global: src.global,
        job: src.job,
        local,
        kinds: src.credential_kinds,
        config: Toml::default(),
        policy: Toml::default(),
        instructions: Vec::new(),
        rows: Vec::new(),
        bindings: Vec::new(),
    };
    if let Some(job) = src.job {
        m.rows.extend(job.notes.iter().cloned());
        if !local {
            if src.global.is_none() {
                return Err(MigrateError {
                    message: format!(
                        "the {} `{}` uses the Jenkins-wide configuration (useLocalConfig is not \
                         true), which was not given",
                        job.kind, job.name
                    ),
                    hint: "give the plugin's global configuration with --global PATH (or set \
                           JENKINS_HOME), or migrate a job with useLocalConfig: true",
                });
            }
            m.job_uses_global(job);
        }
    }
    m.top(src.policy_file);
    m.server();
    m.credentials();
    m.proxy();
    m.engine();
    m.wait();
    m.webhook();
    m.severities();
    m.lists();
    m.cvss();
    m.potential();
    m.exclusions();
    let images = m.images();
    m.validate()?;
    let counts = (m.config.count(), m.policy.count());
    let sources_line = sources_line(src);
    Ok(Migration {
        config: m.config.render(&format!(
            "# qcs configuration, written by `qcs migrate jenkins` from {sources_line}.\n\
             # Each setting says where it came from. Secrets are not in this file: qcs reads them\n\
             # from the environment (QUALYS_USERNAME/QUALYS_PASSWORD or QUALYS_CLIENT_ID/\n\
             # QUALYS_CLIENT_SECRET, QCS_PROXY_USERNAME/QCS_PROXY_PASSWORD, QCS_WEBHOOK_URL).\n\
             # Check it with: qcs scan --print-config\n"
        )),
        policy: m.policy.render(&format!(
            "# qcs policy, written by `qcs migrate jenkins` from {sources_line}.\n\
             # Each condition says where it came from; docs/policy.md explains every key.\n\
             # Check it with: qcs policy check {}\n{}",
            src.policy_file,
            if counts.1 == 0 {
                "#\n# No fail condition was configured: images pass on their data (a missing scan\n\
                 # result still fails). Add conditions under [fail].\n"
            } else {
                ""
            }
        )),
        instructions: m.instructions,
        rows: m.rows,
        images,
        bindings: m.bindings,
        counts,
    })
}

fn sources_line(src: &Sources<'_>) -> String {
    let global = src.global.and_then(|g| {
        g.iter().next().map(|(_, f)| match &f.origin {
            Origin::Global(file) | Origin::Job(file) | Origin::Script(file, _) => file.clone(),
        })
    });
    let job = src.job.map(|j| format!("the {} `{}`", j.kind, j.name));
    match (global, job) {
        (Some(g), Some(j)) => format!("{g} and {j}"),
        (Some(g), None) => g,
        (None, Some(j)) => j,
        (None, None) => "the Jenkins plugin's settings".to_owned(),
    }
}

/// A TOML document being written: top-level keys, then tables (`[name]`, or `[[name]]` for an
/// entry of an array of tables), each key with its comment lines.
#[derive(Debug, Default)]
struct Toml {
    /// (header, entries): the header is empty for the top level.
    tables: Vec<(String, Vec<Entry>)>,
}

#[derive(Debug)]
struct Entry {
    comments: Vec<String>,
    key: String,
    value: String,
}

impl Toml {
    fn table(&mut self, header: &str) -> &mut Vec<Entry> {
        let pos = if header.starts_with("[[") {
            None
        } else {
            self.tables.iter().position(|(h, _)| h == header)
        };
        let pos = pos.unwrap_or_else(|| {
            self.tables.push((header.to_owned(), Vec::new()));
            self.tables.len() - 1
        });
        &mut self.tables[pos].1
    }

    fn set(&mut self, header: &str, key: &str, value: String, comments: Vec<String>) {
        self.table(header).push(Entry {
            comments,
            key: key.to_owned(),
            value,
        });
    }

    fn count(&self) -> usize {
        self.tables.iter().map(|(_, e)| e.len()).sum()
    }

    fn render(&self, header: &str) -> String {
        let mut out = header.to_owned();
        // the top level first: a key after a table header would belong to that table
        let mut tables: Vec<&(String, Vec<Entry>)> = self.tables.iter().collect();
        tables.sort_by_key(|(h, _)| !h.is_empty());
        for (h, entries) in tables {
            if entries.is_empty() && !h.starts_with("[[") {
                continue;
            }
            out.push('\n');
            if !h.is_empty() {
                let _ = writeln!(out, "{h}");
            }
            for e in entries {
                for c in &e.comments {
                    let _ = writeln!(out, "# {c}");
                }
                let _ = writeln!(out, "{} = {}", e.key, e.value);
            }
        }
        out
    }
}

/// A TOML string.
fn string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML array of strings.
fn strings(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// Seconds as a `qcs` duration: `15m`, `1h`, `90s`.
fn duration(secs: u64) -> String {
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// The plugin's duration: seconds, or a product such as `2*60` (`setTimeoutInSec`).
fn plugin_seconds(text: &str) -> Option<u64> {
    text.trim()
        .split('*')
        .map(|p| p.trim().parse::<u64>().ok())
        .try_fold(1u64, |acc, n| acc.checked_mul(n?))
}

/// The plugin's list fields: comma-separated (newlines too), entries trimmed, empty ones left out.
fn split_list(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    out
}

/// Whether one entry of a `[fail]` list (or an `[[exclude]]` target) is valid, checked with the
/// policy reader itself; the first error's message when not.
fn check_entry(snippet: &str) -> Result<(), String> {
    let (_, issues) = qcs_core::policy::file::from_toml("entry", snippet, None).validate();
    match issues.into_iter().find(|i| i.level == IssueLevel::Error) {
        Some(i) => Err(i.message),
        None => Ok(()),
    }
}

/// Whether a value is an encrypted Jenkins `Secret` (`{AQAAAB…}`).
fn encrypted(text: &str) -> bool {
    let t = text.trim();
    t.len() > 2
        && t.starts_with('{')
        && t.ends_with('}')
        && t[1..t.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
}

struct Mapper<'a> {
    global: Option<&'a Fields>,
    job: Option<&'a Job>,
    local: bool,
    kinds: &'a BTreeMap<String, bool>,
    config: Toml,
    policy: Toml,
    instructions: Vec<Instruction>,
    rows: Vec<Row>,
    bindings: Vec<Binding>,
}

impl<'a> Mapper<'a> {
    /// The field as the plugin uses it (see the module documentation).
    fn field(&self, name: &str) -> Option<&'a Field> {
        let job_field = |n: &str| self.job.and_then(|j| j.fields.get(n));
        let global = self.global.and_then(|g| g.get(name));
        let present = |f: &&Field| {
            !matches!(&f.value, Value::Null) && f.value.text().is_none_or(|t| !t.trim().is_empty())
        };
        match name {
            "imageIds" => job_field(name),
            "webhookUrl" | "dockerUrl" => job_field(name).filter(present).or(global),
            // the cert directory goes with the engine URL: the job's when the job has its own
            // URL, else the Jenkins-wide one
            "dockerCert" if job_field("dockerUrl").as_ref().is_some_and(present) => job_field(name),
            "dockerCert" => global,
            _ if self.job.is_some() && self.local => job_field(name),
            _ => global,
        }
    }

    fn row(&mut self, f: Option<&Field>, name: &str, value: &str, becomes: &str, note: &str) {
        self.rows.push(Row {
            setting: place(f, name),
            value: value.to_owned(),
            becomes: becomes.to_owned(),
            note: note.to_owned(),
        });
    }

    /// A text field: trimmed, `None` when absent or empty. A value that cannot be read is a
    /// row (`becomes`: where it would have gone; `secret`: shown only as `(set)`).
    fn text(&mut self, name: &str, becomes: &str, secret: bool) -> Option<(String, &'a Field)> {
        let f = self.field(name)?;
        match &f.value {
            Value::Unreadable(expr) => {
                let shown = if secret {
                    "(set)".to_owned()
                } else {
                    expr.clone()
                };
                self.row(
                    Some(f),
                    name,
                    &shown,
                    &format!("{becomes} (not written)"),
                    "cannot be read without running the pipeline: set it by hand",
                );
                None
            }
            v => v
                .text()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .map(|t| (t, f)),
        }
    }

    /// A boolean field (absent: false).
    fn flag(&mut self, name: &str, becomes: &str) -> (bool, Option<&'a Field>) {
        let Some(f) = self.field(name) else {
            return (false, None);
        };
        match (&f.value, f.value.boolean()) {
            (_, Some(b)) => (b, Some(f)),
            (Value::Null, _) => (false, Some(f)),
            (Value::Text(t), _) if t.trim().is_empty() => (false, Some(f)),
            (v, None) => {
                let shown = match v {
                    Value::Unreadable(e) | Value::Text(e) | Value::Number(e) => e.clone(),
                    _ => String::new(),
                };
                self.row(
                    Some(f),
                    name,
                    &shown,
                    &format!("{becomes} (not written)"),
                    "not a boolean the plugin can read (true or false): the condition is off",
                );
                (false, Some(f))
            }
        }
    }

    fn comment(f: &Field, name: &str) -> String {
        f.origin.describe(name)
    }

    /// Rows for a job whose own settings the plugin ignores.
    fn job_uses_global(&mut self, job: &Job) {
        let ignored: Vec<&str> = job
            .fields
            .iter()
            .filter(|(k, _)| {
                !BOOKKEEPING.contains(&k.as_str()) && !JOB_ALWAYS.contains(&k.as_str())
            })
            .filter(|(_, f)| match &f.value {
                Value::Bool(b) => *b,
                Value::Null => false,
                Value::Text(t) => {
                    let t = t.trim();
                    !t.is_empty() && t != "false" && t != "0"
                }
                Value::Number(n) => n != "0",
                Value::Unreadable(_) => true,
            })
            .map(|(k, _)| k.as_str())
            .collect();
        let f = job.fields.get("useLocalConfig");
        let value = f
            .and_then(|f| f.value.text())
            .unwrap_or_else(|| "(not set)".to_owned());
        let setting = f.map_or_else(
            || format!("{} `{}` useLocalConfig", job.kind, job.name),
            |f| place(Some(f), "useLocalConfig"),
        );
        let note = if ignored.is_empty() {
            "the job uses the Jenkins-wide settings; only imageIds (and a webhookUrl, dockerUrl or \
             dockerCert of its own) come from it, as in the plugin"
                .to_owned()
        } else {
            format!(
                "the job's own {} are ignored, as in the plugin; give useLocalConfig: true to \
                 migrate them instead",
                ignored.join(", ")
            )
        };
        self.rows.push(Row {
            setting,
            value,
            becomes: "the Jenkins-wide settings".to_owned(),
            note,
        });
    }

    fn top(&mut self, policy_file: &str) {
        self.config.set(
            "",
            "policy",
            string(policy_file),
            vec!["the fail conditions and exclusions, migrated beside this file".to_owned()],
        );
    }

    /// `[qualys] platform` or `api-url`: a known platform other than PCP wins over `apiServer`.
    fn server(&mut self) {
        let platform = self.text("platform", "[qualys] platform", false);
        let api = self.text("apiServer", "[qualys] api-url", false);
        let mut pcp = None;
        if let Some((code, f)) = &platform {
            if code.eq_ignore_ascii_case("PCP") {
                pcp = Some(*f);
            } else if let Some(p) = qcs_qualys::platform::find(code) {
                let mut note = Self::comment(f, "platform");
                if !code.eq_ignore_ascii_case(p.code) {
                    let _ = write!(note, " ({code})");
                }
                self.config
                    .set("[qualys]", "platform", string(p.code), vec![note]);
                if let Some((url, af)) = &api {
                    self.row(
                        Some(af),
                        "apiServer",
                        url,
                        "(not used)",
                        &format!("the platform {code} wins over apiServer, as in the plugin"),
                    );
                }
                return;
            } else {
                self.row(
                    Some(f),
                    "platform",
                    code,
                    "(not used)",
                    "not a known platform code (`qcs platforms` lists them): apiServer is used, as in the plugin",
                );
            }
        }
        match api {
            Some((url, f)) => match qcs_qualys::Gateway::from_api_url(&url) {
                Ok(gw) => {
                    let mut comments = vec![Self::comment(f, "apiServer")];
                    if let Some(p) = pcp {
                        comments.push(format!(
                            "{} (PCP): a private platform; its gateway is {}",
                            p.origin.describe("platform"),
                            gw.url
                        ));
                    }
                    self.config.set("[qualys]", "api-url", string(&url), comments);
                }
                Err(e) => self.row(
                    Some(f),
                    "apiServer",
                    &url,
                    "[qualys] api-url (not written)",
                    &format!("not a usable URL ({e}): set [qualys] platform or api-url by hand"),
                ),
            },
            None => self.rows.push(Row {
                setting: "platform, apiServer".to_owned(),
                value: "(not set)".to_owned(),
                becomes: "[qualys] platform (not written)".to_owned(),
                note: "no Qualys server is configured: set platform in [qualys] (e.g. US2) or QUALYS_PLATFORM".to_owned(),
            }),
        }
    }

    /// `credentialsId` (or the legacy `apiUser`/`apiPass`): instructions, and `[qualys] auth`
    /// when `credentials.xml` tells the credential's type.
    fn credentials(&mut self) {
        let id = self.text("credentialsId", "QUALYS_USERNAME/QUALYS_PASSWORD", false);
        let user = self.text("apiUser", "QUALYS_USERNAME", true);
        let pass = self.field("apiPass").filter(|f| {
            f.value.text().is_some_and(|t| !t.trim().is_empty())
                || matches!(f.value, Value::Unreadable(_))
        });
        if let Some((id, f)) = id {
            let setting = place(Some(f), "credentialsId");
            match self.kinds.get(&id) {
                Some(true) => {
                    self.config.set(
                        "[qualys]",
                        "auth",
                        string("oauth"),
                        vec![format!(
                            "{}: a Qualys OAuth credential (credentials.xml)",
                            Self::comment(f, "credentialsId")
                        )],
                    );
                    self.instructions.push(Instruction {
                        setting,
                        shown: id.clone(),
                        text: format!(
                            "set QUALYS_CLIENT_ID and QUALYS_CLIENT_SECRET to the client id and secret of \
                             the Jenkins credential `{id}` (the plugin's OAuth type: Pipeline's \
                             usernamePassword binding cannot bind it, so keep them as a \"Username with \
                             password\" credential and bind that)"
                        ),
                    });
                    self.bindings.push(Binding {
                        id: format!(
                            "<a Username with password credential holding the client id and secret of {id}>"
                        ),
                        vars: (
                            "QUALYS_CLIENT_ID".to_owned(),
                            Some("QUALYS_CLIENT_SECRET".to_owned()),
                        ),
                    });
                }
                Some(false) => {
                    self.config.set(
                        "[qualys]",
                        "auth",
                        string("basic"),
                        vec![format!(
                            "{}: a username/password credential (credentials.xml)",
                            Self::comment(f, "credentialsId")
                        )],
                    );
                    self.instructions.push(Instruction {
                        setting,
                        shown: id.clone(),
                        text: format!(
                            "bind the Jenkins credential `{id}` to QUALYS_USERNAME and QUALYS_PASSWORD \
                             (withCredentials([usernamePassword(credentialsId: '{id}', usernameVariable: \
                             'QUALYS_USERNAME', passwordVariable: 'QUALYS_PASSWORD')]))"
                        ),
                    });
                    self.bindings.push(Binding {
                        id,
                        vars: (
                            "QUALYS_USERNAME".to_owned(),
                            Some("QUALYS_PASSWORD".to_owned()),
                        ),
                    });
                }
                None => {
                    self.instructions.push(Instruction {
                        setting,
                        shown: id.clone(),
                        text: format!(
                            "bind the Jenkins credential `{id}`: a username/password credential to \
                             QUALYS_USERNAME and QUALYS_PASSWORD; the plugin's OAuth credential type \
                             to QUALYS_CLIENT_ID and QUALYS_CLIENT_SECRET with auth = \"oauth\" in \
                             [qualys] (its type is in credentials.xml, which was not read)"
                        ),
                    });
                    self.bindings.push(Binding {
                        id,
                        vars: (
                            "QUALYS_USERNAME".to_owned(),
                            Some("QUALYS_PASSWORD".to_owned()),
                        ),
                    });
                }
            }
        } else if user.is_some() || pass.is_some() {
            let f = user.as_ref().map(|(_, f)| *f).or(pass);
            let shown = match pass.map(|p| &p.value) {
                Some(Value::Text(t)) if encrypted(t) => "apiUser (set), apiPass (encrypted)",
                _ => "apiUser, apiPass (set)",
            };
            self.instructions.push(Instruction {
                setting: place(f, "apiUser/apiPass"),
                shown: shown.to_owned(),
                text: "keep the user and password in a Jenkins credential and bind it to \
                       QUALYS_USERNAME and QUALYS_PASSWORD (qcs never reads secrets from a file)"
                    .to_owned(),
            });
        } else if let Some(f) = self
            .field("credentialsId")
            .filter(|f| matches!(f.value, Value::Unreadable(_)))
        {
            self.instructions.push(Instruction {
                setting: place(Some(f), "credentialsId"),
                shown: "(set)".to_owned(),
                text: "the credential's id cannot be read (see the table): bind the credential it \
                       names to QUALYS_USERNAME and QUALYS_PASSWORD (OAuth: QUALYS_CLIENT_ID and \
                       QUALYS_CLIENT_SECRET)"
                    .to_owned(),
            });
        } else {
            self.instructions.push(Instruction {
                setting: "credentialsId".to_owned(),
                shown: "(not set)".to_owned(),
                text:
                    "no Qualys credential is configured: set QUALYS_USERNAME and QUALYS_PASSWORD \
                       (or QUALYS_CLIENT_ID and QUALYS_CLIENT_SECRET for OAuth)"
                        .to_owned(),
            });
        }
    }

    /// `[proxy] url` from `useProxy`, `proxyServer`, `proxyPort`; its credentials as
    /// instructions.
    fn proxy(&mut self) {
        let (on, on_f) = self.flag("useProxy", "[proxy] url");
        let server = self.text("proxyServer", "[proxy] url", false);
        if !on {
            if let Some((s, f)) = server {
                self.row(
                    Some(f),
                    "proxyServer",
                    &s,
                    "(not used)",
                    "ignored because useProxy is not true, as in the plugin",
                );
            }
            return;
        }
        let port = self.text("proxyPort", "[proxy] url", false);
        match server {
            None => self.row(
                on_f,
                "useProxy",
                "true",
                "[proxy] url (not written)",
                "useProxy is true but there is no proxyServer: set [proxy] url or HTTPS_PROXY",
            ),
            Some((s, f)) => {
                let port_n = port
                    .as_ref()
                    .and_then(|(p, _)| p.parse::<u16>().ok())
                    .filter(|p| *p > 0);
                let base = if s.contains("://") {
                    s.clone()
                } else {
                    format!("http://{s}")
                };
                let url = match port_n {
                    Some(p) => format!("{}:{p}", base.trim_end_matches('/')),
                    None => base,
                };
                match qcs_qualys::ProxyConfig::from_url(&url, None, None, None) {
                    Ok(_) => {
                        let mut comments = vec![Self::comment(f, "proxyServer")];
                        if let Some((_, pf)) = &port {
                            comments.push(Self::comment(pf, "proxyPort"));
                        }
                        self.config.set("[proxy]", "url", string(&url), comments);
                        if port_n.is_none() {
                            let shown = port.as_ref().map_or("(not set)", |(p, _)| p.as_str());
                            let shown = shown.to_owned();
                            let pf = port.as_ref().map(|(_, f)| *f);
                            self.row(
                                pf.or(Some(f)),
                                "proxyPort",
                                &shown,
                                "[proxy] url without a port",
                                "not a port 1-65535: the URL's scheme decides the port; add it to the url",
                            );
                        }
                    }
                    Err(e) => self.row(
                        Some(f),
                        "proxyServer",
                        &s,
                        "[proxy] url (not written)",
                        &format!("not a usable proxy ({e})"),
                    ),
                }
            }
        }
        if let Some((id, f)) = self.text(
            "proxyCredentialsId",
            "QCS_PROXY_USERNAME/QCS_PROXY_PASSWORD",
            false,
        ) {
            self.instructions.push(Instruction {
                setting: place(Some(f), "proxyCredentialsId"),
                shown: id.clone(),
                text: format!(
                    "bind the Jenkins credential `{id}` to QCS_PROXY_USERNAME and QCS_PROXY_PASSWORD"
                ),
            });
            self.bindings.push(Binding {
                id,
                vars: (
                    "QCS_PROXY_USERNAME".to_owned(),
                    Some("QCS_PROXY_PASSWORD".to_owned()),
                ),
            });
        }
        let user = self.field("proxyUsername").filter(|f| {
            f.value.text().is_some_and(|t| !t.trim().is_empty())
                || matches!(f.value, Value::Unreadable(_))
        });
        let pass = self.field("proxyPassword").filter(|f| {
            f.value.text().is_some_and(|t| !t.trim().is_empty())
                || matches!(f.value, Value::Unreadable(_))
        });
        if let Some(f) = pass {
            let shown = match &f.value {
                Value::Text(t) if encrypted(t) => "(encrypted)",
                _ => "(set)",
            };
            let readable = if shown == "(encrypted)" {
                "it is an encrypted Jenkins Secret that only that Jenkins can read: "
            } else {
                ""
            };
            self.instructions.push(Instruction {
                setting: place(Some(f), "proxyPassword"),
                shown: shown.to_owned(),
                text: format!(
                    "{readable}put the proxy user{} and password in a Jenkins credential and bind it \
                     to QCS_PROXY_USERNAME and QCS_PROXY_PASSWORD",
                    if user.is_some() { " (proxyUsername)" } else { "" }
                ),
            });
        } else if let Some(f) = user {
            self.instructions.push(Instruction {
                setting: place(Some(f), "proxyUsername"),
                shown: "(set)".to_owned(),
                text: "set QCS_PROXY_USERNAME (and QCS_PROXY_PASSWORD) from a Jenkins credential"
                    .to_owned(),
            });
        }
    }

    /// `[engine] host` and `cert-dir`: `unix://` and `tcp://` as they are; any other value is the
    /// plugin's `nerdctl` path.
    fn engine(&mut self) {
        let cert = self.text("dockerCert", "[engine] cert-dir", false);
        if let Some((url, f)) = self.text("dockerUrl", "[engine] host", false) {
            let host = if url.starts_with("unix://") || url.starts_with("tcp://") {
                url.clone()
            } else {
                format!("nerdctl://{url}")
            };
            let cert_dir = cert.as_ref().map(|(c, _)| std::path::Path::new(c.as_str()));
            match qcs_engine::Endpoint::parse(&host, cert_dir) {
                Ok(_) => {
                    let mut comments = vec![Self::comment(f, "dockerUrl")];
                    if host != url {
                        comments.push("the plugin's nerdctl path".to_owned());
                    }
                    self.config.set("[engine]", "host", string(&host), comments);
                }
                Err(e) => self.row(
                    Some(f),
                    "dockerUrl",
                    &url,
                    "[engine] host (not written)",
                    &format!("{e}; set [engine] host by hand"),
                ),
            }
        }
        if let Some((dir, f)) = cert {
            self.config.set(
                "[engine]",
                "cert-dir",
                string(&dir),
                vec![Self::comment(f, "dockerCert")],
            );
        }
    }

    /// `[wait] timeout` and `interval` from `vulnsTimeout` and `pollingInterval` (seconds, or a
    /// product such as `2*60`).
    fn wait(&mut self) {
        if let Some((t, f)) = self.text("vulnsTimeout", "[wait] timeout", false) {
            match plugin_seconds(&t).filter(|s| *s > 0) {
                Some(secs) => self.config.set(
                    "[wait]",
                    "timeout",
                    string(&duration(secs)),
                    vec![format!("{} ({t} s)", Self::comment(f, "vulnsTimeout"))],
                ),
                None => self.row(
                    Some(f),
                    "vulnsTimeout",
                    &t,
                    "[wait] timeout (not written)",
                    "not a number of seconds (or a product such as 2*60): the plugin used its default, 600 s, as qcs does (10m)",
                ),
            }
        }
        if let Some((t, f)) = self.text("pollingInterval", "[wait] interval", false) {
            match plugin_seconds(&t) {
                Some(secs) => {
                    let used = secs.max(30);
                    let mut comment = format!("{} ({t} s", Self::comment(f, "pollingInterval"));
                    if used != secs {
                        comment.push_str("; the plugin polls every 30 s at least");
                    }
                    comment.push(')');
                    self.config.set(
                        "[wait]",
                        "interval",
                        string(&duration(used)),
                        vec![comment],
                    );
                    self.row(
                        Some(f),
                        "pollingInterval",
                        &t,
                        &format!("[wait] interval = \"{}\"", duration(used)),
                        "a fixed pace, as the plugin's: remove it for the adaptive default (every 1-10 s within the same call budget), which gives the verdict sooner",
                    );
                }
                None => self.row(
                    Some(f),
                    "pollingInterval",
                    &t,
                    "[wait] interval (not written)",
                    "not a number of seconds: the plugin used its default, 30 s; qcs adapts the interval",
                ),
            }
        }
    }

    /// `webhookUrl`: a secret, so only an instruction and the variable's name.
    fn webhook(&mut self) {
        let Some(f) = self.field("webhookUrl") else {
            return;
        };
        let set = match &f.value {
            Value::Unreadable(_) => true,
            v => v.text().is_some_and(|t| !t.trim().is_empty()),
        };
        if !set {
            return;
        }
        self.config.set(
            "[webhook]",
            "url-env",
            string("QCS_WEBHOOK_URL"),
            vec![
                format!(
                    "{}: the URL is a secret (it often holds a token), so it is not written here;",
                    Self::comment(f, "webhookUrl")
                ),
                "qcs reads it from this environment variable (in Jenkins: a Secret text credential)"
                    .to_owned(),
            ],
        );
        self.instructions.push(Instruction {
            setting: place(Some(f), "webhookUrl"),
            shown: "(set)".to_owned(),
            text: "keep the webhook URL in a Secret text credential and bind it to QCS_WEBHOOK_URL"
                .to_owned(),
        });
        self.bindings.push(Binding {
            id: "<Secret text credential holding the webhook URL>".to_owned(),
            vars: ("QCS_WEBHOOK_URL".to_owned(), None),
        });
    }

    /// `[fail] severity` from `isSevNVulns` and `severityNLimit` (form default 0).
    fn severities(&mut self) {
        let mut levels = Vec::new();
        let mut comments = Vec::new();
        for n in (1..=5).rev() {
            let switch = format!("isSev{n}Vulns");
            let limit_name = format!("severity{n}Limit");
            let (on, sf) = self.flag(&switch, "[fail] severity");
            if !on {
                continue;
            }
            let limit = match self.text(&limit_name, "[fail] severity", false) {
                None if matches!(
                    self.field(&limit_name).map(|f| &f.value),
                    Some(Value::Unreadable(_))
                ) =>
                {
                    continue;
                }
                None => 0,
                Some((t, lf)) => match t.parse::<i64>() {
                    Ok(l) if l >= 0 => l,
                    Ok(l) => {
                        self.row(
                            Some(lf),
                            &limit_name,
                            &t,
                            &format!("{n} = 0"),
                            &format!("a negative limit ({l}) is 0 in the plugin"),
                        );
                        0
                    }
                    Err(_) => {
                        self.row(
                            Some(lf),
                            &limit_name,
                            &t,
                            "[fail] severity (not written)",
                            "not a whole number: set the limit by hand",
                        );
                        continue;
                    }
                },
            };
            levels.push(format!("{n} = {limit}"));
            if let Some(sf) = sf {
                let mut c = Self::comment(sf, &switch);
                match self.field(&limit_name) {
                    Some(lf) => {
                        let _ = write!(c, " and {}", lf_place(Some(lf), &limit_name));
                    }
                    None => c.push_str(" (limit: the form's default, 0)"),
                }
                comments.push(c);
            }
        }
        if !levels.is_empty() {
            self.policy.set(
                "[fail]",
                "severity",
                format!("{{ {} }}", levels.join(", ")),
                comments,
            );
        }
    }

    /// `qids`, `cves`, `software`, each only when its switch is on.
    fn lists(&mut self) {
        for (switch, list, key) in [
            ("isFailOnQidFound", "qidList", "qids"),
            ("isFailOnCVEs", "cveList", "cves"),
            ("isFailOnSoftware", "softwareList", "software"),
        ] {
            let becomes = format!("[fail] {key}");
            let (on, switch_field) = self.flag(switch, &becomes);
            let Some((text, f)) = self.text(list, &becomes, false) else {
                continue;
            };
            if !on {
                self.row(
                    Some(f),
                    list,
                    &text,
                    "(not used)",
                    &format!("ignored because {switch} is not true, as in the plugin"),
                );
                continue;
            }
            let mut kept = Vec::new();
            for item in split_list(&text) {
                match check_entry(&format!("[fail]\n{key} = [{}]\n", string(&item))) {
                    Ok(()) => kept.push(item),
                    Err(e) => self.row(
                        Some(f),
                        list,
                        &item,
                        &format!("{becomes} (left out)"),
                        &format!("{e}: fix it and add it by hand"),
                    ),
                }
            }
            if kept.is_empty() {
                continue;
            }
            if key == "software" {
                if kept.iter().any(|s| s.contains(['<', '>'])) {
                    self.row(
                        Some(f),
                        list,
                        &kept.iter().filter(|s| s.contains(['<', '>'])).cloned().collect::<Vec<_>>().join(", "),
                        &becomes,
                        "version bounds now work: the plugin read <, <=, >, >= and never matched them, so these filters can fail a build now (replay with qcs evaluate)",
                    );
                }
                if kept.len() > 1 {
                    self.row(
                        Some(f),
                        list,
                        &format!("{} filters", kept.len()),
                        &becomes,
                        "each filter is judged on its own: the plugin judged a package only against the last filter whose name matched it, so more packages may match now",
                    );
                }
            }
            self.policy.set(
                "[fail]",
                key,
                strings(&kept),
                vec![format!(
                    "{} with {}",
                    Self::comment(f, list),
                    lf_place(switch_field, switch)
                )],
            );
        }
    }

    /// `[fail] cvss` from `failByCvss`, `cvssVersion` (form default `2`) and `cvssThreshold`
    /// (form default `0.0`).
    fn cvss(&mut self) {
        let (on, sf) = self.flag("failByCvss", "[fail] cvss");
        if !on {
            return;
        }
        let version = self.text("cvssVersion", "[fail] cvss", false);
        let threshold = self.text("cvssThreshold", "[fail] cvss", false);
        let unreadable = |m: &Self, name: &str| {
            matches!(m.field(name).map(|f| &f.value), Some(Value::Unreadable(_)))
        };
        if unreadable(self, "cvssVersion") || unreadable(self, "cvssThreshold") {
            return;
        }
        let mut comments = Vec::new();
        if let Some(sf) = sf {
            comments.push(Self::comment(sf, "failByCvss"));
        }
        let v = match &version {
            Some((v, f)) => {
                comments.push(Self::comment(f, "cvssVersion"));
                match v.as_str() {
                    "2" => "2",
                    "3" => "3",
                    "maxOfv2andv3" => "max",
                    other => {
                        let other = other.to_owned();
                        self.row(
                            Some(f),
                            "cvssVersion",
                            &other,
                            "[fail] cvss (not written)",
                            "not 2, 3 or maxOfv2andv3: set the version by hand",
                        );
                        return;
                    }
                }
            }
            None => {
                self.row(
                    sf,
                    "cvssVersion",
                    "(not set)",
                    "version = \"2\"",
                    "not set: the form's first choice, 2, is used (the plugin itself stops the build on a missing version)",
                );
                comments.push("cvssVersion not set: the form's default, 2".to_owned());
                "2"
            }
        };
        let score = match &threshold {
            Some((t, f)) => match t.parse::<f64>() {
                Ok(s) if (0.0..=10.0).contains(&s) => {
                    comments.push(Self::comment(f, "cvssThreshold"));
                    s
                }
                _ => {
                    let t = t.clone();
                    self.row(
                        Some(f),
                        "cvssThreshold",
                        &t,
                        "[fail] cvss (not written)",
                        "not a number in 0.0-10.0: the plugin fails the build on it; set the threshold by hand",
                    );
                    return;
                }
            },
            None => {
                self.row(
                    sf,
                    "cvssThreshold",
                    "(not set)",
                    "score = 0.0",
                    "not set: the form's default, 0.0, is used, so every vulnerability with the score fails the image",
                );
                comments.push("cvssThreshold not set: the form's default, 0.0".to_owned());
                0.0
            }
        };
        self.policy.set(
            "[fail]",
            "cvss",
            format!("{{ version = {}, score = {score:?} }}", string(v)),
            comments,
        );
    }

    fn potential(&mut self) {
        let (on, f) = self.flag("isPotentialVulnsToBeChecked", "[fail] potential");
        if let Some(f) = f {
            self.policy.set(
                "[fail]",
                "potential",
                on.to_string(),
                vec![Self::comment(f, "isPotentialVulnsToBeChecked")],
            );
        }
    }

    /// `[[exclude]]` entries from `isExcludeConditions`, `excludeBy` and `excludeList`.
    fn exclusions(&mut self) {
        let (on, _) = self.flag("isExcludeConditions", "[[exclude]]");
        let Some((text, f)) = self.text("excludeList", "[[exclude]]", false) else {
            return;
        };
        if !on {
            self.row(
                Some(f),
                "excludeList",
                &text,
                "(not used)",
                "ignored because isExcludeConditions is not true, as in the plugin",
            );
            return;
        }
        let by = self.text("excludeBy", "[[exclude]]", false);
        let key = match by.as_ref().map(|(b, _)| b.as_str()) {
            Some("qid") => "qid",
            Some("cve") => "cve",
            Some(other) => {
                let (other, bf) = (other.to_owned(), by.as_ref().map(|(_, f)| *f));
                self.row(
                    bf,
                    "excludeBy",
                    &other,
                    "(not used)",
                    "neither qid nor cve: the plugin excludes nothing; add [[exclude]] entries by hand",
                );
                return;
            }
            None => {
                self.row(
                    Some(f),
                    "excludeBy",
                    "(not set)",
                    "(nothing excluded)",
                    "without excludeBy the plugin excludes nothing (a job saved from the form has cve or qid); add [[exclude]] entries by hand",
                );
                return;
            }
        };
        let place = f.origin.describe("excludeList");
        let reason = format!(
            "migrated from the Jenkins plugin's excludeList ({}): say why it is safe",
            place.trim_start_matches("from ")
        );
        for item in split_list(&text) {
            let entry = format!(
                "[[exclude]]\n{key} = {}\nreason = {}\n",
                string(&item),
                string(&reason)
            );
            match check_entry(&entry) {
                Ok(()) => {
                    // a new [[exclude]] table for each entry
                    let t = self.policy.table("[[exclude]]");
                    t.push(Entry {
                        comments: vec![format!("{place}, excludeBy {key}")],
                        key: key.to_owned(),
                        value: string(&item),
                    });
                    t.push(Entry {
                        comments: Vec::new(),
                        key: "reason".to_owned(),
                        value: string(&reason),
                    });
                }
                Err(e) => self.row(
                    Some(f),
                    "excludeList",
                    &item,
                    "[[exclude]] (left out)",
                    &format!("{e}: fix it and add it by hand"),
                ),
            }
        }
    }

    /// The images of `imageIds`.
    fn images(&mut self) -> Vec<String> {
        self.text("imageIds", "qcs scan IMAGE...", false)
            .map(|(t, _)| split_list(&t))
            .unwrap_or_default()
    }

    /// The written files are accepted by `qcs` as they are (a failure here is a bug of the
    /// mapping, reported rather than written).
    fn validate(&self) -> Result<(), MigrateError> {
        let policy = self.policy.render("");
        let (_, issues) =
            qcs_core::policy::file::from_toml("qcs-policy.toml", &policy, None).validate();
        let mut errors: Vec<String> = issues
            .into_iter()
            .filter(|i| i.level == IssueLevel::Error)
            .map(|i| i.to_string())
            .collect();
        errors.extend(
            crate::config::check("qcs.toml", &self.config.render(""))
                .into_iter()
                .filter(|i| i.level == IssueLevel::Error)
                .map(|i| i.to_string()),
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(MigrateError {
                message: format!(
                    "the migrated files would not be accepted (a bug of qcs migrate): {}",
                    errors.join("; ")
                ),
                hint: "please report it with the settings involved (without secrets)",
            })
        }
    }
}

/// `file <field>` (or `file:line field`) of a field; the bare name when unknown.
fn place(f: Option<&Field>, name: &str) -> String {
    f.map_or_else(
        || name.to_owned(),
        |f| {
            f.origin
                .describe(name)
                .trim_start_matches("from ")
                .to_owned()
        },
    )
}

fn lf_place(f: Option<&Field>, name: &str) -> String {
    match f.map(|f| &f.origin) {
        Some(Origin::Script(_, line)) => format!("line {line} {name}"),
        _ => format!("<{name}>"),
    }
}

#[cfg(test)]
#[allow(clippy::many_single_char_names)] // g(lobal), j(ob), m(igration), r(ow): the tests' words
mod tests {
    use super::super::model::JobKind;
    use super::*;

    fn global(pairs: &[(&str, &str)]) -> Fields {
        let mut f = Fields::default();
        for (k, v) in pairs {
            f.insert(
                k,
                Value::Text((*v).to_owned()),
                Origin::Global("QualysGlobalConfig.xml".into()),
            );
        }
        f
    }

    fn job(pairs: &[(&str, Value)]) -> Job {
        let mut f = Fields::default();
        for (n, (k, v)) in pairs.iter().enumerate() {
            f.insert(k, v.clone(), Origin::Script("Jenkinsfile".into(), n + 1));
        }
        Job {
            name: "Jenkinsfile".into(),
            kind: JobKind::Jenkinsfile,
            fields: f,
            notes: Vec::new(),
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    fn run(g: Option<&Fields>, j: Option<&Job>) -> Migration {
        let kinds = BTreeMap::from([("oauth-1".to_owned(), true), ("basic-1".to_owned(), false)]);
        migrate(&Sources {
            global: g,
            job: j,
            credential_kinds: &kinds,
            policy_file: "qcs-policy.toml",
        })
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn row<'a>(m: &'a Migration, setting: &str) -> &'a Row {
        m.rows
            .iter()
            .find(|r| r.setting.contains(setting))
            .unwrap_or_else(|| panic!("no row {setting}: {:#?}", m.rows))
    }

    #[test]
    fn a_known_platform_wins_over_api_server_and_pcp_uses_it() {
        let g = global(&[
            ("platform", "US_PLATFORM_3"),
            ("apiServer", "https://qualysapi.qualys.eu"),
        ]);
        let m = run(Some(&g), None);
        assert!(m.config.contains("platform = \"US3\""), "{}", m.config);
        assert!(
            m.config
                .contains("# from QualysGlobalConfig.xml <platform> (US_PLATFORM_3)")
        );
        assert!(!m.config.contains("api-url"), "{}", m.config);
        assert_eq!(row(&m, "<apiServer>").becomes, "(not used)");

        let g = global(&[
            ("platform", "PCP"),
            ("apiServer", "https://qualysapi.corp.example"),
        ]);
        let m = run(Some(&g), None);
        assert!(
            m.config
                .contains("api-url = \"https://qualysapi.corp.example\"")
        );
        assert!(
            m.config.contains("https://qualysgateway.corp.example"),
            "{}",
            m.config
        );

        let g = global(&[
            ("platform", "MARS_1"),
            ("apiServer", "https://qualysapi.qualys.com"),
        ]);
        let m = run(Some(&g), None);
        assert!(
            m.config
                .contains("api-url = \"https://qualysapi.qualys.com\"")
        );
        assert!(row(&m, "<platform>").note.contains("not a known platform"));

        let m = run(Some(&global(&[("credentialsId", "x")])), None);
        assert!(
            row(&m, "platform, apiServer")
                .note
                .contains("no Qualys server")
        );
    }

    #[test]
    fn a_job_without_use_local_config_takes_the_global_settings_and_its_images() {
        let g = global(&[("platform", "US_PLATFORM_1"), ("isSev5Vulns", "true")]);
        let j = job(&[
            ("imageIds", text("a:1, b:2")),
            ("platform", text("EU_PLATFORM_1")),
            ("isSev4Vulns", Value::Bool(true)),
            ("isSev3Vulns", Value::Bool(false)),
        ]);
        let m = run(Some(&g), Some(&j));
        assert_eq!(m.images, ["a:1", "b:2"]);
        assert!(m.config.contains("platform = \"US1\""), "{}", m.config);
        assert!(m.policy.contains("severity = { 5 = 0 }"), "{}", m.policy);
        let r = row(&m, "useLocalConfig");
        assert!(r.note.contains("isSev4Vulns, platform"), "{r:?}");
        assert!(!r.note.contains("isSev3Vulns"), "{r:?}");

        // with useLocalConfig: true the job's own settings, the global ones as fallback only
        // for the webhook and the engine
        let j = job(&[
            ("useLocalConfig", Value::Bool(true)),
            ("platform", text("EU_PLATFORM_1")),
            ("isSev4Vulns", Value::Bool(true)),
            ("severity4Limit", Value::Number("3".into())),
        ]);
        let g = global(&[
            ("platform", "US_PLATFORM_1"),
            ("dockerUrl", "tcp://docker:2376"),
            ("dockerCert", "/certs"),
        ]);
        let m = run(Some(&g), Some(&j));
        assert!(m.config.contains("platform = \"EU1\""));
        assert!(m.config.contains("host = \"tcp://docker:2376\""));
        assert!(m.config.contains("cert-dir = \"/certs\""));
        assert!(m.policy.contains("severity = { 4 = 3 }"), "{}", m.policy);
        assert!(
            m.policy
                .contains("# from Jenkinsfile:3 isSev4Vulns and line 4 severity4Limit")
        );

        // the job's own engine URL brings its own cert directory (none here)
        let j = job(&[
            ("useLocalConfig", Value::Bool(true)),
            ("dockerUrl", text("/usr/bin/nerdctl")),
        ]);
        let m = run(Some(&g), Some(&j));
        assert!(m.config.contains("host = \"nerdctl:///usr/bin/nerdctl\""));
        assert!(!m.config.contains("cert-dir"), "{}", m.config);

        // no global configuration for a job that needs it
        let kinds = BTreeMap::new();
        let e = migrate(&Sources {
            global: None,
            job: Some(&job(&[("imageIds", text("a"))])),
            credential_kinds: &kinds,
            policy_file: "p.toml",
        })
        .unwrap_err();
        assert!(e.message.contains("useLocalConfig"), "{e:?}");
        assert!(e.hint.contains("--global"));
    }

    #[test]
    fn lists_count_only_with_their_switch_and_bad_entries_are_left_out() {
        let g = global(&[
            ("isFailOnQidFound", "true"),
            ("qidList", "1, 5-9,,1"),
            ("isFailOnCVEs", "true"),
            ("cveList", "CVE-2021-44228,CVE-21-1"),
            ("isFailOnSoftware", "false"),
            ("softwareList", "busybox"),
        ]);
        let m = run(Some(&g), None);
        assert!(m.policy.contains("qids = [\"1\", \"5-9\"]"), "{}", m.policy);
        assert!(
            m.policy.contains("cves = [\"CVE-2021-44228\"]"),
            "{}",
            m.policy
        );
        assert!(!m.policy.contains("software"), "{}", m.policy);
        let bad = row(&m, "<cveList>");
        assert_eq!(bad.value, "CVE-21-1");
        assert!(bad.becomes.contains("left out"));
        assert!(
            row(&m, "<softwareList>")
                .note
                .contains("isFailOnSoftware is not true")
        );
    }

    #[test]
    fn exclusions_follow_exclude_by() {
        for (by, key) in [
            ("qid", "qid = \"179203\""),
            ("cve", "cve = \"CVE-2018-2771\""),
        ] {
            let list = if by == "qid" {
                "179203"
            } else {
                "CVE-2018-2771"
            };
            let g = global(&[
                ("isExcludeConditions", "true"),
                ("excludeBy", by),
                ("excludeList", list),
            ]);
            let m = run(Some(&g), None);
            assert!(m.policy.contains(key), "{}", m.policy);
            assert!(m.policy.contains("[[exclude]]"));
            assert!(m.policy.contains("reason = "));
        }
        // a hand-written call without excludeBy excludes nothing
        let j = job(&[
            ("useLocalConfig", Value::Bool(true)),
            ("isExcludeConditions", Value::Bool(true)),
            ("excludeList", text("179203")),
        ]);
        let m = run(None, Some(&j));
        assert!(!m.policy.contains("[[exclude]]"), "{}", m.policy);
        assert!(row(&m, "excludeBy").note.contains("excludes nothing"));
    }

    #[test]
    fn cvss_takes_the_forms_defaults() {
        let j = job(&[
            ("useLocalConfig", Value::Bool(true)),
            ("failByCvss", Value::Bool(true)),
        ]);
        let m = run(None, Some(&j));
        assert!(
            m.policy.contains("cvss = { version = \"2\", score = 0.0 }"),
            "{}",
            m.policy
        );
        assert_eq!(row(&m, "cvssVersion").becomes, "version = \"2\"");
        assert_eq!(row(&m, "cvssThreshold").becomes, "score = 0.0");
        let g = global(&[
            ("failByCvss", "true"),
            ("cvssVersion", "maxOfv2andv3"),
            ("cvssThreshold", "7"),
        ]);
        let m = run(Some(&g), None);
        assert!(
            m.policy
                .contains("cvss = { version = \"max\", score = 7.0 }"),
            "{}",
            m.policy
        );
        let g = global(&[("failByCvss", "true"), ("cvssThreshold", "11")]);
        let m = run(Some(&g), None);
        assert!(!m.policy.contains("cvss ="), "{}", m.policy);
        assert!(row(&m, "<cvssThreshold>").becomes.contains("not written"));
    }

    #[test]
    fn waiting_durations_use_the_plugins_product_form_and_minimum() {
        let g = global(&[("vulnsTimeout", "2*60*60"), ("pollingInterval", "10")]);
        let m = run(Some(&g), None);
        assert!(m.config.contains("timeout = \"2h\""), "{}", m.config);
        assert!(m.config.contains("interval = \"30s\""), "{}", m.config);
        assert!(row(&m, "<pollingInterval>").note.contains("fixed pace"));
        let m = run(Some(&global(&[("vulnsTimeout", "ten minutes")])), None);
        assert!(!m.config.contains("timeout ="));
        assert!(row(&m, "<vulnsTimeout>").note.contains("600 s"));
        assert_eq!(duration(90), "90s");
        assert_eq!(plugin_seconds("15*60"), Some(900));
        assert_eq!(plugin_seconds("2**3"), None);
    }

    #[test]
    fn secrets_become_instructions_and_are_never_written_or_shown() {
        let g = global(&[
            ("platform", "US_PLATFORM_2"),
            ("credentialsId", "oauth-1"),
            ("useProxy", "true"),
            ("proxyServer", "proxy.corp"),
            ("proxyPort", "3128"),
            ("proxyUsername", "proxy-user-77"),
            ("proxyPassword", "{AQAAABAAAAAQsecretsecret==}"),
            ("webhookUrl", "https://hooks.example/T/SECRET-TOKEN-1"),
        ]);
        let m = run(Some(&g), None);
        assert!(m.config.contains("auth = \"oauth\""), "{}", m.config);
        assert!(m.config.contains("url = \"http://proxy.corp:3128\""));
        assert!(m.config.contains("url-env = \"QCS_WEBHOOK_URL\""));
        let everything = format!(
            "{}{}{:?}{:?}{:?}",
            m.config, m.policy, m.rows, m.instructions, m.bindings
        );
        for secret in ["SECRET-TOKEN-1", "AQAAAB", "proxy-user-77", "hooks.example"] {
            assert!(!everything.contains(secret), "{secret} shown: {everything}");
        }
        let shown: Vec<&str> = m.instructions.iter().map(|i| i.shown.as_str()).collect();
        assert!(shown.contains(&"(encrypted)"), "{shown:?}");
        assert!(shown.contains(&"(set)"), "{shown:?}");
        assert!(
            m.instructions
                .iter()
                .any(|i| i.text.contains("QUALYS_CLIENT_ID") && i.text.contains("oauth-1"))
        );

        let j = job(&[
            ("useLocalConfig", Value::Bool(true)),
            ("credentialsId", Value::Unreadable("\"${CRED}\"".into())),
            ("webhookUrl", Value::Unreadable("\"${HOOK}\"".into())),
        ]);
        let m = run(None, Some(&j));
        assert!(
            m.instructions
                .iter()
                .any(|i| i.text.contains("QCS_WEBHOOK_URL"))
        );
        assert!(row(&m, "credentialsId").note.contains("cannot be read"));
    }

    #[test]
    fn encrypted_secrets_are_recognised() {
        assert!(encrypted(
            "{AQAAABAAAAAQq7Mh3c0XGpZ3bT4l0x9PXnd0b3JkLXNlY3JldA==}"
        ));
        assert!(!encrypted("plain"));
        assert!(!encrypted("{}"));
    }
}
