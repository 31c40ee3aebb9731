//! `report.html` in a real browser: the binary writes the page for the example (a failed image),
//! for the example with hostile titles, and for a generated image with 20,000 vulnerabilities;
//! `tests/html/check.cjs` opens each in headless Chromium (Debian's `chromium`, driven by
//! `playwright-core`) and checks the verdict, the why panel, sorting, search, the failing-only
//! filter and expandable rows, that no report text runs as script, that nothing logs an error
//! and that the page requests nothing but itself. It prints how long the 20k page took to become
//! interactive (measured, not asserted: speed belongs to benchmarks). A page of four images
//! (failed, passed with no findings, not processed, failed) checks the overview, navigation, the
//! error message, tables that start when scrolled to, dark and print media. Screenshots go to
//! the test's temporary directory (kept with `QCS_KEEP_SCREENSHOTS=1`).
//!
//! Chromium, Node.js and playwright-core are installed by `scripts/setup/70-chromium.sh`
//! (`QCS_BROWSER_DIR` overrides `/opt/qcs-browser`, `QCS_CHROMIUM` `/usr/bin/chromium`); a
//! missing one fails the test: the test command installs them. Where they are and Chromium's
//! flags come from `qcs_test_support::chromium`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{qcs, repo};
use qcs_test_support::chromium::{self, Browser};
use serde_json::{Value, json};

/// Writes `report.html` for reports with the example criteria; the example fails by design.
fn html_of(report: &Path, out: &Path) {
    html_of_all(&[report], out);
}

fn html_of_all(reports: &[&Path], out: &Path) {
    html_with(reports, out, &[]);
}

fn html_with(reports: &[&Path], out: &Path, extra: &[&std::ffi::OsStr]) {
    let assert = qcs()
        .args(["evaluate", "--report"])
        .args(reports)
        .args(extra)
        .arg("--criteria-json")
        .arg(repo("examples/criteria.json"))
        .arg("--format")
        .arg(format!("html={}", out.display()))
        .arg("-q")
        .assert();
    let code = assert.get_output().status.code();
    assert_eq!(
        code,
        Some(1),
        "the example policy fails: {:?}",
        assert.get_output()
    );
    assert!(out.is_file(), "{} written", out.display());
}

/// The example report with hostile text in the log4j finding's title and result.
fn hostile_example(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo("examples/reports/payments-api.json"))
        .expect("example report");
    let mut doc: Value = serde_json::from_str(&text).expect("example parses");
    let vulns = doc["vulnerabilities"]
        .as_array_mut()
        .expect("example has vulnerabilities");
    let log4j = vulns
        .iter_mut()
        .find(|v| v["qid"] == json!(376_209))
        .expect("the example's log4j finding");
    log4j["title"] = json!(
        "Log4Shell </script><script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"> \u{2028}end"
    );
    log4j["result"] = json!("<iframe src=\"https://example.invalid/\"></iframe>");
    let path = dir.join("hostile.json");
    std::fs::write(&path, serde_json::to_vec(&doc).expect("serialises")).expect("write report");
    path
}

/// The example turned into another image by `change` (a new sha, tag and id first).
fn variant(dir: &Path, name: &str, n: u8, change: impl FnOnce(&mut Value)) -> PathBuf {
    let text = std::fs::read_to_string(repo("examples/reports/payments-api.json"))
        .expect("example report");
    let mut doc: Value = serde_json::from_str(&text).expect("example parses");
    let sha = format!("{n:x}").repeat(64);
    doc["imageId"] = json!(sha[..12]);
    doc["sha"] = json!(sha);
    doc["repo"][0]["repository"] = json!(format!("acme/{name}"));
    change(&mut doc);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec(&doc).expect("serialises")).expect("write report");
    path
}

/// A generated image-details document with `n` vulnerabilities (as `examples/gen_report.rs`).
fn generated(dir: &Path, n: usize) -> PathBuf {
    use qcs_emulator::generate::{Base, ReportSpec, generate};
    let spec = ReportSpec {
        seed: 1,
        base: Base::Debian,
        vulnerabilities: n,
        packages: 3000,
        ..ReportSpec::default()
    };
    let path = dir.join(format!("gen-{n}.json"));
    std::fs::write(
        &path,
        serde_json::to_vec(&generate(&spec)).expect("serialises"),
    )
    .expect("write report");
    path
}

/// Runs `tests/html/check.cjs` on `plan` (written to `dir/plan.json`): every check passes; its
/// output.
fn browser_checks(browser: &Browser, dir: &Path, plan: &Value) -> String {
    let plan_path = dir.join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).expect("write plan");
    let out = Command::new(&browser.node)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/html/check.cjs"))
        .arg(&plan_path)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("html pages: all checks passed"), "{stdout}");
    stdout
}

