//! The policy file (`product.md` §3): TOML with `[fail]` and `[[exclude]]`, read into a
//! [`RawPolicy`] whose every value carries its file, line and column, so that validation can
//! point at the exact place of each problem.
//!
//! The same tables may sit under `[policy]` in `qcs.toml` ([`from_toml`] with a `root`).
//! Unknown keys are errors. Reading text is pure; the caller does the file I/O.

use std::ops::Range;

use toml::Spanned as TSpanned;
use toml::de::{DeTable, DeValue};

use super::{IssueLevel, Origin, PolicyIssue, RawExclusion, RawPolicy, Spanned};

const TOP_KEYS: &[&str] = &["fail", "exclude", "baseline"];
/// The keys of `[baseline]`.
pub const BASELINE_KEYS: &[&str] = &["mode", "path"];
const FAIL_KEYS: &[&str] = &[
    "severity",
    "qids",
    "cves",
    "software",
    "cvss",
    "potential",
    "fixable-only",
];
const EXCLUDE_KEYS: &[&str] = &["qid", "cve", "reason", "expires", "image"];
const CVSS_KEYS: &[&str] = &["version", "score"];

/// Reads policy TOML. `name` is the file name shown in locations; `root` is the table holding
/// the policy (`Some("policy")` for `qcs.toml`, `None` for a policy file). A document that is not
/// TOML yields one issue per syntax error.
pub fn from_toml(name: &str, text: &str, root: Option<&str>) -> RawPolicy {
    let mut r = Reader {
        name,
        text,
        root: root.map_or(String::new(), |k| format!("{k}.")),
        raw: RawPolicy::default(),
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let span = e.span().unwrap_or(0..0);
        r.error(
            span,
            e.message().trim().to_owned(),
            "fix the TOML syntax at this place",
        );
    }
    if !errors.is_empty() {
        return r.raw;
    }
    let doc = doc.into_inner();
    let table: &DeTable<'_> = match root {
        None => &doc,
        Some(key) => match doc.get(key) {
            None => return r.raw,
            Some(v) => match v.get_ref() {
                DeValue::Table(t) => t,
                other => {
                    r.error(
                        v.span(),
                        format!("`{key}` is {}, not a table", kind(other)),
                        "write [policy] with [policy.fail] and [[policy.exclude]] under it",
                    );
                    return r.raw;
                }
            },
        },
    };
    r.unknown_keys(table, TOP_KEYS, "");
    if let Some(fail) = table.get("fail") {
        match fail.get_ref() {
            DeValue::Table(t) => r.fail(t),
            other => r.error(
                fail.span(),
                format!("`fail` is {}, not a table", kind(other)),
                "write a [fail] table",
            ),
        }
    }
    if let Some(ex) = table.get("exclude") {
        match ex.get_ref() {
            DeValue::Array(items) => {
                for item in items {
                    match item.get_ref() {
                        DeValue::Table(t) => r.exclusion(item.span(), t),
                        other => r.error(
                            item.span(),
                            format!("an exclusion is {}, not a table", kind(other)),
                            "write each exclusion as an [[exclude]] table",
                        ),
                    }
                }
            }
            other => r.error(
                ex.span(),
                format!("`exclude` is {}, not a list of tables", kind(other)),
                "write each exclusion as an [[exclude]] table",
            ),
        }
    }
    if let Some(b) = table.get("baseline") {
        match b.get_ref() {
            DeValue::Table(t) => r.baseline(t),
            other => r.error(
                b.span(),
                format!("`baseline` is {}, not a table", kind(other)),
                "write a [baseline] table: mode = \"new\", path = \"baseline/summary.json\"",
            ),
        }
    }
    r.raw
}

struct Reader<'a> {
    name: &'a str,
    text: &'a str,
    /// The path of the policy's table in the document (`"policy."` in `qcs.toml`), shown
    /// before unknown keys.
    root: String,
    raw: RawPolicy,
}

