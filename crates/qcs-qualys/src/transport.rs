//! The HTTP client: reqwest with rustls (public roots, the system store, and extra trust anchors
//! from a PEM bundle), an optional proxy with its credentials, a per-request timeout, connection
//! reuse and `User-Agent: qcs/<version>`. Also the reading of transport errors (TLS, 407).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::error::QualysError;
use crate::platform::redact_userinfo;

/// Trust settings.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// A PEM file of extra CA certificates (corporate proxy, private platform, emulator).
    pub ca_bundle: Option<PathBuf>,
}

/// A proxy, with its credentials kept secret.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// The proxy URL without credentials, e.g. `http://proxy.corp:3128`; `None`: no proxy.
    pub url: Option<String>,
    /// Proxy user.
    pub username: Option<SecretString>,
    /// Proxy password.
    pub password: Option<SecretString>,
    /// Hosts that bypass the proxy (`NO_PROXY` syntax: comma-separated hosts, `.suffix`, `*`).
    pub no_proxy: Option<String>,
}

impl ProxyConfig {
    /// A proxy from a URL that may carry `user:password@`; explicit credentials win over the
    /// URL's. The URL kept has no credentials.
    pub fn from_url(
        url: &str,
        username: Option<SecretString>,
        password: Option<SecretString>,
        no_proxy: Option<String>,
    ) -> Result<Self, QualysError> {
        let bad = |reason: String| QualysError::BadUrl {
            what: "proxy",
            url: redact_userinfo(url),
            reason,
        };
        let with_scheme = if url.contains("://") {
            url.trim().to_owned()
        } else {
            format!("http://{}", url.trim())
        };
        let mut parsed = reqwest::Url::parse(&with_scheme).map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("the proxy scheme must be http or https".into()));
        }
        let decode = |s: &str| percent_decode(s);
        let url_user = (!parsed.username().is_empty()).then(|| decode(parsed.username()));
        let url_pass = parsed.password().map(decode);
        // Neither can fail for an http(s) URL with a host.
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        let clean = parsed.as_str().trim_end_matches('/').to_owned();
        Ok(ProxyConfig {
            url: Some(clean),
            username: username.or_else(|| url_user.map(SecretString::from)),
            password: password.or_else(|| url_pass.map(SecretString::from)),
            no_proxy,
        })
    }

    /// Whether `host` is exempt by `no_proxy`.
    pub fn bypasses(&self, host: &str) -> bool {
        let Some(list) = &self.no_proxy else {
            return false;
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        list.split([',', ' '])
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .any(|e| {
                let e = e.split(':').next().unwrap_or("").to_owned();
                e == "*"
                    || host == e.trim_start_matches('.')
                    || (e.starts_with('.') && host.ends_with(&e))
                    || host.ends_with(&format!(".{e}"))
            })
    }

    /// The proxy used for `gateway_url`, if any (without credentials).
    pub fn for_gateway(&self, gateway_url: &str) -> Option<&str> {
        let url = self.url.as_deref()?;
        let host = reqwest::Url::parse(gateway_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        (!self.bypasses(&host)).then_some(url)
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Builds the HTTP client for `gateway_url`.
pub fn build(
    gateway_url: &str,
    tls: &TlsConfig,
    proxy: &ProxyConfig,
    request_timeout: Duration,
) -> Result<reqwest::Client, QualysError> {
    let mut b = reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(Duration::from_secs(15)))
        .pool_idle_timeout(Duration::from_secs(60))
        .tls_built_in_root_certs(true);
    if let Some(path) = &tls.ca_bundle {
        let ca_err = |reason: String| QualysError::CaBundle {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_err(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_err("it holds no PEM certificate".into()));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    match proxy.for_gateway(gateway_url) {
        Some(url) => {
            let mut p = reqwest::Proxy::all(url).map_err(|e| QualysError::BadUrl {
                what: "proxy",
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
            if let Some(user) = &proxy.username {
                let pass = proxy.password.as_ref().map_or("", |p| p.expose_secret());
                p = p.basic_auth(user.expose_secret(), pass);
            }
            b = b.proxy(p);
        }
        None => b = b.no_proxy(),
    }
    b.build()
        .map_err(|e| QualysError::ClientSetup(chain(&e.without_url())))
}

/// Whether an answer is the proxy refusing us: a 407, or (tinyproxy answers wrong credentials
/// this way) a 401 that asks for proxy credentials (`Proxy-Authenticate`, or a
/// `WWW-Authenticate` realm naming a proxy) while a proxy is in use.
pub fn is_proxy_refusal(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    proxy_in_use: bool,
) -> bool {
    if status == 407 {
        return true;
    }
    if status != 401 || !proxy_in_use {
        return false;
    }
    headers.contains_key(reqwest::header::PROXY_AUTHENTICATE)
        || headers
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("proxy"))
}

/// What kind of transport failure this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// TLS handshake or certificate failure: retrying will not help.
    Tls(String),
    /// The proxy demanded authentication.
    ProxyAuth,
    /// A timeout, a refused or dropped connection, a broken body: worth retrying.
    Transient(String),
}

/// The error and its sources as one line (the URL left out: it is named elsewhere).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Whether a transport error says the peer answered something other than TLS (rustls reads the
/// first bytes of a plain-HTTP answer as a record of an unknown content type): no retry helps.
pub fn not_tls(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("invalidcontenttype") || lower.contains("corrupt message")
}

/// Classifies a reqwest error.
pub fn classify(e: reqwest::Error) -> Failure {
    let timeout = e.is_timeout();
    let text = chain(&e.without_url());
    let lower = text.to_ascii_lowercase();
    if lower.contains("407")
        || lower.contains("proxy authentication required")
        || lower.contains("proxy authorization required")
    {
        Failure::ProxyAuth
    } else if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("handshake")
        || lower.contains("invalid peer")
        || lower.contains("tls")
        || not_tls(&text)
    {
        Failure::Tls(text)
    } else if timeout {
        Failure::Transient(format!("timed out ({text})"))
    } else {
        Failure::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_move_out_of_the_proxy_url() {
        let p =
            ProxyConfig::from_url("http://al%40ice:pa%3Ass@proxy:3128/", None, None, None).unwrap();
        assert_eq!(p.url.as_deref(), Some("http://proxy:3128"));
        assert_eq!(p.username.unwrap().expose_secret(), "al@ice");
        assert_eq!(p.password.unwrap().expose_secret(), "pa:ss");
        let p = ProxyConfig::from_url("proxy:3128", None, None, None).unwrap();
        assert_eq!(p.url.as_deref(), Some("http://proxy:3128"));
        assert!(p.username.is_none());
    }

    #[test]
    fn no_proxy_matching() {
        let p = ProxyConfig::from_url(
            "http://proxy:3128",
            None,
            None,
            Some("localhost, .corp.example,qualys.eu".into()),
        )
        .unwrap();
        assert!(p.bypasses("localhost"));
        assert!(p.bypasses("api.corp.example"));
        assert!(p.bypasses("gateway.qg1.apps.qualys.eu"));
        assert!(!p.bypasses("gateway.qg1.apps.qualys.com"));
        assert_eq!(p.for_gateway("http://localhost:1"), None);
        assert_eq!(
            p.for_gateway("https://gateway.qg2.apps.qualys.com"),
            Some("http://proxy:3128")
        );
    }
}
