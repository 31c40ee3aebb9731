//! `junit.xml`: `JUnit` XML for the Jenkins `junit` step and GitLab test reports, valid against
//! the Jenkins xUnit plugin's `JUnit` schema (`junit-10.xsd`).
//!
//! One `<testsuite>` per image; in it one `<testcase>` per configured policy condition
//! (`severity`, `qids`, `cves`, `cvss`, `software`): passing, or a `<failure>` whose message says
//! configured vs found and whose text lists the offending QIDs. An image without a verdict is a
//! single `scan` case with an `<error>` of the error's kind (timeout, api, engine, sensor,
//! config). What the exclusions did, and the counts, go to the suite's `<system-out>`.

use std::fmt::Write as _;
use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use qcs_core::summary::{ImageResult, LEVEL_KEYS, Summary};

use crate::common::{checks, exclusion_lines, image_name, list};

/// At most this many QIDs are named in a failure message (all of them are in the text).
const SHOW: usize = 10;

/// Writes the `JUnit` report of `summary` into `out`.
pub fn write(summary: &Summary, mut out: impl Write) -> io::Result<()> {
    out.write_all(&render(summary))
}

/// The `JUnit` report as bytes.
pub fn render(summary: &Summary) -> Vec<u8> {
    let mut report = Report::new("qcs");
    for img in &summary.images {
        report.add_test_suite(suite(img));
    }
    // Serializing into a Vec fails only on an I/O error, which a Vec never has.
    let xml = report.to_string().unwrap_or_default();
    strip_disabled(&xml).into_bytes()
}

fn suite(img: &ImageResult) -> TestSuite {
    let e = &img.evaluation;
    let name = image_name(img);
    let mut suite = TestSuite::new(name);
    let case = |case: &str, status: TestCaseStatus| {
        let mut c = TestCase::new(case, status);
        c.set_classname(name);
        c
    };
    if let Some(err) = &e.error {
        let kind = serde_json::to_value(err.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "error".to_owned());
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(format!("no verdict ({kind}): {}", err.message))
            .set_type(kind);
        suite.add_test_case(case("scan", status));
    }
    if let Some(c) = &e.conditions {
        let checks = checks(c, e);
        if checks.is_empty() {
            let mut passed = case("policy", TestCaseStatus::success());
            passed.set_system_out("no condition is configured: every image passes");
            suite.add_test_case(passed);
        }
        for check in checks {
            let status = if check.passed {
                TestCaseStatus::success()
            } else {
                let mut message = format!(
                    "{} failed: configured {}; found {}",
                    check.name.as_str(),
                    check.configured,
                    check.found
                );
                let mut text =
                    format!("configured: {}\nfound: {}\n", check.configured, check.found);
                if !check.qids.is_empty() {
                    let _ = write!(message, "; QIDs {}", list(&check.qids, SHOW));
                    let qids: Vec<String> = check.qids.iter().map(u32::to_string).collect();
                    let _ = writeln!(text, "offending QIDs: {}", qids.join(", "));
                }
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(message)
                    .set_type(format!("qcs.{}", check.name.as_str()))
                    .set_description(text);
                s
            };
            let mut tc = case(check.name.as_str(), status);
            if check.passed {
                tc.set_system_out(format!(
                    "configured: {}\nfound: {}",
                    check.configured, check.found
                ));
            }
            suite.add_test_case(tc);
        }
    }
    suite.set_system_out(system_out(img));
    suite
}

fn system_out(img: &ImageResult) -> String {
    let e = &img.evaluation;
    let mut out = format!("image: {}\noutcome: {}\n", img.input, e.outcome.as_str());
    if let Some(sha) = &e.sha {
        let _ = writeln!(out, "sha: {sha}");
    }
    if let Some(t) = &e.scanned_at {
        let _ = writeln!(out, "scanned at: {t}");
    }
    if let Some(c) = &e.counts {
        let by_level: Vec<String> = (0..5)
            .rev()
            .map(|i| {
                format!(
                    "{}: {}{}",
                    LEVEL_KEYS[i],
                    c.confirmed.0[i],
                    if c.potential.0[i] > 0 {
                        format!(" (+{} potential)", c.potential.0[i])
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "vulnerabilities: {} (severity {}), {} patchable",
            c.total,
            by_level.join(", "),
            c.patchable
        );
    }
    for line in exclusion_lines(&e.exclusions, usize::MAX) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(b) = &e.baseline {
        for line in crate::common::baseline_lines(b, usize::MAX) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// quick-junit writes a `disabled` count on every `<testsuite>`, an attribute the Jenkins xUnit
/// schema does not allow; the count is always 0 here. Markup inside text is escaped, so a
/// literal `<testsuite ` is always a start tag.
fn strip_disabled(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(at) = rest.find("<testsuite ") {
        let (before, tag_on) = rest.split_at(at);
        out.push_str(before);
        let end = tag_on.find('>').map_or(tag_on.len(), |i| i + 1);
        let (tag, after) = tag_on.split_at(end);
        match tag.find(" disabled=\"") {
            Some(i) => {
                let value_end = tag[i + 11..]
                    .find('"')
                    .map_or(tag.len(), |j| i + 11 + j + 1);
                out.push_str(&tag[..i]);
                out.push_str(&tag[value_end..]);
            }
            None => out.push_str(tag),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fixture;

    fn xml() -> String {
        String::from_utf8(render(&fixture::summary())).unwrap()
    }

    #[test]
    fn a_suite_per_image_and_a_case_per_configured_condition() {
        let x = xml();
        assert!(x.starts_with("<?xml"), "{x}");
        assert!(
            x.contains(r#"<testsuites name="qcs" tests="5" failures="2" errors="1">"#),
            "{x}"
        );
        assert!(
            x.contains(r#"<testsuite name="registry.example:5000/acme/app:1.0" tests="3" errors="0" failures="2">"#),
            "{x}"
        );
        assert!(!x.contains("disabled="), "{x}");
        assert!(
            x.contains(r#"<testcase name="qids" classname="registry.example:5000/acme/app:1.0">"#),
            "{x}"
        );
        assert!(
            x.contains(r#"message="severity failed: configured severity 5 at most 0; found severity 5: 1; QIDs 376209""#),
            "{x}"
        );
        assert!(x.contains("offending QIDs: 376209"), "{x}");
    }

    #[test]
    fn an_errored_image_is_an_error_case_and_exclusions_go_to_system_out() {
        let x = xml();
        assert!(
            x.contains(r#"<error message="no verdict (timeout): no scan result after 600 s" type="timeout"/>"#),
            "{x}"
        );
        assert!(x.contains("excluded: qid 179203 (not reachable) x1"), "{x}");
        assert!(
            x.contains("unused exclusions (matched nothing): cve CVE-2020-0001"),
            "{x}"
        );
    }

    #[test]
    fn only_testsuite_tags_lose_the_disabled_attribute() {
        let s = r#"<testsuites><testsuite name="a" tests="1" disabled="0" errors="0"><system-out>disabled="0"</system-out></testsuite></testsuites>"#;
        assert_eq!(
            strip_disabled(s),
            r#"<testsuites><testsuite name="a" tests="1" errors="0"><system-out>disabled="0"</system-out></testsuite></testsuites>"#
        );
    }
}
