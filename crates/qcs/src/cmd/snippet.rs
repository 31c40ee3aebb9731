//! `qcs snippet --ci jenkins|github|gitlab|azure`: a ready pipeline step for the current
//! configuration (the plugin's "Generate Pipeline Script"). The settings are resolved as
//! `qcs scan` resolves them; the step runs `qcs scan` with the config file (when one was read)
//! and every setting that came from a flag or the environment as flags, takes the secrets from
//! the CI system's secret store by name, and uploads the reports that CI system understands.
//! No secret value is ever read into the output: only variable names.

pub(super) mod render;

use std::io::Write as _;

use qcs_core::exit::ExitCode;
use qcs_qualys::AuthKind;
use qcs_qualys::platform::GatewaySource;
use qcs_report::format::Destination;
use qcs_report::{Format, FormatSpec};

use crate::cli::{CiSystem, GlobalArgs, PolicyArgs, SnippetArgs};
use crate::config::{self, ConfigFile};
use crate::env;
use crate::error::CliError;
use crate::images::Inputs;
use crate::policy_input;
use crate::settings::engine::EngineSettings;
use crate::settings::output::OutputSettings;
use crate::settings::webhook::WebhookSettings;
use crate::settings::{self, QualysSettings, Source, WaitSettings};

/// What the step does, whatever the CI system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// The arguments after `qcs scan`, one group (a flag and its value, or an image) a line.
    pub(crate) args: Vec<Vec<String>>,
    /// Plain (not secret) environment variables the step sets.
    pub(crate) env: Vec<(String, String)>,
    /// Secrets the step takes from the CI system's store.
    pub(crate) secrets: Vec<Secret>,
    /// Where the reports the CI system reads are written.
    pub(crate) reports: Reports,
    /// Remarks for the person pasting the step, written as comments.
    pub(crate) notes: Vec<String>,
}

/// A secret wired from the CI system's store into an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Secret {
    /// A user and password (a Jenkins username-with-password credential).
    Pair {
        /// The suggested credential id.
        id: &'static str,
        /// The variable for the user (or client id).
        user: String,
        /// The variable for the password (or client secret).
        password: String,
    },
    /// One value (a Jenkins secret-text credential).
    Single {
        /// The suggested credential id.
        id: &'static str,
        /// The variable.
        var: String,
    },
}

impl Secret {
    /// The variables it sets.
    pub(crate) fn vars(&self) -> Vec<&str> {
        match self {
            Secret::Pair { user, password, .. } => vec![user, password],
            Secret::Single { var, .. } => vec![var],
        }
    }
}

/// The report files a CI system picks up (paths as `qcs scan` will write them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Reports {
    /// The output directory.
    pub(crate) dir: String,
    /// `junit.xml`.
    pub(crate) junit: Option<String>,
    /// `results.sarif`.
    pub(crate) sarif: Option<String>,
    /// `gl-container-scanning-report.json`.
    pub(crate) gitlab: Option<String>,
    /// `summary.md`.
    pub(crate) markdown: Option<String>,
}

/// The resolved settings a step is made from.
pub(crate) struct Resolved<'a> {
    /// The config file read, if any.
    pub(crate) file: Option<&'a ConfigFile>,
    /// `--no-config`: the step must not read one either (a `qcs.toml` in the repository).
    pub(crate) no_config: bool,
    /// The images.
    pub(crate) inputs: &'a Inputs,
    /// `[qualys]` and `[proxy]` (credentials may be placeholders).
    pub(crate) qualys: &'a QualysSettings,
    /// `[engine]`.
    pub(crate) engine: &'a EngineSettings,
    /// `[wait]`.
    pub(crate) wait: &'a WaitSettings,
    /// `[output]`.
    pub(crate) output: &'a OutputSettings,
    /// `[webhook]`.
    pub(crate) webhook: &'a WebhookSettings,
    /// The policy flags as given.
    pub(crate) policy: &'a PolicyArgs,
    /// `--dockerfile` as given (SARIF results point at it).
    pub(crate) dockerfile: Option<&'a str>,
}

