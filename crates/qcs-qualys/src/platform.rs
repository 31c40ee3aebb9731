//! The Qualys platforms and how a configured platform, API URL, portal URL or gateway URL
//! becomes the gateway URL that every CS call goes to (`qualys-api.md` §1).

use serde::Serialize;

use crate::error::QualysError;

/// One Qualys platform (shared cloud pod).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Platform {
    /// Short code: `US1`…`US4`, `EU1`…`EU3`, `IN1`, `CA1`, `AE1`, `UK1`, `AU1`, `KSA1`.
    pub code: &'static str,
    /// The original Jenkins plugin's code, e.g. `US_PLATFORM_2`.
    pub plugin_code: &'static str,
    /// The classic API URL (`qualysapi.…`).
    pub api_url: &'static str,
    /// The gateway URL (`gateway.…`): auth and the CS API.
    pub gateway_url: &'static str,
    /// The web portal (`qualysguard.…`).
    pub portal_url: &'static str,
}

macro_rules! platform {
    ($code:literal, $plugin:literal, $api:literal, $gw:literal, $portal:literal) => {
        Platform {
            code: $code,
            plugin_code: $plugin,
            api_url: $api,
            gateway_url: $gw,
            portal_url: $portal,
        }
    };
}

/// Every public Qualys platform.
pub const PLATFORMS: &[Platform] = &[
    platform!(
        "US1",
        "US_PLATFORM_1",
        "https://qualysapi.qualys.com",
        "https://gateway.qg1.apps.qualys.com",
        "https://qualysguard.qualys.com"
    ),
    platform!(
        "US2",
        "US_PLATFORM_2",
        "https://qualysapi.qg2.apps.qualys.com",
        "https://gateway.qg2.apps.qualys.com",
        "https://qualysguard.qg2.apps.qualys.com"
    ),
    platform!(
        "US3",
        "US_PLATFORM_3",
        "https://qualysapi.qg3.apps.qualys.com",
        "https://gateway.qg3.apps.qualys.com",
        "https://qualysguard.qg3.apps.qualys.com"
    ),
    platform!(
        "US4",
        "US_PLATFORM_4",
        "https://qualysapi.qg4.apps.qualys.com",
        "https://gateway.qg4.apps.qualys.com",
        "https://qualysguard.qg4.apps.qualys.com"
    ),
    platform!(
        "EU1",
        "EU_PLATFORM_1",
        "https://qualysapi.qualys.eu",
        "https://gateway.qg1.apps.qualys.eu",
        "https://qualysguard.qualys.eu"
    ),
    platform!(
        "EU2",
        "EU_PLATFORM_2",
        "https://qualysapi.qg2.apps.qualys.eu",
        "https://gateway.qg2.apps.qualys.eu",
        "https://qualysguard.qg2.apps.qualys.eu"
    ),
    platform!(
        "EU3",
        "EU_PLATFORM_3",
        "https://qualysapi.qg3.apps.qualys.it",
        "https://gateway.qg3.apps.qualys.it",
        "https://qualysguard.qg3.apps.qualys.it"
    ),
    platform!(
        "IN1",
        "IN_PLATFORM_1",
        "https://qualysapi.qg1.apps.qualys.in",
        "https://gateway.qg1.apps.qualys.in",
        "https://qualysguard.qg1.apps.qualys.in"
    ),
    platform!(
        "CA1",
        "CA_PLATFORM_1",
        "https://qualysapi.qg1.apps.qualys.ca",
        "https://gateway.qg1.apps.qualys.ca",
        "https://qualysguard.qg1.apps.qualys.ca"
    ),
    platform!(
        "AE1",
        "AE_PLATFORM_1",
        "https://qualysapi.qg1.apps.qualys.ae",
        "https://gateway.qg1.apps.qualys.ae",
        "https://qualysguard.qg1.apps.qualys.ae"
    ),
    platform!(
        "UK1",
        "UK_PLATFORM_1",
        "https://qualysapi.qg1.apps.qualys.co.uk",
        "https://gateway.qg1.apps.qualys.co.uk",
        "https://qualysguard.qg1.apps.qualys.co.uk"
    ),
    platform!(
        "AU1",
        "AU_PLATFORM_1",
        "https://qualysapi.qg1.apps.qualys.com.au",
        "https://gateway.qg1.apps.qualys.com.au",
        "https://qualysguard.qg1.apps.qualys.com.au"
    ),
    platform!(
        "KSA1",
        "KSA_PLATFORM_1",
        "https://qualysapi.qg1.apps.qualysksa.com",
        "https://gateway.qg1.apps.qualysksa.com",
        "https://qualysguard.qg1.apps.qualysksa.com"
    ),
];

/// Finds a platform by its code, case-insensitively: `US2`, `us2`, the plugin's `US_PLATFORM_2`,
/// and the long region names the plugin used (`INDIA_PLATFORM`, `CANADA_PLATFORM`,
/// `UAE_PLATFORM`, `UK_PLATFORM`, `AU_PLATFORM`, `KSA_PLATFORM`).
pub fn find(code: &str) -> Option<&'static Platform> {
    let upper = code.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    let short = match upper.split_once("_PLATFORM") {
        Some((region, rest)) => {
            let n = rest.trim_start_matches('_');
            let n = if n.is_empty() { "1" } else { n };
            let region = match region {
                "INDIA" => "IN",
                "CANADA" => "CA",
                "UAE" => "AE",
                "AUSTRALIA" => "AU",
                "SAUDI" | "SAUDI_ARABIA" => "KSA",
                r => r,
            };
            format!("{region}{n}")
        }
        None => upper,
    };
    PLATFORMS.iter().find(|p| p.code == short)
}

