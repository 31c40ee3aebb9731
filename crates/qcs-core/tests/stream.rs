//! The streaming reader (`report::stream`) judges exactly as the full model does: the same
//! evaluation (verdict, counts, conditions, listed findings, warnings, the view of every
//! finding) for every document it reads, in any pieces; and every document it does not read
//! (bad JSON, another document, …) is left to the full model, which gives the exact error.

// Test helpers may panic on bad fixtures.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)] // only the vectors' location is used here
mod support;

use jiff::Timestamp;
use proptest::prelude::*;
use qcs_core::policy::criteria;
use qcs_core::policy::file;
use qcs_core::report::stream::{ReportStream, evaluate_bytes};
use qcs_core::summary::{Evaluation, FINDINGS_LISTED_MAX, Outcome};
use qcs_core::{ImageReport, Policy, evaluate};
use serde_json::Value;
use support::vectors::{vector_ids, vectors_dir};

const SHA: &str = "4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100";

fn now() -> Timestamp {
    "2026-11-27T10:00:00Z".parse().unwrap()
}

/// Every kind of condition and exclusion: by QID, by CVE, expired, and one naming this image.
fn policy() -> Policy {
    let text = format!(
        r#"
[fail]
severity = {{ 5 = 0, 4 = 1, 2 = 100 }}
qids = ["376209", "6000000-6000200", "38170"]
cves = ["CVE-2021-44228", "CVE-2023-0286"]
software = [".*:log4j-core<2.17.1", "openssl<3.0.7", "bash"]
cvss = {{ version = "max", score = 9.0 }}
potential = true

[[exclude]]
qid = "6000123"
reason = "not reachable"

[[exclude]]
cve = "CVE-2023-0465"
reason = "reviewed"

[[exclude]]
qid = "1-100"
reason = "expired"
expires = "2020-01-01"

[[exclude]]
cve = "CVE-2024-0001"
reason = "this image only"
image = "{SHA}"
"#
    );
    let (p, issues) = file::from_toml("test.toml", &text, None).validate();
    p.unwrap_or_else(|| panic!("{issues:?}"))
}

/// The full model's evaluation, or `None` for a document it refuses.
fn whole(policy: &Policy, bytes: &[u8]) -> Option<Evaluation> {
    ImageReport::from_json(bytes)
        .ok()
        .map(|r| evaluate(policy, &r, now()))
}

/// The streaming reader's evaluation, the document pushed in pieces of `chunk` bytes.
fn streamed(policy: &Policy, bytes: &[u8], chunk: usize) -> Option<Evaluation> {
    let mut s = ReportStream::new(policy, now());
    for piece in bytes.chunks(chunk) {
        s.push(piece).ok()?;
    }
    assert_eq!(s.bytes_read(), bytes.len() as u64);
    let done = s.finish().ok()?;
    let parts: Vec<&[u8]> = done
        .wanted()
        .iter()
        .map(|&(offset, len)| {
            let o = usize::try_from(offset).unwrap();
            &bytes[o..o + len]
        })
        .collect();
    done.complete(&parts).ok()
}

/// Checks that whatever the streaming reader judges, in any pieces, is what the full model
/// judges; returns whether it judged the document.
fn agree(policy: &Policy, bytes: &[u8], chunks: &[usize]) -> bool {
    let full = whole(policy, bytes);
    let fast = evaluate_bytes(policy, bytes, now()).ok();
    if let Some(fast) = &fast {
        let full = full
            .as_ref()
            .unwrap_or_else(|| panic!("streamed but refused whole: {}", show(bytes)));
        assert_eq!(fast, full, "{}", show(bytes));
    }
    for &chunk in chunks {
        let piecewise = streamed(policy, bytes, chunk);
        assert_eq!(piecewise, fast, "pieces of {chunk}: {}", show(bytes));
    }
    fast.is_some()
}

fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.chars().take(600).collect()
}

