//! The report formats as the binary writes them, checked by the official validators: SARIF 2.1.0
//! and GitLab container-scanning 15.2.1 with `check-jsonschema`, GitHub's SARIF ingestion rules
//! with the SARIF Multitool (`--rule-kind "Sarif;Gh"`), `JUnit` with `xmllint` against the Jenkins
//! xUnit XSD (`../shared/schemas/README.md`).
//!
//! The validators are installed by `scripts/setup/50-validators.sh` under `/opt/qcs-validators`
//! (`QCS_VALIDATORS_DIR` overrides; `xmllint` from `PATH`). A missing validator fails the test:
//! the test command installs them. The schemas live beside the repository
//! (`../shared/schemas`; `QCS_SCHEMAS_DIR` overrides).

mod common;
#[path = "../../qcs-core/tests/support/vectors.rs"]
#[allow(dead_code)]
mod vectors;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{qcs, repo};
use serde_json::Value;

fn validators_dir() -> PathBuf {
    std::env::var_os("QCS_VALIDATORS_DIR")
        .map_or_else(|| PathBuf::from("/opt/qcs-validators"), PathBuf::from)
}

fn schemas_dir() -> PathBuf {
    std::env::var_os("QCS_SCHEMAS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas"),
        PathBuf::from,
    )
}

fn schema(name: &str) -> PathBuf {
    let p = schemas_dir().join(name);
    assert!(p.is_file(), "schema {} is missing", p.display());
    p
}

/// A validator's executable, failing the test with a hint when it is not installed.
fn tool(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "validator {} is missing\nhint: run scripts/setup/50-validators.sh (as root), or set \
         QCS_VALIDATORS_DIR to where it installed them",
        path.display()
    );
    path
}

/// A started validator.
struct Running {
    what: String,
    child: std::process::Child,
}

/// Starts a validator (they run side by side: each takes seconds to start).
fn start(cmd: &mut Command, what: String) -> Running {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the validator of {what}: {e}"));
    Running { what, child }
}

/// Waits for a validator; panics with its output unless it exits 0.
fn finish(r: Running) -> String {
    let out = r
        .child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("the validator of {} did not finish: {e}", r.what));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{} is invalid:\n{text}", r.what);
    text
}

fn check_json_schema(schema_file: &str, files: &[PathBuf]) -> Running {
    start(
        Command::new(tool(validators_dir().join("venv/bin/check-jsonschema")))
            .arg("--schemafile")
            .arg(schema(schema_file))
            .args(files),
        format!("{files:?} against {schema_file}"),
    )
}

fn multitool(files: &[PathBuf], out: &Path) -> Running {
    let multitool = tool(
        validators_dir()
            .join("sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"),
    );
    start(
        Command::new(multitool)
            .arg("validate")
            .args(files)
            .arg("-o")
            .arg(out)
            .args(["--log", "ForceOverwrite", "--rule-kind", "Sarif;Gh"]),
        format!("{files:?} for GitHub (SARIF Multitool)"),
    )
}

/// GitHub's ingestion rules: the Multitool exits 0 even when it finds errors, so its own SARIF
/// output is read for `error` results.
fn github_errors(out: &Path, text: &str) {
    let errors = multitool_errors(out, text);
    assert!(
        errors.is_empty(),
        "GitHub would reject it:\n{errors:#?}\n{text}"
    );
}

/// The `error` results of the Multitool's output.
fn multitool_errors(out: &Path, text: &str) -> Vec<Value> {
    let check: Value = serde_json::from_slice(
        &std::fs::read(out).unwrap_or_else(|e| panic!("no Multitool output ({e}):\n{text}")),
    )
    .expect("the Multitool writes SARIF");
    check["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["results"].as_array().into_iter().flatten())
        .filter(|r| r["level"] == "error")
        .cloned()
        .collect()
}

fn xmllint(files: &[PathBuf]) -> Running {
    let xmllint = std::env::var_os("QCS_XMLLINT").map_or_else(
        || {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join("xmllint"))
                .find(|p| p.is_file())
                .unwrap_or_else(|| PathBuf::from("/usr/bin/xmllint"))
        },
        PathBuf::from,
    );
    start(
        Command::new(tool(xmllint))
            .args(["--noout", "--schema"])
            .arg(schema("junit.xsd"))
            .args(files),
        format!("{files:?} against junit.xsd"),
    )
}

