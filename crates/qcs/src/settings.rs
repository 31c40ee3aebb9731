//! Resolution of the `[qualys]`, `[proxy]` and `[wait]` settings: command-line flags, then
//! environment variables, then the config file, then defaults (`product.md` §2). Secrets come
//! only from the environment or from files named by `*_FILE` variables, never from flags or
//! the config file. [`QualysSettings::describe`] shows the result with secrets redacted.
//! The `[engine]`, `[output]` and `[webhook]` tables have their own modules, [`engine`],
//! [`output`] and [`webhook`].

pub(crate) mod engine;
pub(crate) mod output;
pub(crate) mod webhook;

use std::path::{Path, PathBuf};
use std::time::Duration;

use qcs_qualys::auth::OAuthEndpoint;
use qcs_qualys::platform::{Gateway, GatewaySource};
use qcs_qualys::secret::secret;
use qcs_qualys::{Credentials, ExposeSecret as _, Interval, ProxyConfig, SecretString, TlsConfig};

use crate::cli::{QualysArgs, RunArgs};
use crate::config::ConfigFile;
use crate::env;
use crate::error::CliError;

/// Reads an environment variable (tests pass a map instead of the process environment).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, empty values counting as unset.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where a value came from (for the redacted display).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A command-line flag.
    Flag(&'static str),
    /// Command-line arguments.
    Arguments,
    /// An environment variable.
    Env(&'static str),
    /// A file named by an environment variable.
    EnvFile(&'static str),
    /// The config file.
    Config(String),
    /// Nothing set it: the built-in default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag(n) => write!(f, "flag {n}"),
            Source::Arguments => f.write_str("arguments"),
            Source::Env(n) => write!(f, "env {n}"),
            Source::EnvFile(n) => write!(f, "file named by {n}"),
            Source::Config(k) => write!(f, "config {k}"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The resolved Qualys connection settings.
#[derive(Debug, Clone)]
pub(crate) struct QualysSettings {
    /// The gateway.
    pub(crate) gateway: Gateway,
    /// Where the gateway setting came from.
    pub(crate) gateway_source: Source,
    /// Where the auth kind came from (default: basic, or OAuth when only client credentials
    /// are set).
    pub(crate) auth_source: Source,
    /// Credentials (secrets inside).
    pub(crate) credentials: Credentials,
    /// Where each credential came from (name → source), for display.
    pub(crate) credential_sources: Vec<(&'static str, Source)>,
    /// Extra trust anchors.
    pub(crate) tls: TlsConfig,
    /// Where the CA bundle setting came from.
    pub(crate) ca_bundle_source: Source,
    /// Proxy.
    pub(crate) proxy: ProxyConfig,
    /// Where the proxy setting came from.
    pub(crate) proxy_source: Option<Source>,
    /// Per-request timeout.
    pub(crate) request_timeout: Duration,
    /// Where the request timeout came from.
    pub(crate) request_timeout_source: Source,
}

/// The resolved wait settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WaitSettings {
    /// Give up after this long.
    pub(crate) timeout: Duration,
    /// Poll interval.
    pub(crate) interval: Interval,
    /// API calls in flight at once while waiting (all images are waited on together).
    pub(crate) concurrency: usize,
    /// Where timeout, interval and concurrency came from, in that order.
    pub(crate) sources: [Source; 3],
    /// Images per list call (1: one image per call).
    pub(crate) batch: usize,
    /// Where `batch` came from.
    pub(crate) batch_source: Source,
}

impl WaitSettings {
    /// The interval as a person writes it: `auto`, or e.g. `30s`.
    pub(crate) fn interval_text(&self) -> String {
        match self.interval {
            Interval::Adaptive { .. } => "auto".to_owned(),
            Interval::Fixed(d) => qcs_qualys::error::fmt_duration(d),
        }
    }

    /// The options of `qcs_qualys`'s wait for these settings (its other fields at their
    /// defaults).
    pub(crate) fn options(&self) -> qcs_qualys::WaitOptions {
        qcs_qualys::WaitOptions {
            timeout: self.timeout,
            interval: self.interval,
            concurrency: self.concurrency,
            batch: self.batch,
            ..qcs_qualys::WaitOptions::default()
        }
    }
}

fn config_error(file: Option<&ConfigFile>, msg: &str, hint: &'static str) -> CliError {
    let at = file.map_or_else(String::new, |f| format!("config `{}`: ", f.path.display()));
    CliError::BadInputs(vec![format!("{at}{msg}")], hint)
}

/// The config file's table `name`, checked for unknown keys.
fn table(file: Option<&ConfigFile>, name: &str, known: &[&str]) -> Result<toml::Table, CliError> {
    let Some(f) = file else {
        return Ok(toml::Table::new());
    };
    let doc: toml::Table = toml::from_str(&f.text).map_err(|e| {
        config_error(
            file,
            &format!("not valid TOML: {}", e.message()),
            "fix the TOML syntax",
        )
    })?;
    match doc.get(name) {
        None => Ok(toml::Table::new()),
        Some(toml::Value::Table(t)) => {
            if let Some(k) = t.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(config_error(
                    file,
                    &format!(
                        "unknown key `{k}` in [{name}] (known: {})",
                        known.join(", ")
                    ),
                    "remove or correct the key; see README.md, Configuration",
                ));
            }
            if let Some(k) = t.keys().find(|k| SECRET_KEYS.contains(&k.as_str())) {
                return Err(config_error(
                    file,
                    &format!("`{k}` in [{name}]"),
                    SECRET_HINT,
                ));
            }
            Ok(t.clone())
        }
        Some(other) => Err(config_error(
            file,
            &format!("`{name}` is a {}, not a table", other.type_str()),
            "write it as a [section]",
        )),
    }
}

const SECRET_KEYS: &[&str] = &[
    "username",
    "password",
    "client-id",
    "client-secret",
    "token",
];
pub(crate) const SECRET_HINT: &str = "secrets never go in the config file: use QUALYS_USERNAME/QUALYS_PASSWORD (or *_FILE), QCS_PROXY_USERNAME/QCS_PROXY_PASSWORD";

fn config_str(
    file: Option<&ConfigFile>,
    t: &toml::Table,
    section: &str,
    key: &str,
) -> Result<Option<String>, CliError> {
    match t.get(key) {
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        None | Some(toml::Value::String(_)) => Ok(None),
        Some(other) => Err(config_error(
            file,
            &format!("[{section}] {key} is a {}, not a string", other.type_str()),
            "quote the value",
        )),
    }
}

/// flag > env > config: the value and where it came from.
fn pick(
    flag: Option<&str>,
    flag_name: &'static str,
    env_name: &'static str,
    env: EnvLookup<'_>,
    config: Option<String>,
    config_key: &str,
) -> Option<(String, Source)> {
    if let Some(v) = flag.map(str::trim).filter(|v| !v.is_empty()) {
        return Some((v.to_owned(), Source::Flag(flag_name)));
    }
    if let Some(v) = env(env_name) {
        return Some((v.trim().to_owned(), Source::Env(env_name)));
    }
    config.map(|v| (v, Source::Config(config_key.to_owned())))
}

/// A secret from `NAME`, or from the file named by `NAME_FILE` (its trailing newline removed).
fn secret_var(
    name: &'static str,
    file_var: &'static str,
    env: EnvLookup<'_>,
) -> Result<Option<(SecretString, Source)>, CliError> {
    Ok(read_secret(name, file_var, env)?.map(|(value, from_file)| {
        let source = if from_file {
            Source::EnvFile(file_var)
        } else {
            Source::Env(name)
        };
        (value, source)
    }))
}

/// A secret from the variable `name`, or from the file named by `file_var` (its trailing
/// newline removed); the flag says it came from the file. For names known only at run time
/// (`[webhook] url-env`); [`secret_var`] is the usual way.
pub(crate) fn read_secret(
    name: &str,
    file_var: &str,
    env: EnvLookup<'_>,
) -> Result<Option<(SecretString, bool)>, CliError> {
    if let Some(v) = env(name) {
        return Ok(Some((secret(v), false)));
    }
    let Some(path) = env(file_var) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|source| CliError::Read {
        what: "secret file",
        path: PathBuf::from(&path),
        source,
    })?;
    let value = text.trim_end_matches(['\n', '\r']).to_owned();
    if value.is_empty() {
        return Err(CliError::BadInputs(
            vec![format!("{file_var} names `{path}`, which is empty")],
            "write the secret into the file, or unset the variable",
        ));
    }
    Ok(Some((secret(value), true)))
}

/// Parses `30s`, `10m`, `1h30m`, `500ms` or plain seconds (`45`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let d: jiff::SignedDuration = t
        .parse()
        .map_err(|_| format!("`{t}` is not a duration (write e.g. 30s, 10m, 1h30m)"))?;
    Duration::try_from(d).map_err(|_| format!("`{t}` is negative"))
}

fn duration_setting(
    value: Option<(String, Source)>,
    default: Duration,
    what: &str,
) -> Result<Duration, CliError> {
    match value {
        None => Ok(default),
        Some((v, src)) => parse_duration(&v).map_err(|e| {
            CliError::BadInputs(
                vec![format!("{what} ({src}): {e}")],
                "write e.g. 30s, 10m or 1h",
            )
        }),
    }
}

/// Resolves the Qualys connection settings.
pub(crate) fn resolve_qualys(
    args: &QualysArgs,
    file: Option<&ConfigFile>,
    env: EnvLookup<'_>,
) -> Result<QualysSettings, CliError> {
    resolve_qualys_with(args, file, env, true)
}

/// Resolves the Qualys settings where the credentials are someone else's business (`qcs
/// snippet`: the CI system's secret store supplies them): missing credentials are empty
/// placeholders, with their sources [`Source::Default`]; everything else as
/// [`resolve_qualys`].
pub(crate) fn resolve_qualys_without_credentials(
    args: &QualysArgs,
    file: Option<&ConfigFile>,
    env: EnvLookup<'_>,
) -> Result<QualysSettings, CliError> {
    resolve_qualys_with(args, file, env, false)
}

fn resolve_qualys_with(
    args: &QualysArgs,
    file: Option<&ConfigFile>,
    env: EnvLookup<'_>,
    credentials_required: bool,
) -> Result<QualysSettings, CliError> {
    let q = table(file, "qualys", crate::config::QUALYS_KEYS)?;
    let p = table(file, "proxy", crate::config::PROXY_KEYS)?;
    let cs = |k: &str| config_str(file, &q, "qualys", k);

    // The gateway: the most specific setting of the highest-precedence level that has one.
    let gw_flag = [
        (args.gateway_url.as_deref(), "--gateway-url"),
        (args.api_url.as_deref(), "--api-url"),
        (args.platform.as_deref(), "--platform"),
    ];
    let gw_env = [
        env::QUALYS_GATEWAY_URL,
        env::QUALYS_API_URL,
        env::QUALYS_PLATFORM,
    ];
    let gw_cfg = [cs("gateway-url")?, cs("api-url")?, cs("platform")?];
    let mut chosen: Option<(usize, String, Source)> = None;
    for (i, (v, name)) in gw_flag.iter().enumerate() {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            chosen = Some((i, v.to_owned(), Source::Flag(name)));
            break;
        }
    }
    if chosen.is_none() {
        for (i, name) in gw_env.iter().enumerate() {
            if let Some(v) = env(name) {
                chosen = Some((i, v.trim().to_owned(), Source::Env(name)));
                break;
            }
        }
    }
    if chosen.is_none() {
        let keys = [
            "[qualys] gateway-url",
            "[qualys] api-url",
            "[qualys] platform",
        ];
        for (i, v) in gw_cfg.iter().enumerate() {
            if let Some(v) = v {
                chosen = Some((i, v.clone(), Source::Config(keys[i].to_owned())));
                break;
            }
        }
    }
    let Some((kind, value, gateway_source)) = chosen else {
        return Err(CliError::BadInputs(
            vec!["no Qualys platform is configured".into()],
            "set --platform (or QUALYS_PLATFORM, or platform in [qualys]), e.g. US2; `qcs platforms` lists them",
        ));
    };
    let gateway = match kind {
        0 => Gateway::explicit(&value),
        1 => Gateway::from_api_url(&value),
        _ => Gateway::from_platform(&value),
    }
    .map_err(CliError::Qualys)?;

    // Credentials.
    let auth = pick(
        args.auth.as_deref(),
        "--auth",
        env::QUALYS_AUTH,
        env,
        cs("auth")?,
        "[qualys] auth",
    );
    let user = secret_var(env::QUALYS_USERNAME, env::QUALYS_USERNAME_FILE, env)?;
    let pass = secret_var(env::QUALYS_PASSWORD, env::QUALYS_PASSWORD_FILE, env)?;
    let cid = secret_var(env::QUALYS_CLIENT_ID, env::QUALYS_CLIENT_ID_FILE, env)?;
    let csec = secret_var(
        env::QUALYS_CLIENT_SECRET,
        env::QUALYS_CLIENT_SECRET_FILE,
        env,
    )?;
    let oauth = match auth
        .as_ref()
        .map(|(v, s)| (v.to_ascii_lowercase(), s.clone()))
    {
        Some((v, _)) if v == "basic" => false,
        Some((v, _)) if v == "oauth" => true,
        Some((v, src)) => {
            return Err(CliError::BadInputs(
                vec![format!(
                    "auth kind `{v}` ({src}) is neither basic nor oauth"
                )],
                "use --auth basic (username/password) or --auth oauth (client id/secret)",
            ));
        }
        // Unset: OAuth only when client credentials are there and a username is not.
        None => user.is_none() && cid.is_some(),
    };
    let endpoint = match cs("oauth-endpoint")?.as_deref() {
        None | Some("oidc") => OAuthEndpoint::Oidc,
        Some("oauth") => OAuthEndpoint::Oauth,
        Some(other) => {
            return Err(config_error(
                file,
                &format!("[qualys] oauth-endpoint `{other}` is neither oidc nor oauth"),
                "oidc: user-level OAuth client (default); oauth: subscription-level client",
            ));
        }
    };
    let missing =
        |what: &str| CliError::Qualys(qcs_qualys::QualysError::MissingCredentials(what.to_owned()));
    let auth_source = auth.map_or(Source::Default, |(_, src)| src);
    let (credentials, credential_sources) = if oauth {
        let placeholder = || (secret(String::new()), Source::Default);
        let ((id, id_src), (sec, sec_src)) = match (cid, csec) {
            (Some(id), Some(sec)) => (id, sec),
            (id, sec) if !credentials_required => (
                id.unwrap_or_else(placeholder),
                sec.unwrap_or_else(placeholder),
            ),
            _ => {
                return Err(missing(
                    "OAuth needs QUALYS_CLIENT_ID and QUALYS_CLIENT_SECRET (or their *_FILE variants)",
                ));
            }
        };
        (
            Credentials::OAuth {
                client_id: id,
                client_secret: sec,
                endpoint,
            },
            vec![("client id", id_src), ("client secret", sec_src)],
        )
    } else {
        let placeholder = || (secret(String::new()), Source::Default);
        let ((u, u_src), (pw, pw_src)) = match (user, pass) {
            (Some(u), Some(pw)) => (u, pw),
            (u, pw) if !credentials_required => (
                u.unwrap_or_else(placeholder),
                pw.unwrap_or_else(placeholder),
            ),
            _ => {
                return Err(missing(
                    "basic auth needs QUALYS_USERNAME and QUALYS_PASSWORD (or their *_FILE variants)",
                ));
            }
        };
        (
            Credentials::Basic {
                username: u.expose_secret().to_owned(),
                password: pw,
            },
            vec![("username", u_src), ("password", pw_src)],
        )
    };

    // TLS.
    let ca = pick(
        args.ca_bundle.as_deref().and_then(Path::to_str),
        "--ca-bundle",
        env::QUALYS_CA_BUNDLE,
        env,
        cs("ca-bundle")?,
        "[qualys] ca-bundle",
    );
    let ca_bundle_source = ca.as_ref().map_or(Source::Default, |(_, src)| src.clone());
    let ca_bundle = ca.map(|(v, src)| relative_to_config(&src, file, &v));

    let timeout_setting =
        cs("request-timeout")?.map(|v| (v, Source::Config("[qualys] request-timeout".into())));
    let request_timeout_source = timeout_setting
        .as_ref()
        .map_or(Source::Default, |(_, src)| src.clone());
    let request_timeout =
        duration_setting(timeout_setting, Duration::from_secs(30), "request-timeout")?;
    if request_timeout.is_zero() {
        return Err(config_error(
            file,
            "request-timeout is zero",
            "give e.g. 30s",
        ));
    }

    // Proxy: environment, then [proxy] url; credentials from the environment only.
    let https = gateway.url.starts_with("https:");
    let env_proxy = if https {
        [
            env::HTTPS_PROXY,
            env::HTTPS_PROXY_LOWER,
            env::ALL_PROXY,
            env::ALL_PROXY_LOWER,
        ]
    } else {
        [
            env::HTTP_PROXY,
            env::HTTP_PROXY_LOWER,
            env::ALL_PROXY,
            env::ALL_PROXY_LOWER,
        ]
    }
    .into_iter()
    .find_map(|n| env(n).map(|v| (v, Source::Env(n))));
    let cfg_proxy = config_str(file, &p, "proxy", "url")?;
    if cfg_proxy.as_deref().is_some_and(|u| u.contains('@')) {
        return Err(config_error(
            file,
            "[proxy] url holds credentials",
            SECRET_HINT,
        ));
    }
    let proxy_choice =
        env_proxy.or_else(|| cfg_proxy.map(|u| (u, Source::Config("[proxy] url".into()))));
    let no_proxy = env(env::NO_PROXY)
        .or_else(|| env(env::NO_PROXY_LOWER))
        .or(config_str(file, &p, "proxy", "no-proxy")?);
    let proxy_user =
        secret_var(env::QCS_PROXY_USERNAME, env::QCS_PROXY_USERNAME_FILE, env)?.map(|(s, _)| s);
    let proxy_password =
        secret_var(env::QCS_PROXY_PASSWORD, env::QCS_PROXY_PASSWORD_FILE, env)?.map(|(s, _)| s);
    let (proxy, proxy_source) = match proxy_choice {
        Some((url, src)) => (
            ProxyConfig::from_url(&url, proxy_user, proxy_password, no_proxy)
                .map_err(CliError::Qualys)?,
            Some(src),
        ),
        None => (ProxyConfig::default(), None),
    };

    Ok(QualysSettings {
        gateway,
        gateway_source,
        auth_source,
        credentials,
        credential_sources,
        tls: TlsConfig { ca_bundle },
        ca_bundle_source,
        proxy,
        proxy_source,
        request_timeout,
        request_timeout_source,
    })
}

