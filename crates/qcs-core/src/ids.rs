//! Identifier newtypes: QIDs and QID ranges, CVE ids, image shas and severities.
//!
//! Each type validates on construction so a value that exists is a value that is well formed;
//! the error messages name the value and say what a good one looks like.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Qualys vulnerability id (QID), e.g. `376209`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Qid(pub u32);

impl fmt::Display for Qid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why an identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not a QID: QIDs are positive whole numbers.
    #[error("`{0}` is not a QID (expected a whole number such as 376209)")]
    Qid(String),
    /// A range whose start is greater than its end.
    #[error("QID range `{0}` is reversed (the first QID must not be greater than the second)")]
    ReversedRange(String),
    /// Not a CVE id.
    #[error(
        "`{0}` is not a CVE id (expected CVE-YYYY-NNNN with 4 to 7 digits, e.g. CVE-2021-44228)"
    )]
    Cve(String),
    /// Not an image sha.
    #[error("`{0}` is not an image sha (expected 64 hexadecimal characters)")]
    Sha(String),
    /// Not a severity level.
    #[error("`{0}` is not a severity level (expected 1, 2, 3, 4 or 5)")]
    Severity(String),
}

impl FromStr for Qid {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Qid(s.to_owned()));
        }
        t.parse().map(Qid).map_err(|_| IdError::Qid(s.to_owned()))
    }
}

/// A QID or an inclusive range of QIDs (`170560-170590`), as written in policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QidRange {
    /// First QID of the range.
    pub start: Qid,
    /// Last QID of the range (equal to `start` for a single QID).
    pub end: Qid,
}

impl QidRange {
    /// Whether `qid` lies in the range (inclusive).
    pub fn contains(&self, qid: Qid) -> bool {
        self.start <= qid && qid <= self.end
    }
}

impl FromStr for QidRange {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Some((a, b)) = t.split_once('-') {
            let start: Qid = a.parse().map_err(|_| IdError::Qid(s.to_owned()))?;
            let end: Qid = b.parse().map_err(|_| IdError::Qid(s.to_owned()))?;
            if start > end {
                return Err(IdError::ReversedRange(s.to_owned()));
            }
            Ok(Self { start, end })
        } else {
            let q: Qid = t.parse()?;
            Ok(Self { start: q, end: q })
        }
    }
}

impl fmt::Display for QidRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

impl Serialize for QidRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A CVE id such as `CVE-2021-44228`, validated against `CVE-\d{4}-\d{4,7}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CveId(String);

impl CveId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CveId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `CVE-\d{4}-\d{4,7}`, checked by hand: a fixed shape needs no regex engine.
        let t = s.trim();
        let ok = t.strip_prefix("CVE-").is_some_and(|rest| {
            rest.split_once('-').is_some_and(|(year, num)| {
                year.len() == 4
                    && year.bytes().all(|b| b.is_ascii_digit())
                    && (4..=7).contains(&num.len())
                    && num.bytes().all(|b| b.is_ascii_digit())
            })
        });
        if ok {
            Ok(Self(t.to_owned()))
        } else {
            Err(IdError::Cve(s.to_owned()))
        }
    }
}

impl fmt::Display for CveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CveId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A full image sha: 64 lowercase hex characters, without `sha256:`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageSha(String);

impl ImageSha {
    /// Not a sha: the empty placeholder of a document whose `sha` is not read yet (never
    /// shown: a document without a `sha` is no image report).
    pub(crate) fn unread() -> Self {
        Self(String::new())
    }

    /// The sha as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 12-hex short image id (the first 12 characters, as `docker images` shows).
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }
}

impl FromStr for ImageSha {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_prefix("sha256:").unwrap_or(t);
        if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(t.to_ascii_lowercase()))
        } else {
            Err(IdError::Sha(s.to_owned()))
        }
    }
}

impl fmt::Display for ImageSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ImageSha {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ImageSha {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A Qualys severity level, 1 (minimal) to 5 (urgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Severity(u8);

impl Severity {
    /// All five levels, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity(1),
        Severity(2),
        Severity(3),
        Severity(4),
        Severity(5),
    ];

    /// The level for a number in 1..=5.
    pub fn new(level: i64) -> Option<Self> {
        u8::try_from(level)
            .ok()
            .filter(|l| (1..=5).contains(l))
            .map(Severity)
    }

    /// The level as a number in 1..=5.
    pub fn get(self) -> u8 {
        self.0
    }

    /// Zero-based index (level 1 is 0), for per-level arrays.
    pub fn index(self) -> usize {
        usize::from(self.0 - 1)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Severity {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<i64>()
            .ok()
            .and_then(Severity::new)
            .ok_or_else(|| IdError::Severity(s.to_owned()))
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qid_ranges_parse_and_reject() {
        let r: QidRange = "170560-170590".parse().unwrap();
        assert!(r.contains(Qid(170_560)) && r.contains(Qid(170_590)));
        assert!(!r.contains(Qid(170_591)));
        assert_eq!(" 42 ".parse::<QidRange>().unwrap().to_string(), "42");
        assert_eq!(
            "200-100".parse::<QidRange>(),
            Err(IdError::ReversedRange("200-100".into()))
        );
        assert!("abc".parse::<QidRange>().is_err());
        assert!("1-x".parse::<QidRange>().is_err());
        assert!("-5".parse::<QidRange>().is_err());
        assert!("".parse::<QidRange>().is_err());
    }

    #[test]
    fn cve_ids_follow_the_pattern() {
        for ok in ["CVE-2021-44228", "CVE-1999-0001", "CVE-2024-1234567"] {
            assert_eq!(ok.parse::<CveId>().unwrap().as_str(), ok);
        }
        for bad in [
            "CVE-21-44228",
            "cve-2021-44228",
            "CVE-2021-123",
            "CVE-2021-12345678",
            "CVE-2021",
        ] {
            assert!(bad.parse::<CveId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shas_and_severities() {
        let sha: ImageSha = format!("sha256:{}", "A".repeat(64)).parse().unwrap();
        assert_eq!(sha.short(), "aaaaaaaaaaaa");
        assert!("abc".parse::<ImageSha>().is_err());
        assert_eq!("5".parse::<Severity>().unwrap().index(), 4);
        assert!("6".parse::<Severity>().is_err());
        assert!(Severity::new(0).is_none());
    }
}
