//! Judging an image-details document while it is read, without holding it: the fast path of
//! `qcs evaluate` when only the verdict is wanted (`summary.json`, the table, `JUnit`).
//!
//! [`ReportStream`] takes the document in pieces, as a file is read, and keeps only a window of
//! it (the part not judged yet). Each vulnerability is read into a lean, borrowing view
//! (no allocation for its strings), judged at once by the same [`Judge`] the full model uses,
//! and dropped; what stays is a few bytes per finding ([`crate::summary::Judged`]) and where it
//! was in the document. The findings `summary.json` lists (at most
//! [`FINDINGS_LISTED_MAX`](crate::summary::FINDINGS_LISTED_MAX)) are then read again from those
//! places, with the full model ([`Streamed::wanted`], [`Streamed::complete`]).
//!
//! The lean view reads every field exactly as the full model ([`ImageReport`]) does: the same
//! types are accepted and refused, with the same warnings for what is read as absent. Anything
//! this reader does not handle (bad JSON, another kind of document, a duplicate key, an image
//! named after its vulnerabilities when an exclusion names an image, …) ends it with
//! [`NotStreamed`]: the caller then reads the whole document with [`ImageReport::from_json`],
//! which gives the verdict or the exact error with its line and column. So the two paths never
//! disagree on a verdict; the full model stays the reference.
//!
//! The document's top level must be an object; its members other than `vulnerabilities` are
//! small and read whole, the vulnerabilities one by one. Pure: the caller does the reading.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use smallvec::SmallVec;

use super::{
    Detection, ImageReport, Layer, LenientObject, RepoTag, Software, Vulnerabilities,
    Vulnerability, add_warnings, flexible_i64, lenient_layers, lenient_list, lenient_repo,
    lenient_softwares, loose_string, other_detection, qid, score, warning_lines, with_warnings,
};
use crate::baseline::KeysBuilder;
use crate::evaluate::{Facts, Finished, Judge, JudgedReport};
use crate::ids::{ImageSha, Qid};
use crate::policy::Policy;
use crate::summary::Evaluation;

/// How much room [`ReportStream::space`] offers to read into at least.
pub const READ_SIZE: usize = 256 * 1024;

/// The document is not judged on the fast path: read it whole with [`ImageReport::from_json`]
/// (which gives the exact error, or the verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotStreamed {
    /// What made the streaming reader stop, for debug logs.
    pub reason: &'static str,
}

impl fmt::Display for NotStreamed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not judged while reading: {}", self.reason)
    }
}

impl std::error::Error for NotStreamed {}

fn stop<T>(reason: &'static str) -> Result<T, NotStreamed> {
    Err(NotStreamed { reason })
}

/// Where the reader is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `{`.
    Start,
    /// After `{`: a key or `}`.
    FirstKey,
    /// After `,`: a key.
    Key,
    /// After a key: `:`.
    Colon(Key),
    /// After `:`: the member's value.
    Value(Key),
    /// After a member: `,` or `}`.
    AfterValue,
    /// After the `[` of `vulnerabilities`: a vulnerability or `]`.
    FirstVuln,
    /// A vulnerability.
    Vuln,
    /// After a vulnerability: `,` or `]`.
    AfterVuln,
    /// After the closing `}`: nothing but white space.
    End,
}

/// A member of the top-level object, as the full model names its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Sha,
    ImageId,
    Uuid,
    Repo,
    OperatingSystem,
    Architecture,
    DockerVersion,
    Size,
    LayersCount,
    LastScanned,
    Updated,
    ScanStatus,
    ScanErrorCode,
    Vulnerabilities,
    Softwares,
    Layers,
    Other,
}

impl Key {
    fn read(s: &str) -> Self {
        match s {
            "sha" => Self::Sha,
            "imageId" => Self::ImageId,
            "uuid" => Self::Uuid,
            "repo" => Self::Repo,
            "operatingSystem" => Self::OperatingSystem,
            "architecture" => Self::Architecture,
            "dockerVersion" => Self::DockerVersion,
            "size" => Self::Size,
            "layersCount" => Self::LayersCount,
            "lastScanned" => Self::LastScanned,
            "updated" => Self::Updated,
            "scanStatus" => Self::ScanStatus,
            "scanErrorCode" => Self::ScanErrorCode,
            "vulnerabilities" => Self::Vulnerabilities,
            "softwares" => Self::Softwares,
            "layers" => Self::Layers,
            _ => Self::Other,
        }
    }

