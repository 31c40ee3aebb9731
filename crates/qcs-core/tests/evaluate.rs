//! The evaluator's rules beyond the original's vectors: combined and expiring exclusions, scope
//! (potential, fixable-only), version operators, CVSS `max`, and the not-processed error.

// Test helpers may panic on bad fixtures; short names are the test's vocabulary.
#![allow(
    clippy::unwrap_used,
    clippy::many_single_char_names,
    clippy::needless_pass_by_value
)]

use jiff::Timestamp;
use qcs_core::policy::flags::PolicyFlags;
use qcs_core::policy::{Origin, RawExclusion, Spanned};
use qcs_core::summary::{ErrorKind, Evaluation, Outcome};
use qcs_core::{ImageReport, Policy, evaluate};

const SHA: &str = "4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100";

/// A vulnerability: qid, severity, type, CVEs, cvss2, cvss3, patchable.
fn vuln(
    qid: u32,
    sev: u8,
    kind: &str,
    cves: &[&str],
    v2: Option<f64>,
    v3: Option<f64>,
    patch: bool,
) -> String {
    let score = |s: Option<f64>| s.map_or("null".to_owned(), |s| format!("\"{s}\""));
    format!(
        r#"{{"qid":{qid},"severity":{sev},"typeDetected":"{kind}","cveids":{},
        "cvssInfo":{{"baseScore":{}}},"cvss3Info":{{"baseScore":{}}},"patchAvailable":{patch}}}"#,
        serde_json::to_string(cves).unwrap(),
        score(v2),
        score(v3)
    )
}

