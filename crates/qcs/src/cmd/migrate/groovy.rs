//! Reading the plugin's step calls in a Jenkinsfile: `getImageVulnsFromQualys(key: value, …)`,
//! the same without parentheses (what the Snippet Generator writes), with a map literal
//! (`getImageVulnsFromQualys([key: value])`), and the classic
//! `step([$class: 'GetImageVulnsNotifier', …])`.
//!
//! Written by hand, on purpose: no crate parses Groovy (its grammar is the JVM's), and only the
//! named arguments of one call are needed. The scanner knows just enough Groovy to find them:
//! comments, string literals (single, double and triple quoted, with Groovy's escapes), and
//! brackets. A value is read when it is a string literal, a boolean, `null` or a number;
//! anything else (a `GString` with `${…}` or `$name`, a variable such as `env.IMAGE`, an
//! expression) is kept as its source text and reported as "cannot be read".

use super::model::Value;
use super::xml::line_col;

/// The step's symbol.
pub(crate) const STEP: &str = "getImageVulnsFromQualys";
/// The step's class, as `step([$class: …])` names it (with or without the package).
const STEP_CLASS_SHORT: &str = "GetImageVulnsNotifier";

/// One named argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arg {
    /// The parameter's name.
    pub(crate) key: String,
    /// Its value.
    pub(crate) value: Value,
    /// 1-based line of the name.
    pub(crate) line: usize,
}

/// One call of the step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// 1-based line of the step's name.
    pub(crate) line: usize,
    /// The named arguments, in order.
    pub(crate) args: Vec<Arg>,
}

/// Text the scanner cannot read: what, where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// What is wrong.
    pub(crate) message: String,
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column.
    pub(crate) column: usize,
    /// What to do about it.
    pub(crate) hint: &'static str,
}