    /// Its bit in the set of members seen (a known member given twice is an error).
    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl Name for Key {
    fn from_name(name: &[u8]) -> Self {
        std::str::from_utf8(name).map_or(Self::Other, Self::read)
    }
}

/// A member name, compared as bytes: the reader checks that the whole document is UTF-8 once,
/// so each name need not be (the full model's derived field names check each). Unlike a string,
/// a name read as bytes is not checked for raw control characters by `serde_json`, so [`NameOf`]
/// refuses them itself, and refuses a name written with escapes (it cannot tell a raw control
/// character from an escaped one there; no real document escapes its member names), leaving
/// such a document to the full model.
trait Name: Sized {
    /// The member `name` means.
    fn from_name(name: &[u8]) -> Self;
}

/// Reads a member name as a `K`.
struct NameOf<K>(K);

impl<'de, K: Name> Deserialize<'de> for NameOf<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<K>(PhantomData<K>);
        impl<'de, K: Name> Visitor<'de> for V<K> {
            type Value = NameOf<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<NameOf<K>, E> {
                if v.iter().any(|b| *b < 0x20) {
                    return Err(E::custom("a control character in a member name"));
                }
                Ok(NameOf(K::from_name(v)))
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<NameOf<K>, E> {
                Err(E::custom("a member name written with escapes"))
            }
        }
        d.deserialize_bytes(V(PhantomData))
    }
}

/// The members of a map seen so far: a known one given twice is an error, as for the full
/// model's derived types (the reader then stops and the full model gives the error).
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first<E: de::Error>(&mut self, index: u32) -> Result<(), E> {
        let bit = 1 << index;
        if self.0 & bit != 0 {
            return Err(E::custom("a member is given twice"));
        }
        self.0 |= bit;
        Ok(())
    }
}

thread_local! {
    /// Whether the document being read has a raw control character (a byte below 0x20, white
    /// space included) in what was read so far: then [`Checked`] reads strings with
    /// `serde_json`'s validating reader, which refuses raw control characters in strings as the
    /// full model does; without any, the cheaper byte reader is exact. Set by
    /// [`ReportStream::advance`]; true outside it.
    static STRICT: Cell<bool> = const { Cell::new(true) };
}

/// Whether `bytes` hold a byte below 0x20 (checked 64 bytes at a time, which compiles to vector
/// instructions).
fn has_control(bytes: &[u8]) -> bool {
    bytes
        .chunks(64)
        .any(|c| c.iter().fold(0u8, |any, b| any | u8::from(*b < 0x20)) != 0)
}

/// A string or null whose value is not needed: checked as `Option<String>` would be, never
/// kept. As bytes when the document has no raw control character at all (the whole document is
/// checked to be UTF-8 once), else with `serde_json`'s validating string reader ([`STRICT`]).
#[derive(Debug, Clone, Copy, Default)]
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_none<E: de::Error>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
                if STRICT.get() {
                    d.deserialize_str(self)
                } else {
                    d.deserialize_bytes(self)
                }
            }
        }
        d.deserialize_option(V)
    }
}

/// `typeDetected` as [`Detection`] reads it.
struct LeanDetection(Detection);

impl<'de> Deserialize<'de> for LeanDetection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LeanDetection;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LeanDetection, E> {
                Ok(LeanDetection(Detection::read(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LeanDetection, E> {
                Ok(LeanDetection(Detection::Other))
            }
            fn visit_none<E: de::Error>(self) -> Result<LeanDetection, E> {
                Ok(LeanDetection(Detection::Other))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<LeanDetection, D::Error> {
                d.deserialize_str(self)
            }
        }
        d.deserialize_option(V)
    }
}

/// A string borrowed from the document when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The CVE ids of a vulnerability: a handful, kept inline (no allocation for up to four).
type Cves<'a> = SmallVec<[Cow<'a, str>; 4]>;

/// `cveids` as the full model reads it (`null` is none; otherwise an array of strings).
struct CveList<'a>(Cves<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for CveList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Seq<'a> {
            type Value = CveList<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CveList<'a>, A::Error> {
                let mut out = Cves::new();
                while let Some(Text(t)) = seq.next_element::<Text<'de>>()? {
                    out.push(t);
                }
                Ok(CveList(out))
            }
        }
        struct Opt<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Opt<'a> {
            type Value = CveList<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("option")
            }
            fn visit_unit<E: de::Error>(self) -> Result<CveList<'a>, E> {
                Ok(CveList(Cves::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<CveList<'a>, E> {
                Ok(CveList(Cves::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<CveList<'a>, D::Error> {
                d.deserialize_seq(Seq(PhantomData))
            }
        }
        d.deserialize_option(Opt(PhantomData))
    }
}