fn report(os: &str, vulns: &[String], softwares: &[(&str, &str)]) -> ImageReport {
    let sw: Vec<String> = softwares
        .iter()
        .map(|(n, v)| format!(r#"{{"name":"{n}","version":"{v}"}}"#))
        .collect();
    let doc = format!(
        r#"{{"sha":"{SHA}","operatingSystem":"{os}","vulnerabilities":[{}],"softwares":[{}]}}"#,
        vulns.join(","),
        sw.join(",")
    );
    ImageReport::from_json(doc.as_bytes()).unwrap()
}

fn flags(f: PolicyFlags) -> Policy {
    let (p, issues) = f.to_raw().validate();
    p.unwrap_or_else(|| panic!("{issues:?}"))
}

fn now() -> Timestamp {
    "2026-11-27T10:00:00Z".parse().unwrap()
}

fn run(p: &Policy, r: &ImageReport) -> Evaluation {
    evaluate(p, r, now())
}

fn exclusion(
    qid: Option<&str>,
    cve: Option<&str>,
    expires: Option<&str>,
    image: Option<&str>,
) -> RawExclusion {
    let sp = |v: &str| Spanned::new(v.to_owned(), Origin::at("test"));
    RawExclusion {
        origin: Origin::at("test"),
        qid: qid.map(sp),
        cve: cve.map(sp),
        reason: Some(sp("reviewed")),
        expires: expires.map(sp),
        image: image.map(sp),
        reason_expected: true,
    }
}

#[test]
fn exclusions_by_qid_and_cve_combine() {
    let r = report(
        "Debian Linux 12",
        &[
            vuln(1, 5, "CONFIRMED", &["CVE-2024-0001"], None, None, true),
            vuln(
                2,
                5,
                "CONFIRMED",
                &["CVE-2024-0002", "CVE-2024-0003"],
                None,
                None,
                true,
            ),
            vuln(3, 5, "CONFIRMED", &["CVE-2024-0002"], None, None, true),
            vuln(4, 5, "CONFIRMED", &[], None, None, true),
        ],
        &[],
    );
    let mut raw = PolicyFlags {
        fail_severity: vec!["5=0".into()],
        ..PolicyFlags::default()
    }
    .to_raw();
    raw.exclude = vec![
        exclusion(Some("1"), None, None, None),
        exclusion(None, Some("CVE-2024-0002"), None, None),
        exclusion(None, Some("CVE-2024-9999"), None, None),
    ];
    let (p, _) = raw.validate();
    let e = run(&p.unwrap(), &r);
    let c = e.conditions.as_ref().unwrap();
    // qid 1 excluded by QID; qid 3 by its only CVE; qid 2 keeps CVE-0003 so it counts; qid 4 has
    // no CVE and cannot be excluded by CVE
    assert_eq!(c.severity.levels["5"].found, 2);
    let by = |q: u32| {
        e.findings
            .iter()
            .find(|f| f.qid == q)
            .unwrap()
            .excluded_by
            .clone()
    };
    assert_eq!(by(1).as_deref(), Some("qid 1"));
    assert_eq!(by(2), None);
    assert_eq!(by(3).as_deref(), Some("cve CVE-2024-0002"));
    assert_eq!(by(4), None);
    let x = &e.exclusions;
    assert_eq!(x.applied.len(), 2);
    assert_eq!(
        x.applied[1].matched, 2,
        "CVE-2024-0002 appears on two vulnerabilities"
    );
    assert_eq!(x.unused.len(), 1);
    assert_eq!(x.unused[0].cve.as_deref(), Some("CVE-2024-9999"));
}

#[test]
fn the_cve_condition_skips_excluded_cves() {
    let r = report(
        "Debian Linux 12",
        &[vuln(
            7,
            3,
            "CONFIRMED",
            &["CVE-2021-44228", "CVE-2021-45046"],
            None,
            None,
            true,
        )],
        &[],
    );
    let f = PolicyFlags {
        fail_cves: vec!["CVE-2021-44228,CVE-2021-45046".into()],
        exclude_cves: vec!["CVE-2021-44228".into()],
        ..PolicyFlags::default()
    };
    let e = run(&flags(f), &r);
    let c = &e.conditions.as_ref().unwrap().cves;
    assert!(!c.passed);
    assert_eq!(c.found, ["CVE-2021-44228", "CVE-2021-45046"]);
    assert_eq!(c.excluded, ["CVE-2021-44228"]);
    // both excluded: the vulnerability is excluded and the condition passes
    let f = PolicyFlags {
        fail_cves: vec!["CVE-2021-44228".into()],
        exclude_cves: vec!["CVE-2021-44228,CVE-2021-45046".into()],
        ..PolicyFlags::default()
    };
    let e = run(&flags(f), &r);
    assert_eq!(e.outcome, Outcome::Passed);
}

#[test]
fn expired_and_other_image_exclusions_do_not_apply() {
    let r = report(
        "Debian Linux 12",
        &[vuln(9, 5, "CONFIRMED", &[], None, None, true)],
        &[],
    );
    let other = "0".repeat(64);
    for (expires, image, applies, expired) in [
        (Some("2026-11-27"), None, true, false), // the expiry day itself still applies
        (Some("2026-11-26"), None, false, true),
        (None, Some(SHA), true, false),
        (None, Some(other.as_str()), false, false),
    ] {
        let mut raw = PolicyFlags {
            fail_severity: vec!["5=0".into()],
            ..PolicyFlags::default()
        }
        .to_raw();
        raw.exclude = vec![exclusion(Some("9"), None, expires, image)];
        let (p, issues) = raw.validate();
        let e = run(&p.unwrap_or_else(|| panic!("{issues:?}")), &r);
        let case = format!("expires {expires:?}, image {image:?}");
        assert_eq!(e.outcome == Outcome::Passed, applies, "{case}");
        assert_eq!(e.exclusions.expired.len(), usize::from(expired), "{case}");
        if expired {
            assert_eq!(
                e.exclusions.expired[0].expires.as_deref(),
                Some("2026-11-26")
            );
            assert_eq!(
                e.exclusions.expired[0].matched, 1,
                "what it would have matched"
            );
        }
    }
}

#[test]
fn scope_potential_and_fixable_only() {
    let r = report(
        "Debian Linux 12",
        &[
            vuln(1, 4, "CONFIRMED", &[], None, None, true),
            vuln(2, 4, "POTENTIAL", &[], None, None, true),
            vuln(3, 4, "CONFIRMED", &[], None, None, false),
            vuln(4, 4, "INFORMATION", &[], None, None, false),
        ],
        &[],
    );
    let level4 = |f: PolicyFlags| {
        let e = run(
            &flags(PolicyFlags {
                fail_severity: vec!["4=0".into()],
                ..f
            }),
            &r,
        );
        e.conditions.unwrap().severity.levels["4"].found
    };
    assert_eq!(
        level4(PolicyFlags::default()),
        3,
        "confirmed and other types, not potential"
    );
    assert_eq!(
        level4(PolicyFlags {
            potential: Some(true),
            ..PolicyFlags::default()
        }),
        4
    );
    assert_eq!(
        level4(PolicyFlags {
            fixable_only: Some(true),
            ..PolicyFlags::default()
        }),
        1
    );
    assert_eq!(
        level4(PolicyFlags {
            fixable_only: Some(true),
            potential: Some(true),
            ..PolicyFlags::default()
        }),
        2
    );
    // the counts always cover everything
    let e = run(&Policy::default(), &r);
    let c = e.counts.unwrap();
    assert_eq!((c.confirmed.0[3], c.potential.0[3], c.total), (2, 1, 4));
    assert_eq!((c.patchable, c.not_patchable), (2, 2));
}

#[test]
fn cvss_versions_and_the_threshold_boundary() {
    let r = report(
        "Debian Linux 12",
        &[
            vuln(1, 3, "CONFIRMED", &[], Some(9.0), Some(7.5), true),
            vuln(2, 3, "CONFIRMED", &[], None, Some(9.8), true),
            vuln(3, 3, "CONFIRMED", &[], Some(5.0), None, true),
        ],
        &[],
    );
    for (spec, found) in [
        ("2:9.0", 1),
        ("3:9.0", 1),
        ("max:9.0", 2),
        ("max:5.0", 3),
        ("3:9.9", 0),
    ] {
        let e = run(
            &flags(PolicyFlags {
                fail_cvss: Some(spec.into()),
                ..PolicyFlags::default()
            }),
            &r,
        );
        let c = e.conditions.unwrap().cvss;
        assert_eq!(c.found, found, "{spec}");
        assert_eq!(c.passed, found == 0, "{spec}");
    }
}

#[test]
fn software_version_operators_use_the_ecosystem_order() {
    let deb = report(
        "Ubuntu Linux 22.04.4",
        &[],
        &[
            ("libssl3", "3.0.2-0ubuntu1.12"),
            ("org.apache.logging.log4j:log4j-core", "2.14.1"),
        ],
    );
    let alpine = report("Alpine Linux 3.19.1", &[], &[("busybox", "1.36.1-r2")]);
    let rhel = report(
        "Red Hat Enterprise Linux 8.9",
        &[],
        &[("openssl", "1:1.1.1k-7.el8_6")],
    );
    for (r, filter, hit) in [
        (&deb, "libssl3<3.0.2-0ubuntu1.14", true),
        (&deb, "libssl3<3.0.2-0ubuntu1.9", false), // dpkg order, not text order
        (&deb, "libssl3>=3.0.2-0ubuntu1.12", true),
        (&deb, "libssl3>3.0.2-0ubuntu1.12", false),
        (&deb, ".*:log4j-core<2.17.1", true),
        (&deb, ".*:log4j-core<=2.14.0", false),
        (&deb, "libssl3=3\\.0\\..*", true),
        (&deb, "libssl3=3\\.0", false), // `=` is a whole-string regex
        (&alpine, "busybox<1.36.1-r15", true),
        (&alpine, "busybox>1.36.1-r15", false),
        // a bound without a revision names the upstream version: any revision of it matches
        (&alpine, "busybox<=1.36.1", true),
        (&alpine, "busybox<1.36.1", false),
        (&rhel, "openssl<=1.1.1k", true),
        (&rhel, "openssl<1.1.1k", false),
        (&rhel, "openssl>=1.1.1k-8.el8", false), // a spelled-out release compares in full
        (&deb, "libssl3<=3.0.2", true),
    ] {
        let e = run(
            &flags(PolicyFlags {
                fail_software: vec![filter.into()],
                ..PolicyFlags::default()
            }),
            r,
        );
        let c = e.conditions.unwrap().software;
        assert_eq!(!c.passed, hit, "{filter}");
    }
}

#[test]
fn no_conditions_passes_on_data_but_never_without_it() {
    let clean = report("Debian Linux 12", &[], &[]);
    let e = run(&Policy::default(), &clean);
    assert_eq!(e.outcome, Outcome::Passed);
    let pending =
        ImageReport::from_json(format!(r#"{{"sha":"{SHA}","vulnerabilities":null}}"#).as_bytes())
            .unwrap();
    let e = run(&Policy::default(), &pending);
    assert_eq!(e.outcome, Outcome::Error);
    assert_eq!(e.error.unwrap().kind, ErrorKind::NotProcessed);
    assert!(e.counts.is_none() && e.conditions.is_none());
}

#[test]
fn findings_are_ordered_and_name_their_conditions() {
    let r = report(
        "Debian Linux 12",
        &[
            vuln(20, 2, "CONFIRMED", &[], None, None, true),
            vuln(
                10,
                5,
                "CONFIRMED",
                &["CVE-2021-44228"],
                None,
                Some(10.0),
                true,
            ),
            vuln(30, 5, "POTENTIAL", &[], None, None, true),
        ],
        &[],
    );
    let f = PolicyFlags {
        fail_severity: vec!["5=0".into()],
        fail_qids: vec!["10-20".into()],
        fail_cves: vec!["CVE-2021-44228".into()],
        fail_cvss: Some("3:9.0".into()),
        ..PolicyFlags::default()
    };
    let e = qcs_core::evaluate::evaluate_with_details(&flags(f.clone()), &r, now());
    let all = e.every_finding();
    let order: Vec<u32> = all.iter().map(|f| f.qid).collect();
    assert_eq!(order, [10, 30, 20]);
    assert_eq!(all[0].conditions, ["severity", "qids", "cves", "cvss"]);
    assert!(!all[1].in_scope && all[1].conditions.is_empty());
    assert_eq!(all[2].conditions, ["qids"]);
    assert_eq!(
        e.conditions.as_ref().unwrap().failed(),
        ["severity", "qids", "cves", "cvss"]
    );
    // summary.json lists the two that made it fail, most severe first; the potential one
    // (not judged) is only counted
    let listed: Vec<u32> = e.findings.iter().map(|f| f.qid).collect();
    assert_eq!(listed, [10, 20]);
    assert_eq!((e.findings_deciding, e.findings_omitted), (2, 1));
    assert_eq!(run(&flags(f), &r).findings, e.findings);
}

/// Issue 12, item 2: a finding whose severity is not 1-5 (9, null, missing, 0, -1) or whose CVSS
/// base score is outside 0.0-10.0 makes the image an error (`invalid_finding`, exit 5), never a
/// pass, whatever the policy; before, such findings were counted nowhere and the image passed.
#[test]
fn a_finding_out_of_range_is_an_error_never_a_pass() {
    let ok = vuln(1, 4, "CONFIRMED", &[], None, None, true);
    let p = flags(PolicyFlags {
        fail_severity: vec!["5=0".into()],
        ..PolicyFlags::default()
    });
    for severity in ["9", "null", "", "0", "-1", "\"7\""] {
        let field = if severity.is_empty() {
            String::new()
        } else {
            format!(r#""severity":{severity},"#)
        };
        let bad = format!(r#"{{"qid":376209,{field}"typeDetected":"CONFIRMED"}}"#);
        let r = report("Debian Linux 12", &[ok.clone(), bad.clone(), bad], &[]);
        for policy in [&p, &Policy::default()] {
            let e = run(policy, &r);
            assert_eq!(e.outcome, Outcome::Error, "severity {severity:?}");
            let err = e.error.as_ref().unwrap();
            assert_eq!(err.kind, ErrorKind::InvalidFinding);
            assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::NoResult);
            assert!(
                err.message.contains("2 findings") && err.message.contains("QID 376209"),
                "{}",
                err.message
            );
        }
    }
    for (v2, v3) in [
        (Some(11.0), None),
        (None, Some(-0.5)),
        (Some(99.0), Some(9.8)),
    ] {
        let r = report(
            "Debian Linux 12",
            &[ok.clone(), vuln(2, 5, "CONFIRMED", &[], v2, v3, true)],
            &[],
        );
        let e = run(&p, &r);
        assert_eq!(e.outcome, Outcome::Error, "{v2:?} {v3:?}");
        assert!(
            e.error.as_ref().unwrap().message.contains("base score"),
            "{:?}",
            e.error
        );
    }
    // In range: judged as always, and the per-severity counts add up to the total.
    let r = report(
        "Debian Linux 12",
        &[
            ok.clone(),
            vuln(2, 5, "CONFIRMED", &[], Some(10.0), Some(0.0), true),
            vuln(3, 1, "POTENTIAL", &[], None, None, false),
        ],
        &[],
    );
    let e = run(&p, &r);
    assert_eq!(e.outcome, Outcome::Failed);
    let c = e.counts.unwrap();
    let by_level: u32 = c.confirmed.0.iter().chain(c.potential.0.iter()).sum();
    assert_eq!((by_level, c.total), (3, 3));
}

/// `plugin-behaviour.md` §7.11: a missing CVSS block or an empty score never aborts the
/// evaluation (the original throws on a null `cvssInfo`/`cvss3Info` under `maxOfv2andv3` and on
/// an empty `baseScore` under version 2); the vulnerability is judged on the score it has, and
/// one without the score the threshold reads is not counted.
#[test]
fn a_missing_cvss_block_or_an_empty_score_never_aborts_the_evaluation() {
    let body = |qid: u32, cvss: &str| {
        format!(r#"{{"qid":{qid},"severity":3,"typeDetected":"CONFIRMED","cveids":[],{cvss}}}"#)
    };
    let vulns = [
        // 1: no v2 block, v3 8.0
        body(1, r#""cvssInfo":null,"cvss3Info":{"baseScore":"8.0"}"#),
        // 2: v2 7.0, no v3 block
        body(2, r#""cvssInfo":{"baseScore":"7.0"},"cvss3Info":null"#),
        // 3: empty v2 score, v3 9.1
        body(
            3,
            r#""cvssInfo":{"baseScore":""},"cvss3Info":{"baseScore":"9.1"}"#,
        ),
        // 4: v2 6.5, empty v3 score
        body(
            4,
            r#""cvssInfo":{"baseScore":"6.5","temporalScore":""},"cvss3Info":{"baseScore":""}"#,
        ),
        // 5: neither block
        body(5, r#""cvssInfo":null,"cvss3Info":null"#),
        // 6: both blocks missing altogether, and a block without baseScore
        body(6, r#""cvssInfo":{"accessVector":"Network"}"#),
    ];
    let doc = format!(
        r#"{{"sha":"{SHA}","vulnerabilities":[{}]}}"#,
        vulns.join(",")
    );
    let r = ImageReport::from_json(doc.as_bytes()).unwrap();
    for (spec, counted) in [
        ("2:0.0", vec![2, 4]),
        ("2:7.0", vec![2]),
        ("3:0.0", vec![1, 3]),
        ("3:9.0", vec![3]),
        ("max:0.0", vec![1, 2, 3, 4]),
        ("max:6.5", vec![1, 2, 3, 4]),
        ("max:8.0", vec![1, 3]),
        ("max:9.5", vec![]),
    ] {
        let e = run(
            &flags(PolicyFlags {
                fail_cvss: Some(spec.into()),
                ..PolicyFlags::default()
            }),
            &r,
        );
        assert!(e.error.is_none(), "{spec}: {:?}", e.error);
        let c = e.conditions.as_ref().unwrap().cvss.clone();
        let mut got: Vec<u32> = e
            .findings
            .iter()
            .filter(|f| f.conditions.iter().any(|n| *n == "cvss"))
            .map(|f| f.qid)
            .collect();
        got.sort_unstable();
        assert_eq!(got, counted, "{spec}");
        assert_eq!(c.found as usize, counted.len(), "{spec}");
        assert_eq!(c.passed, counted.is_empty(), "{spec}");
        let expected = if counted.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        assert_eq!(e.outcome, expected, "{spec}");
    }
}
