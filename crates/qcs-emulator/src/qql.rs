//! The subset of QQL (Qualys Query Language) that the CS image list understands here.
//!
//! Grammar (keywords case-insensitive, `qualys-api.md` §3.4):
//!
//! ```text
//! expr      := and ( OR and )*
//! and       := unary ( AND unary )*
//! unary     := NOT unary | '(' expr ')' | condition
//! condition := field ':' value          sha:abc…, imageId:abc…, operatingSystem:Ubuntu
//!            | field ':' range          lastScanned:[now-600s ... now], updated:["…".."…"]
//!            | field (> | >= | < | <=) bound       updated>1717000000000
//!            | field IS [NOT] NULL
//! range     := '[' bound ('...' | '..') bound ']', optionally inside '…' or `…`
//! bound     := now | now-N(s|m|h|d|w) | epoch-ms digits | "ISO-8601"
//! ```
//!
//! Fields: `sha`, `imageId`, `lastScanned`, `updated`, `created`, `operatingSystem`,
//! `repo.tag`, `repo.repository`, `repo.registry`. Anything else is a [`QqlError`], which the
//! API answers with 400 and a `message`.

use std::fmt;

/// A field the filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `sha` (64 hex; exact, case-insensitive).
    Sha,
    /// `imageId` (12 hex; exact, case-insensitive).
    ImageId,
    /// `lastScanned` (epoch ms, may be null).
    LastScanned,
    /// `updated` (epoch ms).
    Updated,
    /// `created` (epoch ms).
    Created,
    /// `operatingSystem` (substring, case-insensitive).
    OperatingSystem,
    /// `repo.tag` (exact).
    RepoTag,
    /// `repo.repository` (exact).
    RepoRepository,
    /// `repo.registry` (exact).
    RepoRegistry,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_str() {
            "sha" => Field::Sha,
            "imageid" => Field::ImageId,
            "lastscanned" => Field::LastScanned,
            "updated" => Field::Updated,
            "created" => Field::Created,
            "operatingsystem" => Field::OperatingSystem,
            "repo.tag" => Field::RepoTag,
            "repo.repository" => Field::RepoRepository,
            "repo.registry" => Field::RepoRegistry,
            _ => return None,
        })
    }

    fn is_time(self) -> bool {
        matches!(self, Field::LastScanned | Field::Updated | Field::Created)
    }
}

/// One end of a time range or the operand of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `now` minus this many milliseconds (negative: plus).
    Now(i64),
    /// An absolute time in epoch ms.
    At(i64),
}

impl Bound {
    fn resolve(self, now_ms: u64) -> i64 {
        match self {
            Bound::Now(back) => i64::try_from(now_ms)
                .unwrap_or(i64::MAX)
                .saturating_sub(back),
            Bound::At(t) => t,
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// The inner one does not hold.
    Not(Box<Expr>),
    /// `field:value` on a text field.
    Text(Field, String),
    /// `field:[from .. to]` on a time field (inclusive).
    Range(Field, Bound, Bound),
    /// `field op bound` on a time field.
    Compare(Field, Cmp, Bound),
    /// `field is null`.
    IsNull(Field),
}

/// What a filter is evaluated against.
pub trait QqlTarget {
    /// Values of a text field (several for `repo.*`).
    fn text(&self, field: Field) -> Vec<&str>;
    /// Value of a time field in epoch ms, `None` when null.
    fn time(&self, field: Field) -> Option<u64>;
}

/// A filter the emulator cannot parse; `Display` gives the 400 `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QqlError {
    /// What is wrong.
    pub reason: String,
    /// Byte offset in the filter where it went wrong.
    pub at: usize,
}

impl fmt::Display for QqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invalid QQL filter at position {}: {}",
            self.at, self.reason
        )
    }
}

impl std::error::Error for QqlError {}