/// Newtypes read with one of the full model's own field readers (so both read a field alike).
macro_rules! read_with {
    ($($name:ident($ty:ty) = $reader:path;)*) => {$(
        struct $name($ty);
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $reader(d).map(Self)
            }
        }
    )*};
}

read_with! {
    QidValue(Qid) = qid;
    Score(Option<f64>) = score;
}

/// Reads the members of a map into `Self` (for the hand-written visitors below).
trait Members<'de>: Default {
    /// The members it reads, each with its index in [`Seen`] (`None`: any other member,
    /// ignored).
    fn index(name: &[u8]) -> Option<u32>;
    /// Reads the value of member `index` and keeps what is needed.
    fn member<A: MapAccess<'de>>(&mut self, map: &mut A, index: u32) -> Result<(), A::Error>;
    /// After the last member: what must have been there.
    fn end<E: de::Error>(self) -> Result<Self, E> {
        Ok(self)
    }
}

/// A member name as the index of a [`Members`] type (compared without copying it).
struct Index<T>(Option<u32>, PhantomData<T>);

impl<'de, T: Members<'de>> Name for Index<T> {
    fn from_name(name: &[u8]) -> Self {
        Self(T::index(name), PhantomData)
    }
}

/// Deserializes a map into `T` through [`Members`]; anything but a map is refused (the reader
/// then stops, and the full model decides).
fn read_map<'de, D: Deserializer<'de>, T: Members<'de>>(d: D) -> Result<T, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: Members<'de>> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            let mut out = T::default();
            let mut seen = Seen::default();
            while let Some(NameOf(Index(index, _))) = map.next_key::<NameOf<Index<T>>>()? {
                match index {
                    Some(i) => {
                        seen.first(i)?;
                        out.member(&mut map, i)?;
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            out.end()
        }
    }
    d.deserialize_map(V(PhantomData))
}

/// A CVSS block as [`super::CvssInfo`] reads it, keeping only the base score.
#[derive(Default)]
struct LeanCvss {
    base_score: Option<f64>,
}

impl<'de> Members<'de> for LeanCvss {
    fn index(name: &[u8]) -> Option<u32> {
        match name {
            b"baseScore" => Some(0),
            b"temporalScore" => Some(1),
            b"accessVector" => Some(2),
            _ => None,
        }
    }

    fn member<A: MapAccess<'de>>(&mut self, map: &mut A, index: u32) -> Result<(), A::Error> {
        match index {
            0 => self.base_score = map.next_value::<Score>()?.0,
            1 => {
                map.next_value::<Score>()?;
            }
            _ => {
                map.next_value::<Checked>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for LeanCvss {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_map(d)
    }
}

/// The threat-intelligence flags as [`super::ThreatIntel`] reads them, keeping nothing.
#[derive(Default)]
struct LeanThreatIntel;

impl<'de> Members<'de> for LeanThreatIntel {
    fn index(name: &[u8]) -> Option<u32> {
        match name {
            b"easyExploit" => Some(0),
            b"malware" => Some(1),
            b"activeAttacks" => Some(2),
            b"publicExploit" => Some(3),
            _ => None,
        }
    }

    fn member<A: MapAccess<'de>>(&mut self, map: &mut A, _: u32) -> Result<(), A::Error> {
        map.next_value::<Option<bool>>()?;
        Ok(())
    }
}

impl<'de> Deserialize<'de> for LeanThreatIntel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_map(d)
    }
}

/// A package as [`Software`] reads it, keeping only its name (borrowed from the document): the
/// identity of a finding ([`crate::baseline`]) is its QID and the names of its packages.
#[derive(Default)]
struct LeanSoftware<'a> {
    name: Option<Text<'a>>,
}

impl<'de: 'a, 'a> Members<'de> for LeanSoftware<'a> {
    fn index(name: &[u8]) -> Option<u32> {
        match name {
            b"name" => Some(0),
            b"version" => Some(1),
            b"fixVersion" => Some(2),
            _ => None,
        }
    }

    fn member<A: MapAccess<'de>>(&mut self, map: &mut A, index: u32) -> Result<(), A::Error> {
        if index == 0 {
            // `null` is `""`, as in the full model
            self.name = map.next_value::<Option<Text<'de>>>()?;
        } else {
            map.next_value::<Checked>()?;
        }
        Ok(())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LeanSoftware<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_map(d)
    }
}

