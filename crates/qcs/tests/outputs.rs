//! Outputs are never stale (issue 12, items 3, 4 and 7): an earlier run's reports are removed
//! at the start, whatever the new run ends with; the user's other files stay; files are written
//! to a temporary name and renamed, replacing a symbolic link rather than writing through it;
//! an unusable output path ends the run with exit 2 before any tagging or waiting; two formats
//! on one destination are a usage error.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{image, qcs, run};
use qcs_emulator::{Base, DockerImage, ReportSpec};
use serde_json::Value;

const SHA: &str = "4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100";
const PASSWORD: &str = "Pw-Outputs-Secret-51d0";
const VULNERABLE: &str = "acme/vuln:1.0";

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// A processed report with one severity-5 finding (fails `--fail-severity 5=0`).
fn report() -> String {
    format!(
        r#"{{"sha":"{SHA}","imageId":"4f67c83422ec","vulnerabilities":[{{"qid":376209,"title":"Log4Shell","severity":5,
        "typeDetected":"CONFIRMED","cveids":["CVE-2021-44228"],"patchAvailable":true}}]}}"#
    )
}

/// What an earlier, passing run left in `out`, and a file of the user's.
fn earlier_run(out: &Path) {
    std::fs::create_dir_all(out.join("images")).unwrap();
    let passed = r#"{"schema_version":1,"outcome":"passed","exit_code":0,"images":[]}"#;
    write(out, "summary.json", passed);
    write(out, "junit.xml", "<testsuites failures=\"0\"/>");
    write(out, "summary.md", "PASSED");
    write(out, "results.sarif", "{}");
    write(out, "report.html", "<p>passed</p>");
    write(out, "gl-container-scanning-report.json", "{}");
    write(out, ".summary.json.qcs-tmp-1-0", "half");
    write(&out.join("images"), "0123456789ab.json", "{}");
    write(out, "notes.txt", "mine");
    write(&out.join("images"), "README", "mine too");
}

fn assert_no_earlier_outputs(out: &Path) {
    for name in [
        "summary.json",
        "junit.xml",
        "summary.md",
        "results.sarif",
        "report.html",
        "gl-container-scanning-report.json",
        ".summary.json.qcs-tmp-1-0",
    ] {
        assert!(!out.join(name).exists(), "{name} survived");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn an_exit_2_run_leaves_no_earlier_verdict_and_keeps_the_users_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    earlier_run(&out);
    let o = qcs()
        .args([
            "evaluate",
            "--report",
            "/nonexistent/r.json",
            "--output-dir",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_no_earlier_outputs(&out);
    // `qcs evaluate` does not own images/: the raw reports it may read stay.
    assert!(out.join("images/0123456789ab.json").exists());
}

/// A transport this platform lacks (a named pipe off Windows, a unix socket off unix) is a
/// setting that cannot work: exit 2 with the other settings, so no summary.json is written and
/// the earlier one is gone.
#[test]
fn an_engine_transport_this_platform_lacks_is_refused_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    earlier_run(&out);
    let engine = if cfg!(windows) {
        "unix:///var/run/docker.sock"
    } else {
        "npipe:////./pipe/docker_engine"
    };
    // Every other setting is usable, so that only the engine can stop the run.
    let o = qcs()
        .current_dir(tmp.path())
        .env("QUALYS_GATEWAY_URL", "http://127.0.0.1:9")
        .env("QUALYS_USERNAME", "ci-user")
        .env("QUALYS_PASSWORD", PASSWORD)
        .args(["scan", "app:1.0", "--engine", engine, "--output-dir"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(engine), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!out.join("summary.json").exists(), "{err}");
    assert_no_earlier_outputs(&out);
}

#[test]
fn a_new_verdict_replaces_the_earlier_one_and_a_link_is_replaced_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    earlier_run(&out);
    let r = write(tmp.path(), "r.json", &report());
    // summary.json is a link to a file of the user's: it must not be written through.
    let victim = write(tmp.path(), "victim.txt", "do not touch");
    std::fs::remove_file(out.join("summary.json")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("summary.json")).unwrap();
    let o = qcs()
        .args(["evaluate", "-q", "--fail-severity", "5=0", "--report"])
        .arg(&r)
        .arg("--output-dir")
        .arg(&out)
        .args(["--format", "json", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "do not touch");
    let meta = std::fs::symlink_metadata(out.join("summary.json")).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link is replaced by the file"
    );
    let s: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["exit_code"], 1);
    assert!(out.join("summary.md").exists());
    // the formats not asked for this time are gone, not left from the earlier run
    assert!(!out.join("junit.xml").exists());
    assert!(!out.join("report.html").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    // no temporary file is left
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("qcs-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn two_formats_on_one_destination_are_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let r = write(tmp.path(), "r.json", &report());
    let v = tmp.path().join("v.txt");
    let v_again = tmp.path().join("./v.txt");
    for (formats, says) in [
        (
            vec!["json=-".to_owned(), "table".to_owned()],
            "both write to standard output",
        ),
        (
            vec![
                format!("table={}", v.display()),
                format!("markdown={}", v_again.display()),
            ],
            "both write",
        ),
        (
            vec![
                "json".to_owned(),
                format!("sarif={}", tmp.path().join("out/summary.json").display()),
            ],
            "both write",
        ),
    ] {
        let mut c = qcs();
        c.args(["evaluate", "--report"]).arg(&r).arg("--output-dir");
        c.arg(tmp.path().join("out"));
        for f in &formats {
            c.args(["--format", f]);
        }
        let o = c.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{formats:?}: {err}");
        assert!(
            err.contains(says) && err.contains("hint:"),
            "{formats:?}: {err}"
        );
        assert!(o.stdout.is_empty(), "{formats:?}: nothing written");
        assert!(!tmp.path().join("out/summary.json").exists(), "{formats:?}");
    }
}

#[test]
fn an_output_path_under_a_file_or_on_a_directory_is_exit_2_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let r = write(tmp.path(), "r.json", &report());
    let file = write(tmp.path(), "a-file", "x");
    std::fs::create_dir_all(tmp.path().join("a-dir")).unwrap();
    for args in [
        vec!["--output-dir".to_owned(), file.display().to_string()],
        vec![
            "--format".to_owned(),
            format!("json={}/summary.json", file.display()),
        ],
        vec![
            "--format".to_owned(),
            format!("json={}", tmp.path().join("a-dir").display()),
        ],
    ] {
        let o = qcs()
            .args(["evaluate", "--fail-severity", "5=0", "--report"])
            .arg(&r)
            .args(&args)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("cannot write"), "{args:?}: {err}");
    }
}

/// The scan world with one image that fails `--fail-cves CVE-2021-44228`.
async fn world() -> common::ScanWorld {
    let images = vec![DockerImage {
        tags: vec![VULNERABLE.into()],
        report: Some(ReportSpec {
            seed: 5,
            base: Base::Debian,
            vulnerabilities: 30,
            packages: 90,
            log4shell: true,
            app_share: 0.3,
            ..ReportSpec::default()
        }),
        ..DockerImage::default()
    }];
    common::ScanWorld::start(common::QCS, images, PASSWORD).await
}

/// Issue 12 item 4: an unusable output path was found only after the whole wait, and turned a
/// policy failure (1) into exit 2 while summary.json said 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_checks_the_outputs_before_tagging_or_waiting() {
    let w = world().await;
    let file = write(w.out.path(), "a-file", "x");
    for extra in [
        vec![
            "--format".to_owned(),
            format!("junit={}/junit.xml", file.display()),
        ],
        vec![
            "--format".to_owned(),
            "json=-".into(),
            "--format".into(),
            "table".into(),
        ],
    ] {
        let mut c = w.scan();
        c.args([VULNERABLE, "--fail-cves", "CVE-2021-44228"])
            .args(&extra);
        let (code, out, err) = run(c).await;
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        assert!(out.is_empty(), "{extra:?}: {out}");
        assert_eq!(w.count("docker/images/tag"), 0, "{extra:?}: nothing tagged");
        assert_eq!(w.count("auth"), 0, "{extra:?}: Qualys not contacted");
    }
}

