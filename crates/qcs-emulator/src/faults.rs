//! Faults on demand: rules that make chosen endpoints misbehave, by count or by probability.
//!
//! A [`FaultRule`] names an endpoint key (see [`crate::endpoint`]; `*` for all, a trailing `*`
//! for a prefix such as `docker/*`), a [`FaultAction`] and how often: the next `times` matching
//! requests, or each matching request with `probability` (drawn from a seeded generator, so a
//! run is repeatable), or both (the first `times` requests that the draw selects). Rules come
//! from the scenario file and from `POST /_emulator/faults`; the first live rule that selects
//! a request wins.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// What a fault does to the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status and the §6.1 error body (optional message, and `Retry-After`
    /// plus `X-RateLimit-ToWait-Sec` when `retry_after_secs` is set).
    Status {
        /// HTTP status code, e.g. 500, 503, 429, 409, 403.
        status: u16,
        /// The `message` of the error body (default: the reason phrase).
        #[serde(default)]
        message: Option<String>,
        /// Adds `Retry-After` and `X-RateLimit-ToWait-Sec` with this many seconds.
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// Answer with this status and an error body in the other shape seen from the gateway:
    /// `{"errorCode":"CMS-2002","errorMessage":"…"}` (`qualys-api.md` §4.8). In the scenario
    /// file: `kind = "status"` with `body = "cms"` and optional `error_code`.
    StatusCms {
        /// HTTP status code.
        status: u16,
        /// `errorCode` (default `CMS-2002`).
        #[serde(default)]
        error_code: Option<String>,
        /// `errorMessage` (default: the reason phrase).
        #[serde(default)]
        message: Option<String>,
    },
    /// Wait `ms` milliseconds of real time, then answer normally.
    Delay {
        /// Real-time delay in milliseconds.
        ms: u64,
    },
    /// Never answer (holds the request for an hour): slower than any client timeout.
    Hang,
    /// Close the connection without any response.
    Drop,
    /// Send the status line, headers and the first half of the body, then close the
    /// connection (the `Content-Length` promises the full body).
    Truncate,
    /// Answer with the normal status and a body that is not valid JSON.
    Malformed,
    /// Answer 200 with an HTML page and `Content-Type: text/html`.
    WrongContentType,
    /// Answer 200 with an empty body.
    EmptyBody,
    /// Answer 401 `JWT expired ...` as if the caller's token had expired.
    ExpireToken,
}

/// One fault rule. In TOML and JSON it is one flat table: `endpoint`, `kind` and the kind's
/// fields (`status`, `message`, `retry_after_secs`; `ms`), `times`, `probability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
pub struct FaultRule {
    /// Endpoint key (`auth`, `auth/oidc`, `auth/oauth`, `images`, `images/{id}`,
    /// `docker/...`), `*` for every endpoint, or a prefix ending in `*`.
    pub endpoint: String,
    /// What to do.
    pub action: FaultAction,
    /// Apply to this many (selected) requests, then retire. `None`: no limit.
    pub times: Option<u32>,
    /// Select each matching request with this probability (0..=1). `None`: always.
    pub probability: Option<f64>,
}

/// The flat wire form of a [`FaultRule`] (unknown keys are refused).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    endpoint: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
    /// Error body shape for kind `status`: `documented` (default) or `cms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    probability: Option<f64>,
}

impl TryFrom<RawRule> for FaultRule {
    type Error = String;

    fn try_from(r: RawRule) -> Result<Self, String> {
        let extra = |what: &str| format!("`{what}` does not apply to kind `{}`", r.kind);
        let only_status = r.ms.is_none();
        let no_params = r.status.is_none()
            && r.message.is_none()
            && r.retry_after_secs.is_none()
            && r.body.is_none()
            && r.error_code.is_none();
        let action = match r.kind.as_str() {
            "status" => {
                if !only_status {
                    return Err(extra("ms"));
                }
                let status = r.status.ok_or("kind `status` needs `status` (e.g. 503)")?;
                match r.body.as_deref() {
                    None | Some("documented") => {
                        if r.error_code.is_some() {
                            return Err(
                                "`error_code` needs `body = \"cms\"` (the documented body's errorCode is \"<status> <REASON>\")".into(),
                            );
                        }
                        FaultAction::Status {
                            status,
                            message: r.message.clone(),
                            retry_after_secs: r.retry_after_secs,
                        }
                    }
                    Some("cms") => {
                        if r.retry_after_secs.is_some() {
                            return Err(
                                "`retry_after_secs` does not apply to `body = \"cms\"`".into()
                            );
                        }
                        FaultAction::StatusCms {
                            status,
                            error_code: r.error_code.clone(),
                            message: r.message.clone(),
                        }
                    }
                    Some(other) => {
                        return Err(format!(
                            "unknown error body `{other}`; expected `documented` ({{errorCode,message,timestamp}}) or `cms` ({{errorCode,errorMessage}})"
                        ));
                    }
                }
            }
            "delay" => {
                if !no_params {
                    return Err(extra("status/message/retry_after_secs"));
                }
                FaultAction::Delay {
                    ms: r.ms.ok_or("kind `delay` needs `ms` (milliseconds)")?,
                }
            }
            other => {
                if !no_params || r.ms.is_some() {
                    return Err(extra("status/message/retry_after_secs/ms"));
                }
                match other {
                    "hang" => FaultAction::Hang,
                    "drop" => FaultAction::Drop,
                    "truncate" => FaultAction::Truncate,
                    "malformed" => FaultAction::Malformed,
                    "wrong_content_type" => FaultAction::WrongContentType,
                    "empty_body" => FaultAction::EmptyBody,
                    "expire_token" => FaultAction::ExpireToken,
                    _ => {
                        return Err(format!(
                            "unknown fault kind `{other}`; expected one of: status, delay, hang, drop, truncate, malformed, wrong_content_type, empty_body, expire_token"
                        ));
                    }
                }
            }
        };
        Ok(FaultRule {
            endpoint: r.endpoint,
            action,
            times: r.times,
            probability: r.probability,
        })
    }
}