/// A vulnerability's packages: a few, kept inline (no allocation for up to two).
type Packages<'a> = SmallVec<[LeanSoftware<'a>; 2]>;

/// A vulnerability's `software`, as the full model reads it (items that are not objects are
/// left out with a warning), keeping the package names.
struct SoftwareList<'a>(Packages<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for SoftwareList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_list(
            d,
            "vulnerabilities[].software",
            "vulnerabilities[].software[]",
        )
        .map(Self)
    }
}

/// A vulnerability as [`Vulnerability`] reads it (every member the full model reads is checked
/// the same way), keeping only what the verdict needs, borrowed from the document.
struct LeanVuln<'a> {
    qid: Option<Qid>,
    severity: Option<i64>,
    type_detected: Detection,
    cveids: Cves<'a>,
    cvss2: Option<f64>,
    cvss3: Option<f64>,
    patch_available: Option<bool>,
    software: Packages<'a>,
}

impl Default for LeanVuln<'_> {
    fn default() -> Self {
        Self {
            qid: None,
            severity: None,
            type_detected: other_detection(),
            cveids: Cves::new(),
            cvss2: None,
            cvss3: None,
            patch_available: None,
            software: Packages::new(),
        }
    }
}

impl<'de: 'a, 'a> Members<'de> for LeanVuln<'a> {
    fn index(name: &[u8]) -> Option<u32> {
        Some(match name {
            b"qid" => 0,
            b"title" => 1,
            b"severity" => 2,
            b"typeDetected" => 3,
            b"cveids" => 4,
            b"cvssInfo" => 5,
            b"cvss3Info" => 6,
            b"patchAvailable" => 7,
            b"category" => 8,
            b"firstFound" => 9,
            b"threatIntel" => 10,
            b"software" => 11,
            b"result" => 12,
            _ => return None,
        })
    }

    fn member<A: MapAccess<'de>>(&mut self, map: &mut A, index: u32) -> Result<(), A::Error> {
        match index {
            0 => self.qid = Some(map.next_value::<QidValue>()?.0),
            2 => self.severity = map.next_value::<Flexible>()?.0,
            3 => self.type_detected = map.next_value::<LeanDetection>()?.0,
            4 => self.cveids = map.next_value::<CveList<'a>>()?.0,
            5 => {
                let c: Option<LeanCvss> =
                    map.next_value_seed(LenientObject::new("vulnerabilities[].cvssInfo"))?;
                self.cvss2 = c.and_then(|c| c.base_score);
            }
            6 => {
                let c: Option<LeanCvss> =
                    map.next_value_seed(LenientObject::new("vulnerabilities[].cvss3Info"))?;
                self.cvss3 = c.and_then(|c| c.base_score);
            }
            7 => self.patch_available = map.next_value()?,
            9 => {
                map.next_value::<Flexible>()?;
            }
            10 => {
                let _: Option<LeanThreatIntel> =
                    map.next_value_seed(LenientObject::new("vulnerabilities[].threatIntel"))?;
            }
            11 => self.software = map.next_value::<SoftwareList<'a>>()?.0,
            // title, category, result
            _ => {
                map.next_value::<Checked>()?;
            }
        }
        Ok(())
    }

    fn end<E: de::Error>(self) -> Result<Self, E> {
        if self.qid.is_none() {
            return Err(E::missing_field("qid"));
        }
        Ok(self)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LeanVuln<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_map(d)
    }
}

impl Facts for LeanVuln<'_> {
    fn qid(&self) -> Qid {
        self.qid.unwrap_or(Qid(0))
    }
    fn raw_severity(&self) -> Option<i64> {
        self.severity
    }
    fn detection(&self) -> Detection {
        self.type_detected
    }
    fn cve_ids(&self) -> impl Iterator<Item = &str> {
        self.cveids.iter().map(|c| &**c)
    }
    fn cvss2(&self) -> Option<f64> {
        self.cvss2
    }
    fn cvss3(&self) -> Option<f64> {
        self.cvss3
    }
    fn patchable(&self) -> bool {
        self.patch_available.unwrap_or(false)
    }
}

// Top-level members read whole, each as the full model reads that field.
read_with! {
    Flexible(Option<i64>) = flexible_i64;
    Loose(Option<String>) = loose_string;
    Repo(Vec<RepoTag>) = lenient_repo;
    Softwares(Vec<Software>) = lenient_softwares;
    Layers(Vec<Layer>) = lenient_layers;
}

