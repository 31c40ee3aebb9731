//! `qcs demo` as a new user runs it: the whole scan flow on the built-in emulator, isolated
//! from the user's Qualys settings, config file, engine and proxy.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::Value;

#[test]
fn the_demo_runs_end_to_end_and_ignores_the_users_settings() {
    let dir = tempfile::tempdir().unwrap();
    // Everything here would break the demo if it were read.
    std::fs::write(dir.path().join("qcs.toml"), "this is not TOML [[[\n").unwrap();
    let out = common::qcs()
        .current_dir(dir.path())
        .args(["demo", "--output-dir", "reports"])
        .env("QCS_CONFIG", dir.path().join("missing.toml"))
        .env("QUALYS_USERNAME", "someone")
        .env("QUALYS_PASSWORD", "Real-Secret-31f9")
        .env("QUALYS_GATEWAY_URL", "http://127.0.0.1:9")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("IMAGE_ID", "other:1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let reports = dir.path().join("reports");
    let s = common::summary_json(&reports);
    let outcomes: Vec<&Value> = s["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["outcome"])
        .collect();
    assert_eq!(outcomes, ["failed", "passed"], "{s}");
    assert_eq!(s["exit_code"], 1);
    for i in s["images"].as_array().unwrap() {
        let id = i["image_id"].as_str().unwrap();
        assert!(reports.join(format!("images/{id}.json")).is_file(), "{id}");
    }
    assert!(reports.join("demo-policy.toml").is_file());
    // The page people would rather look at: written, naming both images, and pointed at.
    let html = std::fs::read_to_string(reports.join("report.html")).unwrap();
    assert!(
        html.contains("qcs-demo/app:1.0") && html.contains("qcs-demo/web:2.3"),
        "report.html does not show both images"
    );
    let page = std::fs::canonicalize(reports.join("report.html")).unwrap();
    assert!(
        stdout.contains(&format!(
            "Open the report in your browser: file://{}",
            page.display()
        )),
        "the explanation does not point at the page: {stdout}"
    );

    assert!(stderr.contains("runs in CI/CD mode"), "{stderr}");
    assert!(
        stderr.contains("FAILED") && stderr.contains("PASSED"),
        "{stderr}"
    );
    assert!(
        stdout.contains("would exit with code 1 here"),
        "the explanation: {stdout}"
    );
    assert!(stdout.contains("reports/summary.json"), "{stdout}");
    assert!(!stdout.contains("Real-Secret") && !stderr.contains("Real-Secret"));

    // The saved report and policy give the same verdict offline (with a config file that
    // is valid this time).
    let failed = s["images"][0]["image_id"].as_str().unwrap();
    std::fs::write(dir.path().join("empty.toml"), "").unwrap();
    let again = common::qcs()
        .current_dir(dir.path())
        .args(["-q", "--config", "empty.toml", "evaluate"])
        .args(["--policy", "reports/demo-policy.toml"])
        .args(["--output-dir", "again", "--report"])
        .arg(format!("reports/images/{failed}.json"))
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// On a terminal the wait shows a live line per image (indicatif), which ends before the
/// table. `script` (util-linux, essential in Debian) gives the command a pseudo-terminal.
#[test]
fn on_a_terminal_the_wait_is_shown_as_live_lines() {
    let dir = tempfile::tempdir().unwrap();
    let qcs = env!("CARGO_BIN_EXE_qcs");
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("{qcs} demo --output-dir r"), "/dev/null"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("QCS_LOG")
        .output()
        .expect("script (util-linux) runs");
    let tty = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{tty}");
    // The final style of a live line: indented, no spinner; the plain-lines mode has neither.
    assert!(tty.contains("  qcs-demo/app:1.0: done in"), "{tty}");
    assert!(
        !tty.contains("\nqcs-demo/app:1.0: not scanned yet"),
        "{tty}"
    );
    let done = tty.find("  qcs-demo/web:2.3: done in").unwrap();
    let table = tty.find("OUTCOME").unwrap();
    assert!(done < table, "the live lines end before the table: {tty}");
}