/// Validates the reports written in each of `dirs`, every validator once, side by side.
fn validate_all(dirs: &[&Path], work: &Path) {
    let files = |name: &str| -> Vec<PathBuf> { dirs.iter().map(|d| d.join(name)).collect() };
    let check = work.join("multitool-check.sarif");
    let running = [
        check_json_schema("sarif-2.1.0.json", &files("results.sarif")),
        check_json_schema(
            "gitlab-container-scanning-report-format.json",
            &files("gl-container-scanning-report.json"),
        ),
        multitool(&files("results.sarif"), &check),
        xmllint(&files("junit.xml")),
    ];
    for r in running {
        let github = r.what.contains("Multitool");
        let text = finish(r);
        if github {
            github_errors(&check, &text);
        }
    }
}

/// Runs `qcs evaluate` writing every format into `dir`; returns the exit code.
fn evaluate(dir: &Path, args: &[&str], reports: &[PathBuf]) -> i32 {
    let mut c = qcs();
    c.args(["evaluate", "-q", "--output-dir"]).arg(dir);
    for f in ["json", "sarif", "junit", "gitlab", "markdown"] {
        c.args(["--format", f]);
    }
    c.args(args).arg("--report").args(reports);
    let out = c.output().expect("qcs runs");
    assert!(
        out.status.code().is_some_and(|c| c <= 5),
        "qcs evaluate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code().unwrap_or(-1)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).expect("report written")).expect("valid JSON")
}

fn read_text(p: &Path) -> String {
    std::fs::read_to_string(p).expect("report written")
}

/// A report Qualys has not processed yet (`vulnerabilities: null`): no verdict for that image.
fn unprocessed(dir: &Path) -> PathBuf {
    let mut r = read_json(&repo("examples/reports/payments-api.json"));
    r["vulnerabilities"] = Value::Null;
    r["sha"] = Value::from("9".repeat(64));
    r["imageId"] = Value::from("9".repeat(12));
    r["repo"] = serde_json::json!([{"registry": "registry.example", "repository": "acme/queue", "tag": "7"}]);
    std::fs::create_dir_all(dir).expect("directory created");
    let p = dir.join("unprocessed.json");
    std::fs::write(&p, serde_json::to_vec(&r).expect("JSON")).expect("written");
    p
}

/// Every format of every scenario passes the official validators (run once for all: they are
/// slow to start).
#[test]
fn reports_are_valid_for_github_gitlab_and_jenkins() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dirs: Vec<PathBuf> = ["example", "many", "unprocessed"]
        .iter()
        .map(|d| tmp.path().join(d))
        .collect();
    example(&dirs[0]);
    many_images_with_an_unprocessed_one(&dirs[1]);
    only_unprocessed_images(&dirs[2]);
    let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    validate_all(&dirs, tmp.path());
}