/// What parsing one value at the start of the unread bytes gave.
enum Parsed<T> {
    /// The value and how many bytes it took (with the white space before it).
    Value(T, usize),
    /// The value may go on past the bytes at hand.
    NeedMore,
}

/// Parses one `T` at the start of `data` (white space first is skipped). A value that ends with
/// the data, unless it is the end of the document, may be cut (a number): more is needed.
/// The warnings of an attempt count only when it gives the value (a cut value is parsed again).
fn parse<'a, T: Deserialize<'a>>(data: &'a [u8], eof: bool) -> Result<Parsed<T>, NotStreamed> {
    let mut it = serde_json::Deserializer::from_slice(data).into_iter::<T>();
    let mut found = BTreeMap::new();
    match with_warnings(&mut found, || it.next()) {
        Some(Ok(v)) => {
            let used = it.byte_offset();
            if used == data.len() && !eof {
                Ok(Parsed::NeedMore)
            } else {
                add_warnings(found);
                Ok(Parsed::Value(v, used))
            }
        }
        Some(Err(e)) if !eof && (e.is_eof() || at_end(data, &e)) => Ok(Parsed::NeedMore),
        Some(Err(_)) => stop("the JSON or a field's type is not what the full model reads"),
        None if eof => stop("the document ends early"),
        None => Ok(Parsed::NeedMore),
    }
}

/// Whether error `e` is at the very end of `data`: a value cut there may be whole with more
/// data. (`serde_json` reports a number cut after its `.`, `e` or sign inside a skipped value as
/// an invalid number, not as the end of the input.)
#[allow(clippy::naive_bytecount)] // only on the rare error path: no dependency for it
fn at_end(data: &[u8], e: &serde_json::Error) -> bool {
    let lines = data.iter().filter(|b| **b == b'\n').count();
    let last_line = data
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(data.len(), |i| data.len() - i - 1);
    e.line() == lines + 1 && e.column() == last_line
}

/// Reads an image-details document piece by piece and judges it (see the module
/// documentation).
pub struct ReportStream<'p> {
    policy: &'p Policy,
    now: Timestamp,
    /// The window: `buf[start..end]` is read and not yet judged.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The document offset of `buf[0]`.
    base: u64,
    /// No new attempt at the value under way before this many unread bytes (so that a long
    /// value is parsed a few times at most, not once per piece).
    wait_for: usize,
    state: State,
    /// The top-level members read so far (`vulnerabilities` stays empty: they are judged
    /// instead of kept).
    header: ImageReport,
    seen: u32,
    judge: Option<Judge<'p>>,
    /// The identity of every finding, for `finding_keys`.
    keys: KeysBuilder,
    /// Where each vulnerability is in the document: offset and length.
    places: Vec<(u64, u32)>,
    warnings: BTreeMap<String, u32>,
    /// A reason to stop, once one was found (every later call gives it again).
    stopped: Option<&'static str>,
    /// The document is UTF-8 up to this offset.
    utf8_to: u64,
    /// A byte below 0x20 was seen before that offset.
    controls: bool,
}

impl<'p> ReportStream<'p> {
    /// A reader judging against `policy` at time `now`.
    pub fn new(policy: &'p Policy, now: Timestamp) -> Self {
        Self {
            policy,
            now,
            buf: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            wait_for: 0,
            state: State::Start,
            header: ImageReport::empty(),
            seen: 0,
            judge: None,
            keys: KeysBuilder::default(),
            places: Vec::new(),
            warnings: BTreeMap::new(),
            stopped: None,
            utf8_to: 0,
            controls: false,
        }
    }