#[test]
fn every_vector_is_judged_the_same_streamed_and_whole() {
    let dir = vectors_dir();
    let ids = vector_ids();
    assert_eq!(ids.len(), 300, "expected 300 vectors in {}", dir.display());
    for (n, id) in ids.iter().enumerate() {
        let read = |suffix: &str| std::fs::read(dir.join(format!("{id}.{suffix}.json"))).unwrap();
        let crit: Value = serde_json::from_slice(&read("criteria")).unwrap();
        let (p, issues) = criteria::from_json(id, &crit).validate();
        let p = p.unwrap_or_else(|| panic!("{id}: {issues:?}"));
        let report = read("report");
        let chunks: &[usize] = if n % 20 == 0 {
            &[1, 7, 100, 4096]
        } else {
            &[100, 4096]
        };
        assert!(agree(&p, &report, chunks), "vector {id} was not streamed");
        assert!(
            agree(&policy(), &report, &[64]),
            "vector {id} was not streamed"
        );
    }
}

#[test]
fn the_example_is_judged_the_same_with_every_condition_and_exclusion() {
    let example = include_bytes!("../../../examples/reports/payments-api.json");
    assert!(agree(&policy(), example, &[1, 13, 512, 1 << 20]));
    let e = evaluate_bytes(&policy(), example, now()).unwrap();
    assert_eq!(e.outcome, Outcome::Failed);
    assert_eq!(
        e.judged.as_ref().map(Vec::len),
        Some(e.counts.as_ref().unwrap().total as usize)
    );
}

/// A document with `members` in this order and these vulnerabilities.
fn doc(members: &[(&str, String)]) -> Vec<u8> {
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    format!("{{{}}}", body.join(",\n  ")).into_bytes()
}

fn vuln(qid: u32, sev: &str, cves: &str) -> String {
    format!(
        r#"{{"qid": {qid}, "title": "t\"{qid}\"", "severity": {sev}, "typeDetected": "CONFIRMED",
          "cveids": {cves}, "cvssInfo": {{"baseScore": "7.5", "temporalScore": ""}},
          "cvss3Info": {{"baseScore": 9.8}}, "patchAvailable": true,
          "software": [{{"name": "openssl", "version": "1.1.1k", "fixVersion": "1.1.1t"}}],
          "result": "a\nb", "threatIntel": {{"malware": true, "other": [1]}}}}"#
    )
}