impl Reader<'_> {
    fn origin(&self, span: Range<usize>) -> Origin {
        let (line, col) = line_col(self.text, span.start);
        Origin {
            place: format!("{}:{line}:{col}", self.name),
            span: Some(span),
            file: Some(self.name.to_owned()),
        }
    }

    fn issue(&mut self, level: IssueLevel, span: Range<usize>, message: String, hint: &str) {
        let origin = self.origin(span);
        self.raw.issues.push(PolicyIssue {
            level,
            origin,
            message,
            hint: Some(hint.to_owned()),
        });
    }

    fn error(&mut self, span: Range<usize>, message: String, hint: &str) {
        self.issue(IssueLevel::Error, span, message, hint);
    }

    fn unknown_keys(&mut self, table: &DeTable<'_>, known: &[&str], prefix: &str) {
        for key in table.keys() {
            let k: &str = key.get_ref();
            if !known.contains(&k) {
                let hint = unknown_key_hint(k, known);
                let root = &self.root;
                self.error(
                    key.span(),
                    format!("unknown key `{root}{prefix}{k}`"),
                    &hint,
                );
            }
        }
    }

    fn spanned(&self, v: &TSpanned<DeValue<'_>>, text: String) -> Spanned<String> {
        Spanned::new(text, self.origin(v.span()))
    }

    /// A string (or, where ids may be written bare, an integer) as text.
    fn text(
        &mut self,
        v: &TSpanned<DeValue<'_>>,
        what: &str,
        allow_int: bool,
    ) -> Option<Spanned<String>> {
        match v.get_ref() {
            DeValue::String(s) => Some(self.spanned(v, s.to_string())),
            DeValue::Integer(i) if allow_int => Some(self.spanned(v, int_text(i))),
            other => {
                self.error(
                    v.span(),
                    format!("{what} is {}, not a string", kind(other)),
                    "write it in double quotes",
                );
                None
            }
        }
    }

    fn list(
        &mut self,
        v: &TSpanned<DeValue<'_>>,
        key: &str,
        allow_int: bool,
    ) -> Vec<Spanned<String>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.error(
                v.span(),
                format!("`fail.{key}` is {}, not a list", kind(v.get_ref())),
                "write a list: [\"a\", \"b\"]",
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|i| self.text(i, &format!("an entry of `fail.{key}`"), allow_int))
            .collect()
    }

    fn boolean(&mut self, v: &TSpanned<DeValue<'_>>, key: &str) -> Option<Spanned<bool>> {
        if let Some(b) = v.get_ref().as_bool() {
            Some(Spanned::new(b, self.origin(v.span())))
        } else {
            self.error(
                v.span(),
                format!("`fail.{key}` is {}, not true/false", kind(v.get_ref())),
                "write true or false",
            );
            None
        }
    }

    fn fail(&mut self, t: &DeTable<'_>) {
        self.unknown_keys(t, FAIL_KEYS, "fail.");
        for (key, v) in t {
            match &**key.get_ref() {
                "severity" => self.severity(v),
                "qids" => self.raw.qids = self.list(v, "qids", true),
                "cves" => self.raw.cves = self.list(v, "cves", false),
                "software" => self.raw.software = self.list(v, "software", false),
                "cvss" => self.cvss(v),
                "potential" => self.raw.potential = self.boolean(v, "potential"),
                "fixable-only" => self.raw.fixable_only = self.boolean(v, "fixable-only"),
                _ => {}
            }
        }
    }

    fn baseline(&mut self, t: &DeTable<'_>) {
        self.unknown_keys(t, BASELINE_KEYS, "baseline.");
        for (key, v) in t {
            let what = format!("`baseline.{}`", key.get_ref());
            match &**key.get_ref() {
                "mode" => self.raw.baseline_mode = self.text(v, &what, false),
                "path" => self.raw.baseline_path = self.text(v, &what, false),
                _ => {}
            }
        }
    }

    fn severity(&mut self, v: &TSpanned<DeValue<'_>>) {
        let DeValue::Table(t) = v.get_ref() else {
            self.error(
                v.span(),
                format!("`fail.severity` is {}, not a table", kind(v.get_ref())),
                "write severity = { 5 = 0, 4 = 2 }: level = tolerated count",
            );
            return;
        };
        for (level, limit) in t {
            let level_s = Spanned::new(level.get_ref().to_string(), self.origin(level.span()));
            let lim = match limit.get_ref() {
                DeValue::Integer(i) => int_value(i),
                _ => None,
            };
            match lim {
                Some(l) => self.raw.severity.push((level_s, Spanned::new(l, self.origin(limit.span())))),
                None => self.error(
                    limit.span(),
                    format!("severity {} limit is {}, not a whole number", level.get_ref(), kind(limit.get_ref())),
                    "the limit is how many vulnerabilities of that level are tolerated; 0 fails on the first",
                ),
            }
        }
    }

    fn cvss(&mut self, v: &TSpanned<DeValue<'_>>) {
        let DeValue::Table(t) = v.get_ref() else {
            self.error(
                v.span(),
                format!("`fail.cvss` is {}, not a table", kind(v.get_ref())),
                "write cvss = { version = \"3\", score = 9.0 }",
            );
            return;
        };
        self.unknown_keys(t, CVSS_KEYS, "fail.cvss.");
        let Some(ver) = t.get("version") else {
            self.error(
                v.span(),
                "`fail.cvss` has no `version`".to_owned(),
                "add version = \"3\" (or \"2\", \"max\")",
            );
            return;
        };
        let version = match ver.get_ref() {
            DeValue::String(s) => Some(self.spanned(ver, s.to_string())),
            DeValue::Integer(i) => Some(self.spanned(ver, int_text(i))),
            DeValue::Float(f) => Some(self.spanned(ver, f.as_str().to_owned())),
            other => {
                self.error(
                    ver.span(),
                    format!("`fail.cvss.version` is {}", kind(other)),
                    "use \"2\", \"3\" or \"max\"",
                );
                None
            }
        };
        let Some(s) = t.get("score") else {
            self.error(
                v.span(),
                "`fail.cvss` has no `score`".to_owned(),
                "add score = 9.0 (fail at a base score at or above it)",
            );
            return;
        };
        let n = match s.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            #[allow(clippy::cast_precision_loss)] // small whole scores such as 9
            DeValue::Integer(i) => int_value(i).map(|i| i as f64),
            _ => None,
        };
        if n.is_none() {
            self.error(
                s.span(),
                format!("`fail.cvss.score` is {}, not a number", kind(s.get_ref())),
                "write the threshold, e.g. score = 9.0",
            );
        }
        let score = n.map(|n| Spanned::new(n, self.origin(s.span())));
        if let (Some(version), Some(score)) = (version, score) {
            self.raw.cvss = Some((version, score));
        }
    }

    fn exclusion(&mut self, span: Range<usize>, t: &DeTable<'_>) {
        self.unknown_keys(t, EXCLUDE_KEYS, "exclude.");
        let mut e = RawExclusion {
            origin: self.origin(span),
            reason_expected: true,
            ..RawExclusion::default()
        };
        for (key, v) in t {
            match &**key.get_ref() {
                "qid" => e.qid = self.text(v, "`qid`", true),
                "cve" => e.cve = self.text(v, "`cve`", false),
                "reason" => e.reason = self.text(v, "`reason`", false),
                "image" => e.image = self.text(v, "`image`", false),
                "expires" => {
                    e.expires = match v.get_ref() {
                        DeValue::String(s) => Some(self.spanned(v, s.to_string())),
                        DeValue::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
                            Some(self.spanned(v, d.to_string()))
                        }
                        other => {
                            // A value that is not a date: keep its text so validation names it.
                            let shown = match other {
                                DeValue::Datetime(d) => d.to_string(),
                                DeValue::Integer(i) => int_text(i),
                                DeValue::Float(f) => f.as_str().to_owned(),
                                _ => kind(other).to_owned(),
                            };
                            Some(self.spanned(v, shown))
                        }
                    };
                }
                _ => {}
            }
        }
        self.raw.exclude.push(e);
    }
}

