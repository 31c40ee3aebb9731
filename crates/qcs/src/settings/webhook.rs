//! The `[webhook]` settings: where `qcs scan` posts its outcome. The URL is a secret (it often
//! embeds a token): it comes only from the environment variable that `[webhook] url-env` names
//! (default `QCS_WEBHOOK_URL`) or the file its `_FILE` form names, and is shown only as
//! `scheme://host/…`. `QCS_WEBHOOK_SECRET` (or `_FILE`) signs the body; `[webhook] timeout`
//! (default 60 s, as the plugin) bounds each try.

use std::time::Duration;

use qcs_qualys::{ExposeSecret as _, SecretString};

use super::{
    EnvLookup, Source, config_error, config_str, duration_setting, read_secret, secret_var, table,
};
use crate::config::ConfigFile;
use crate::env;
use crate::error::CliError;

/// Each try's limit when `[webhook] timeout` is not set (the plugin's 60 s).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) const SECRET_HINT: &str = "the webhook URL and its signing key are secrets: set them in the \
environment (QCS_WEBHOOK_URL or the variable [webhook] url-env names, QCS_WEBHOOK_SECRET; or \
their *_FILE forms), never in the config file";

/// The resolved webhook settings.
#[derive(Debug, Clone)]
pub(crate) struct WebhookSettings {
    /// The variable holding the URL (`[webhook] url-env`, default `QCS_WEBHOOK_URL`).
    pub(crate) url_env: String,
    /// Where that name came from.
    pub(crate) url_env_source: Source,
    /// Each try's limit.
    pub(crate) timeout: Duration,
    /// Where the timeout came from.
    pub(crate) timeout_source: Source,
    /// The webhook, when its URL is set.
    pub(crate) target: Option<WebhookTarget>,
    /// Whether `secret_source` names a signing key (also when the URL is unset, for display).
    pub(crate) secret_source: Option<Source>,
}

/// A webhook to post to.
#[derive(Debug, Clone)]
pub(crate) struct WebhookTarget {
    /// The URL (secret).
    pub(crate) url: SecretString,
    /// Where it came from: the variable, or the file its `_FILE` form names.
    pub(crate) url_origin: String,
    /// The URL as it may be shown: `scheme://host[:port]/…`.
    pub(crate) shown: String,
    /// The signing key, if any.
    pub(crate) secret: Option<SecretString>,
}

/// `scheme://host[:port]` of a URL, with `/…` when it has a path, query or fragment: all that
/// may be shown of a webhook URL. `None` when it is not an absolute http(s) URL with a host.
pub(crate) fn shown_url(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?;
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let rest = u.path() != "/" || u.query().is_some() || u.fragment().is_some();
    Some(format!(
        "{}://{host}{port}{}",
        u.scheme(),
        if rest { "/…" } else { "" }
    ))
}

