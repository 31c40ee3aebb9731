//! Image references parsed and normalized as Docker does (`github.com/distribution/reference`:
//! `ParseNormalizedNamed`, `ParseAnyReference`, `FamiliarString`, `FamiliarMatch`).
//!
//! - A name without a domain is on Docker Hub: `app` is `docker.io/library/app`, `acme/app` is
//!   `docker.io/acme/app`; `index.docker.io` is `docker.io`; `docker.io/app` is
//!   `docker.io/library/app`. The first component is a domain when it contains `.` or `:`, is
//!   `localhost`, or has upper-case letters.
//! - The familiar form drops `docker.io/`, and `library/` when nothing else follows:
//!   `docker.io/library/app` → `app`, `docker.io/acme/app` → `acme/app`,
//!   `docker.io/library/a/b` → `library/a/b`.
//! - 64 hex digits are an image id, never a name; `sha256:<64 hex>` is an id too.

use std::fmt;

/// Docker Hub's domain.
pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A named reference: `domain/path[:tag][@digest]`, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// `docker.io`, `localhost`, `registry.example.com:5000`, …
    pub domain: String,
    /// `library/app`, `acme/app`, …
    pub path: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest (`sha256:<64 hex>`), if any.
    pub digest: Option<String>,
}

/// What a reference names: an image id or a repository (with tag or digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyReference {
    /// `<64 hex>` or `sha256:<64 hex>`: the 64-hex id.
    Id(String),
    /// A named reference.
    Named(Reference),
}

/// Why a reference does not parse; the text is Docker's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError(pub String);

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReferenceError {}

fn invalid() -> ReferenceError {
    ReferenceError("invalid reference format".into())
}

/// Whether `s` is exactly 64 lower-case hex digits (an image id).
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Reference {
    /// The full name: `docker.io/library/app`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The familiar name: `app`, `acme/app`, `localhost/app`, `registry.example.com/app`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(rest) if !rest.contains('/') => rest.to_owned(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// The familiar string: the familiar name with `:tag` and `@digest`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// Docker's `TagNameOnly`: a reference with neither tag nor digest gets `latest`.
    #[must_use]
    pub fn with_default_tag(mut self) -> Self {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some("latest".into());
        }
        self
    }

    /// The repository alone (no tag, no digest).
    #[must_use]
    pub fn trimmed(&self) -> Self {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: None,
        }
    }
}

impl fmt::Display for Reference {
    /// The full string: `docker.io/library/app:1.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Docker's `splitDockerDomain`.
fn split_docker_domain(name: &str) -> (String, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (
            DEFAULT_DOMAIN.into(),
            format!("{OFFICIAL_REPO_PREFIX}{name}"),
        );
    };
    let (domain, mut remote) = if maybe_domain == "localhost"
        || maybe_domain.contains(['.', ':'])
        || maybe_domain.to_lowercase() != maybe_domain
    {
        (maybe_domain.to_owned(), maybe_remote.to_owned())
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN.to_owned(), maybe_remote.to_owned())
    } else {
        (DEFAULT_DOMAIN.to_owned(), name.to_owned())
    };
    let domain = if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN.to_owned()
    } else {
        domain
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        remote = format!("{OFFICIAL_REPO_PREFIX}{remote}");
    }
    (domain, remote)
}