/// A path setting: relative to the config file's directory when it came from the config file,
/// as given otherwise.
fn relative_to_config(src: &Source, file: Option<&ConfigFile>, value: &str) -> PathBuf {
    match (src, file) {
        (Source::Config(_), Some(f)) => {
            f.path.parent().unwrap_or_else(|| Path::new("")).join(value)
        }
        _ => PathBuf::from(value),
    }
}

/// What `qcs scan` and `qcs snippet` resolve alike: the images, `[engine]`, `[wait]`,
/// `[output]` and `[webhook]` (Qualys and the policy each command resolves its own way).
pub(crate) struct RunSettings {
    /// The images.
    pub(crate) inputs: crate::images::Inputs,
    /// `[engine]`.
    pub(crate) engine: engine::EngineSettings,
    /// `[wait]`.
    pub(crate) wait: WaitSettings,
    /// `[output]`.
    pub(crate) output: output::OutputSettings,
    /// `[webhook]`.
    pub(crate) webhook: webhook::WebhookSettings,
}

/// Resolves [`RunSettings`]; every mistake is a configuration error before any I/O.
pub(crate) fn resolve_run(
    args: &RunArgs,
    file: Option<&ConfigFile>,
    env: EnvLookup<'_>,
) -> Result<RunSettings, CliError> {
    Ok(RunSettings {
        inputs: crate::images::collect(&args.images, &args.image_list, env)?,
        engine: engine::resolve(&args.engine, file, env)?,
        wait: resolve_wait(
            args.wait.timeout.as_deref(),
            args.wait.interval.as_deref(),
            args.wait.concurrency,
            file,
        )?
        .with_batch(args.wait.batch, file, env)?,
        output: output::resolve(&args.output, file)?,
        webhook: webhook::resolve(file, env)?,
    })
}