/// The example: one image that fails its criteria.
fn example(dir: &Path) {
    let code = evaluate(
        dir,
        &[
            "--criteria-json",
            repo("examples/criteria.json").to_str().expect("utf-8"),
        ],
        &[repo("examples/reports/payments-api.json")],
    );
    assert_eq!(code, 1, "the example violates its criteria");

    let sarif = read_json(&dir.join("results.sarif"));
    let run = &sarif["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "qcs/acme/payments-api/");
    let levels: Vec<&str> = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["level"].as_str().expect("level"))
        .collect();
    assert_eq!(
        levels,
        ["error", "note"],
        "Log4Shell fails, the excluded one is a note"
    );

    let gl = read_json(&dir.join("gl-container-scanning-report.json"));
    assert_eq!(gl["version"], "15.2.1");
    assert_eq!(gl["vulnerabilities"].as_array().expect("list").len(), 2);

    let junit = read_text(&dir.join("junit.xml"));
    assert!(
        junit.contains(r#"tests="4" failures="3" errors="0""#),
        "{junit}"
    );

    let md = read_text(&dir.join("summary.md"));
    assert!(
        md.starts_with("## ❌ qcs: 1 of 1 image failed the policy"),
        "{md}"
    );
    assert!(
        md.contains("| cves | ❌ failed | CVE-2021-44228 | CVE-2021-44228 |"),
        "{md}"
    );
}

/// A sample of the vectors, the example and an unprocessed report, in one run.
fn many_images_with_an_unprocessed_one(dir: &Path) {
    let vdir = vectors::vectors_dir();
    let mut reports: Vec<PathBuf> = vectors::vector_ids()
        .iter()
        .step_by(100)
        .map(|id| vdir.join(format!("{id}.report.json")))
        .collect();
    reports.push(repo("examples/reports/payments-api.json"));
    reports.push(unprocessed(dir));
    let code = evaluate(
        dir,
        &[
            "--fail-severity",
            "5=0,4=3",
            "--fail-cvss",
            "3:9.0",
            "--potential",
            "--exclude-qids",
            "100000-100050",
        ],
        &reports,
    );
    assert_eq!(
        code, 1,
        "a policy failure wins over an image without a verdict"
    );

    let summary = read_json(&dir.join("summary.json"));
    let images = summary["images"].as_array().expect("images").len();
    let sarif = read_json(&dir.join("results.sarif"));
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(
        runs.len(),
        images,
        "a run per judged image, one for the error"
    );
    let last = runs.last().expect("runs");
    assert_eq!(last["invocations"][0]["executionSuccessful"], false);
    let mut categories: Vec<&str> = runs
        .iter()
        .filter_map(|r| r["automationDetails"]["id"].as_str())
        .collect();
    categories.sort_unstable();
    categories.dedup();
    assert_eq!(categories.len(), images - 1, "categories are unique");

    let gl = read_json(&dir.join("gl-container-scanning-report.json"));
    assert_eq!(gl["scan"]["status"], "success");
    assert_eq!(gl["scan"]["messages"][0]["level"], "warn");
    let mut ids: Vec<&str> = gl["vulnerabilities"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v["id"].as_str().expect("id"))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "vulnerability ids are unique");

    let junit = read_text(&dir.join("junit.xml"));
    assert!(
        junit.contains(r#"<testsuite name="acme/queue:7" tests="1" errors="1" failures="0">"#),
        "{junit}"
    );
    let md = read_text(&dir.join("summary.md"));
    assert!(md.contains("| `acme/queue:7` | ⚠️ no verdict |"), "{md}");
    assert!(md.len() < 1_000_000);
}

/// Only an image without a verdict: no results at all.
fn only_unprocessed_images(dir: &Path) {
    let code = evaluate(dir, &["--fail-severity", "5=0"], &[unprocessed(dir)]);
    assert_eq!(code, 5);
    let gl = read_json(&dir.join("gl-container-scanning-report.json"));
    assert_eq!(gl["scan"]["status"], "failure");
    let sarif = read_json(&dir.join("results.sarif"));
    assert_eq!(sarif["runs"].as_array().expect("runs").len(), 1);
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}

/// The gates are not blind: what GitHub and GitLab reject (no location, a time with a zone), the
/// validators reject too.
#[test]
fn the_validators_catch_what_github_and_gitlab_reject() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    evaluate(
        dir,
        &["--fail-severity", "5=0"],
        &[repo("examples/reports/payments-api.json")],
    );
    let sarif_path = dir.join("results.sarif");
    let mut sarif = read_json(&sarif_path);
    for r in sarif["runs"][0]["results"].as_array_mut().expect("results") {
        r["locations"] = serde_json::json!([]);
    }
    std::fs::write(&sarif_path, serde_json::to_vec(&sarif).expect("JSON")).expect("written");
    let gl_path = dir.join("gl-container-scanning-report.json");
    let mut gl = read_json(&gl_path);
    gl["scan"]["end_time"] = Value::from("2024-06-01T12:01:00Z");
    std::fs::write(&gl_path, serde_json::to_vec(&gl).expect("JSON")).expect("written");

    let check = dir.join("multitool-check.sarif");
    let running = multitool(std::slice::from_ref(&sarif_path), &check);
    let gitlab = check_json_schema(
        "gitlab-container-scanning-report-format.json",
        std::slice::from_ref(&gl_path),
    );
    let text = finish(running);
    assert!(
        !multitool_errors(&check, &text).is_empty(),
        "results without a location pass the GitHub rules:\n{text}"
    );
    let out = gitlab
        .child
        .wait_with_output()
        .expect("check-jsonschema finishes");
    assert!(
        !out.status.success(),
        "a time with a zone passes the GitLab schema"
    );
}