    /// Room for the next piece of the document (at least [`READ_SIZE`] bytes): read into it,
    /// then tell [`ReportStream::filled`] how many bytes came.
    pub fn space(&mut self) -> &mut [u8] {
        if self.start > 0 && self.buf.len() - self.end < READ_SIZE {
            // Move what is not judged yet to the front (at most a value or two).
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_SIZE {
            let want = (self.end + READ_SIZE).max(self.buf.len() * 2);
            self.buf.resize(want, 0);
        }
        &mut self.buf[self.end..]
    }

    /// `n` more bytes of the document are at the start of [`ReportStream::space`]; judges what
    /// they complete.
    pub fn filled(&mut self, n: usize) -> Result<(), NotStreamed> {
        self.end = (self.end + n).min(self.buf.len());
        if self.end - self.start < self.wait_for {
            return self.stopped.map_or(Ok(()), stop);
        }
        self.run_window(false)
    }

    /// Takes the next piece of the document (copied into the window; see
    /// [`ReportStream::space`] to read into it directly).
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<(), NotStreamed> {
        while !bytes.is_empty() {
            let space = self.space();
            let n = space.len().min(bytes.len());
            space[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            self.filled(n)?;
        }
        Ok(())
    }

    /// How many bytes of the document were taken so far.
    pub fn bytes_read(&self) -> u64 {
        self.base + self.end as u64
    }

    /// The document is complete: judges the rest and gives the verdict, still without the
    /// findings to list (see [`Streamed`]).
    pub fn finish(mut self) -> Result<Streamed<'p>, NotStreamed> {
        self.run_window(true)?;
        self.done()
    }

    /// Judges a whole document held in memory (no copy into a window).
    fn run_whole(mut self, bytes: &[u8]) -> Result<Streamed<'p>, NotStreamed> {
        let mut warnings = std::mem::take(&mut self.warnings);
        let result = with_warnings(&mut warnings, || self.advance(bytes, 0, true));
        self.warnings = warnings;
        result?;
        self.done()
    }

    fn run_window(&mut self, eof: bool) -> Result<(), NotStreamed> {
        if let Some(why) = self.stopped {
            return stop(why);
        }
        let data = std::mem::take(&mut self.buf);
        let (start, end, base) = (self.start, self.end, self.base + self.start as u64);
        let mut warnings = std::mem::take(&mut self.warnings);
        let result = with_warnings(&mut warnings, || self.advance(&data[start..end], base, eof));
        self.warnings = warnings;
        self.buf = data;
        match result {
            Ok(used) => {
                self.start += used;
                // another attempt at a cut value once twice as much is at hand
                self.wait_for = if eof { 0 } else { 2 * (self.end - self.start) };
                Ok(())
            }
            Err(e) => {
                self.stopped = Some(e.reason);
                Err(e)
            }
        }
    }

    /// Judges as much of `data` (which starts at document offset `base`) as it holds whole;
    /// returns how many bytes that took.
    fn advance(&mut self, data: &[u8], base: u64, eof: bool) -> Result<usize, NotStreamed> {
        self.check_utf8(data, base, eof)?;
        STRICT.set(self.controls);
        let result = self.advance_checked(data, base, eof);
        STRICT.set(true);
        result
    }