/// Resolves the `[wait]` settings: flags (`--timeout`, `--interval`, `--concurrency` of
/// `qcs scan`), then the config file, then 10 min, adaptive, 8.
pub(crate) fn resolve_wait(
    timeout: Option<&str>,
    interval: Option<&str>,
    concurrency: Option<usize>,
    file: Option<&ConfigFile>,
) -> Result<WaitSettings, CliError> {
    let w = table(file, "wait", WAIT_KEYS)?;
    let flag_or_cfg = |flag: Option<&str>,
                       name: &'static str,
                       key: &str|
     -> Result<Option<(String, Source)>, CliError> {
        Ok(match flag {
            Some(v) => Some((v.to_owned(), Source::Flag(name))),
            None => config_str(file, &w, "wait", key)?
                .map(|v| (v, Source::Config(format!("[wait] {key}")))),
        })
    };
    let source_of =
        |v: &Option<(String, Source)>| v.as_ref().map_or(Source::Default, |(_, s)| s.clone());
    let timeout_setting = flag_or_cfg(timeout, "--timeout", "timeout")?;
    let timeout_source = source_of(&timeout_setting);
    let timeout = duration_setting(timeout_setting, Duration::from_secs(600), "wait timeout")?;
    if timeout.is_zero() {
        return Err(config_error(
            file,
            &format!("the wait timeout ({timeout_source}) is zero"),
            "give e.g. 10m",
        ));
    }
    let interval_setting = flag_or_cfg(interval, "--interval", "interval")?;
    let interval_source = source_of(&interval_setting);
    let interval = match interval_setting {
        None => Interval::default(),
        Some((v, _)) if v.eq_ignore_ascii_case("auto") => Interval::default(),
        Some(v) => {
            let d = duration_setting(Some(v), Duration::ZERO, "wait interval")?;
            if d.is_zero() {
                return Err(config_error(
                    file,
                    "the wait interval is zero",
                    "give auto, or e.g. 5s",
                ));
            }
            Interval::Fixed(d)
        }
    };
    let concurrency_source = match (concurrency, w.get("concurrency")) {
        (Some(_), _) => Source::Flag("--concurrency"),
        (None, Some(_)) => Source::Config("[wait] concurrency".into()),
        (None, None) => Source::Default,
    };
    let concurrency = match concurrency {
        Some(c) => c,
        None => match w.get("concurrency") {
            None => 8,
            Some(toml::Value::Integer(n)) => usize::try_from(*n).unwrap_or(0),
            Some(other) => {
                return Err(config_error(
                    file,
                    &format!("[wait] concurrency is a {}, not a number", other.type_str()),
                    "write e.g. concurrency = 8",
                ));
            }
        },
    };
    if concurrency == 0 {
        return Err(config_error(
            file,
            "the wait concurrency is 0",
            "give 1 or more",
        ));
    }
    Ok(WaitSettings {
        timeout,
        interval,
        concurrency,
        sources: [timeout_source, interval_source, concurrency_source],
        batch: qcs_qualys::wait::DEFAULT_BATCH,
        batch_source: Source::Default,
    })
}

