//! The policy file end to end: the documented example validates and evaluates, and a policy
//! with ten different mistakes reports all ten, each at its own line.

use qcs_core::policy::IssueLevel;
use qcs_core::policy::file::from_toml;

fn fixture(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_documented_example_policy_is_valid() {
    let text = fixture("../../examples/qcs-policy.toml");
    let (p, issues) = from_toml("qcs-policy.toml", &text, None).validate();
    assert!(issues.is_empty(), "{issues:#?}");
    let p = p.unwrap();
    assert!(p.has_conditions());
    assert!(p.exclusions.len() >= 2);
}

#[test]
fn ten_mistakes_are_all_reported_at_their_lines() {
    let text = fixture("tests/fixtures/ten-mistakes.toml");
    let (policy, issues) = from_toml("ten-mistakes.toml", &text, None).validate();
    assert!(policy.is_none(), "errors make the policy unusable");
    let got: Vec<(IssueLevel, usize, String)> = issues
        .iter()
        .map(|i| {
            let line = i.origin.place.split(':').nth(1).unwrap().parse().unwrap();
            (i.level, line, i.message.clone())
        })
        .collect();
    let expect: [(IssueLevel, usize, &str); 10] = [
        (IssueLevel::Error, 3, "unknown severity level `6`"),
        (IssueLevel::Error, 4, "QID range `200-100` is reversed"),
        (IssueLevel::Error, 5, "`CVE-21-1` is not a CVE id"),
        (IssueLevel::Warning, 5, "`CVE-2021-44228` is listed twice"),
        (
            IssueLevel::Error,
            6,
            "software filter `lib(=1.0`: bad name regex",
        ),
        (IssueLevel::Error, 7, "CVSS score 11.0 is outside 0.0-10.0"),
        (IssueLevel::Error, 8, "unknown key `fail.fixable_only`"),
        (
            IssueLevel::Error,
            10,
            "exclusion has neither `qid` nor `cve`",
        ),
        (IssueLevel::Error, 15, "exclusion has both `qid` and `cve`"),
        (IssueLevel::Warning, 18, "exclusion has no `reason`"),
    ];
    let mut missing = Vec::new();
    for (level, line, msg) in expect {
        if !got
            .iter()
            .any(|(l, n, m)| *l == level && *n == line && m.starts_with(msg))
        {
            missing.push(format!("{level:?} line {line}: {msg}"));
        }
    }
    // the eleventh: an `expires` that is not a date
    if !got
        .iter()
        .any(|(l, n, m)| *l == IssueLevel::Error && *n == 24 && m.contains("is not a date"))
    {
        missing.push("Error line 24: expires is not a date".into());
    }
    assert!(
        missing.is_empty(),
        "missing:\n{}\n\ngot:\n{got:#?}",
        missing.join("\n")
    );
    assert_eq!(got.len(), 11, "{got:#?}");
    assert!(
        issues
            .iter()
            .all(|i| i.hint.is_some() && i.origin.span.is_some())
    );
}