impl From<FaultRule> for RawRule {
    fn from(f: FaultRule) -> Self {
        let mut raw = RawRule {
            endpoint: f.endpoint,
            kind: String::new(),
            status: None,
            message: None,
            retry_after_secs: None,
            body: None,
            error_code: None,
            ms: None,
            times: f.times,
            probability: f.probability,
        };
        let kind = match f.action {
            FaultAction::Status {
                status,
                message,
                retry_after_secs,
            } => {
                raw.status = Some(status);
                raw.message = message;
                raw.retry_after_secs = retry_after_secs;
                "status"
            }
            FaultAction::StatusCms {
                status,
                error_code,
                message,
            } => {
                raw.status = Some(status);
                raw.message = message;
                raw.error_code = error_code;
                raw.body = Some("cms".into());
                "status"
            }
            FaultAction::Delay { ms } => {
                raw.ms = Some(ms);
                "delay"
            }
            FaultAction::Hang => "hang",
            FaultAction::Drop => "drop",
            FaultAction::Truncate => "truncate",
            FaultAction::Malformed => "malformed",
            FaultAction::WrongContentType => "wrong_content_type",
            FaultAction::EmptyBody => "empty_body",
            FaultAction::ExpireToken => "expire_token",
        };
        kind.clone_into(&mut raw.kind);
        raw
    }
}

impl FaultRule {
    /// A rule applying `action` to every request to `endpoint` (narrow it with
    /// [`FaultRule::times`] or [`FaultRule::probability`]).
    pub fn new(endpoint: impl Into<String>, action: FaultAction) -> Self {
        FaultRule {
            endpoint: endpoint.into(),
            action,
            times: None,
            probability: None,
        }
    }

    /// A rule answering `status` with the §6.1 error body.
    pub fn status(endpoint: impl Into<String>, status: u16) -> Self {
        Self::new(
            endpoint,
            FaultAction::Status {
                status,
                message: None,
                retry_after_secs: None,
            },
        )
    }

    /// A rule answering `status` with the `{"errorCode":"CMS-2002","errorMessage":…}` body
    /// (`error_code` `None`: `CMS-2002`).
    pub fn status_cms(endpoint: impl Into<String>, status: u16, error_code: Option<&str>) -> Self {
        Self::new(
            endpoint,
            FaultAction::StatusCms {
                status,
                error_code: error_code.map(str::to_owned),
                message: None,
            },
        )
    }

    /// Applies to the next `n` selected requests only.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Selects each matching request with probability `p`.
    #[must_use]
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    fn matches(&self, endpoint: &str) -> bool {
        match self.endpoint.strip_suffix('*') {
            Some(prefix) => endpoint.starts_with(prefix),
            None => self.endpoint == endpoint,
        }
    }
}

/// A rule that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault rule for endpoint `{endpoint}`: {reason}")]
pub struct FaultError {
    /// The rule's endpoint.
    pub endpoint: String,
    /// What is wrong, with a hint.
    pub reason: String,
}

impl FaultRule {
    /// Checks status range and probability.
    pub fn validate(&self) -> Result<(), FaultError> {
        let bad = |reason: String| {
            Err(FaultError {
                endpoint: self.endpoint.clone(),
                reason,
            })
        };
        if self.endpoint.is_empty() {
            return bad("the endpoint is empty (hint: use `*` for every endpoint)".into());
        }
        if let FaultAction::Status { status, .. } | FaultAction::StatusCms { status, .. } =
            self.action
        {
            if !(100..=599).contains(&status) {
                return bad(format!("status {status} is not an HTTP status (100..=599)"));
            }
        }
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) || p.is_nan() {
                return bad(format!("probability {p} is outside 0..=1"));
            }
        }
        Ok(())
    }
}