impl WaitSettings {
    /// Adds the batch size: `--batch`, then `QCS_WAIT_BATCH`, then `[wait] batch`, then 50.
    pub(crate) fn with_batch(
        mut self,
        flag: Option<usize>,
        file: Option<&ConfigFile>,
        env: EnvLookup<'_>,
    ) -> Result<Self, CliError> {
        let w = table(file, "wait", WAIT_KEYS)?;
        let (batch, source) = if let Some(n) = flag {
            (n, Source::Flag("--batch"))
        } else if let Some(v) = env(env::QCS_WAIT_BATCH) {
            let n = v.trim().parse::<usize>().map_err(|_| {
                CliError::BadInputs(
                    vec![format!("{} is `{v}`, not a number", env::QCS_WAIT_BATCH)],
                    "give the images per list call, e.g. 50, or 1 to turn batching off",
                )
            })?;
            (n, Source::Env(env::QCS_WAIT_BATCH))
        } else {
            match w.get("batch") {
                None => (qcs_qualys::wait::DEFAULT_BATCH, Source::Default),
                Some(toml::Value::Integer(n)) => (
                    usize::try_from(*n).unwrap_or(0),
                    Source::Config("[wait] batch".into()),
                ),
                Some(other) => {
                    return Err(config_error(
                        file,
                        &format!("[wait] batch is a {}, not a number", other.type_str()),
                        "write e.g. batch = 50, or batch = 1 to turn batching off",
                    ));
                }
            }
        };
        if batch == 0 || batch > 1000 {
            return Err(config_error(
                file,
                &format!("the wait batch ({source}) is {batch}: give 1 to 1000"),
                "give the images per list call, e.g. 50, or 1 to turn batching off",
            ));
        }
        self.batch = batch;
        self.batch_source = source;
        Ok(self)
    }
}