#[test]
fn a_format_goes_to_stdout_with_a_dash_and_sarif_points_at_the_dockerfile() {
    let out = qcs()
        .args([
            "evaluate",
            "-q",
            "--format",
            "sarif=-",
            "--fail-severity",
            "5=0",
        ])
        .args(["--dockerfile", "./docker/app.Dockerfile", "--report"])
        .arg(repo("examples/reports/payments-api.json"))
        .output()
        .expect("qcs runs");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("SARIF on stdout");
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "docker/app.Dockerfile"
    );

    let out = qcs()
        .args([
            "evaluate",
            "-q",
            "--format",
            "sarif=-",
            "--fail-severity",
            "5=0",
        ])
        .args(["--dockerfile", "/abs/Dockerfile", "--report"])
        .arg(repo("examples/reports/payments-api.json"))
        .output()
        .expect("qcs runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a path inside the repository"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

/// Images in the sharded run: 10 shards of about 100 each.
const SHARDED_IMAGES: usize = 1000;
const SHARDS: u32 = 10;

/// `qcs scan --shard K/10` of every image of the world, into `dir`.
fn shard_scan(w: &common::ScanWorld, k: u32, dir: &Path, images: &str) -> assert_cmd::Command {
    let mut c = qcs();
    c.env_clear()
        .env("NO_COLOR", "1")
        .env("QUALYS_USERNAME", "ci-user")
        .env("QUALYS_PASSWORD", w.password)
        .args(["scan", "-q", "--gateway-url", &w.emu.base_url()])
        .args(["--engine", &format!("unix://{}", w.socket.display())])
        .args(["--interval", "200ms", "--timeout", "2m", "--output-dir"])
        .arg(dir)
        .args(["--shard", &format!("{k}/{SHARDS}"), "--images", images])
        .args(["--fail-severity", "5=2", "--format", "json"]);
    c
}

/// 10 sharded `qcs scan` runs against the emulator (1,000 images) merge into one summary, one
/// HTML page, one SARIF file, `JUnit` and GitLab reports, all valid; every image once, its raw
/// report beside the merged summary, and the exit code the merged verdict's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_sharded_scans_merge_into_one_valid_set_of_reports() {
    use qcs_emulator::{Base, DockerImage, ReportSpec};
    let tags: Vec<String> = (0..SHARDED_IMAGES)
        .map(|n| format!("acme/svc-{n:04}:1.0"))
        .collect();
    let images = tags
        .iter()
        .enumerate()
        .map(|(n, tag)| DockerImage {
            tags: vec![tag.clone()],
            report: Some(ReportSpec {
                seed: 1000 + n as u64,
                base: Base::Debian,
                vulnerabilities: 4,
                packages: 8,
                ..ReportSpec::default()
            }),
            ..DockerImage::default()
        })
        .collect();
    let w = common::ScanWorld::start(common::QCS, images, "Pw-Shard-Secret-41d2").await;
    let list = tags.join(",");
    let root = w.out.path();
    let runs: Vec<_> = (1..=SHARDS)
        .map(|k| {
            let dir = root.join(format!("shard-{k}"));
            common::run(shard_scan(&w, k, &dir, &list))
        })
        .collect();
    let mut codes = Vec::new();
    for r in runs {
        let (code, _, err) = r.await;
        assert!(matches!(code, Some(0 | 1)), "a shard failed: {err}");
        codes.push(code);
    }
    // every image in exactly one shard
    let mut seen = std::collections::HashSet::new();
    for k in 1..=SHARDS {
        let s = read_json(&root.join(format!("shard-{k}/summary.json")));
        assert_eq!(s["shard"], serde_json::json!({"index": k, "count": SHARDS}));
        for i in s["images"].as_array().expect("images") {
            assert!(seen.insert(i["input"].as_str().expect("input").to_owned()));
        }
    }
    assert_eq!(seen.len(), SHARDED_IMAGES);

    let merged = root.join("merged");
    let mut c = qcs();
    c.current_dir(root)
        .args(["report", "merge", "-q", "--output-dir", "merged"])
        .args((1..=SHARDS).map(|k| format!("shard-{k}/summary.json")));
    for f in ["json", "html", "sarif", "junit", "gitlab", "markdown"] {
        c.args(["--format", f]);
    }
    let (code, _, err) = common::run(c).await;
    let s = read_json(&merged.join("summary.json"));
    assert_eq!(
        code,
        Some(i32::from(
            u8::try_from(s["exit_code"].as_u64().expect("code")).expect("u8")
        )),
        "{err}"
    );
    let expected = i32::from(codes.contains(&Some(1)));
    assert_eq!(code, Some(expected), "{err}");
    let imgs = s["images"].as_array().expect("images");
    assert_eq!(imgs.len(), SHARDED_IMAGES);
    assert!(
        s.get("conflicts").is_none(),
        "no conflict: {}",
        s["conflicts"]
    );
    for i in imgs {
        let id = i["image_id"].as_str().expect("image id");
        assert!(
            merged.join(format!("images/{id}.json")).is_file(),
            "raw report of {id}"
        );
    }
    let html = read_text(&merged.join("report.html"));
    assert!(html.contains("acme/svc-0000:1.0") && html.contains("acme/svc-0999:1.0"));
    assert!(!html.contains("<script src") && !html.contains("<link"));
    // the official validators on the merged SARIF, GitLab and JUnit reports
    let running = [
        check_json_schema("sarif-2.1.0.json", &[merged.join("results.sarif")]),
        check_json_schema(
            "gitlab-container-scanning-report-format.json",
            &[merged.join("gl-container-scanning-report.json")],
        ),
        xmllint(&[merged.join("junit.xml")]),
    ];
    for r in running {
        finish(r);
    }
    let sarif = read_json(&merged.join("results.sarif"));
    assert_eq!(
        sarif["runs"].as_array().expect("runs").len(),
        SHARDED_IMAGES,
        "one run per image"
    );
    // schema 2 summaries list only the deciding findings; the merged SARIF still has every
    // finding of every image, read from the raw reports copied beside the merged summary
    let mut omitted = 0;
    for (i, run) in imgs.iter().zip(sarif["runs"].as_array().expect("runs")) {
        let total = i["counts"]["total"].as_u64().expect("total");
        omitted += i["findings_omitted"].as_u64().expect("findings_omitted");
        let results = run["results"].as_array().expect("results").len();
        assert_eq!(results as u64, total, "every finding of {}", i["input"]);
    }
    assert!(
        omitted > 0,
        "some findings are not listed in the merged summary.json"
    );
}