/// Runs `qcs snippet`.
pub(crate) fn run(args: &SnippetArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let env = &settings::process_env;
    let file = config::locate(global)?;
    let file = file.as_ref();
    let settings::RunSettings {
        inputs,
        engine,
        wait,
        output,
        webhook,
    } = settings::resolve_run(&args.run, file, env)?;
    let qualys = settings::resolve_qualys_without_credentials(&args.run.qualys, file, env)?;
    // A step for a policy that does not load would only fail in the pipeline.
    policy_input::load(&args.run.policy, file, global.quiet)?;
    let step = plan(
        &Resolved {
            file,
            no_config: global.no_config,
            inputs: &inputs,
            qualys: &qualys,
            engine: &engine,
            wait: &wait,
            output: &output,
            webhook: &webhook,
            policy: &args.run.policy,
            dockerfile: args.run.output.dockerfile.as_deref(),
        },
        args.ci,
    );
    let text = render::render(&step, args.ci);
    let _ = anstream::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::Passed)
}

fn flag<T: ToString + ?Sized>(name: &str, value: &T) -> Vec<String> {
    vec![name.to_owned(), value.to_string()]
}

/// Set by the user here and now (a flag, arguments, the environment), rather than by the
/// config file (which the step names) or a default.
fn given(source: &Source) -> bool {
    matches!(
        source,
        Source::Flag(_) | Source::Arguments | Source::Env(_) | Source::EnvFile(_)
    )
}

/// The formats each CI system reads, besides `summary.json`.
fn ci_formats(ci: CiSystem) -> &'static [Format] {
    match ci {
        CiSystem::Jenkins | CiSystem::Azure => &[Format::Junit],
        CiSystem::Github => &[Format::Sarif, Format::Markdown],
        CiSystem::Gitlab => &[Format::Gitlab, Format::Junit],
    }
}

fn spec_text(s: &FormatSpec) -> String {
    match &s.path {
        Some(p) => format!("{}={}", s.format, p.display()),
        None => s.format.to_string(),
    }
}

/// The step for these settings.
pub(crate) fn plan(r: &Resolved<'_>, ci: CiSystem) -> Step {
    let mut args = Vec::new();
    let mut notes = Vec::new();
    let q = r.qualys;
    if let Some(f) = r.file {
        args.push(flag("--config", &f.path.display()));
        notes.push(format!(
            "Commit {} with the pipeline: the step reads it.",
            f.path.display()
        ));
    }
    if r.no_config {
        args.push(vec!["--no-config".to_owned()]);
    }
    if given(&q.gateway_source) {
        args.push(match &q.gateway.source {
            GatewaySource::Platform(p) => flag("--platform", &p.code),
            GatewaySource::Mapped(url) => flag("--api-url", url),
            GatewaySource::Explicit => flag("--gateway-url", &q.gateway.url),
        });
    }
    let oauth = q.credentials.kind() == AuthKind::OAuth;
    if oauth && !matches!(q.auth_source, Source::Config(_)) {
        args.push(flag("--auth", "oauth"));
    }
    if let (true, Some(p)) = (given(&q.ca_bundle_source), &q.tls.ca_bundle) {
        args.push(flag("--ca-bundle", &p.display()));
        notes.push(format!(
            "The CA bundle {} must exist on the build agent.",
            p.display()
        ));
    }
    engine_args(r.engine, &mut args);
    wait_args(r.wait, &mut args);
    policy_args(r.policy, &mut args, &mut notes);

    // Every format as a flag: --format replaces the config's list, so it must hold them all.
    let o = r.output;
    if given(&o.dir_source) {
        args.push(flag("--output-dir", &o.dir.display()));
    }
    let mut formats = o.formats.clone();
    for f in std::iter::once(&Format::Json).chain(ci_formats(ci)) {
        if !formats.iter().any(|s| s.format == *f) {
            formats.push(FormatSpec {
                format: *f,
                path: None,
            });
        }
    }
    args.extend(formats.iter().map(|s| flag("--format", &spec_text(s))));
    if let Some(d) = r.dockerfile {
        args.push(flag("--dockerfile", d));
    }
    if o.report_only {
        args.push(vec!["--report-only".into()]);
    }
    let file_of = |format: Format| {
        formats
            .iter()
            .find(|s| s.format == format)
            .and_then(|s| match s.destination(&o.dir) {
                Destination::File(p) => Some(p.display().to_string()),
                Destination::Stdout => None,
            })
    };
    let reports = Reports {
        dir: o.dir.display().to_string(),
        junit: file_of(Format::Junit),
        sarif: file_of(Format::Sarif),
        gitlab: file_of(Format::Gitlab),
        markdown: file_of(Format::Markdown),
    };

    if r.inputs.list.is_empty() {
        notes.push(format!(
            "No image given: the step scans the images in {} (comma-separated), which an earlier step sets; or add them to the qcs scan line.",
            env::IMAGE_ID
        ));
    } else {
        args.extend(r.inputs.list.iter().map(|i| vec![i.clone()]));
    }

    let (env_vars, secrets) = environment(r, oauth);
    Step {
        args,
        env: env_vars,
        secrets,
        reports,
        notes,
    }
}