/// The keys of `[wait]`.
pub(crate) const WAIT_KEYS: &[&str] = &["timeout", "interval", "concurrency", "batch"];

impl QualysSettings {
    /// Settings fixed by the program rather than resolved (`qcs demo`): this gateway and these
    /// credentials, no proxy, no extra trust anchors, the default request timeout.
    pub(crate) fn fixed(gateway: Gateway, credentials: Credentials) -> Self {
        let credential_sources = match &credentials {
            Credentials::Basic { .. } => {
                vec![("username", Source::Default), ("password", Source::Default)]
            }
            Credentials::OAuth { .. } => vec![
                ("client id", Source::Default),
                ("client secret", Source::Default),
            ],
        };
        QualysSettings {
            gateway,
            gateway_source: Source::Default,
            auth_source: Source::Default,
            credentials,
            credential_sources,
            tls: TlsConfig::default(),
            ca_bundle_source: Source::Default,
            proxy: ProxyConfig::default(),
            proxy_source: None,
            request_timeout: Duration::from_secs(30),
            request_timeout_source: Source::Default,
        }
    }

    /// The client configuration for these settings (wall clock, default retries and pace).
    pub(crate) fn client_config(&self) -> qcs_qualys::ClientConfig {
        let mut cc = qcs_qualys::ClientConfig::new(self.gateway.clone(), self.credentials.clone());
        cc.tls = self.tls.clone();
        cc.proxy = self.proxy.clone();
        cc.request_timeout = self.request_timeout;
        cc
    }

