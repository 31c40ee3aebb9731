//! Accounts and gateway tokens: `POST /auth` users, OAuth/OIDC clients, JWT minting and checks.
//!
//! Tokens are HS512 JWTs shaped like the real gateway's (`qualys-api.md` §2.3): payload claims
//! `sub`, `iat`, `exp`, `modulesAllowed`, `loginResponse`, `iss`, `aud`, ... The payload's
//! base64url text never contains `-` or `_`, because the Jenkins plugin decodes it with Java's
//! standard (not URL-safe) decoder; a filler claim is varied until the encoding is clean.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha512;
use std::fmt::Write as _;

/// A username/password account accepted by `POST /auth`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login name (`sub` claim).
    pub username: String,
    /// Password (never logged).
    pub password: String,
    /// `modulesAllowed` claim; the CS API answers 403 to tokens without `"CS"`.
    #[serde(default = "default_modules")]
    pub modules: Vec<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("modules", &self.modules)
            .finish()
    }
}

/// An OAuth/OIDC client accepted by `POST /auth/oidc` and `POST /auth/oauth`
/// (headers `clientId` and `clientSecret`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// `clientId` header value.
    pub client_id: String,
    /// `clientSecret` header value (never logged).
    pub client_secret: String,
    /// `modulesAllowed` claim.
    #[serde(default = "default_modules")]
    pub modules: Vec<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("modules", &self.modules)
            .finish()
    }
}

fn default_modules() -> Vec<String> {
    vec!["VM SCANNER".into(), "CS".into(), "PORTAL TAGGING".into()]
}

impl User {
    /// The default demo user `qcs-demo`/`qcs-demo` with the CS module.
    pub fn demo() -> Self {
        User {
            username: "qcs-demo".into(),
            password: "qcs-demo".into(),
            modules: default_modules(),
        }
    }
}

impl Client {
    /// The default demo OAuth client `qcs-demo`/`qcs-demo` with the CS module.
    pub fn demo() -> Self {
        Client {
            client_id: "qcs-demo".into(),
            client_secret: "qcs-demo".into(),
            modules: default_modules(),
        }
    }
}

/// The claims the emulator checks on a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Subject: username or client id.
    pub sub: String,
    /// Issued at, epoch seconds.
    pub iat: u64,
    /// Expiry, epoch seconds.
    pub exp: u64,
    /// Modules the token grants.
    pub modules: Vec<String>,
}

impl Claims {
    /// Whether the token grants the Container Security module.
    pub fn has_cs(&self) -> bool {
        self.modules.iter().any(|m| m == "CS")
    }
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not three dot-separated parts, bad base64, bad JSON or missing claims.
    Malformed,
    /// The signature does not match this emulator's key.
    BadSignature,
    /// Past `exp` (epoch seconds) at `now_ms`.
    Expired {
        /// The token's `exp`, epoch seconds.
        exp: u64,
        /// The emulator's now, epoch ms.
        now_ms: u64,
    },
}

/// Signs and verifies tokens with a per-run HMAC key.
pub struct TokenSigner {
    key: Vec<u8>,
    /// Makes every minted token unique, even two for one user in one second.
    seq: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<key>)")
    }
}

type HmacSha512 = Hmac<Sha512>;

impl TokenSigner {
    /// A signer with the given key bytes.
    pub fn new(key: Vec<u8>) -> Self {
        TokenSigner {
            key,
            seq: std::sync::atomic::AtomicU64::new(1),
        }
    }