fn valid_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Resolves the webhook settings from the config file and the environment; checks the URL's
/// form (without ever showing it) before any scanning.
pub(crate) fn resolve(
    file: Option<&ConfigFile>,
    env: EnvLookup<'_>,
) -> Result<WebhookSettings, CliError> {
    // `url` and `secret` are "known" only to be refused with the right hint.
    let t = table(file, "webhook", crate::config::WEBHOOK_KEYS)?;
    if let Some(k) = ["url", "secret"].into_iter().find(|k| t.contains_key(*k)) {
        return Err(config_error(
            file,
            &format!("`{k}` in [webhook]"),
            SECRET_HINT,
        ));
    }
    let (url_env, url_env_source) = match config_str(file, &t, "webhook", "url-env")? {
        Some(name) if valid_var_name(&name) => (name, Source::Config("[webhook] url-env".into())),
        Some(name) => {
            return Err(config_error(
                file,
                &format!("[webhook] url-env `{name}` is not an environment variable name"),
                "write e.g. url-env = \"QCS_WEBHOOK_URL\" (letters, digits and _)",
            ));
        }
        None => (env::QCS_WEBHOOK_URL.to_owned(), Source::Default),
    };
    let timeout_setting = config_str(file, &t, "webhook", "timeout")?
        .map(|v| (v, Source::Config("[webhook] timeout".into())));
    let timeout_source = timeout_setting
        .as_ref()
        .map_or(Source::Default, |(_, s)| s.clone());
    let timeout = duration_setting(timeout_setting, DEFAULT_TIMEOUT, "webhook timeout")?;
    if timeout.is_zero() {
        return Err(config_error(
            file,
            "[webhook] timeout is zero",
            "give e.g. 60s",
        ));
    }

    let file_var = if url_env == env::QCS_WEBHOOK_URL {
        env::QCS_WEBHOOK_URL_FILE.to_owned()
    } else {
        format!("{url_env}_FILE")
    };
    let secret = secret_var(env::QCS_WEBHOOK_SECRET, env::QCS_WEBHOOK_SECRET_FILE, env)?;
    let secret_source = secret.as_ref().map(|(_, s)| s.clone());
    let target = match read_secret(&url_env, &file_var, env)? {
        None => None,
        Some((url, from_file)) => {
            let url_origin = if from_file {
                format!("file named by {file_var}")
            } else {
                format!("env {url_env}")
            };
            let Some(shown) = shown_url(url.expose_secret()) else {
                return Err(CliError::BadInputs(
                    vec![format!(
                        "the webhook URL ({url_origin}) is not an absolute http:// or https:// URL with a host (its value is not shown: it is a secret)"
                    )],
                    "set it to e.g. https://hooks.example.com/services/…, or unset it to post nothing",
                ));
            };
            Some(WebhookTarget {
                url,
                url_origin,
                shown,
                secret: secret.map(|(s, _)| s),
            })
        }
    };
    Ok(WebhookSettings {
        url_env,
        url_env_source,
        timeout,
        timeout_source,
        target,
        secret_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{cfg, env_of};

    const URL: &str = "https://hooks.example.com/services/T000/B000/tok3n-s3cret?x=1";

    #[test]
    fn only_scheme_and_host_are_shown() {
        assert_eq!(
            shown_url(URL).as_deref(),
            Some("https://hooks.example.com/…")
        );
        assert_eq!(
            shown_url("http://u:pw@127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(shown_url("ftp://x/y"), None);
        assert_eq!(shown_url("hooks.example.com/x"), None);
    }

    #[test]
    fn unset_means_no_webhook_and_defaults() {
        let s = resolve(None, &env_of(&[])).unwrap();
        assert!(s.target.is_none());
        assert_eq!(s.url_env, "QCS_WEBHOOK_URL");
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn url_from_the_named_variable_or_its_file_and_the_secret() {
        let config = cfg("[webhook]\nurl-env = \"TEAM_HOOK\"\ntimeout = \"5s\"\n");
        let lookup = env_of(&[("TEAM_HOOK", URL), (env::QCS_WEBHOOK_SECRET, "k3y")]);
        let resolved = resolve(Some(&config), &lookup).unwrap();
        let target = resolved.target.unwrap();
        assert_eq!(target.url.expose_secret(), URL);
        assert_eq!(target.url_origin, "env TEAM_HOOK");
        assert_eq!(target.secret.unwrap().expose_secret(), "k3y");
        assert_eq!(resolved.timeout, Duration::from_secs(5));
        assert!(
            resolve(Some(&config), &env_of(&[("QCS_WEBHOOK_URL", URL)]))
                .unwrap()
                .target
                .is_none(),
            "url-env moves it"
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hook");
        std::fs::write(&path, format!("{URL}\n")).unwrap();
        let lookup = env_of(&[("QCS_WEBHOOK_URL_FILE", path.to_str().unwrap())]);
        let target = resolve(None, &lookup).unwrap().target.unwrap();
        assert_eq!(target.url.expose_secret(), URL);
        assert_eq!(target.url_origin, "file named by QCS_WEBHOOK_URL_FILE");
    }

    #[test]
    fn mistakes_are_configuration_errors_that_never_show_the_url() {
        let e = resolve(
            None,
            &env_of(&[("QCS_WEBHOOK_URL", "not a url tok3n-s3cret")]),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::Config);
        assert!(!e.to_string().contains("tok3n-s3cret"), "{e}");
        for text in [
            "[webhook]\nurl = \"https://x\"\n",
            "[webhook]\nsecret = \"x\"\n",
            "[webhook]\nurl-env = \"not-a-name\"\n",
            "[webhook]\ntimeout = \"0s\"\n",
            "[webhook]\nretries = 3\n",
        ] {
            let e = resolve(Some(&cfg(text)), &env_of(&[])).unwrap_err();
            assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::Config, "{text}");
        }
    }
}