#[test]
fn report_html_in_headless_chromium() {
    let browser = Browser::require();

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let example = dir.join("example.html");
    html_of(&repo("examples/reports/payments-api.json"), &example);
    let hostile = dir.join("hostile.html");
    html_of(&hostile_example(dir), &hostile);
    let big = dir.join("big.html");
    html_of(&generated(dir, 20_000), &big);
    let clean = variant(dir, "clean", 0xb, |d| d["vulnerabilities"] = json!([]));
    let pending = variant(dir, "pending", 0xc, |d| d["vulnerabilities"] = Value::Null);
    let hostile_report = dir.join("hostile.json");
    let many = dir.join("many.html");
    html_of_all(
        &[
            &repo("examples/reports/payments-api.json"),
            &clean,
            &pending,
            &hostile_report,
        ],
        &many,
    );
    // judged against a baseline holding only the example's QID 6000123 (a raw report)
    let baseline = variant(dir, "baseline-of-example", 0xd, |d| {
        d["repo"][0]["repository"] = json!("acme/payments-api");
        d["vulnerabilities"]
            .as_array_mut()
            .expect("vulnerabilities")
            .retain(|v| v["qid"] == json!(6_000_123));
    });
    let with_baseline = dir.join("baseline.html");
    html_with(
        &[&repo("examples/reports/payments-api.json")],
        &with_baseline,
        &["--baseline".as_ref(), baseline.as_os_str()],
    );
    let size = std::fs::metadata(&big).map_or(0, |m| m.len());
    println!("20k page: {size} bytes");

    let why = ["Severity", "CVEs", "CVSS", "376209"];
    let plan = json!({
        "playwright": browser.playwright,
        "chromium": browser.chromium,
        "args": chromium::FLAGS,
        "out": dir,
        "pages": [
            { "name": "example", "file": example, "verdict": "Failed", "why": why },
            {
                "name": "hostile", "file": hostile, "verdict": "Failed", "why": why,
                "pwned": false,
                "literal": "</script><script>window.__pwned=1</script><img src=x",
                "literal_search": "log4shell",
            },
            { "name": "big", "file": big, "verdict": "Failed", "why": ["Severity"], "timing": true },
            {
                "name": "baseline", "file": with_baseline, "verdict": "Failed", "why": why,
                "baseline": { "new": [376_209], "unchanged": [6_000_123] },
            },
            {
                "name": "many", "file": many, "verdict": "Failed",
                "outcomes": ["failed", "passed", "error", "failed"],
                "error": "not processed yet",
                // findings and software of the two failed images, software of the others
                "tables": 6,
            },
        ],
    });
    let stdout = browser_checks(&browser, dir, &plan);
    println!("{stdout}");
    assert!(stdout.contains("timing: big interactive after"), "{stdout}");
    for name in ["example", "hostile", "big", "many-dark"] {
        let shot = dir.join(format!("{name}.png"));
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
            "{} saved",
            shot.display()
        );
    }
    if std::env::var_os("QCS_KEEP_SCREENSHOTS").is_some() {
        let kept = tmp.keep();
        println!("screenshots kept in {}", kept.display());
    }
}

/// `qcs evaluate` of `report` as Jenkins build `number` (`BUILD_NUMBER`): its summary.json.
fn build_summary(dir: &Path, number: u32, report: &Path) -> (PathBuf, u32) {
    let out = dir.join(format!("build-{number}"));
    let status = qcs()
        .env("BUILD_NUMBER", number.to_string())
        .args(["evaluate", "-q", "--report"])
        .arg(report)
        .arg("--output-dir")
        .arg(&out)
        .output()
        .expect("qcs runs")
        .status;
    assert!(status.code().is_some_and(|c| c <= 1), "build {number}");
    let path = out.join("summary.json");
    let s: Value = serde_json::from_slice(&std::fs::read(&path).expect("summary")).expect("JSON");
    assert_eq!(s["build"]["number"], number.to_string());
    let confirmed: u32 = (1..=5)
        .map(|l| {
            u32::try_from(
                s["images"][0]["counts"]["confirmed"][l.to_string()]
                    .as_u64()
                    .unwrap_or(0),
            )
            .unwrap_or(0)
        })
        .sum();
    (path, confirmed)
}

/// The trend across builds (`qcs report trend`, given out of order) drawn as an inline SVG in
/// headless Chromium: a bar per build in build order, heights following the totals, the table
/// with the same numbers, nothing fetched; and the Markdown table.
#[test]
fn the_trend_across_builds_in_headless_chromium() {
    let browser = Browser::require();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let (b9, t9) = build_summary(dir, 9, &repo("examples/reports/payments-api.json"));
    let (b10, t10) = build_summary(dir, 10, &generated(dir, 120));
    let clean = variant(dir, "payments-api", 0xb, |d| {
        d["vulnerabilities"] = json!([]);
    });
    let (b11, t11) = build_summary(dir, 11, &clean);
    assert!(t10 > t9 && t11 == 0, "{t9} {t10} {t11}");
    let page = dir.join("trend.html");
    let md = dir.join("trend.md");
    let out = qcs()
        .args(["report", "trend", "-q"])
        .args([&b11, &b9, &b10])
        .arg("--format")
        .arg(format!("html={}", page.display()))
        .arg("--format")
        .arg(format!("markdown={}", md.display()))
        .output()
        .expect("qcs runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(&md).expect("markdown");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| #")).collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows[0].starts_with("| #9 ") && rows[2].starts_with("| #11 "),
        "{text}"
    );
    assert!(rows[2].ends_with(&format!("| 0 (−{t10}) |")), "{text}");

    let plan = json!({
        "playwright": browser.playwright,
        "chromium": browser.chromium,
        "args": chromium::FLAGS,
        "out": dir,
        "pages": [{
            "name": "trend", "file": page,
            "trend": { "labels": ["#9", "#10", "#11"], "totals": [t9, t10, t11] },
        }],
    });
    browser_checks(&browser, dir, &plan);
}