/// A scan clears an earlier run's outputs (raw reports included) and writes its own; its
/// summary's exit code is the process's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_replaces_an_earlier_runs_outputs() {
    let w = world().await;
    earlier_run(w.out.path());
    let mut c = w.scan();
    c.args([
        VULNERABLE,
        "--fail-cves",
        "CVE-2021-44228",
        "--format",
        "json",
    ]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(1), "{err}");
    let s = w.summary();
    assert_eq!(s["exit_code"], 1);
    assert_eq!(image(&s, VULNERABLE)["outcome"], "failed");
    let out = w.out.path();
    assert!(!out.join("junit.xml").exists());
    assert!(
        !out.join("images/0123456789ab.json").exists(),
        "an earlier raw report"
    );
    assert!(
        out.join("images/README").exists(),
        "the user's file in images/"
    );
    let sha = w.id_of(VULNERABLE);
    assert!(out.join(format!("images/{}.json", &sha[..12])).exists());
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
}

/// A destination that is a stream (a named pipe here; `/dev/null` or `/dev/stderr` alike) is
/// written into, never removed or renamed over: as root, `--format table=/dev/null` used to
/// replace the machine's `/dev/null` with a regular file.
#[test]
fn a_pipe_or_device_destination_is_written_into_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let tmp = tempfile::tempdir().unwrap();
    let r = write(tmp.path(), "r.json", &report());
    let fifo = tmp.path().join("verdict.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = fifo.clone();
    std::thread::spawn(move || tx.send(std::fs::read(&reader)));
    let o = qcs()
        .args(["evaluate", "-q", "--fail-severity", "5=0", "--report"])
        .arg(&r)
        .arg("--output-dir")
        .arg(tmp.path().join("out"))
        .arg("--format")
        .arg(format!("json={}", fifo.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let still = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(still.is_fifo(), "the named pipe was replaced: {still:?}");
    // Had qcs not opened the pipe, this gives a waiting reader its end of file (an empty
    // read); read and write, so that the open never waits for a reader (Linux).
    drop(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo)
            .unwrap(),
    );
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the reader of the pipe got nothing back")
        .unwrap();
    let s: Value = serde_json::from_slice(&got).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&got));
    });
    assert_eq!(s["exit_code"], 1);
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("qcs-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