/// A run against a baseline: SARIF results with `baselineState` `new`, `unchanged` and (the
/// baseline's findings the image no longer has) `absent`, valid for the SARIF 2.1.0 schema
/// and GitHub's ingestion rules; `JUnit` and GitLab valid too.
#[test]
fn baseline_states_are_valid_sarif_for_github() {
    let t = tempfile::tempdir().expect("temp dir");
    let mut doc = read_json(&repo("examples/reports/payments-api.json"));
    let base_path = t.path().join("baseline.json");
    let mut base = doc.clone();
    let mut gone = base["vulnerabilities"][0].clone();
    gone["qid"] = serde_json::json!(38_170);
    gone["software"] = serde_json::json!([{"name": "bash", "version": "5.1"}]);
    base["vulnerabilities"]
        .as_array_mut()
        .expect("vulnerabilities")
        .push(gone);
    std::fs::write(&base_path, serde_json::to_vec(&base).expect("JSON")).expect("written");
    doc["vulnerabilities"][1]["software"][0]["name"] =
        serde_json::json!("org.apache.logging.log4j:log4j-api");
    let current = t.path().join("current.json");
    std::fs::write(&current, serde_json::to_vec(&doc).expect("JSON")).expect("written");
    let dir = t.path().join("out");
    let code = evaluate(
        &dir,
        &[
            "--fail-severity",
            "5=0",
            "--baseline",
            base_path.to_str().expect("utf-8"),
            "--baseline-mode",
            "new",
        ],
        &[current],
    );
    assert_eq!(code, 1, "the new log4j finding fails the image");
    let sarif = read_json(&dir.join("results.sarif"));
    let mut states: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["baselineState"].as_str())
        .collect();
    states.sort_unstable();
    assert_eq!(states, ["absent", "absent", "new", "unchanged"]);
    validate_all(&[&dir], t.path());
}