/// Docker's `ParseNormalizedNamed`: a repository name, normalized (no default tag added).
pub fn parse_normalized_named(s: &str) -> Result<Reference, ReferenceError> {
    if is_full_id(s) {
        return Err(ReferenceError(format!(
            "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        )));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote_name = remainder.split(':').next().unwrap_or_default();
    if remote_name.to_lowercase() != remote_name {
        return Err(ReferenceError(format!(
            "invalid reference format: repository name ({remote_name}) must be lowercase"
        )));
    }
    parse(&format!("{domain}/{remainder}"))
}

/// Docker's `ParseAnyReference`: an image id (`<64 hex>`, `sha256:<64 hex>`) or a normalized
/// name. A short id is a name here; lookups try it as an id prefix afterwards.
pub fn parse_any_reference(s: &str) -> Result<AnyReference, ReferenceError> {
    if is_full_id(s) {
        return Ok(AnyReference::Id(s.to_owned()));
    }
    if let Some(hex) = s.strip_prefix("sha256:") {
        if is_full_id(hex) {
            return Ok(AnyReference::Id(hex.to_owned()));
        }
    }
    parse_normalized_named(s).map(AnyReference::Named)
}

/// Docker's `Parse` of `domain/path[:tag][@digest]` (the domain already split off by the
/// caller, which always gives one).
fn parse(s: &str) -> Result<Reference, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError(
            "repository name must have at least one component".into(),
        ));
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        check_digest(d)?;
    }
    // The tag follows the last ':' after the last '/' (a ':' before it belongs to the port).
    let last_slash = rest.rfind('/').unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        if !is_tag(t) {
            return Err(invalid());
        }
    }
    let (domain, path) = name.split_once('/').ok_or_else(invalid)?;
    if !is_domain(domain) || path.is_empty() || !path.split('/').all(is_path_component) {
        return Err(invalid());
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError(format!(
            "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )));
    }
    Ok(Reference {
        domain: domain.to_owned(),
        path: path.to_owned(),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    })
}

/// `[\w][\w.-]{0,127}`.
pub fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*`, separator `[_.]|__|[-]+`.
fn is_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: one '.', one or two '_', or any number of '-'.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A domain: host components (`[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?` joined by `.`) or a
/// bracketed IPv6 address, then an optional `:port`.
fn is_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(p) => ("", Some(p)),
            None if after.is_empty() => ("", None),
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    if d.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        })
}

/// `algorithm:hex`; `sha256` needs 64 lower-case hex digits.
fn check_digest(d: &str) -> Result<(), ReferenceError> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(invalid());
    };
    let alg_ok = alg.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && alg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'.'));
    if !alg_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    if alg == "sha256" && !is_full_id(hex) {
        return Err(ReferenceError(format!(
            "invalid checksum digest length or format: {d}"
        )));
    }
    Ok(())
}

/// Go's `path.Match` (`*`, `?`, `[…]` classes with ranges and `^`, `\` escapes; `*` and `?` do
/// not match `/`). A malformed pattern matches nothing.
pub fn path_match(pattern: &str, name: &str) -> bool {
    let pat: Vec<char> = pattern.chars().collect();
    let txt: Vec<char> = name.chars().collect();
    glob(&pat, &txt)
}

fn glob(pat: &[char], txt: &[char]) -> bool {
    match pat.first() {
        None => txt.is_empty(),
        Some('*') => {
            // Any run of non-'/' characters.
            let rest = &pat[1..];
            let mut skip = 0;
            loop {
                if glob(rest, &txt[skip..]) {
                    return true;
                }
                if skip >= txt.len() || txt[skip] == '/' {
                    return false;
                }
                skip += 1;
            }
        }
        Some('?') => txt.first().is_some_and(|&ch| ch != '/') && glob(&pat[1..], &txt[1..]),
        Some('[') => match txt.first() {
            Some(&ch) if ch != '/' => match class(pat, ch) {
                Some((hit, len)) => hit && glob(&pat[len..], &txt[1..]),
                None => false,
            },
            _ => false,
        },
        Some('\\') => match pat.get(1) {
            Some(&lit) => txt.first() == Some(&lit) && glob(&pat[2..], &txt[1..]),
            None => false,
        },
        Some(&lit) => txt.first() == Some(&lit) && glob(&pat[1..], &txt[1..]),
    }
}

/// A `[…]` class at the start of `pat` against `ch`: whether it matches, and the class's length;
/// `None` when the class is malformed.
fn class(pat: &[char], ch: char) -> Option<(bool, usize)> {
    let mut pos = 1;
    let negate = pat.get(pos) == Some(&'^');
    if negate {
        pos += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &lo = pat.get(pos)?;
        if lo == ']' && !first {
            return Some((matched != negate, pos + 1));
        }
        first = false;
        let lo = if lo == '\\' {
            pos += 2;
            *pat.get(pos - 1)?
        } else {
            pos += 1;
            lo
        };
        let hi = if pat.get(pos) == Some(&'-') && pat.get(pos + 1).is_some_and(|&x| x != ']') {
            pos += 2;
            pat[pos - 1]
        } else {
            lo
        };
        if lo <= ch && ch <= hi {
            matched = true;
        }
    }
}

/// Docker's `FamiliarMatch`: `pattern` against the familiar string, then the familiar name.
pub fn familiar_match(pattern: &str, r: &Reference) -> bool {
    path_match(pattern, &r.familiar_string()) || path_match(pattern, &r.familiar_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        parse_normalized_named(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_string()
    }

    fn familiar(s: &str) -> String {
        parse_normalized_named(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .familiar_string()
    }

    #[test]
    fn normalizes_as_docker_does() {
        for (input, normalized, fam) in [
            ("app", "docker.io/library/app", "app"),
            ("app:1.0", "docker.io/library/app:1.0", "app:1.0"),
            ("library/app", "docker.io/library/app", "app"),
            ("docker.io/app", "docker.io/library/app", "app"),
            (
                "docker.io/library/app:2",
                "docker.io/library/app:2",
                "app:2",
            ),
            ("index.docker.io/app", "docker.io/library/app", "app"),
            ("index.docker.io/acme/app", "docker.io/acme/app", "acme/app"),
            ("acme/app:1.0", "docker.io/acme/app:1.0", "acme/app:1.0"),
            ("docker.io/acme/app", "docker.io/acme/app", "acme/app"),
            (
                "docker.io/library/a/b",
                "docker.io/library/a/b",
                "library/a/b",
            ),
            ("localhost/app", "localhost/app", "localhost/app"),
            (
                "localhost:5000/app:1",
                "localhost:5000/app:1",
                "localhost:5000/app:1",
            ),
            (
                "registry.example.com/team/app:1.0",
                "registry.example.com/team/app:1.0",
                "registry.example.com/team/app:1.0",
            ),
            ("Registry/app", "Registry/app", "Registry/app"),
            ("[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"),
            (
                "docker.io/library/qualys_scan_target",
                "docker.io/library/qualys_scan_target",
                "qualys_scan_target",
            ),
            (
                "a__b/c-d---e.f",
                "docker.io/a__b/c-d---e.f",
                "a__b/c-d---e.f",
            ),
        ] {
            assert_eq!(full(input), normalized, "{input}");
            assert_eq!(familiar(input), fam, "{input}");
        }
        let d = format!("sha256:{}", "ab".repeat(32));
        let r = parse_normalized_named(&format!("acme/app@{d}")).expect("digest");
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.familiar_string(), format!("acme/app@{d}"));
        let r = parse_normalized_named(&format!("app:1@{d}")).expect("tag and digest");
        assert_eq!(r.to_string(), format!("docker.io/library/app:1@{d}"));
        assert_eq!(
            parse_normalized_named("app")
                .expect("ok")
                .with_default_tag()
                .familiar_string(),
            "app:latest"
        );
    }

    #[test]
    fn rejects_what_docker_rejects() {
        let id = "0123456789abcdef".repeat(4);
        assert!(
            parse_normalized_named(&id)
                .expect_err("an id is no name")
                .0
                .contains("64-byte hexadecimal")
        );
        assert!(
            parse_normalized_named("Acme")
                .expect_err("upper case")
                .0
                .contains("must be lowercase")
        );
        for bad in [
            "",
            "app:",
            "app:-x",
            "-app",
            "app-",
            "a..b",
            "a___b",
            "acme//app",
            "acme/app/",
            "app@sha256:abc",
            "app@md5",
            "localhost:x/app",
            &format!("app:{}", "t".repeat(129)),
            &format!("acme/{}", "a".repeat(260)),
        ] {
            assert!(parse_normalized_named(bad).is_err(), "{bad:?} parses");
        }
    }

    #[test]
    fn any_reference_tells_ids_from_names() {
        let id = "0123456789abcdef".repeat(4);
        assert_eq!(parse_any_reference(&id), Ok(AnyReference::Id(id.clone())));
        assert_eq!(
            parse_any_reference(&format!("sha256:{id}")),
            Ok(AnyReference::Id(id.clone()))
        );
        // A short id is a name first (a lookup tries it as an id prefix next).
        assert!(matches!(
            parse_any_reference(&id[..12]),
            Ok(AnyReference::Named(r)) if r.path == format!("library/{}", &id[..12])
        ));
        // `sha256:<short>` reads as the repository `sha256` with a tag, as in Docker.
        assert!(matches!(
            parse_any_reference("sha256:0123abc"),
            Ok(AnyReference::Named(r)) if r.path == "library/sha256" && r.tag.as_deref() == Some("0123abc")
        ));
    }

    #[test]
    fn matches_like_go_path_match() {
        let r = parse_normalized_named("qualys_scan_target:abc").expect("ok");
        assert!(familiar_match("qualys_scan_target", &r));
        assert!(familiar_match("qualys_scan_target:abc", &r));
        assert!(familiar_match("qualys_*", &r));
        assert!(familiar_match("*:a?c", &r));
        assert!(!familiar_match("docker.io/library/qualys_scan_target", &r));
        let r = parse_normalized_named("acme/app:1.0").expect("ok");
        assert!(!familiar_match("*", &r), "* does not cross /");
        assert!(familiar_match("acme/*", &r));
        assert!(familiar_match("*/*:1.[0-9]", &r));
        assert!(familiar_match("acme/[a-c]pp", &r));
        assert!(!familiar_match("acme/[^a]pp", &r));
        assert!(path_match("a\\*", "a*"));
        assert!(!path_match("[", "a"));
    }
}