#[test]
fn documents_in_any_member_order_and_with_escapes_are_judged_the_same() {
    let vulns = format!(
        "[{}, {}, {}, {}]",
        vuln(376_209, "5", r#"["CVE-2021-44228"]"#),
        vuln(
            6_000_123,
            "\"4\"",
            r#"["CVE-2023-\u0030286", "CVE-2023-0465"]"#
        ),
        vuln(50, "3", "null"),
        vuln(200, "2", r#"["CVE-2024-0001"]"#),
    );
    let sw = r#"[{"name": "bash", "version": "5.2"}, {"name": "openssl", "version": "3.0.2"}]"#;
    let members = [
        ("sha", format!("\"{SHA}\"")),
        ("operatingSystem", "\"Ubuntu 22.04\"".to_owned()),
        ("vulnerabilities", vulns),
        ("softwares", sw.to_owned()),
        ("size", "187667860".to_owned()),
        ("lastScanned", "\"1717243260000\"".to_owned()),
        (
            "repo",
            r#"[{"repository": "acme/app", "tag": "1.0"}]"#.to_owned(),
        ),
        (
            "layers",
            r#"[{"createdBy": "CMD x", "size": "12"}]"#.to_owned(),
        ),
        ("unknown\u{e9}", r#"{"deep": [1, {"x": null}]}"#.to_owned()),
        ("scanStatus", "\"SUCCESS\"".to_owned()),
    ];
    let p = policy();
    for rotate in 0..members.len() {
        let mut m = members.to_vec();
        m.rotate_left(rotate);
        let bytes = doc(&m);
        let sha_after = m.iter().position(|(k, _)| *k == "sha")
            > m.iter().position(|(k, _)| *k == "vulnerabilities");
        // an exclusion names this image: its sha must come before its vulnerabilities to be
        // judged while reading; otherwise the whole document is read
        assert_eq!(
            agree(&p, &bytes, &[1, 5, 97]),
            !sha_after,
            "{}",
            show(&bytes)
        );
        assert!(agree(&Policy::default(), &bytes, &[3]), "{}", show(&bytes));
    }
}

/// A number cut between two pieces after its `.`, `e` or sign (`serde_json` calls that an invalid
/// number, not the end of the input, in a skipped value): a fuzzing finding.
#[test]
fn numbers_cut_between_pieces_are_read_whole() {
    let vulns = r#"[{"qid": 1, "severity": 5, "x": 10.5, "y": 1e+3, "z": -2,
        "cvss3Info": {"baseScore": 9.5, "other": 2.25E-1}}]"#;
    let bytes = doc(&[
        ("sha", format!("\"{SHA}\"")),
        ("vulnerabilities", vulns.into()),
        ("size", "1.25e2".into()),
        ("misc", "[-0.5, 3e7]".into()),
    ]);
    let p = policy();
    assert!(whole(&p, &bytes).is_some());
    let all: Vec<usize> = (1..=48).collect();
    assert!(agree(&p, &bytes, &all), "{}", show(&bytes));
}

/// `finding_keys` (what makes a summary a baseline) holds every finding's identity when read
/// while streaming too: one key per package named (escaped names, `null` and missing names as
/// `""`), the QID alone for a finding without a package, QIDs sorted and unique.
#[test]
fn every_finding_is_keyed_while_streaming() {
    let vulns = r#"[
        {"qid": 9, "severity": 1, "software": [{"name": "lib\u0073sl"}, {"name": "zlib"}]},
        {"qid": 3, "severity": 1, "software": [{"name": "libssl", "version": "1"}]},
        {"qid": 3, "severity": 1, "software": [{"name": "libssl"}]},
        {"qid": 7, "severity": 1, "software": [{"name": null}, {"version": "2"}]},
        {"qid": 5, "severity": 1},
        {"qid": 4, "severity": 1, "software": []},
        {"qid": 8, "severity": 1, "software": null}
    ]"#;
    let bytes = doc(&[
        ("sha", format!("\"{SHA}\"")),
        ("vulnerabilities", vulns.into()),
    ]);
    let p = Policy::default();
    assert!(agree(&p, &bytes, &[1, 16, 4096]), "{}", show(&bytes));
    let keys = evaluate_bytes(&p, &bytes, now())
        .unwrap()
        .finding_keys
        .unwrap();
    let expected: std::collections::BTreeMap<String, Vec<u32>> = [
        ("", vec![4, 5, 7, 8]),
        ("libssl", vec![3, 9]),
        ("zlib", vec![9]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(keys, expected);
}

#[test]
fn wrongly_typed_parts_give_the_same_warnings() {
    let v = r#"[{"qid":1,"severity":5,"typeDetected":"CONFIRMED","cvssInfo":"7.5",
        "cvss3Info":{"baseScore":"9.8"},"threatIntel":[true],"software":["x",{"name":"a"}]},
        {"qid":2,"severity":3,"typeDetected":"CONFIRMED","cvssInfo":7}]"#;
    let bytes = format!(
        r#"{{"sha":"{SHA}","vulnerabilities":{v},"softwares":[1,{{"name":"b"}}],"layers":"x","repo":[null]}}"#
    );
    for chunk in [1, 2, 9, 50] {
        assert!(agree(&policy(), bytes.as_bytes(), &[chunk]));
    }
    let e = evaluate_bytes(&policy(), bytes.as_bytes(), now()).unwrap();
    assert_eq!(e.warnings.len(), 6, "{:?}", e.warnings);
}