/// Every call of the step in `text`, in order.
pub(crate) fn calls(text: &str) -> Result<Vec<Call>, ParseError> {
    let mut s = Scanner {
        text,
        b: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    while s.i < s.b.len() {
        let c = s.b[s.i];
        if s.starts_with("//") || s.starts_with("/*") {
            s.skip_comment()?;
        } else if c == b'\'' || c == b'"' {
            s.string()?;
        } else if is_ident_start(c) {
            let at = s.i;
            let name = s.ident();
            let after_dot = s.text[..at].trim_end().ends_with('.');
            if after_dot {
                continue;
            }
            if name == STEP {
                if let Some(args) = s.call_args()? {
                    out.push(Call {
                        line: s.line(at),
                        args,
                    });
                }
            } else if name == "step" {
                if let Some(mut args) = s.call_args()? {
                    let class = args.iter().position(|a| a.key == "$class").filter(|&p| {
                        matches!(&args[p].value, Value::Text(t)
                                if t.rsplit('.').next() == Some(STEP_CLASS_SHORT))
                    });
                    if let Some(p) = class {
                        args.remove(p);
                        out.push(Call {
                            line: s.line(at),
                            args,
                        });
                    }
                }
            }
        } else {
            s.i += 1;
        }
    }
    Ok(out)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Where the arguments end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// At this closing bracket (`)` or `]`).
    Close(u8),
    /// At the end of the statement (a call without parentheses): a newline that does not
    /// follow a comma, `;`, `}` or the end of the text.
    Statement,
}

/// A string literal as read.
struct Literal {
    /// The text with escapes resolved.
    text: String,
    /// It interpolates (`${…}` or `$name` in a double-quoted string): its value is unknown.
    interpolated: bool,
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn starts_with(&self, p: &str) -> bool {
        self.b[self.i..].starts_with(p.as_bytes())
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn line(&self, at: usize) -> usize {
        line_col(self.text, at).0
    }

    fn error(&self, at: usize, message: String, hint: &'static str) -> ParseError {
        let (line, column) = line_col(self.text, at);
        ParseError {
            message,
            line,
            column,
            hint,
        }
    }

    fn ident(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(is_ident) {
            self.i += 1;
        }
        &self.text[start..self.i]
    }

    /// Skips a `//` or `/* */` comment.
    fn skip_comment(&mut self) -> Result<(), ParseError> {
        let start = self.i;
        if self.starts_with("//") {
            while self.peek().is_some_and(|c| c != b'\n') {
                self.i += 1;
            }
            return Ok(());
        }
        match self.text[self.i + 2..].find("*/") {
            Some(n) => {
                self.i += 2 + n + 2;
                Ok(())
            }
            None => Err(self.error(
                start,
                "this /* comment is never closed".to_owned(),
                "close the comment with */",
            )),
        }
    }

    /// Skips spaces, tabs and comments; newlines too when `newlines`.
    fn skip_space(&mut self, newlines: bool) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.i += 1,
                Some(b'\n') if newlines => self.i += 1,
                Some(b'\\') if self.b.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                Some(b'/') if self.starts_with("//") || self.starts_with("/*") => {
                    // a line comment ends the statement of a call without parentheses
                    if !newlines && self.starts_with("//") {
                        return Ok(());
                    }
                    self.skip_comment()?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// After the step's name: the named arguments, or `None` when this is not a call with
    /// named arguments (the name used as a value, say).
    fn call_args(&mut self) -> Result<Option<Vec<Arg>>, ParseError> {
        let back = self.i;
        self.skip_space(false)?;
        if self.peek() == Some(b'(') {
            self.i += 1;
            self.skip_space(true)?;
            if self.peek() == Some(b'[') {
                self.i += 1;
                let args = self.args(End::Close(b']'))?;
                self.skip_space(true)?;
                if self.peek() != Some(b')') {
                    return Err(self.error(
                        self.i,
                        format!("expected `)` after the map of the {STEP} call"),
                        "write the call as getImageVulnsFromQualys(name: value, ...)",
                    ));
                }
                self.i += 1;
                return Ok(Some(args));
            }
            if self.peek() == Some(b')') {
                self.i += 1;
                return Ok(Some(Vec::new()));
            }
            return self.args(End::Close(b')')).map(Some);
        }
        // Without parentheses: `name: value, …` must follow.
        if self.looks_like_named_arg() {
            return self.args(End::Statement).map(Some);
        }
        self.i = back;
        Ok(None)
    }

    /// Whether `name:` (or `'name':`) starts here.
    fn looks_like_named_arg(&mut self) -> bool {
        let back = self.i;
        let ok = match self.peek() {
            Some(c) if is_ident_start(c) => {
                self.ident();
                let _ = self.skip_space(false);
                self.peek() == Some(b':')
            }
            Some(b'\'' | b'"') => {
                self.string().is_ok() && {
                    let _ = self.skip_space(false);
                    self.peek() == Some(b':')
                }
            }
            _ => false,
        };
        self.i = back;
        ok
    }

    fn at_end(&self, end: End) -> bool {
        match (end, self.peek()) {
            (_, None) | (End::Statement, Some(b'\n' | b';' | b'}')) => true,
            (End::Close(c), Some(x)) => c == x,
            (End::Statement, Some(b'/')) => self.starts_with("//"),
            (End::Statement, _) => false,
        }
    }

    fn args(&mut self, end: End) -> Result<Vec<Arg>, ParseError> {
        let inside = matches!(end, End::Close(_));
        let mut args = Vec::new();
        loop {
            self.skip_space(inside)?;
            if self.at_end(end) {
                break;
            }
            let key_at = self.i;
            let key = match self.peek() {
                Some(c) if is_ident_start(c) => self.ident().to_owned(),
                Some(b'\'' | b'"') => self.string()?.text,
                _ => {
                    return Err(self.error(
                        key_at,
                        format!("the {STEP} call has an argument that is not `name: value`"),
                        "give the step's parameters by name, e.g. imageIds: 'app:1.0'",
                    ));
                }
            };
            self.skip_space(inside)?;
            if self.peek() != Some(b':') {
                return Err(self.error(
                    self.i,
                    format!("expected `:` after the parameter name `{key}`"),
                    "give the step's parameters by name, e.g. imageIds: 'app:1.0'",
                ));
            }
            self.i += 1;
            self.skip_space(true)?;
            let value = self.value(end)?;
            args.push(Arg {
                key,
                value,
                line: self.line(key_at),
            });
            self.skip_space(inside)?;
            if self.peek() == Some(b',') {
                self.i += 1;
                // after a comma the arguments go on, on the next line too
                self.skip_space(true)?;
                continue;
            }
            if self.at_end(end) {
                break;
            }
            return Err(self.error(
                self.i,
                format!("expected `,` or the end of the {STEP} call here"),
                "separate the parameters with commas: name: value, name: value",
            ));
        }
        if let End::Close(c) = end {
            if self.peek() != Some(c) {
                return Err(self.error(
                    self.i,
                    format!("the {STEP} call is not closed with `{}`", c as char),
                    "close the call's parentheses",
                ));
            }
            self.i += 1;
        }
        Ok(args)
    }

    /// Whether the value ends here (a comma, or the end of the arguments).
    fn value_ends(&mut self, end: End) -> Result<bool, ParseError> {
        let back = self.i;
        self.skip_space(matches!(end, End::Close(_)))?;
        let ends = self.peek() == Some(b',') || self.at_end(end);
        self.i = back;
        Ok(ends)
    }

    fn value(&mut self, end: End) -> Result<Value, ParseError> {
        let start = self.i;
        match self.peek() {
            Some(b'\'' | b'"') => {
                let lit = self.string()?;
                if self.value_ends(end)? {
                    return Ok(if lit.interpolated {
                        Value::Unreadable(self.text[start..self.i].to_owned())
                    } else {
                        Value::Text(lit.text)
                    });
                }
            }
            Some(c) if is_ident_start(c) => {
                let word = self.ident().to_owned();
                if self.value_ends(end)? {
                    match word.as_str() {
                        "true" => return Ok(Value::Bool(true)),
                        "false" => return Ok(Value::Bool(false)),
                        "null" => return Ok(Value::Null),
                        _ => {}
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => {
                if let Some(n) = self.number() {
                    if self.value_ends(end)? {
                        return Ok(Value::Number(n));
                    }
                }
            }
            _ => {}
        }
        self.i = start;
        self.expression(end)?;
        Ok(Value::Unreadable(
            self.text[start..self.i].trim().to_owned(),
        ))
    }

    /// `-?digits(.digits)?` with an optional Groovy type suffix; the number without it.
    fn number(&mut self) -> Option<String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = |s: &mut Self| {
            let from = s.i;
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            s.i > from
        };
        if !digits(self) {
            return None;
        }
        if self.peek() == Some(b'.') && self.b.get(self.i + 1).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
            digits(self);
        }
        let n = self.text[start..self.i].to_owned();
        if self.peek().is_some_and(|c| b"GgLlIiDdFf".contains(&c)) {
            self.i += 1;
        }
        if self.peek().is_some_and(is_ident) {
            return None;
        }
        Some(n)
    }

    /// Skips a value that is not a literal: up to the comma or end at bracket depth 0.
    fn expression(&mut self, end: End) -> Result<(), ParseError> {
        let start = self.i;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            if depth == 0 && (c == b',' || self.at_end(end)) {
                return Ok(());
            }
            match c {
                b'\'' | b'"' => {
                    self.string()?;
                    continue;
                }
                b'/' if self.starts_with("//") || self.starts_with("/*") => {
                    if depth == 0 && end == End::Statement && self.starts_with("//") {
                        return Ok(());
                    }
                    self.skip_comment()?;
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.i += 1;
        }
        if depth == 0 && self.at_end(end) {
            return Ok(());
        }
        Err(self.error(
            start,
            format!("this value of the {STEP} call is never finished"),
            "check the brackets and quotes of the call",
        ))
    }

    /// A string literal starting here (`'…'`, `"…"`, `'''…'''`, `"""…"""`).
    fn string(&mut self) -> Result<Literal, ParseError> {
        let start = self.i;
        let quote = self.b[self.i];
        let triple = self.b[self.i..].starts_with(&[quote; 3]);
        self.i += if triple { 3 } else { 1 };
        let mut text = String::new();
        let mut interpolated = false;
        let unclosed = |s: &Self| {
            s.error(
                start,
                "this string is never closed".to_owned(),
                "close the string with the quote it starts with",
            )
        };
        loop {
            let Some(c) = self.peek() else {
                return Err(unclosed(self));
            };
            if c == quote && (!triple || self.b[self.i..].starts_with(&[quote; 3])) {
                self.i += if triple { 3 } else { 1 };
                return Ok(Literal { text, interpolated });
            }
            if c == b'\n' && !triple {
                return Err(unclosed(self));
            }
            if c == b'\\' {
                let at = self.i;
                self.i += 1;
                let Some(e) = self.peek() else {
                    return Err(unclosed(self));
                };
                self.i += 1;
                match e {
                    b'n' => text.push('\n'),
                    b't' => text.push('\t'),
                    b'r' => text.push('\r'),
                    b'b' => text.push('\u{8}'),
                    b'f' => text.push('\u{c}'),
                    b's' => text.push(' '),
                    b'\n' => {}
                    b'u' => {
                        let hex = self.text.get(self.i..self.i + 4).unwrap_or("");
                        let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                        match ch {
                            Some(ch) if hex.len() == 4 => {
                                text.push(ch);
                                self.i += 4;
                            }
                            _ => {
                                return Err(self.error(
                                    at,
                                    "a \\u escape needs four hex digits".to_owned(),
                                    "write e.g. \\u00e9",
                                ));
                            }
                        }
                    }
                    b'\\' | b'\'' | b'"' | b'$' | b'/' => text.push(e as char),
                    other => {
                        return Err(self.error(
                            at,
                            format!("unknown escape \\{} in a string", other as char),
                            "write a backslash as \\\\",
                        ));
                    }
                }
                continue;
            }
            if c == b'$' && quote == b'"' {
                match self.b.get(self.i + 1) {
                    Some(b'{') => {
                        interpolated = true;
                        self.skip_interpolation(start)?;
                        continue;
                    }
                    Some(&n) if n.is_ascii_alphabetic() || n == b'_' => {
                        interpolated = true;
                    }
                    _ => {}
                }
            }
            // Copy one character (the text is UTF-8; quotes and backslashes are ASCII).
            let ch = self.text[self.i..].chars().next().unwrap_or('\u{fffd}');
            text.push(ch);
            self.i += ch.len_utf8();
        }
    }

    /// Skips `${…}` inside a double-quoted string (braces may nest).
    fn skip_interpolation(&mut self, string_start: usize) -> Result<(), ParseError> {
        self.i += 2;
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.i += 1;
                        return Ok(());
                    }
                }
                b'\'' | b'"' => {
                    self.string()?;
                    continue;
                }
                _ => {}
            }
            self.i += 1;
        }
        Err(self.error(
            string_start,
            "this string's ${ is never closed".to_owned(),
            "close the interpolation with }",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Call {
        let mut c = calls(text).unwrap();
        assert_eq!(c.len(), 1, "{text}: {c:?}");
        c.remove(0)
    }

    fn get<'a>(c: &'a Call, key: &str) -> &'a Value {
        &c.args
            .iter()
            .find(|a| a.key == key)
            .unwrap_or_else(|| panic!("no {key} in {c:?}"))
            .value
    }

    #[test]
    fn literals_of_every_kind() {
        let c = one(
            "pipeline {\n  steps {\n    getImageVulnsFromQualys(useLocalConfig: true, apiServer: 'https://qualysapi.qg2.apps.qualys.com',\n      proxyPort: 3128, cvssThreshold: 7.5, isSev1Vulns: false,\n      softwareList: \"openssl=1\\\\.1\\\\..*\", qidList: '''1,\n2''', cveList: \"\"\"CVE-2021-44228\"\"\",\n      webhookUrl: null, title: 'it\\'s \\u00e9')\n  }\n}\n",
        );
        assert_eq!(c.line, 3);
        assert_eq!(get(&c, "useLocalConfig"), &Value::Bool(true));
        assert_eq!(
            get(&c, "apiServer"),
            &Value::Text("https://qualysapi.qg2.apps.qualys.com".into())
        );
        assert_eq!(get(&c, "proxyPort"), &Value::Number("3128".into()));
        assert_eq!(get(&c, "cvssThreshold"), &Value::Number("7.5".into()));
        assert_eq!(get(&c, "isSev1Vulns"), &Value::Bool(false));
        assert_eq!(
            get(&c, "softwareList"),
            &Value::Text("openssl=1\\.1\\..*".into())
        );
        assert_eq!(get(&c, "qidList"), &Value::Text("1,\n2".into()));
        assert_eq!(get(&c, "cveList"), &Value::Text("CVE-2021-44228".into()));
        assert_eq!(get(&c, "webhookUrl"), &Value::Null);
        assert_eq!(get(&c, "title"), &Value::Text("it's é".into()));
        let proxy = c.args.iter().find(|a| a.key == "proxyPort").unwrap();
        assert_eq!(proxy.line, 4);
    }

    #[test]
    fn what_cannot_be_read_is_kept_as_text() {
        let c = one(
            "getImageVulnsFromQualys imageIds: \"${env.IMAGE}\", dockerUrl: env.DOCKER, credentialsId: \"$CRED\", pollingInterval: 30 * 2, severity5Limit: limits[5], vulnsTimeout: '600'\n",
        );
        assert_eq!(
            get(&c, "imageIds"),
            &Value::Unreadable("\"${env.IMAGE}\"".into())
        );
        assert_eq!(
            get(&c, "dockerUrl"),
            &Value::Unreadable("env.DOCKER".into())
        );
        assert_eq!(
            get(&c, "credentialsId"),
            &Value::Unreadable("\"$CRED\"".into())
        );
        assert_eq!(
            get(&c, "pollingInterval"),
            &Value::Unreadable("30 * 2".into())
        );
        assert_eq!(
            get(&c, "severity5Limit"),
            &Value::Unreadable("limits[5]".into())
        );
        assert_eq!(get(&c, "vulnsTimeout"), &Value::Text("600".into()));
    }

    #[test]
    fn forms_of_the_call_and_what_is_not_one() {
        // no parentheses, across lines after commas, then another statement
        let c = one(
            "// getImageVulnsFromQualys(imageIds: 'commented')\ngetImageVulnsFromQualys imageIds: 'a',\n   isSev5Vulns: true\necho 'getImageVulnsFromQualys(x: 1)'\n",
        );
        assert_eq!(c.args.len(), 2);
        assert_eq!(c.line, 2);
        // a map literal
        let c = one("getImageVulnsFromQualys([imageIds: 'a', 'useProxy': true])");
        assert_eq!(get(&c, "useProxy"), &Value::Bool(true));
        // the classic step form
        let c = one(
            "step([$class: 'com.qualys.plugins.containerSecurity.GetImageVulnsNotifier', imageIds: 'b'])\nstep([$class: 'Other', imageIds: 'c'])",
        );
        assert_eq!(c.args.len(), 1);
        assert_eq!(get(&c, "imageIds"), &Value::Text("b".into()));
        // the name used otherwise, or as a method of something else
        assert!(
            calls("def f = getImageVulnsFromQualys\nx.getImageVulnsFromQualys(a: 1)")
                .unwrap()
                .is_empty()
        );
        // two calls
        assert_eq!(
            calls("getImageVulnsFromQualys(a: 1)\ngetImageVulnsFromQualys(b: 2)")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn mistakes_say_where() {
        let e = calls("node {\n  getImageVulnsFromQualys(imageIds: 'a)\n}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 37), "{e:?}");
        let e = calls("getImageVulnsFromQualys(imageIds: 'a'").unwrap_err();
        assert!(e.message.contains("not closed"), "{e:?}");
        // two literals in a row are an expression the scanner does not evaluate
        let c = calls("getImageVulnsFromQualys(imageIds: 'a' 'b')").unwrap();
        assert_eq!(c[0].args[0].value, Value::Unreadable("'a' 'b'".into()));
        let e = calls("getImageVulnsFromQualys('a')").unwrap_err();
        assert!(e.message.contains("expected `:`"), "{e:?}");
        let e = calls("getImageVulnsFromQualys(imageIds: foo(\n").unwrap_err();
        assert!(e.message.contains("never finished"), "{e:?}");
        let e = calls("/* open").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
    }
}