impl Expr {
    /// Evaluates the filter for `target` with `now_ms` as `now`.
    pub fn matches(&self, target: &dyn QqlTarget, now_ms: u64) -> bool {
        match self {
            Expr::And(a, b) => a.matches(target, now_ms) && b.matches(target, now_ms),
            Expr::Or(a, b) => a.matches(target, now_ms) || b.matches(target, now_ms),
            Expr::Not(e) => !e.matches(target, now_ms),
            Expr::Text(field, want) => target.text(*field).iter().any(|have| match field {
                Field::Sha | Field::ImageId => have.eq_ignore_ascii_case(want),
                Field::OperatingSystem => have
                    .to_ascii_lowercase()
                    .contains(&want.to_ascii_lowercase()),
                _ => *have == want,
            }),
            Expr::Range(field, from, to) => target.time(*field).is_some_and(|t| {
                let t = i64::try_from(t).unwrap_or(i64::MAX);
                from.resolve(now_ms) <= t && t <= to.resolve(now_ms)
            }),
            Expr::Compare(field, cmp, b) => target.time(*field).is_some_and(|t| {
                let t = i64::try_from(t).unwrap_or(i64::MAX);
                let b = b.resolve(now_ms);
                match cmp {
                    Cmp::Gt => t > b,
                    Cmp::Ge => t >= b,
                    Cmp::Lt => t < b,
                    Cmp::Le => t <= b,
                }
            }),
            Expr::IsNull(field) => {
                if field.is_time() {
                    target.time(*field).is_none()
                } else {
                    target.text(*field).is_empty()
                }
            }
        }
    }
}