/// A live rule with its id and remaining count.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveFault {
    /// Id for listing.
    pub id: u64,
    /// The rule as given.
    pub rule: FaultRule,
    /// How many more requests it will hit (`None`: unlimited).
    pub remaining: Option<u32>,
    /// How many requests it has hit so far.
    pub hits: u64,
}

/// The set of live fault rules.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<FaultsInner>,
}

#[derive(Debug)]
struct FaultsInner {
    rules: Vec<ActiveFault>,
    next_id: u64,
    rng: ChaCha8Rng,
}

impl Faults {
    /// An empty set whose probability draws come from `seed`.
    pub fn new(seed: u64) -> Self {
        Faults {
            inner: Mutex::new(FaultsInner {
                rules: Vec::new(),
                next_id: 1,
                rng: ChaCha8Rng::seed_from_u64(seed),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultsInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a rule; returns its id.
    pub fn add(&self, rule: FaultRule) -> Result<u64, FaultError> {
        rule.validate()?;
        let mut g = self.lock();
        let id = g.next_id;
        g.next_id += 1;
        let remaining = rule.times;
        g.rules.push(ActiveFault {
            id,
            rule,
            remaining,
            hits: 0,
        });
        Ok(id)
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Live rules.
    pub fn list(&self) -> Vec<ActiveFault> {
        self.lock().rules.clone()
    }

    /// Picks the action for a request to `endpoint`, consuming one use of the rule.
    pub fn pick(&self, endpoint: &str) -> Option<FaultAction> {
        let mut g = self.lock();
        let g = &mut *g;
        let mut chosen = None;
        for (i, f) in g.rules.iter_mut().enumerate() {
            if !f.rule.matches(endpoint) || f.remaining == Some(0) {
                continue;
            }
            if let Some(p) = f.rule.probability {
                if !g.rng.random_bool(p) {
                    continue;
                }
            }
            f.hits += 1;
            if let Some(r) = f.remaining.as_mut() {
                *r -= 1;
            }
            chosen = Some((i, f.rule.action.clone()));
            break;
        }
        g.rules.retain(|f| f.remaining != Some(0));
        chosen.map(|(_, a)| a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(endpoint: &str, times: Option<u32>, probability: Option<f64>) -> FaultRule {
        FaultRule {
            endpoint: endpoint.into(),
            action: FaultAction::Status {
                status: 503,
                message: None,
                retry_after_secs: None,
            },
            times,
            probability,
        }
    }

    #[test]
    fn counted_rules_retire_and_match_by_endpoint_or_prefix() {
        let f = Faults::new(1);
        f.add(rule("images", Some(2), None)).expect("valid");
        f.add(rule("docker/*", None, None)).expect("valid");
        assert!(f.pick("images/{id}").is_none());
        assert!(f.pick("images").is_some());
        assert!(f.pick("images").is_some());
        assert!(f.pick("images").is_none());
        assert!(f.pick("docker/containers").is_some());
        assert!(f.pick("docker/containers").is_some());
        assert_eq!(f.list().len(), 1);
        f.clear();
        assert!(f.pick("docker/containers").is_none());
    }

    #[test]
    fn probability_is_seeded_and_roughly_right() {
        let count = |seed| {
            let f = Faults::new(seed);
            f.add(rule("*", None, Some(0.3))).expect("valid");
            (0..1000).filter(|_| f.pick("auth").is_some()).count()
        };
        let n = count(7);
        assert_eq!(n, count(7), "same seed, same draws");
        assert!((220..380).contains(&n), "{n}");
    }

    #[test]
    fn invalid_rules_are_refused_and_toml_shape_parses() {
        let f = Faults::new(1);
        assert!(f.add(rule("images", None, Some(1.5))).is_err());
        let mut r = rule("images", None, None);
        r.action = FaultAction::Status {
            status: 42,
            message: None,
            retry_after_secs: None,
        };
        assert!(f.add(r).expect_err("bad status").to_string().contains("42"));
        let parsed: FaultRule =
            toml::from_str("endpoint = \"images\"\nkind = \"delay\"\nms = 250\ntimes = 1\n")
                .expect("toml");
        assert_eq!(parsed.action, FaultAction::Delay { ms: 250 });
        let e = toml::from_str::<FaultRule>("endpoint = \"x\"\nkind = \"explode\"\n")
            .expect_err("kind");
        assert!(
            e.to_string().contains("unknown fault kind `explode`"),
            "{e}"
        );
        assert!(
            toml::from_str::<FaultRule>("endpoint = \"x\"\nkind = \"drop\"\nstatus = 5\n").is_err()
        );
        assert!(
            toml::from_str::<FaultRule>("endpoint = \"x\"\nkind = \"drop\"\ntypo = 5\n").is_err()
        );
        let back = serde_json::to_value(&parsed).expect("json");
        assert_eq!(
            back,
            serde_json::json!({"endpoint": "images", "kind": "delay", "ms": 250, "times": 1})
        );
    }
}