/// Where the gateway URL came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewaySource {
    /// A platform code.
    Platform(&'static Platform),
    /// An API or portal URL, mapped.
    Mapped(String),
    /// A gateway URL given explicitly (private platform, emulator): used as is.
    Explicit,
}

/// The resolved gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// Base URL without a trailing slash, e.g. `https://gateway.qg2.apps.qualys.com`.
    pub url: String,
    /// The platform it belongs to, when known.
    pub platform: Option<&'static Platform>,
    /// How it was found.
    pub source: GatewaySource,
}

impl Gateway {
    /// The gateway of a platform code (see [`find`]).
    pub fn from_platform(code: &str) -> Result<Self, QualysError> {
        let p = find(code).ok_or_else(|| QualysError::UnknownPlatform(code.to_owned()))?;
        Ok(Gateway {
            url: p.gateway_url.to_owned(),
            platform: Some(p),
            source: GatewaySource::Platform(p),
        })
    }

    /// Maps an API (`qualysapi.…`), portal (`qualysguard.…`) or gateway URL of a known platform
    /// to its gateway. An unknown `https://qualysapi.X` becomes `https://qualysgateway.X` (private
    /// platforms, as the plugin does); any other URL is used as it is.
    pub fn from_api_url(url: &str) -> Result<Self, QualysError> {
        let clean = check_url("API", url)?;
        let lower = clean.to_ascii_lowercase();
        if let Some(p) = PLATFORMS
            .iter()
            .find(|p| lower == p.api_url || lower == p.portal_url || lower == p.gateway_url)
        {
            return Ok(Gateway {
                url: p.gateway_url.to_owned(),
                platform: Some(p),
                source: GatewaySource::Mapped(clean),
            });
        }
        let mapped = match lower.strip_prefix("https://qualysapi.") {
            Some(rest) => format!("https://qualysgateway.{rest}"),
            None => clean.clone(),
        };
        Ok(Gateway {
            url: mapped,
            platform: None,
            source: GatewaySource::Mapped(clean),
        })
    }

    /// A gateway URL used as it is (only a trailing `/` is removed).
    pub fn explicit(url: &str) -> Result<Self, QualysError> {
        let clean = check_url("gateway", url)?;
        let lower = clean.to_ascii_lowercase();
        let platform = PLATFORMS.iter().find(|p| lower == p.gateway_url);
        Ok(Gateway {
            url: clean,
            platform,
            source: GatewaySource::Explicit,
        })
    }

    /// The portal link of an image (`<portal>/cs/#/assets/images/<sha>`), when the portal is known.
    pub fn portal_link(&self, sha: &str) -> Option<String> {
        self.platform
            .map(|p| format!("{}/cs/#/assets/images/{sha}", p.portal_url))
    }
}

fn check_url(what: &'static str, url: &str) -> Result<String, QualysError> {
    let trimmed = url.trim().trim_end_matches('/');
    let bad = |reason: &str| QualysError::BadUrl {
        what,
        url: redact_userinfo(trimmed),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(
            "the scheme must be https (or http for a local emulator)",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "credentials do not belong in the URL; use QUALYS_USERNAME/QUALYS_PASSWORD",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A URL with any `user:password@` part replaced by `***@` (for messages).
pub fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_in_both_styles() {
        assert_eq!(find("US2").map(|p| p.code), Some("US2"));
        assert_eq!(find("us_platform_2").map(|p| p.code), Some("US2"));
        assert_eq!(find("EU_PLATFORM_1").map(|p| p.code), Some("EU1"));
        assert_eq!(find("INDIA_PLATFORM").map(|p| p.code), Some("IN1"));
        assert_eq!(find("ksa1").map(|p| p.code), Some("KSA1"));
        assert!(find("US9").is_none());
        assert_eq!(PLATFORMS.len(), 13);
    }

    #[test]
    fn api_and_portal_urls_map_to_the_gateway() {
        let g = Gateway::from_api_url("https://qualysapi.qualys.com/").unwrap();
        assert_eq!(g.url, "https://gateway.qg1.apps.qualys.com");
        let g = Gateway::from_api_url("https://qualysapi.qualys.eu").unwrap();
        assert_eq!(g.url, "https://gateway.qg1.apps.qualys.eu");
        let g = Gateway::from_api_url("https://qualysguard.qg2.apps.qualys.com").unwrap();
        assert_eq!(g.url, "https://gateway.qg2.apps.qualys.com");
        let g = Gateway::from_api_url("https://qualysapi.private.example.com").unwrap();
        assert_eq!(g.url, "https://qualysgateway.private.example.com");
        let g = Gateway::from_api_url("http://127.0.0.1:8443").unwrap();
        assert_eq!(g.url, "http://127.0.0.1:8443");
    }

    #[test]
    fn explicit_gateway_is_used_as_is() {
        let g = Gateway::explicit("http://127.0.0.1:9/").unwrap();
        assert_eq!(g.url, "http://127.0.0.1:9");
        assert!(Gateway::explicit("ftp://x").is_err());
        let e = Gateway::explicit("https://u:pw@gw.example").unwrap_err();
        assert!(!e.to_string().contains("pw"));
    }

    #[test]
    fn portal_link() {
        let g = Gateway::from_platform("US2").unwrap();
        assert_eq!(
            g.portal_link("ab").as_deref(),
            Some("https://qualysguard.qg2.apps.qualys.com/cs/#/assets/images/ab")
        );
    }
}