fn int_value(i: &toml::de::DeInteger<'_>) -> Option<i64> {
    i64::from_str_radix(i.as_str(), i.radix()).ok()
}

fn int_text(i: &toml::de::DeInteger<'_>) -> String {
    int_value(i).map_or_else(|| i.as_str().to_owned(), |n| n.to_string())
}

/// What a TOML value is, as error messages name it ("a string", "a table", …).
pub fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// 1-based line and column (in characters) of a byte offset; an offset inside a character
/// counts as that character's start, one past the end as the end (never a panic).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The hint for an unknown key: the closest known key (`did you mean …?`, also for a key that
/// differs only in case) and the keys known at that place.
pub fn unknown_key_hint(key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(c) => format!("did you mean `{c}`? known keys here: {}", known.join(", ")),
        None => format!("known keys here: {}", known.join(", ")),
    }
}

/// The known key closest to a misspelt one (edit distance at most 2, or the same letters in
/// another case).
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        return Some(k);
    }
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance; keys are a few characters long, so the quadratic table is fine and a
/// dependency is not worth it.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ExclusionTarget;

    #[test]
    fn reads_the_documented_shape() {
        let text = r#"
[fail]
severity = { 5 = 0, 4 = 2 }
qids = ["179203", "170560-170590", 376209]
cves = ["CVE-2021-44228"]
software = ["openssl=1\\.1\\..*", ".*:log4j-core<2.17.1"]
cvss = { version = "3", score = 9.0 }
potential = true
fixable-only = true

[[exclude]]
qid = "179203"
reason = "false positive, SEC-42"
expires = 2027-03-01

[[exclude]]
cve = "CVE-2023-1234"
reason = "not reachable"
"#;
        let (p, issues) = from_toml("p.toml", text, None).validate();
        assert!(issues.is_empty(), "{issues:#?}");
        let p = p.unwrap();
        assert_eq!(p.severity, [None, None, None, Some(2), Some(0)]);
        assert_eq!(p.qids.len(), 3);
        assert_eq!(p.software.len(), 2);
        assert!(p.potential && p.fixable_only);
        assert_eq!(p.exclusions.len(), 2);
        assert_eq!(p.exclusions[0].expires.unwrap().to_string(), "2027-03-01");
        assert!(matches!(p.exclusions[1].target, ExclusionTarget::Cve(_)));
    }

    #[test]
    fn the_policy_table_of_qcs_toml() {
        let text = "[qualys]\nplatform = \"US2\"\n[policy.fail]\ncves = [\"CVE-2021-44228\"]\n";
        let (p, issues) = from_toml("qcs.toml", text, Some("policy")).validate();
        assert!(issues.is_empty(), "{issues:#?}");
        assert_eq!(p.unwrap().cves.len(), 1);
        let (p, _) = from_toml("qcs.toml", "[qualys]\n", Some("policy")).validate();
        assert!(!p.unwrap().has_conditions());
    }

    #[test]
    fn syntax_errors_point_at_their_line() {
        let raw = from_toml("p.toml", "[fail]\ncves = [\"CVE-2021-44228\"\n", None);
        assert_eq!(raw.issues.len(), 1);
        assert!(
            raw.issues[0].origin.place.starts_with("p.toml:"),
            "{}",
            raw.issues[0].origin
        );
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let raw = from_toml("p.toml", "[fail]\nseverty = { 5 = 0 }\n", None);
        assert_eq!(raw.issues[0].message, "unknown key `fail.severty`");
        assert_eq!(raw.issues[0].origin.place, "p.toml:2:1");
        assert!(
            raw.issues[0]
                .hint
                .as_deref()
                .unwrap()
                .starts_with("did you mean `severity`?")
        );
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncdé\nx", 0), (1, 1));
        assert_eq!(line_col("ab\ncdé\nx", 3), (2, 1));
        assert_eq!(line_col("ab\ncdé\nx", 8), (3, 1));
        assert_eq!(edit_distance("severty", "severity"), 1);
        assert_eq!(closest("zzz", FAIL_KEYS), None);
    }

    #[test]
    fn an_offset_inside_a_character_is_that_characters_position() {
        // Found by the policy_toml fuzz target: a byte offset in the middle of a 2-byte character.
        let text = "a = 1\nb = \"\u{48b}\"\n";
        let inside = text.find('\u{48b}').unwrap_or(0) + 1;
        assert_eq!(line_col(text, inside), (2, 6));
        assert_eq!(line_col(text, text.len() + 10), (3, 1));
    }
}
