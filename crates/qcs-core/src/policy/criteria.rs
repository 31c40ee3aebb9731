//! The original plugin's criteria JSON (`{"failConditions": {...}}`, `plugin-behaviour.md` §2)
//! read into a [`RawPolicy`], so a team can bring its existing configuration over unchanged.
//!
//! Exclusions keep the original's meaning: `excludeBy` picks which of `excludeQids` and
//! `excludeCVEs` applies, and the other list is ignored (with a warning when it is not empty).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{IssueLevel, Origin, PolicyIssue, RawExclusion, RawPolicy, Spanned};

const KNOWN: &[&str] = &[
    "severities",
    "qids",
    "cves",
    "software",
    "cvss",
    "checkPotentialVulns",
    "excludeBy",
    "excludeQids",
    "excludeCVEs",
];

/// Why a criteria text is not usable JSON: the message, and the 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong (without the position).
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Parses criteria JSON text, refusing a key given twice in one object (at any depth) where
/// JSON parsers usually keep the last one silently: a criteria file with two `severities` would
/// otherwise lose a condition without a word.
pub fn parse_json(text: &str) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let out = <NoDuplicates as serde::Deserialize>::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v.0));
    out.map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        JsonError {
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_owned(),
            line: e.line(),
            column: e.column(),
        }
    })
}

/// A JSON value read with duplicate keys refused.
struct NoDuplicates(Value);

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor).map(NoDuplicates)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(NoDuplicates(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key `{key}` is given twice in one object"
                )));
            }
            let NoDuplicates(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Reads a criteria document that has already been parsed as JSON. `name` (usually the file
/// path) prefixes every origin. Problems of shape are collected in [`RawPolicy::issues`].
pub fn from_json(name: &str, doc: &Value) -> RawPolicy {
    let mut r = Reader {
        name,
        raw: RawPolicy::default(),
    };
    let Some(root) = doc.as_object() else {
        r.error("", "the criteria document is not a JSON object", EXAMPLE);
        return r.raw;
    };
    let fc = match root.get("failConditions") {
        Some(Value::Object(m)) => m,
        Some(Value::Null) | None => {
            r.error(
                "",
                "the criteria document has no `failConditions` object",
                EXAMPLE,
            );
            return r.raw;
        }
        Some(_) => {
            r.error("", "`failConditions` is not an object", EXAMPLE);
            return r.raw;
        }
    };
    for key in fc.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        r.error(
            &format!("failConditions.{key}"),
            &format!("unknown key `{key}`"),
            &format!("known keys: {}", KNOWN.join(", ")),
        );
    }
    r.severities(fc);
    r.raw.qids = r.strings(fc, "qids");
    r.raw.cves = r.strings(fc, "cves");
    r.raw.software = r.strings(fc, "software");
    r.cvss(fc);
    r.raw.potential = r.boolean(fc, "checkPotentialVulns");
    r.exclusions(fc);
    r.raw
}

const EXAMPLE: &str = "expected {\"failConditions\": {\"severities\": {\"5\": 0}, ...}} as the Jenkins plugin writes it";

struct Reader<'a> {
    name: &'a str,
    raw: RawPolicy,
}