    /// [`ReportStream::advance`], once `data` is checked.
    fn advance_checked(&mut self, data: &[u8], base: u64, eof: bool) -> Result<usize, NotStreamed> {
        let mut at = 0;
        loop {
            // white space, then the next byte
            while at < data.len() && matches!(data[at], b' ' | b'\n' | b'\r' | b'\t') {
                at += 1;
            }
            let Some(&next) = data.get(at) else {
                return if eof && self.state != State::End {
                    stop("the document ends early")
                } else {
                    Ok(at)
                };
            };
            let rest = &data[at..];
            match self.state {
                State::Start => {
                    if next != b'{' {
                        return stop("the document is not an object");
                    }
                    at += 1;
                    self.state = State::FirstKey;
                }
                State::FirstKey | State::Key => {
                    if next == b'}' && self.state == State::FirstKey {
                        at += 1;
                        self.state = State::End;
                        continue;
                    }
                    if next != b'"' {
                        return stop("a member name was expected");
                    }
                    match parse::<NameOf<Key>>(rest, eof)? {
                        Parsed::NeedMore => return Ok(at),
                        Parsed::Value(NameOf(k), used) => {
                            at += used;
                            if k != Key::Other {
                                if self.seen & k.bit() != 0 {
                                    return stop("a member is given twice");
                                }
                                self.seen |= k.bit();
                            }
                            self.state = State::Colon(k);
                        }
                    }
                }
                State::Colon(k) => {
                    if next != b':' {
                        return stop("`:` was expected");
                    }
                    at += 1;
                    self.state = State::Value(k);
                }
                State::Value(Key::Vulnerabilities) if next == b'[' => {
                    at += 1;
                    self.begin_vulns()?;
                    self.state = State::FirstVuln;
                }
                State::Value(k) => match self.member(k, rest, eof)? {
                    None => return Ok(at),
                    Some(used) => {
                        at += used;
                        self.state = State::AfterValue;
                    }
                },
                State::AfterValue => {
                    at += 1;
                    match next {
                        b',' => self.state = State::Key,
                        b'}' => self.state = State::End,
                        _ => return stop("`,` or `}` was expected"),
                    }
                }
                State::FirstVuln if next == b']' => {
                    at += 1;
                    self.state = State::AfterValue;
                }
                State::FirstVuln | State::Vuln => {
                    let Some(judge) = self.judge.as_mut() else {
                        return stop("vulnerabilities without a judge");
                    };
                    match parse::<LeanVuln<'_>>(rest, eof)? {
                        Parsed::NeedMore => return Ok(at),
                        Parsed::Value(v, used) => {
                            judge.add(&v, None);
                            self.keys.add(
                                v.qid().0,
                                v.software
                                    .iter()
                                    .map(|s| s.name.as_ref().map_or("", |n| &*n.0)),
                            );
                            let len = u32::try_from(used).map_err(|_| NotStreamed {
                                reason: "a vulnerability longer than 4 GiB",
                            })?;
                            self.places.push((base + at as u64, len));
                            at += used;
                            self.state = State::AfterVuln;
                        }
                    }
                }
                State::AfterVuln => {
                    at += 1;
                    match next {
                        b',' => self.state = State::Vuln,
                        b']' => self.state = State::AfterValue,
                        _ => return stop("`,` or `]` was expected"),
                    }
                }
                State::End => return stop("there is more after the document"),
            }
        }
    }

    /// Checks that the document is UTF-8, once for each byte (so the names and strings that
    /// are not kept need no check of their own), and notes whether it has a raw control
    /// character ([`STRICT`]). A document that is not UTF-8 (even in a member the full model
    /// ignores) is left to the full model.
    fn check_utf8(&mut self, data: &[u8], base: u64, eof: bool) -> Result<(), NotStreamed> {
        let from = usize::try_from(self.utf8_to.saturating_sub(base))
            .unwrap_or(usize::MAX)
            .min(data.len());
        self.controls = self.controls || has_control(&data[from..]);
        match std::str::from_utf8(&data[from..]) {
            Ok(_) => self.utf8_to = base + data.len() as u64,
            // a character cut at the end of what is at hand: checked with the next piece
            Err(e) if e.error_len().is_none() && !eof => {
                self.utf8_to = base + (from + e.valid_up_to()) as u64;
            }
            Err(_) => return stop("the document is not UTF-8"),
        }
        Ok(())
    }

    /// The `[` of `vulnerabilities`: from here on each one is judged as it comes.
    fn begin_vulns(&mut self) -> Result<(), NotStreamed> {
        let sha = match self.header.sha.as_str() {
            "" if self.policy.exclusions.iter().any(|e| e.image.is_some()) => {
                return stop("the image's sha comes after its vulnerabilities");
            }
            "" => None,
            _ => Some(&self.header.sha),
        };
        self.judge = Some(Judge::new(self.policy, sha, self.now));
        self.header.vulnerabilities = Vulnerabilities::List(Vec::new());
        Ok(())
    }

    /// Reads the value of a top-level member other than the `vulnerabilities` array; returns
    /// how many bytes it took, or `None` when more are needed.
    fn member(&mut self, k: Key, rest: &[u8], eof: bool) -> Result<Option<usize>, NotStreamed> {
        fn take<'a, T: Deserialize<'a>>(
            rest: &'a [u8],
            eof: bool,
            set: impl FnOnce(T),
        ) -> Result<Option<usize>, NotStreamed> {
            Ok(match parse::<T>(rest, eof)? {
                Parsed::NeedMore => None,
                Parsed::Value(v, used) => {
                    set(v);
                    Some(used)
                }
            })
        }
        let h = &mut self.header;
        match k {
            Key::Sha => take(rest, eof, |v: ImageSha| h.sha = v),
            Key::ImageId => take(rest, eof, |v| h.image_id = v),
            Key::Uuid => take(rest, eof, |v| h.uuid = v),
            Key::OperatingSystem => take(rest, eof, |v| h.operating_system = v),
            Key::Architecture => take(rest, eof, |v| h.architecture = v),
            Key::DockerVersion => take(rest, eof, |v| h.docker_version = v),
            Key::Repo => take(rest, eof, |Repo(v)| h.repo = v),
            Key::Size => take(rest, eof, |Flexible(v)| h.size = v),
            Key::LayersCount => take(rest, eof, |Flexible(v)| h.layers_count = v),
            Key::LastScanned => take(rest, eof, |Flexible(v)| h.last_scanned = v),
            Key::Updated => take(rest, eof, |Flexible(v)| h.updated = v),
            Key::ScanStatus => take(rest, eof, |Loose(v)| h.scan_status = v),
            Key::ScanErrorCode => take(rest, eof, |Loose(v)| h.scan_error_code = v),
            Key::Softwares => take(rest, eof, |Softwares(v)| h.softwares = v),
            Key::Layers => take(rest, eof, |Layers(v)| h.layers = v),
            Key::Vulnerabilities => {
                // not an array: null (not processed), counts (a list entry) or an error
                let mut list = false;
                let used = take(rest, eof, |v: Vulnerabilities| {
                    list = matches!(v, Vulnerabilities::List(_));
                    h.vulnerabilities = v;
                })?;
                if list {
                    return stop("vulnerabilities that are not an array");
                }
                if matches!(h.vulnerabilities, Vulnerabilities::Counts) {
                    return stop("an image list entry (counts instead of vulnerabilities)");
                }
                Ok(used)
            }
            Key::Other => take(rest, eof, |_: IgnoredAny| {}),
        }
    }

    /// The document was read to its end: the verdict.
    fn done(self) -> Result<Streamed<'p>, NotStreamed> {
        if self.state != State::End {
            return stop("the document ends early");
        }
        if self.seen & Key::Sha.bit() == 0 {
            return stop("the document has no `sha`");
        }
        let mut header = self.header;
        header.warnings = warning_lines(self.warnings);
        let judge = match self.judge {
            Some(j) => j,
            // no vulnerability list: the judge sees none (the verdict is an error)
            None => Judge::new(self.policy, Some(&header.sha), self.now),
        };
        let finished = judge.finish(&header);
        let (judged, wanted) = match finished {
            Finished::Error(e) => (Err(e), Vec::new()),
            Finished::Judged(j) => {
                let wanted = j
                    .listed
                    .iter()
                    .filter_map(|&i| self.places.get(i))
                    .map(|&(offset, len)| (offset, len as usize))
                    .collect();
                (Ok(j), wanted)
            }
        };
        Ok(Streamed {
            header,
            judged,
            wanted,
            keys: self.keys,
        })
    }
}

