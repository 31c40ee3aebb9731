//! `qcs scan --print-config`: every resolved setting with where it came from (flag, env,
//! config, default). Secrets (passwords, client ids and secrets, proxy credentials) show only
//! as `set`; nothing here ever reads their values.

use std::fmt::Write as _;

use qcs_core::Policy;
use qcs_qualys::Credentials;
use qcs_qualys::platform::GatewaySource;

use crate::cli::{GlobalArgs, PolicyArgs};
use crate::config::ConfigFile;
use crate::env::QCS_CONFIG;
use crate::error::CliError;
use crate::images::Inputs;
use crate::settings::engine::EngineSettings;
use crate::settings::output::OutputSettings;
use crate::settings::webhook::WebhookSettings;
use crate::settings::{QualysSettings, Source, WaitSettings};

/// Everything `--print-config` shows.
pub(crate) struct View<'a> {
    /// The global flags (for the config file's origin).
    pub(crate) global: &'a GlobalArgs,
    /// The config file read, if any.
    pub(crate) file: Option<&'a ConfigFile>,
    /// The images.
    pub(crate) inputs: &'a Inputs,
    /// `[qualys]` and `[proxy]`, or why they cannot be resolved.
    pub(crate) qualys: Result<&'a QualysSettings, &'a CliError>,
    /// `[engine]`.
    pub(crate) engine: &'a EngineSettings,
    /// `[wait]`.
    pub(crate) wait: &'a WaitSettings,
    /// `[output]`.
    pub(crate) output: &'a OutputSettings,
    /// `[webhook]`.
    pub(crate) webhook: &'a WebhookSettings,
    /// The policy flags as given.
    pub(crate) policy_args: &'a PolicyArgs,
    /// The validated policy.
    pub(crate) policy: &'a Policy,
}

struct Rows(String);

impl Rows {
    fn section(&mut self, name: &str) {
        let _ = writeln!(self.0, "[{name}]");
    }

    fn row(&mut self, key: &str, value: impl std::fmt::Display, source: &Source) {
        let _ = writeln!(self.0, "  {key:<16} {value} (from {source})");
    }
}

/// The settings as text, one `key value (from source)` line each, grouped by config table.
pub(crate) fn render(view: &View<'_>) -> String {
    let mut rows = Rows(String::new());
    header(&mut rows, view);
    match view.qualys {
        Ok(q) => qualys(&mut rows, q),
        Err(_) => {
            rows.section("qualys");
            let _ = writeln!(rows.0, "  not usable (see the error below)");
        }
    }
    engine(&mut rows, view.engine);
    wait(&mut rows, view.wait);
    output(&mut rows, view.output);
    webhook(&mut rows, view.webhook);
    rows.section("policy");
    let _ = writeln!(rows.0, "  {:<16} {}", "from", policy_origin(view));
    for line in crate::cmd::policy::describe(view.policy).lines() {
        let _ = writeln!(rows.0, "  {line}");
    }
    rows.0
}

/// The config file and the images.
fn header(rows: &mut Rows, view: &View<'_>) {
    let config = match (view.file, &view.global.config) {
        (None, _) if view.global.no_config => "none (flag --no-config)".to_owned(),
        (None, _) => "none".to_owned(),
        (Some(f), Some(_)) => format!("{} (from flag --config)", f.path.display()),
        (Some(f), None) if crate::settings::process_env(QCS_CONFIG).is_some() => {
            format!("{} (from env {QCS_CONFIG})", f.path.display())
        }
        (Some(f), None) => format!("{} (found in the working directory)", f.path.display()),
    };
    let _ = writeln!(rows.0, "{:<18} {config}", "config file");
    let images = if view.inputs.list.is_empty() {
        "none (give them as arguments, --images or IMAGE_ID)".to_owned()
    } else {
        format!(
            "{} (from {})",
            view.inputs.list.join(", "),
            view.inputs.source
        )
    };
    let _ = writeln!(rows.0, "{:<18} {images}", "images");
}

/// `[qualys]` and `[proxy]`.
fn qualys(rows: &mut Rows, q: &QualysSettings) {
    rows.section("qualys");
    let how = match &q.gateway.source {
        GatewaySource::Platform(_) => "from the platform code",
        GatewaySource::Mapped(_) => "mapped from the API URL",
        GatewaySource::Explicit => "used as given",
    };
    let platform = q
        .gateway
        .platform
        .map_or(String::new(), |p| format!(", platform {}", p.code));
    rows.row(
        "gateway",
        format_args!("{} ({how}{platform})", q.gateway.url),
        &q.gateway_source,
    );
    rows.row("auth", q.credentials.kind(), &q.auth_source);
    for (name, src) in &q.credential_sources {
        match (&q.credentials, *name) {
            (Credentials::Basic { username, .. }, "username") => rows.row(name, username, src),
            _ => rows.row(name, "set", src),
        }
    }
    rows.row(
        "ca-bundle",
        q.tls.ca_bundle.as_ref().map_or_else(
            || "none (public and system roots)".to_owned(),
            |p| p.display().to_string(),
        ),
        &q.ca_bundle_source,
    );
    rows.row(
        "request-timeout",
        qcs_qualys::error::fmt_duration(q.request_timeout),
        &q.request_timeout_source,
    );

    rows.section("proxy");
    match (&q.proxy.url, &q.proxy_source) {
        (Some(url), Some(src)) => {
            let used = if q.proxy.for_gateway(&q.gateway.url).is_some() {
                ""
            } else {
                " (not used: the gateway is in NO_PROXY)"
            };
            rows.row("url", format_args!("{url}{used}"), src);
            let set = |s: bool| if s { "set" } else { "not set" };
            let creds = Source::Env("QCS_PROXY_USERNAME/QCS_PROXY_PASSWORD or the proxy URL");
            rows.row("username", set(q.proxy.username.is_some()), &creds);
            rows.row("password", set(q.proxy.password.is_some()), &creds);
        }
        _ => rows.row("url", "none", &Source::Default),
    }
}