    /// The settings as `key: value (source)` lines, secrets shown only as "set".
    pub(crate) fn describe(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let platform = self
            .gateway
            .platform
            .map_or(String::new(), |p| format!(", platform {}", p.code));
        let how = match &self.gateway.source {
            GatewaySource::Platform(_) => "from the platform code",
            GatewaySource::Mapped(_) => "mapped from the API URL",
            GatewaySource::Explicit => "used as given",
        };
        out.push((
            "gateway".into(),
            format!(
                "{} ({how}{platform}; {})",
                self.gateway.url, self.gateway_source
            ),
        ));
        out.push(("auth".into(), self.credentials.kind().to_string()));
        if let Credentials::Basic { username, .. } = &self.credentials {
            out.push(("username".into(), username.clone()));
        }
        for (name, src) in &self.credential_sources {
            if *name != "username" {
                out.push(((*name).into(), format!("set ({src})")));
            }
        }
        out.push((
            "ca bundle".into(),
            self.tls.ca_bundle.as_ref().map_or_else(
                || "none (public and system roots)".into(),
                |p| p.display().to_string(),
            ),
        ));
        out.push((
            "request timeout".into(),
            qcs_qualys::error::fmt_duration(self.request_timeout),
        ));
        let proxy = match (
            self.proxy.for_gateway(&self.gateway.url),
            &self.proxy_source,
        ) {
            (Some(url), Some(src)) => format!(
                "{url} ({src}{})",
                if self.proxy.username.is_some() {
                    ", with credentials"
                } else {
                    ""
                }
            ),
            (None, Some(_)) => "none (the gateway is in NO_PROXY)".into(),
            _ => "none".into(),
        };
        out.push(("proxy".into(), proxy));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// An environment of these variables only.
    pub(super) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    /// A config file `/etc/qcs/qcs.toml` holding `text`.
    pub(super) fn cfg(text: &str) -> ConfigFile {
        ConfigFile {
            path: PathBuf::from("/etc/qcs/qcs.toml"),
            text: text.to_owned(),
        }
    }

    const CREDS: &[(&str, &str)] = &[
        (env::QUALYS_USERNAME, "ci"),
        (env::QUALYS_PASSWORD, "pw-123"),
    ];

    #[test]
    fn flags_beat_env_beat_config() {
        let c = cfg("[qualys]\nplatform = \"EU1\"\n");
        let args = QualysArgs::default();
        let e = env_of(CREDS);
        let s = resolve_qualys(&args, Some(&c), &e).unwrap();
        assert_eq!(s.gateway.url, "https://gateway.qg1.apps.qualys.eu");
        let mut env2 = CREDS.to_vec();
        env2.push((env::QUALYS_PLATFORM, "US_PLATFORM_2"));
        let s = resolve_qualys(&args, Some(&c), &env_of(&env2)).unwrap();
        assert_eq!(s.gateway.url, "https://gateway.qg2.apps.qualys.com");
        let args = QualysArgs {
            api_url: Some("https://qualysapi.qualys.com".into()),
            ..QualysArgs::default()
        };
        let s = resolve_qualys(&args, Some(&c), &env_of(&env2)).unwrap();
        assert_eq!(s.gateway.url, "https://gateway.qg1.apps.qualys.com");
        assert_eq!(s.gateway_source, Source::Flag("--api-url"));
    }

    #[test]
    fn missing_things_are_configuration_errors() {
        let args = QualysArgs {
            platform: Some("US1".into()),
            ..QualysArgs::default()
        };
        let e = resolve_qualys(&args, None, &env_of(&[])).unwrap_err();
        assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::Config);
        let e = resolve_qualys(&QualysArgs::default(), None, &env_of(CREDS)).unwrap_err();
        assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::Config);
        let args = QualysArgs {
            platform: Some("MARS1".into()),
            ..QualysArgs::default()
        };
        assert!(resolve_qualys(&args, None, &env_of(CREDS)).is_err());
    }

    #[test]
    fn secrets_never_from_the_config_file() {
        let c = cfg("[qualys]\nplatform = \"US1\"\npassword = \"x\"\n");
        let e = resolve_qualys(&QualysArgs::default(), Some(&c), &env_of(CREDS)).unwrap_err();
        assert!(e.to_string().contains("password"));
        let c = cfg("[qualys]\nplatform = \"US1\"\n[proxy]\nurl = \"http://u:p@proxy:3128\"\n");
        assert!(resolve_qualys(&QualysArgs::default(), Some(&c), &env_of(CREDS)).is_err());
    }

    #[test]
    fn secrets_from_files_and_oauth_by_default_when_only_client_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secret");
        std::fs::write(&f, "s3cret\n").unwrap();
        let fp = f.to_str().unwrap();
        let e = env_of(&[
            (env::QUALYS_CLIENT_ID, "id"),
            (env::QUALYS_CLIENT_SECRET_FILE, fp),
            (env::QUALYS_PLATFORM, "US3"),
        ]);
        let s = resolve_qualys(&QualysArgs::default(), None, &e).unwrap();
        match &s.credentials {
            Credentials::OAuth { client_secret, .. } => {
                assert_eq!(client_secret.expose_secret(), "s3cret");
            }
            Credentials::Basic { .. } => panic!("expected OAuth"),
        }
        let shown = format!("{:?} {:?}", s.describe(), s);
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn proxy_from_env_with_credentials_from_env() {
        let mut e = CREDS.to_vec();
        e.extend([
            (env::QUALYS_PLATFORM, "US1"),
            (env::HTTPS_PROXY, "http://proxy.corp:3128"),
            (env::QCS_PROXY_USERNAME, "pu"),
            (env::QCS_PROXY_PASSWORD, "pp-secret"),
            (env::NO_PROXY, "localhost"),
        ]);
        let s = resolve_qualys(&QualysArgs::default(), None, &env_of(&e)).unwrap();
        assert_eq!(s.proxy.url.as_deref(), Some("http://proxy.corp:3128"));
        let shown = format!("{:?}", s.describe());
        assert!(
            shown.contains("with credentials") && !shown.contains("pp-secret"),
            "{shown}"
        );
    }

    #[test]
    fn wait_settings() {
        let c = cfg("[wait]\ntimeout = \"15m\"\ninterval = \"30s\"\nconcurrency = 3\n");
        let w = resolve_wait(None, None, None, Some(&c)).unwrap();
        assert_eq!(
            w,
            WaitSettings {
                timeout: Duration::from_secs(900),
                interval: Interval::Fixed(Duration::from_secs(30)),
                concurrency: 3,
                sources: [
                    Source::Config("[wait] timeout".into()),
                    Source::Config("[wait] interval".into()),
                    Source::Config("[wait] concurrency".into()),
                ],
                batch: 50,
                batch_source: Source::Default,
            }
        );
        // The batch size: flag, then QCS_WAIT_BATCH, then [wait] batch, then 50.
        let c = cfg("[wait]\nbatch = 10\n");
        let none = |_: &str| None;
        let env = |k: &str| (k == env::QCS_WAIT_BATCH).then(|| "1".to_owned());
        let base = || resolve_wait(None, None, None, Some(&c)).unwrap();
        let b = base().with_batch(None, Some(&c), &none).unwrap();
        assert_eq!(
            (b.batch, b.batch_source),
            (10, Source::Config("[wait] batch".into()))
        );
        let b = base().with_batch(None, Some(&c), &env).unwrap();
        assert_eq!(
            (b.batch, b.batch_source),
            (1, Source::Env(env::QCS_WAIT_BATCH))
        );
        let b = base().with_batch(Some(5), Some(&c), &env).unwrap();
        assert_eq!((b.batch, b.batch_source), (5, Source::Flag("--batch")));
        assert!(base().with_batch(Some(0), None, &none).is_err());
        let bad = |_: &str| Some("lots".to_owned());
        assert!(base().with_batch(None, None, &bad).is_err());
        let w = resolve_wait(Some("90"), Some("auto"), Some(2), Some(&c)).unwrap();
        assert_eq!(
            (w.timeout, w.interval, w.concurrency),
            (Duration::from_secs(90), Interval::default(), 2)
        );
        assert_eq!(w.sources[0], Source::Flag("--timeout"));
        assert!(resolve_wait(Some("soon"), None, None, None).is_err());
        assert!(resolve_wait(Some("0s"), None, None, None).is_err());
        let d = resolve_wait(None, None, None, None).unwrap();
        assert_eq!(
            d.sources,
            [Source::Default, Source::Default, Source::Default]
        );
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
    }
}
