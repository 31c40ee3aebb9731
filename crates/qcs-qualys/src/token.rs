//! The gateway's JWT: the raw token (a secret) and what `qcs` reads from its payload
//! (`sub`, `exp`, `modulesAllowed`; `qualys-api.md` §2.3). The payload may be encoded with the
//! standard or the URL-safe base64 alphabet, with or without padding.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::SecretString;
use serde::Deserialize;

/// Lifetime assumed when the token carries no `exp` (the documented 4 hours).
pub const DEFAULT_LIFETIME_SECS: i64 = 4 * 3600;

/// What the token says about itself (no secret here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The user (`sub`).
    pub user: String,
    /// Expiry (`exp`, or issue time + 4 h when absent).
    pub expires_at: jiff::Timestamp,
    /// `modulesAllowed`.
    pub modules: Vec<String>,
}

impl TokenInfo {
    /// Whether Container Security is among the modules.
    pub fn has_cs(&self) -> bool {
        self.modules.iter().any(|m| m == "CS")
    }
}

/// A token and what it says.
#[derive(Debug, Clone)]
pub struct Token {
    /// The raw JWT.
    pub secret: SecretString,
    /// Its claims.
    pub info: TokenInfo,
    /// A counter that tells tokens apart without comparing secrets.
    pub generation: u64,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    exp: Option<serde_json::Value>,
    #[serde(default)]
    iat: Option<serde_json::Value>,
    #[serde(default, rename = "modulesAllowed")]
    modules_allowed: Option<Vec<String>>,
}

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

fn seconds(v: Option<&serde_json::Value>) -> Option<i64> {
    match v? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .map(|f| jiff::SignedDuration::from_secs_f64(f.clamp(-1e12, 1e12)).as_secs())
        }),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a token's claims; `now` fills in a missing `exp`. The error says why (never the token).
pub fn parse(raw: &str, now: jiff::Timestamp) -> Result<TokenInfo, String> {
    let raw = raw.trim();
    let mut parts = raw.split('.');
    let (Some(header), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "expected a JWT (three dot-separated parts), got {} bytes{}",
            raw.len(),
            if raw.starts_with('<') { " of HTML" } else { "" }
        ));
    };
    let b64 = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
    };
    if ![header, payload, sig].into_iter().all(b64) {
        return Err(format!(
            "expected a JWT (three base64 parts), got {} bytes that are not",
            raw.len()
        ));
    }
    let bytes = STANDARD
        .decode(payload)
        .or_else(|_| URL_SAFE.decode(payload))
        .map_err(|e| format!("the payload is not base64: {e}"))?;
    let claims: Claims = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the payload is not a JSON object of claims: {e}"))?;
    let exp = seconds(claims.exp.as_ref()).or_else(|| {
        seconds(claims.iat.as_ref()).map(|iat| iat.saturating_add(DEFAULT_LIFETIME_SECS))
    });
    let expires_at = match exp {
        Some(s) => jiff::Timestamp::from_second(s).map_err(|e| format!("bad `exp`: {e}"))?,
        None => now
            .checked_add(jiff::SignedDuration::from_secs(DEFAULT_LIFETIME_SECS))
            .unwrap_or(now),
    };
    Ok(TokenInfo {
        user: claims.sub.unwrap_or_default(),
        expires_at,
        modules: claims.modules_allowed.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

    fn jwt(payload: &str, url_safe: bool) -> String {
        let p = if url_safe {
            URL_SAFE_NO_PAD.encode(payload)
        } else {
            STANDARD_NO_PAD.encode(payload)
        };
        format!("eyJhbGciOiJIUzUxMiJ9.{p}.c2ln")
    }

    #[test]
    fn reads_the_claims_in_either_alphabet() {
        // `?>` encodes to `Pz4` and `>>>` to `Pj4+` (standard) / `Pj4-` (URL-safe).
        let body =
            r#"{"sub":"ci","exp":1717243200,"modulesAllowed":["VM SCANNER","CS"],"x":">>>?"}"#;
        for url_safe in [false, true] {
            let t = parse(&jwt(body, url_safe), jiff::Timestamp::UNIX_EPOCH).unwrap();
            assert_eq!(t.user, "ci");
            assert_eq!(t.expires_at.as_second(), 1_717_243_200);
            assert!(t.has_cs());
        }
    }

    #[test]
    fn missing_exp_is_iat_plus_four_hours() {
        let t = parse(
            &jwt(r#"{"sub":"a","iat":"100"}"#, false),
            jiff::Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(t.expires_at.as_second(), 100 + 14_400);
        assert!(!t.has_cs());
    }

    #[test]
    fn garbage_is_refused_without_echo() {
        let e = parse("<html>secret-ish</html>", jiff::Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(!e.contains("secret-ish"));
        assert!(parse("a.!!!.c", jiff::Timestamp::UNIX_EPOCH).is_err());
        assert!(parse(&jwt("[1]", false), jiff::Timestamp::UNIX_EPOCH).is_err());
    }
}