#[test]
fn documents_without_a_verdict_are_judged_the_same() {
    let p = policy();
    for vulns in [
        "null",
        r#"[{"qid": 1, "severity": 9}]"#,
        r#"[{"qid": 1}]"#,
        r#"[{"qid": 1, "severity": 5, "cvss3Info": {"baseScore": 11}}]"#,
    ] {
        let bytes = doc(&[
            ("sha", format!("\"{SHA}\"")),
            ("vulnerabilities", vulns.into()),
        ]);
        assert!(agree(&p, &bytes, &[1, 8]));
        assert_eq!(
            evaluate_bytes(&p, &bytes, now()).unwrap().outcome,
            Outcome::Error
        );
    }
    let failed = doc(&[
        ("vulnerabilities", "[]".into()),
        ("scanStatus", "\"FAILED\"".into()),
        ("sha", format!("\"{SHA}\"")),
    ]);
    assert!(agree(&Policy::default(), &failed, &[2]));
    let missing = doc(&[("sha", format!("\"{SHA}\""))]);
    assert!(agree(&p, &missing, &[1]));
}

#[test]
fn what_the_stream_does_not_read_is_left_to_the_full_model() {
    let p = policy();
    let sha = format!("\"{SHA}\"");
    for bytes in [
        b"{\"sha\": ".to_vec(),
        b" [1,2]".to_vec(),
        br#"{"name":"x"}"#.to_vec(),
        doc(&[
            ("sha", sha.clone()),
            ("vulnerabilities", r#"{"severity5Count":1}"#.into()),
        ]),
        doc(&[
            ("sha", sha.clone()),
            ("vulnerabilities", r#"[{"qid":1,"severity":"high"}]"#.into()),
        ]),
        doc(&[
            ("sha", sha.clone()),
            ("sha", sha.clone()),
            ("vulnerabilities", "[]".into()),
        ]),
        doc(&[
            ("sha", sha.clone()),
            ("vulnerabilities", "[{\"qid\":1,\"qid\":2}]".into()),
        ]),
        doc(&[
            ("sha", sha.clone()),
            ("vulnerabilities", "[{\"qid\":1},]".into()),
        ]),
        doc(&[
            ("sha", sha.clone()),
            ("vulnerabilities", "[]".into()),
            ("size", "1x".into()),
        ]),
        doc(&[
            ("sha", sha.clone()),
            ("vulnerabilities", "[]".into()),
            ("title", "5".into()),
        ]),
        doc(&[
            ("sha", sha.clone()),
            ("vulnerabilities", r#"[{"qid":1,"result":5}]"#.into()),
        ]),
        format!("{{\"sha\": {sha}, \"vulnerabilities\": []}} x").into_bytes(),
        format!("{{\"sha\": {sha}, \"vulnerabilities\": [],}}").into_bytes(),
        format!("{{\"sha\": {sha} \"vulnerabilities\": []}}").into_bytes(),
        b"{}".to_vec(),
        Vec::new(),
        // not UTF-8 in a string the full model reads: refused
        format!("{{\"sha\": {sha}, \"vulnerabilities\": [{{\"qid\": 1, \"title\": \"\u{0}\"}}]}}")
            .into_bytes()
            .into_iter()
            .map(|b| if b == 0 { 0xff } else { b })
            .collect(),
    ] {
        let judged_whole = whole(&p, &bytes).is_some();
        let judged_streamed = agree(&p, &bytes, &[1, 4]);
        assert_eq!(judged_streamed, judged_whole, "{}", show(&bytes));
    }
    // raw control characters (a fuzzing finding): in a member name or a string the full model
    // reads, the document is refused by both
    let top = doc(&[
        ("sha", sha.clone()),
        ("vulnerabilities", "[]".into()),
        ("operatingS\u{0}\u{12}m", "\"Debian 12\"".into()),
    ]);
    for bytes in [
        top,
        doc(&[
            ("sha", sha.clone()),
            (
                "vulnerabilities",
                r#"[{"qid": 1, "title\u{1}": "x", "result": "a\nb"}]"#.into(),
            ),
        ]),
        doc(&[
            ("sha", sha.clone()),
            (
                "vulnerabilities",
                "[{\"qid\": 1, \"category\": \"a\tb\"}]".into(),
            ),
        ]),
    ] {
        assert!(whole(&p, &bytes).is_none(), "{}", show(&bytes));
        assert!(!agree(&p, &bytes, &[1, 7]), "{}", show(&bytes));
    }
    // a member name written with escapes: judged whole, not while reading
    let escaped = doc(&[("sh\\u0061", sha.clone()), ("vulnerabilities", "[]".into())]);
    assert!(whole(&p, &escaped).is_some(), "{}", show(&escaped));
    assert!(!agree(&p, &escaped, &[1, 3]));
    // not UTF-8 in a member the full model ignores: judged whole, not while reading
    let mut odd = doc(&[
        ("sha", sha),
        ("vulnerabilities", "[]".into()),
        ("x", "\"\u{0}\"".into()),
    ]);
    for b in &mut odd {
        if *b == 0 {
            *b = 0xfe;
        }
    }
    assert!(whole(&p, &odd).is_some());
    assert!(!agree(&p, &odd, &[1, 3]));
}

#[test]
fn summary_json_lists_exactly_the_deciding_findings() {
    let sha = format!("\"{SHA}\"");
    let vulns = [
        // fails severity 5
        (10, "5", "[]"),
        // excluded by QID 6000123
        (6_000_123, "5", "[]"),
        // matched by an expired entry (QIDs 1-100, as is 10): counted, fail severity 4 (limit 1)
        (20, "4", "[]"),
        (21, "4", "[]"),
        // severity 3 is not limited, and nothing else: omitted
        (300, "3", "[]"),
        // one of its two CVEs excluded: touched, not removed; severity 1 not limited
        (400, "1", r#"["CVE-2023-0465", "CVE-2020-1"]"#),
        // severity 2 limit 100 not reached: counted toward a passing condition, omitted
        (500, "2", "[]"),
    ];
    let list: Vec<String> = vulns
        .iter()
        .map(|(q, s, c)| {
            format!(r#"{{"qid":{q},"severity":{s},"typeDetected":"CONFIRMED","cveids":{c}}}"#)
        })
        .collect();
    let bytes = doc(&[
        ("sha", sha),
        ("vulnerabilities", format!("[{}]", list.join(","))),
    ]);
    let p = policy();
    assert!(agree(&p, &bytes, &[1, 16]));
    let e = evaluate_bytes(&p, &bytes, now()).unwrap();
    let listed: Vec<(u32, Option<&str>)> = e
        .findings
        .iter()
        .map(|f| (f.qid, f.excluded_by.as_deref()))
        .collect();
    // failing first (by severity, QID), then excluded, then only touched
    assert_eq!(
        listed,
        [
            (10, None),
            (20, None),
            (21, None),
            (6_000_123, Some("qid 6000123")),
            (400, None)
        ]
    );
    assert_eq!((e.findings_deciding, e.findings_omitted), (5, 2));
    let expired = &e.exclusions.expired;
    assert_eq!((expired.len(), expired[0].matched), (1, 3));
}

#[test]
fn summary_json_lists_at_most_the_limit_most_severe_first() {
    let n = FINDINGS_LISTED_MAX + 250;
    let list: Vec<String> = (0..n)
        .map(|i| {
            let sev = if i % 3 == 0 { 5 } else { 4 };
            format!(
                r#"{{"qid":{},"severity":{sev},"typeDetected":"CONFIRMED"}}"#,
                100_000 + n - i
            )
        })
        .collect();
    let bytes = doc(&[
        ("sha", format!("\"{SHA}\"")),
        ("vulnerabilities", format!("[{}]", list.join(","))),
    ]);
    let p = policy();
    assert!(agree(&p, &bytes, &[4096]));
    let e = evaluate_bytes(&p, &bytes, now()).unwrap();
    assert_eq!(e.findings.len(), FINDINGS_LISTED_MAX);
    assert_eq!(e.findings_deciding as usize, n);
    assert_eq!(e.findings_omitted as usize, n - FINDINGS_LISTED_MAX);
    let fives = n.div_ceil(3);
    assert!(e.findings[..fives].iter().all(|f| f.severity == 5));
    assert!(e.findings[fives..].iter().all(|f| f.severity == 4));
    assert!(e.findings.windows(2).all(|w| {
        (w[0].severity, w[1].qid) > (w[1].severity, w[0].qid)
            || (w[0].severity == w[1].severity && w[0].qid < w[1].qid)
    }));
    // the formats still name every finding that made a condition fail
    assert_eq!(
        e.failing_qids(qcs_core::summary::ConditionName::Severity)
            .len(),
        n
    );
}

/// Pieces of documents: members and vulnerability fields, right and wrongly typed.
fn field() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("17".to_owned()),
        Just("-2.5e1".to_owned()),
        Just("\"9.8\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("\"CONFIRMED\"".to_owned()),
        Just("\"POTENTIAL\"".to_owned()),
        Just("\"x\\ny\\u00e9\"".to_owned()),
        Just("[]".to_owned()),
        Just("[\"CVE-2021-44228\", \"CVE-2023-0465\"]".to_owned()),
        Just("[1, \"a\"]".to_owned()),
        Just("{}".to_owned()),
        Just("{\"baseScore\": \"7.5\", \"temporalScore\": 7}".to_owned()),
        Just("{\"baseScore\": \"high\"}".to_owned()),
        Just("[{\"name\": \"openssl\", \"version\": \"1.0\"}, 3]".to_owned()),
        Just("{\"malware\": true, \"easyExploit\": null}".to_owned()),
    ];
    let key = prop_oneof![
        Just("qid"),
        Just("title"),
        Just("severity"),
        Just("typeDetected"),
        Just("cveids"),
        Just("cvssInfo"),
        Just("cvss3Info"),
        Just("patchAvailable"),
        Just("category"),
        Just("firstFound"),
        Just("threatIntel"),
        Just("software"),
        Just("result"),
        Just("other"),
    ];
    (key, value).prop_map(|(k, v)| format!("\"{k}\": {v}"))
}

fn vuln_strategy() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("1"), Just("376209"), Just("\"6000123\""), Just("null")],
        prop_oneof![Just("5"), Just("4"), Just("\"3\""), Just("1"), Just("null")],
        prop::collection::vec(field(), 0..5),
        prop_oneof![Just(" "), Just("\n\t"), Just("")],
    )
        .prop_map(|(qid, sev, fields, ws)| {
            let mut all = vec![format!("\"qid\":{ws}{qid}"), format!("\"severity\": {sev}")];
            all.extend(fields);
            format!("{{{ws}{}{ws}}}", all.join(&format!(",{ws}")))
        })
}