/// Parses a filter (already URL-decoded; `+` must have become a space).
pub fn parse(input: &str) -> Result<Expr, QqlError> {
    let mut p = Parser { s: input, pos: 0 };
    p.skip_ws();
    if p.at_end() {
        return Err(p.err("the filter is empty"));
    }
    let e = p.expr()?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.err(format!("unexpected `{}`", p.rest_snippet())));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> QqlError {
        QqlError {
            reason: reason.into(),
            at: self.pos,
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn rest_snippet(&self) -> String {
        self.rest().chars().take(20).collect()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Consumes the keyword `kw` (case-insensitive) when it stands as a whole word.
    fn keyword(&mut self, kw: &str) -> bool {
        let rest = self.rest();
        if rest.len() >= kw.len()
            && rest.is_char_boundary(kw.len())
            && rest[..kw.len()].eq_ignore_ascii_case(kw)
            && !rest[kw.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '_')
        {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Expr, QqlError> {
        let mut left = self.and()?;
        loop {
            self.skip_ws();
            if self.keyword("or") {
                let right = self.and()?;
                left = Expr::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn and(&mut self) -> Result<Expr, QqlError> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            if self.keyword("and") {
                let right = self.unary()?;
                left = Expr::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, QqlError> {
        self.skip_ws();
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some('(') {
            self.bump();
            let e = self.expr()?;
            self.skip_ws();
            if self.bump() != Some(')') {
                return Err(self.err("missing `)`"));
            }
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, QqlError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            self.bump();
        }
        let name = &self.s[start..self.pos];
        if name.is_empty() {
            return Err(self.err(if self.at_end() {
                "expected a condition, found the end of the filter".to_owned()
            } else {
                format!("expected a field name, found `{}`", self.rest_snippet())
            }));
        }
        let Some(field) = Field::parse(name) else {
            return Err(QqlError {
                reason: format!(
                    "unknown field `{name}` (the emulator knows sha, imageId, lastScanned, updated, created, operatingSystem, repo.tag, repo.repository, repo.registry)"
                ),
                at: start,
            });
        };
        self.skip_ws();
        if self.keyword("is") {
            self.skip_ws();
            let negated = self.keyword("not");
            self.skip_ws();
            if !self.keyword("null") {
                return Err(self.err("expected `null` after `is`"));
            }
            let e = Expr::IsNull(field);
            return Ok(if negated { Expr::Not(Box::new(e)) } else { e });
        }
        let op = if self.rest().starts_with(">=") {
            Some(Cmp::Ge)
        } else if self.rest().starts_with("<=") {
            Some(Cmp::Le)
        } else if self.rest().starts_with('>') {
            Some(Cmp::Gt)
        } else if self.rest().starts_with('<') {
            Some(Cmp::Lt)
        } else {
            None
        };
        if let Some(op) = op {
            self.pos += if matches!(op, Cmp::Ge | Cmp::Le) {
                2
            } else {
                1
            };
            if !field.is_time() {
                return Err(self.err(format!(
                    "`{name}` is not a time field; comparisons need one"
                )));
            }
            self.skip_ws();
            let b = self.bound()?;
            return Ok(Expr::Compare(field, op, b));
        }
        if self.bump() != Some(':') {
            return Err(self.err(format!("expected `:` after `{name}`")));
        }
        self.skip_ws();
        // Optional quote or backtick around a range: imagesInUse:'[now-7d ... now]'
        let wrap = match self.peek() {
            Some(q @ ('\'' | '`')) if self.rest()[1..].starts_with('[') => {
                self.bump();
                Some(q)
            }
            _ => None,
        };
        if self.peek() == Some('[') {
            if !field.is_time() {
                return Err(self.err(format!("`{name}` is not a time field; ranges need one")));
            }
            self.bump();
            self.skip_ws();
            let from = self.bound()?;
            self.skip_ws();
            if self.rest().starts_with("...") {
                self.pos += 3;
            } else if self.rest().starts_with("..") {
                self.pos += 2;
            } else {
                return Err(self.err("expected `...` or `..` inside the range"));
            }
            self.skip_ws();
            let to = self.bound()?;
            self.skip_ws();
            if self.bump() != Some(']') {
                return Err(self.err("expected `]` to close the range"));
            }
            if let Some(q) = wrap {
                if self.bump() != Some(q) {
                    return Err(self.err(format!("expected the closing `{q}`")));
                }
            }
            return Ok(Expr::Range(field, from, to));
        }
        if field.is_time() {
            return Err(self.err(format!(
                "`{name}` needs a range `[from ... to]` or a comparison"
            )));
        }
        let value = self.value()?;
        Ok(Expr::Text(field, value))
    }

    #[allow(clippy::single_match_else, reason = "reads better as two cases")]
    fn value(&mut self) -> Result<String, QqlError> {
        match self.peek() {
            Some(q @ ('"' | '\'' | '`')) => {
                self.bump();
                let start = self.pos;
                while self.peek().is_some_and(|c| c != q) {
                    self.bump();
                }
                let v = self.s[start..self.pos].to_owned();
                if self.bump() != Some(q) {
                    return Err(self.err(format!("unterminated {q}-quoted value")));
                }
                Ok(v)
            }
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && c != ')' && c != '(')
                {
                    self.bump();
                }
                if self.pos == start {
                    return Err(self.err("expected a value"));
                }
                Ok(self.s[start..self.pos].to_owned())
            }
        }
    }

    fn bound(&mut self) -> Result<Bound, QqlError> {
        if self.keyword("now") {
            self.skip_ws();
            let sign = match self.peek() {
                Some('-') => 1,
                Some('+') => -1,
                _ => return Ok(Bound::Now(0)),
            };
            self.bump();
            self.skip_ws();
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            let n: i64 = self.s[start..self.pos]
                .parse()
                .map_err(|_| self.err("expected a number after `now-`"))?;
            let unit_ms: i64 = match self.bump() {
                Some('s') => 1_000,
                Some('m') => 60_000,
                Some('h') => 3_600_000,
                Some('d') => 86_400_000,
                Some('w') => 604_800_000,
                _ => return Err(self.err("expected a unit s, m, h, d or w after the number")),
            };
            return Ok(Bound::Now(sign * n.saturating_mul(unit_ms)));
        }
        if let Some(q @ ('"' | '\'')) = self.peek() {
            self.bump();
            let start = self.pos;
            while self.peek().is_some_and(|c| c != q) {
                self.bump();
            }
            let text = &self.s[start..self.pos];
            if self.bump() != Some(q) {
                return Err(self.err("unterminated quoted time"));
            }
            return text
                .parse::<jiff::Timestamp>()
                .map(|t| Bound::At(t.as_millisecond()))
                .or_else(|_| text.parse::<i64>().map(Bound::At))
                .map_err(|_| QqlError {
                    reason: format!("`{text}` is not an ISO-8601 time"),
                    at: start,
                });
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        self.s[start..self.pos]
            .parse::<i64>()
            .map(Bound::At)
            .map_err(|_| {
                self.err("expected `now`, `now-Ns`, epoch milliseconds or a quoted ISO time")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Img {
        sha: &'static str,
        last: Option<u64>,
        updated: u64,
    }

    impl QqlTarget for Img {
        fn text(&self, field: Field) -> Vec<&str> {
            match field {
                Field::Sha => vec![self.sha],
                Field::ImageId => vec![&self.sha[..12]],
                Field::OperatingSystem => vec!["Ubuntu Linux 22.04.4"],
                Field::RepoTag => vec!["1.0", "latest"],
                _ => vec![],
            }
        }
        fn time(&self, field: Field) -> Option<u64> {
            match field {
                Field::LastScanned => self.last,
                Field::Updated | Field::Created => Some(self.updated),
                _ => None,
            }
        }
    }

    const SHA: &str = "4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100";
    const NOW: u64 = 1_717_243_260_000;

    fn m(filter: &str, img: &Img) -> bool {
        parse(filter).expect(filter).matches(img, NOW)
    }

    #[test]
    fn plugin_filter_matches_only_recent_scans() {
        let img = Img {
            sha: SHA,
            last: Some(NOW - 100_000),
            updated: NOW,
        };
        let f = format!("sha:{SHA} and lastScanned: [now-600s ... now]");
        assert!(m(&f, &img));
        assert!(!m(
            &format!("sha:{SHA} and lastScanned: [now-60s ... now]"),
            &img
        ));
        assert!(!m(
            &format!("sha:{SHA} AND lastScanned:[now-0s ... now]"),
            &img
        ));
        let unscanned = Img {
            sha: SHA,
            last: None,
            updated: NOW,
        };
        assert!(!m(&f, &unscanned));
        assert!(m(&format!("SHA:{}", SHA.to_uppercase()), &img));
        assert!(!m("sha:0000", &img));
        assert!(m(&format!("imageId:{}", &SHA[..12]), &img));
    }

    #[test]
    fn updated_ranges_comparisons_and_null_checks() {
        let img = Img {
            sha: SHA,
            last: None,
            updated: 1_717_000_000_000,
        };
        assert!(m("updated>1716999999999", &img));
        assert!(!m("updated>1717000000000", &img));
        assert!(m("updated>=1717000000000", &img));
        assert!(m("updated<=1717000000000 and updated<1717000000001", &img));
        assert!(m(
            r#"updated:["1999-01-01T00:00:00.000Z".."2024-06-01T00:00:00.000Z"]"#,
            &img
        ));
        assert!(!m(
            r#"updated:["2024-06-01T00:00:00Z".."2024-07-01T00:00:00Z"]"#,
            &img
        ));
        assert!(m("lastScanned is null", &img));
        assert!(!m("not lastScanned is null AND updated>1", &img));
        assert!(m("lastScanned is null or sha:x", &img));
        assert!(m(
            "updated:'[now-7d ... now]'",
            &Img {
                sha: SHA,
                last: None,
                updated: NOW - 1
            }
        ));
        assert!(m(
            "updated:`[now-1w ... now]`",
            &Img {
                sha: SHA,
                last: None,
                updated: NOW - 1
            }
        ));
        assert!(m(
            "(sha:x or repo.tag:latest) and operatingSystem:ubuntu",
            &img
        ));
    }

    #[test]
    fn what_it_cannot_parse_is_an_error_with_a_position() {
        for bad in [
            "",
            "   ",
            "vulnerabilities.severity:5",
            "sha:",
            "sha:x and",
            "lastScanned:[now-600x ... now]",
            "lastScanned:[now-600s now]",
            "lastScanned:[now-600s ... now",
            "updated:1717000000000",
            "sha>5",
            "updated:[\"yesterday\"..now]",
            "(sha:x",
            "sha:x )",
            "lastScanned is empty",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(
                e.to_string().starts_with("Invalid QQL filter at position"),
                "{bad}: {e}"
            );
        }
        let e = parse("foo:1").expect_err("unknown field");
        assert!(e.reason.contains("unknown field `foo`"));
        assert_eq!(e.at, 0);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_filters_never_panic(input in "\\PC{0,60}") {
            if let Ok(e) = parse(&input) {
                let img = Img { sha: SHA, last: Some(NOW), updated: NOW };
                let _ = e.matches(&img, NOW);
            }
        }

        #[test]
        fn qql_shaped_noise_never_panics(input in "[a-zA-Z:. \\[\\]()'`\"<>=0-9-]{0,50}") {
            let _ = parse(&input).map(|e| e.matches(&Img { sha: SHA, last: None, updated: 0 }, 0));
        }

        #[test]
        fn the_plugin_filter_parses_for_any_sha_and_age(sha in "[0-9a-f]{64}", n in 0u64..10_000_000) {
            let e = parse(&format!("sha:{sha} and lastScanned: [now-{n}s ... now]")).expect("parses");
            let n_ms = i64::try_from(n).expect("small") * 1000;
            proptest::prop_assert_eq!(
                e,
                Expr::And(
                    Box::new(Expr::Text(Field::Sha, sha)),
                    Box::new(Expr::Range(Field::LastScanned, Bound::Now(n_ms), Bound::Now(0))),
                )
            );
        }
    }
}
