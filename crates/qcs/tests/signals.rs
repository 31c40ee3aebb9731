//! SIGINT and SIGTERM during `qcs scan` (issue 12, item 3): real signals sent to the real binary
//! while it waits against the emulator for an image whose report never comes. The wait ends at
//! once; summary.json (and the other formats) hold every image judged so far, the rest
//! `cancelled`; the exit code is 130 (SIGINT) or 143 (SIGTERM), in summary.json too.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

/// The binary under test (`CARGO_BIN_EXE_qcs` at run time wins, to run these tests against
/// another build).
fn qcs_bin() -> std::ffi::OsString {
    std::env::var_os("CARGO_BIN_EXE_qcs").unwrap_or_else(|| env!("CARGO_BIN_EXE_qcs").into())
}

use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{image, kill, stderr_lines, until, wait_exit};
use qcs_emulator::{Base, DockerImage, ReportSpec};

const CLEAN: &str = "acme/clean:1.0";
const GHOST: &str = "acme/ghost:1.0";
const PASSWORD: &str = "Pw-Signals-Secret-7a2f";

async fn world() -> common::ScanWorld {
    let images = vec![
        DockerImage {
            tags: vec![CLEAN.into()],
            report: Some(ReportSpec {
                seed: 5,
                base: Base::Debian,
                vulnerabilities: 12,
                packages: 40,
                log4shell: false,
                ..ReportSpec::default()
            }),
            ..DockerImage::default()
        },
        DockerImage {
            tags: vec![GHOST.into()],
            never_scanned: true,
            ..DockerImage::default()
        },
    ];
    common::ScanWorld::start(qcs_bin(), images, PASSWORD).await
}

/// The scan, started with its stderr read line by line on a thread (sent on the channel).
fn start(w: &common::ScanWorld) -> (Child, mpsc::Receiver<String>) {
    let mut c = w.scan_process();
    c.args(["--timeout", "10m"])
        .args([CLEAN, GHOST, "--fail-cves", "CVE-2021-44228"])
        .args(["--format", "json", "--format", "junit"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("qcs starts");
    let rx = stderr_lines(child.stderr.take().unwrap());
    (child, rx)
}

async fn interrupted_by(signal: &'static str, code: i32) {
    let w = world().await;
    let (child, rx, mut seen) = tokio::task::spawn_blocking({
        let (child, rx) = start(&w);
        move || {
            let mut seen = String::new();
            // Ready: the clean image has its result and the ghost is still waited for.
            until(&rx, &format!("{CLEAN}: done in"), &mut seen);
            (child, rx, seen)
        }
    })
    .await
    .unwrap();
    kill(&child, signal);
    let (exit, took) = tokio::task::spawn_blocking(move || wait_exit(child))
        .await
        .unwrap();
    while let Ok(line) = rx.try_recv() {
        seen.push_str(&line);
        seen.push('\n');
    }
    assert_eq!(exit, Some(code), "{signal}: {seen}");
    assert!(took < Duration::from_secs(10), "{signal}: took {took:?}");
    assert!(seen.contains(signal), "{signal}: {seen}");
    let s = w.summary();
    assert_eq!(s["exit_code"], code, "{s}");
    assert_eq!(s["outcome"], "error", "{s}");
    let clean = image(&s, CLEAN);
    assert_eq!(clean["outcome"], "passed", "the result in hand is kept");
    let ghost = image(&s, GHOST);
    assert_eq!(ghost["outcome"], "error", "{s}");
    assert_eq!(ghost["error"]["kind"], "cancelled", "{s}");
    let junit = std::fs::read_to_string(w.out.path().join("junit.xml")).unwrap();
    assert!(junit.contains(GHOST) && junit.contains(CLEAN), "{junit}");
    let sha = w.id_of(CLEAN);
    assert!(
        w.out
            .path()
            .join(format!("images/{}.json", &sha[..12]))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_the_wait_writes_the_reports_and_exits_130() {
    interrupted_by("INT", 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_wait_writes_the_reports_and_exits_143() {
    interrupted_by("TERM", 143).await;
}

/// Two signals in a row: the process is gone at once (with the second signal's code, or the
/// first's when the reports were already written), never hanging on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let w = world().await;
    let (child, _rx) = tokio::task::spawn_blocking({
        let (child, rx) = start(&w);
        move || {
            let mut seen = String::new();
            until(&rx, "waiting for 2 images", &mut seen);
            (child, rx)
        }
    })
    .await
    .unwrap();
    kill(&child, "TERM");
    kill(&child, "INT");
    let (exit, took) = tokio::task::spawn_blocking(move || wait_exit(child))
        .await
        .unwrap();
    assert!(matches!(exit, Some(130 | 143)), "{exit:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