    fn mac(&self) -> HmacSha512 {
        HmacSha512::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    /// Mints a token for `sub` with `modules`, issued at `now_ms`, valid `lifetime_secs`.
    /// The payload segment contains no `-` or `_`.
    pub fn mint(
        &self,
        sub: &str,
        modules: &[String],
        credential: &str,
        now_ms: u64,
        lifetime_secs: u64,
    ) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512"}"#);
        let iat = now_ms / 1000;
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The filler claim comes first: varying its length shifts the base64 alignment of
        // everything after it, varying its digits changes its own encoding. If a subject's
        // bytes defeat every alignment, its non-alphanumeric characters are written as
        // `\u00XX` JSON escapes (same JSON value, different bytes) and the search goes on.
        let payload = (0..600u32)
            .find_map(|n| {
                let escaped = n >= 300;
                let pad = "0".repeat((n % 3) as usize);
                let claims = format!(
                    r#"{{"jti":"qcs{seq}x{pad}{n}","sub":{sub},"loginResponse":"SUCCESSFUL","successfulAuthenticationHandlers":[{cred}],"iss":"qas","aud":"qas","ipAddress":"127.0.0.1","portalUserId":7700001,"qwebUserId":5500001,"usertype":"fo","credentialType":{cred},"modulesAllowed":{modules},"iat":{iat},"exp":{exp}}}"#,
                    sub = json_string(sub, escaped),
                    cred = json_string(credential, escaped),
                    modules = Value::from(modules.to_vec()),
                    exp = iat + lifetime_secs,
                );
                let encoded = URL_SAFE_NO_PAD.encode(claims);
                (!encoded.contains(['-', '_'])).then_some(encoded)
            })
            .unwrap_or_else(|| {
                // Unreachable in practice; a plain payload still verifies.
                URL_SAFE_NO_PAD.encode(json!({"sub": sub, "iat": iat, "exp": iat + lifetime_secs, "modulesAllowed": modules}).to_string())
            });
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Checks the signature and expiry of `token` at `now_ms`.
    pub fn verify(&self, token: &str, now_ms: u64) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| TokenError::Malformed)?;
        let v: Value = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        let claims = Claims {
            sub: v["sub"].as_str().ok_or(TokenError::Malformed)?.to_owned(),
            iat: v["iat"].as_u64().ok_or(TokenError::Malformed)?,
            exp: v["exp"].as_u64().ok_or(TokenError::Malformed)?,
            modules: v["modulesAllowed"]
                .as_array()
                .ok_or(TokenError::Malformed)?
                .iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect(),
        };
        if now_ms >= claims.exp.saturating_mul(1000) {
            return Err(TokenError::Expired {
                exp: claims.exp,
                now_ms,
            });
        }
        Ok(claims)
    }
}

/// A JSON string literal for `s`; with `escape_all`, every non-alphanumeric ASCII character
/// is written as a `\u00XX` escape.
fn json_string(s: &str, escape_all: bool) -> String {
    if !escape_all {
        return Value::from(s).to_string();
    }
    let mut out = String::with_capacity(s.len() * 2 + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0u16; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD_NO_PAD;

    #[test]
    fn minted_tokens_verify_and_decode_with_the_standard_alphabet() {
        let s = TokenSigner::new(b"k".to_vec());
        // Many subjects so that some first encodings would contain `-`/`_`.
        for i in 0..200 {
            let sub = format!("user?>{i}~~");
            let t = s.mint(
                &sub,
                &["CS".into()],
                "UsernamePasswordCredential",
                1_700_000_000_000,
                60,
            );
            let parts: Vec<&str> = t.split('.').collect();
            assert_eq!(parts.len(), 3);
            assert!(!parts[1].contains(['-', '_']), "{}", parts[1]);
            let payload = STANDARD_NO_PAD
                .decode(parts[1])
                .expect("standard alphabet decodes");
            let v: Value = serde_json::from_slice(&payload).expect("json");
            assert_eq!(v["sub"], sub.as_str());
            assert_eq!(v["exp"].as_u64(), Some(1_700_000_060));
            assert!(v["modulesAllowed"].to_string().contains("\"CS\""));
            let c = s.verify(&t, 1_700_000_000_000).expect("valid");
            assert!(c.has_cs());
        }
    }

    #[test]
    fn expiry_signature_and_garbage_are_refused() {
        let s = TokenSigner::new(b"k".to_vec());
        let t = s.mint("u", &[], "x", 1_000_000, 10);
        assert!(s.verify(&t, 1_000_000).is_ok());
        assert_eq!(
            s.verify(&t, 1_010_000),
            Err(TokenError::Expired {
                exp: 1_010,
                now_ms: 1_010_000
            })
        );
        let other = TokenSigner::new(b"other".to_vec());
        assert_eq!(other.verify(&t, 1_000_000), Err(TokenError::BadSignature));
        assert_eq!(s.verify("a.b", 0), Err(TokenError::Malformed));
        assert_eq!(s.verify("", 0), Err(TokenError::Malformed));
        assert!(!s.verify(&t, 1_000_000).expect("valid").has_cs());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bearer_tokens_are_refused_without_panicking(t in "\\PC{0,200}") {
            let s = TokenSigner::new(b"k".to_vec());
            proptest::prop_assert!(s.verify(&t, 0).is_err());
        }

        #[test]
        fn any_subject_gets_a_clean_payload(sub in "\\PC{0,40}") {
            let s = TokenSigner::new(b"k".to_vec());
            let t = s.mint(&sub, &["CS".to_owned()], "UsernamePasswordCredential", 1_700_000_000_000, 60);
            let payload = t.split('.').nth(1).expect("payload");
            proptest::prop_assert!(!payload.contains(['-', '_']));
            let c = s.verify(&t, 1_700_000_000_000).expect("valid");
            proptest::prop_assert_eq!(c.sub, sub);
        }
    }
}