impl Reader<'_> {
    fn origin(&self, path: &str) -> Origin {
        if path.is_empty() {
            Origin::at(self.name)
        } else {
            Origin::at(format!("{}: failConditions.{path}", self.name))
        }
    }

    fn error(&mut self, path: &str, message: &str, hint: &str) {
        let origin = self.origin(path);
        self.raw.issues.push(PolicyIssue {
            level: IssueLevel::Error,
            origin,
            message: message.to_owned(),
            hint: Some(hint.to_owned()),
        });
    }

    fn warn(&mut self, path: &str, message: &str, hint: &str) {
        let origin = self.origin(path);
        self.raw.issues.push(PolicyIssue {
            level: IssueLevel::Warning,
            origin,
            message: message.to_owned(),
            hint: Some(hint.to_owned()),
        });
    }

    /// A list of strings; numbers are accepted as their text (QIDs are often written bare).
    fn strings(&mut self, fc: &Map<String, Value>, key: &str) -> Vec<Spanned<String>> {
        match fc.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{key}[{i}]");
                    match item {
                        Value::String(s) => out.push(Spanned::new(s.clone(), self.origin(&path))),
                        Value::Number(n) => {
                            out.push(Spanned::new(n.to_string(), self.origin(&path)));
                        }
                        _ => self.error(
                            &path,
                            &format!("`{item}` is not a string"),
                            "list entries are strings",
                        ),
                    }
                }
                out
            }
            // The plugin's form fields are comma-separated text; accept that shape too.
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Spanned::new(s.to_owned(), self.origin(key)))
                .collect(),
            Some(other) => {
                self.error(
                    key,
                    &format!("`{key}` is {}, not a list", kind(other)),
                    "write a JSON array of strings",
                );
                Vec::new()
            }
        }
    }

    fn boolean(&mut self, fc: &Map<String, Value>, key: &str) -> Option<Spanned<bool>> {
        let b = match fc.get(key) {
            None | Some(Value::Null) => return None,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                self.error(
                    key,
                    &format!("`{key}` is {}, not true/false", kind(other)),
                    "write true or false",
                );
                return None;
            }
        };
        Some(Spanned::new(b, self.origin(key)))
    }

    fn severities(&mut self, fc: &Map<String, Value>) {
        match fc.get("severities") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (level, limit) in m {
                    let path = format!("severities.{level}");
                    let origin = self.origin(&path);
                    let lim = match limit {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    match lim {
                        Some(l) => self.raw.severity.push((
                            Spanned::new(level.clone(), origin.clone()),
                            Spanned::new(l, origin),
                        )),
                        None => self.error(
                            &path,
                            &format!("severity {level} limit `{limit}` is not a whole number"),
                            "the limit is how many vulnerabilities of that level are tolerated",
                        ),
                    }
                }
            }
            Some(other) => self.error(
                "severities",
                &format!("`severities` is {}, not an object", kind(other)),
                "write {\"5\": 0, \"4\": 2}: level -> tolerated count",
            ),
        }
    }

    fn cvss(&mut self, fc: &Map<String, Value>) {
        let Some(v) = fc.get("cvss").filter(|v| !v.is_null()) else {
            return;
        };
        let Some(m) = v.as_object() else {
            self.error(
                "cvss",
                "`cvss` is not an object",
                "write {\"version\": \"3\", \"configured\": 7.0}",
            );
            return;
        };
        let version = match m.get("version") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                self.error(
                    "cvss.version",
                    "`cvss.version` is missing",
                    "use \"2\", \"3\" or \"maxOfv2andv3\"",
                );
                return;
            }
        };
        let score = match m.get("configured") {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let Some(score) = score else {
            self.error(
                "cvss.configured",
                "`cvss.configured` is not a number",
                "write the threshold, e.g. 7.0",
            );
            return;
        };
        self.raw.cvss = Some((
            Spanned::new(version, self.origin("cvss.version")),
            Spanned::new(score, self.origin("cvss.configured")),
        ));
    }

    fn exclusions(&mut self, fc: &Map<String, Value>) {
        let by = match fc.get("excludeBy") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.trim().to_ascii_lowercase()),
            Some(other) => {
                self.error(
                    "excludeBy",
                    &format!("`excludeBy` is {}", kind(other)),
                    "write \"qid\" or \"cve\"",
                );
                None
            }
        };
        let qids = self.strings(fc, "excludeQids");
        let cves = self.strings(fc, "excludeCVEs");
        let (used, ignored, ignored_key) = match by.as_deref() {
            Some("qid") => (
                qids.into_iter()
                    .map(|q| (Some(q), None))
                    .collect::<Vec<_>>(),
                cves.len(),
                "excludeCVEs",
            ),
            Some("cve") => (
                cves.into_iter().map(|c| (None, Some(c))).collect(),
                qids.len(),
                "excludeQids",
            ),
            Some(other) => {
                let other = other.to_owned();
                self.error(
                    "excludeBy",
                    &format!("unknown `excludeBy` value `{other}`"),
                    "write \"qid\" or \"cve\"",
                );
                return;
            }
            None => {
                if !qids.is_empty() || !cves.is_empty() {
                    self.warn(
                        "excludeBy",
                        "exclusion lists are given without `excludeBy`, so none applies (as in the original)",
                        "set \"excludeBy\": \"qid\" or \"cve\", or use a qcs policy file to exclude by both",
                    );
                }
                return;
            }
        };
        if ignored > 0 {
            self.warn(
                ignored_key,
                &format!(
                    "`{ignored_key}` is ignored because `excludeBy` is `{}`",
                    by.unwrap_or_default()
                ),
                "the original excludes by one kind only; a qcs policy file can exclude by both",
            );
        }
        for (qid, cve) in used {
            let origin = qid
                .as_ref()
                .or(cve.as_ref())
                .map(|s| s.origin.clone())
                .unwrap_or_default();
            self.raw.exclude.push(RawExclusion {
                origin,
                qid,
                cve,
                ..RawExclusion::default()
            });
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12, item 7: a key given twice in criteria JSON is an error with its place (before,
    /// the last one silently won and a condition was lost).
    #[test]
    fn a_key_given_twice_is_an_error_with_its_line_and_column() {
        let text =
            "{\"failConditions\": {\"severities\": {\"5\": 0},\n  \"severities\": {\"4\": 9}}}";
        let e = parse_json(text).unwrap_err();
        assert_eq!((e.line, e.column), (2, 14), "{e}");
        assert!(e.message.contains("`severities` is given twice"), "{e}");
        let nested = "{\"failConditions\": {\"severities\": {\"5\": 0, \"5\": 3}}}";
        assert!(parse_json(nested).unwrap_err().message.contains("`5`"));
        let ok = parse_json("{\"failConditions\": {\"qids\": [1, 2.5, \"3\"], \"x\": null}}");
        assert_eq!(
            ok.unwrap(),
            serde_json::json!({"failConditions": {"qids": [1, 2.5, "3"], "x": null}})
        );
        assert_eq!(parse_json("{} x").unwrap_err().line, 1);
    }
    use crate::policy::ExclusionTarget;

    #[test]
    fn reads_every_key() {
        let doc: Value = serde_json::from_str(
            r#"{"failConditions": {"severities": {"5": 0, "4": "2"}, "qids": ["179203", 170560],
            "cves": ["CVE-2017-1000116"], "software": ["openssl.*"],
            "cvss": {"version": "maxOfv2andv3", "configured": 7.0}, "checkPotentialVulns": true,
            "excludeBy": "cve", "excludeQids": ["1"], "excludeCVEs": ["CVE-2018-2771"]}}"#,
        )
        .unwrap();
        let (p, issues) = from_json("c.json", &doc).validate();
        let p = p.unwrap();
        assert_eq!(p.severity, [None, None, None, Some(2), Some(0)]);
        assert_eq!(p.qids.len(), 2);
        assert!(p.potential);
        assert_eq!(p.cvss.unwrap().version.as_str(), "max");
        assert_eq!(p.exclusions.len(), 1);
        assert!(matches!(p.exclusions[0].target, ExclusionTarget::Cve(_)));
        // the ignored QID list is worth a warning, nothing more
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].level, IssueLevel::Warning);
        assert!(
            issues[0].origin.place.contains("excludeQids"),
            "{}",
            issues[0].origin
        );
    }

    #[test]
    fn shape_errors_name_the_path() {
        let doc: Value = serde_json::from_str(
            r#"{"failConditions": {"severities": {"5": "x"}, "qids": "1,2", "cvss": {"version": "9", "configured": 11},
            "bogus": 1, "excludeBy": "both"}}"#,
        )
        .unwrap();
        let (p, issues) = from_json("c.json", &doc).validate();
        assert!(p.is_none());
        let msgs: Vec<String> = issues.iter().map(ToString::to_string).collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains("failConditions.bogus") && m.contains("unknown key")),
            "{msgs:#?}"
        );
        assert!(msgs.iter().any(|m| m.contains("severities.5")), "{msgs:#?}");
        assert!(
            msgs.iter().any(|m| m.contains("unknown CVSS version `9`")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("outside 0.0-10.0")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("`excludeBy` value `both`")),
            "{msgs:#?}"
        );
        assert!(from_json("c.json", &Value::Array(vec![])).issues.len() == 1);
    }
}