fn document() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(vuln_strategy(), 0..6),
        prop::collection::vec(
            prop_oneof![
                Just(("operatingSystem", "\"Debian 12\"")),
                Just(("softwares", "[{\"name\": \"bash\", \"version\": \"5\"}, 1]")),
                Just(("size", "123456789")),
                Just(("lastScanned", "\"1717243260000\"")),
                Just(("scanStatus", "\"SUCCESS\"")),
                Just(("layers", "\"x\"")),
                Just(("repo", "[{\"repository\": \"a\"}]")),
                Just(("misc", "[[[{}]]]")),
            ],
            0..4,
        ),
        0..3usize,
    )
        .prop_map(|(vulns, members, sha_at)| {
            let mut m: Vec<(&str, String)> = members
                .into_iter()
                .map(|(k, v)| (k, v.to_owned()))
                .collect();
            m.push(("vulnerabilities", format!("[{}]", vulns.join(", "))));
            m.insert(sha_at.min(m.len()), ("sha", format!("\"{SHA}\"")));
            doc(&m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any document built from right and wrong pieces: streamed in any pieces, it is judged as
    /// the full model judges it, or left to the full model; and every document the full model
    /// judges is judged while reading (the policy names no image).
    #[test]
    fn streamed_documents_are_judged_as_whole(bytes in document(), chunk in 1..300usize) {
        let p = file::from_toml(
            "p.toml",
            "[fail]\nseverity = { 5 = 0 }\nqids = [\"1\"]\ncves = [\"CVE-2021-44228\"]\n\
             cvss = { version = \"3\", score = 7.0 }\n[[exclude]]\ncve = \"CVE-2023-0465\"\n",
            None,
        )
        .validate()
        .0
        .unwrap();
        let judged = agree(&p, &bytes, &[chunk]);
        prop_assert_eq!(judged, whole(&p, &bytes).is_some(), "{}", show(&bytes));
    }
}