/// A document judged by [`ReportStream`]: the verdict, waiting for the findings
/// `summary.json` lists, which are read again from the document ([`Streamed::wanted`]).
pub struct Streamed<'p> {
    header: ImageReport,
    judged: Result<Box<JudgedReport<'p>>, Box<Evaluation>>,
    wanted: Vec<(u64, usize)>,
    keys: KeysBuilder,
}

impl Streamed<'_> {
    /// Where the findings `summary.json` lists are in the document (offset, length), in the
    /// order listed; empty when none is listed.
    pub fn wanted(&self) -> &[(u64, usize)] {
        &self.wanted
    }

    /// The evaluation, with `parts` the bytes at [`Streamed::wanted`], in that order. A part
    /// that is not the vulnerability judged there (the file changed) stops it.
    pub fn complete(self, parts: &[&[u8]]) -> Result<Evaluation, NotStreamed> {
        let j = match self.judged {
            Err(e) => return Ok(*e),
            Ok(j) => j,
        };
        if parts.len() != self.wanted.len() {
            return stop("the listed findings were not all given");
        }
        let mut listed = Vec::with_capacity(parts.len());
        let mut ignored = BTreeMap::new();
        for (part, &i) in parts.iter().zip(&j.listed) {
            let v: Vulnerability = with_warnings(&mut ignored, || serde_json::from_slice(part))
                .map_err(|_| NotStreamed {
                    reason: "a listed finding reads differently the second time",
                })?;
            if j.qid_at(i) != Some(v.qid.0) {
                return stop("a listed finding is another one the second time");
            }
            listed.push(j.finding(&v, false));
        }
        let mut e = j.into_evaluation(&self.header, listed);
        // from every finding, as the full model gives them, so the summary serves as a baseline
        e.finding_keys = Some(self.keys.finish());
        Ok(e)
    }
}

/// Judges a document held in memory on the fast path: [`ReportStream`] over `bytes`, the
/// listed findings taken from `bytes`.
pub fn evaluate_bytes(
    policy: &Policy,
    bytes: &[u8],
    now: Timestamp,
) -> Result<Evaluation, NotStreamed> {
    let streamed = ReportStream::new(policy, now).run_whole(bytes)?;
    let parts: Vec<&[u8]> = streamed
        .wanted()
        .iter()
        .map(|&(offset, len)| {
            usize::try_from(offset)
                .ok()
                .and_then(|o| bytes.get(o..o.checked_add(len)?))
                .unwrap_or_default()
        })
        .collect();
    streamed.complete(&parts)
}