fn engine_args(e: &EngineSettings, args: &mut Vec<Vec<String>>) {
    if given(&e.host_source) {
        args.push(flag("--engine", &e.config.host));
    }
    if let (true, Some(d)) = (given(&e.cert_dir_source), &e.config.cert_dir) {
        args.push(flag("--cert-dir", &d.display()));
    }
    if given(&e.namespace_source) {
        args.push(flag("--namespace", &e.config.namespace));
    }
    if !e.sensor_check && given(&e.sensor_check_source) {
        args.push(vec!["--skip-sensor-check".into()]);
    }
}

fn wait_args(w: &WaitSettings, args: &mut Vec<Vec<String>>) {
    if given(&w.sources[0]) {
        args.push(flag(
            "--timeout",
            &qcs_qualys::error::fmt_duration(w.timeout),
        ));
    }
    if given(&w.sources[1]) {
        args.push(flag("--interval", &w.interval_text()));
    }
    if given(&w.sources[2]) {
        args.push(flag("--concurrency", &w.concurrency));
    }
    if given(&w.batch_source) {
        args.push(flag("--batch", &w.batch));
    }
}

fn policy_args(p: &PolicyArgs, args: &mut Vec<Vec<String>>, notes: &mut Vec<String>) {
    for (name, file) in [
        ("--policy", &p.policy),
        ("--criteria-json", &p.criteria_json),
    ] {
        if let Some(f) = file {
            args.push(flag(name, &f.display()));
            notes.push(format!(
                "Commit {} with the pipeline: the step reads it.",
                f.display()
            ));
        }
    }
    let lists: [(&str, &[String]); 6] = [
        ("--fail-severity", &p.fail_severity),
        ("--fail-qids", &p.fail_qids),
        ("--fail-cves", &p.fail_cves),
        ("--fail-software", &p.fail_software),
        ("--exclude-qids", &p.exclude_qids),
        ("--exclude-cves", &p.exclude_cves),
    ];
    for (name, values) in lists {
        args.extend(values.iter().map(|v| flag(name, v)));
    }
    if let Some(c) = &p.fail_cvss {
        args.push(flag("--fail-cvss", c));
    }
    for (name, value) in [
        ("--potential", p.potential),
        ("--fixable-only", p.fixable_only),
    ] {
        match value {
            Some(true) => args.push(vec![name.into()]),
            Some(false) => args.push(vec![format!("{name}=false")]),
            None => {}
        }
    }
}

/// The step's plain variables (a proxy set in the environment) and its secrets.
fn environment(r: &Resolved<'_>, oauth: bool) -> (Vec<(String, String)>, Vec<Secret>) {
    let q = r.qualys;
    let mut vars = Vec::new();
    let mut secrets = vec![if oauth {
        Secret::Pair {
            id: "qualys-oauth-client",
            user: env::QUALYS_CLIENT_ID.into(),
            password: env::QUALYS_CLIENT_SECRET.into(),
        }
    } else {
        Secret::Pair {
            id: "qualys-api",
            user: env::QUALYS_USERNAME.into(),
            password: env::QUALYS_PASSWORD.into(),
        }
    }];
    if let (Some(Source::Env(name)), Some(url)) = (&q.proxy_source, &q.proxy.url) {
        vars.push(((*name).to_owned(), url.clone()));
        if let Some(no_proxy) = &q.proxy.no_proxy {
            vars.push((env::NO_PROXY.to_owned(), no_proxy.clone()));
        }
    }
    if q.proxy_source.is_some() && q.proxy.username.is_some() {
        secrets.push(Secret::Pair {
            id: "qcs-proxy",
            user: env::QCS_PROXY_USERNAME.into(),
            password: env::QCS_PROXY_PASSWORD.into(),
        });
    }
    let w = r.webhook;
    if w.target.is_some() || matches!(w.url_env_source, Source::Config(_)) {
        secrets.push(Secret::Single {
            id: "qcs-webhook-url",
            var: w.url_env.clone(),
        });
        if w.secret_source.is_some() {
            secrets.push(Secret::Single {
                id: "qcs-webhook-secret",
                var: env::QCS_WEBHOOK_SECRET.into(),
            });
        }
    }
    (vars, secrets)
}