/// `[engine]`.
fn engine(rows: &mut Rows, e: &EngineSettings) {
    rows.section("engine");
    rows.row("host", &e.config.host, &e.host_source);
    rows.row(
        "cert-dir",
        e.config
            .cert_dir
            .as_ref()
            .map_or_else(|| "none".to_owned(), |d| d.display().to_string()),
        &e.cert_dir_source,
    );
    rows.row("namespace", &e.config.namespace, &e.namespace_source);
    rows.row("sensor-check", e.sensor_check, &e.sensor_check_source);
}

/// `[wait]`.
fn wait(rows: &mut Rows, w: &WaitSettings) {
    rows.section("wait");
    rows.row(
        "timeout",
        qcs_qualys::error::fmt_duration(w.timeout),
        &w.sources[0],
    );
    rows.row("interval", w.interval_text(), &w.sources[1]);
    rows.row("concurrency", w.concurrency, &w.sources[2]);
    rows.row("batch", w.batch, &w.batch_source);
}

/// `[output]`.
fn output(rows: &mut Rows, o: &OutputSettings) {
    rows.section("output");
    rows.row("dir", o.dir.display(), &o.dir_source);
    let formats: Vec<String> = o
        .formats
        .iter()
        .map(|f| match &f.path {
            Some(p) => format!("{}={}", f.format, p.display()),
            None => f.format.to_string(),
        })
        .collect();
    rows.row("formats", formats.join(", "), &o.formats_source);
    let report_only_source = if o.report_only {
        Source::Flag("--report-only")
    } else {
        Source::Default
    };
    rows.row("report-only", o.report_only, &report_only_source);
    rows.row("dockerfile", &o.sarif.artifact_uri, &o.sarif_source);
}

/// `[webhook]`: the URL only as `scheme://host/…`.
fn webhook(rows: &mut Rows, w: &WebhookSettings) {
    rows.section("webhook");
    rows.row("url-env", &w.url_env, &w.url_env_source);
    match &w.target {
        Some(t) => {
            let _ = writeln!(
                rows.0,
                "  {:<16} {} (from {})",
                "url", t.shown, t.url_origin
            );
        }
        None => rows.row(
            "url",
            format_args!("none (set {} to post the outcome)", w.url_env),
            &Source::Default,
        ),
    }
    match &w.secret_source {
        Some(src) => rows.row("secret", "set (the body is signed)", src),
        None => rows.row("secret", "not set", &Source::Default),
    }
    rows.row(
        "timeout",
        qcs_qualys::error::fmt_duration(w.timeout),
        &w.timeout_source,
    );
}

/// Where the policy came from: file, config, criteria JSON, flags.
fn policy_origin(view: &View<'_>) -> String {
    let a = view.policy_args;
    let mut parts = Vec::new();
    if let Some(p) = &a.policy {
        parts.push(format!("{} (flag --policy)", p.display()));
    } else if let Some(f) = view.file {
        match f.policy() {
            Ok(crate::config::ConfigPolicy::Table) => {
                parts.push(format!("[policy] in {}", f.path.display()));
            }
            Ok(crate::config::ConfigPolicy::File(p)) => {
                parts.push(format!(
                    "{} (config {} policy)",
                    p.display(),
                    f.path.display()
                ));
            }
            Ok(crate::config::ConfigPolicy::None) | Err(_) => {}
        }
    }
    if let Some(c) = &a.criteria_json {
        parts.push(format!("{} (flag --criteria-json)", c.display()));
    }
    let flags = a.flags();
    let any_flag = !(flags.fail_severity.is_empty()
        && flags.fail_qids.is_empty()
        && flags.fail_cves.is_empty()
        && flags.fail_software.is_empty()
        && flags.fail_cvss.is_none()
        && flags.exclude_qids.is_empty()
        && flags.exclude_cves.is_empty()
        && flags.potential.is_none()
        && flags.fixable_only.is_none());
    if any_flag {
        parts.push("policy flags".to_owned());
    }
    if parts.is_empty() {
        "nothing (no condition: images pass on data; a missing result still fails)".to_owned()
    } else {
        parts.join(" + ")
    }
}
