//! Deadlines and size limits (issue 12, items 5 and 6): `--timeout` bounds every request, the
//! last one cut to what is left; images are waited on independently, so one slow call does not
//! hold up another image's result; report files and API answers have a size limit.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

/// The binary under test (`CARGO_BIN_EXE_qcs` at run time wins, to run these tests against
/// another build).
fn qcs_bin() -> std::ffi::OsString {
    std::env::var_os("CARGO_BIN_EXE_qcs").unwrap_or_else(|| env!("CARGO_BIN_EXE_qcs").into())
}

use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{image, qcs, run};
use qcs_emulator::{Base, DockerImage, FaultAction, FaultRule, ReportSpec};

const A: &str = "acme/a:1.0";
const B: &str = "acme/b:1.0";
const PASSWORD: &str = "Pw-Deadline-Secret-3e90";

/// Far below the old per-request timeout of 30 s, far above `--timeout 3s`.
const WELL_BEFORE_30S: Duration = Duration::from_secs(20);

fn spec(seed: u64) -> ReportSpec {
    ReportSpec {
        seed,
        base: Base::Debian,
        vulnerabilities: 12,
        packages: 40,
        ..ReportSpec::default()
    }
}

async fn world(images: &[&str]) -> common::ScanWorld {
    let images = images
        .iter()
        .enumerate()
        .map(|(n, tag)| DockerImage {
            tags: vec![(*tag).into()],
            report: Some(spec(5 + n as u64)),
            ..DockerImage::default()
        })
        .collect();
    common::ScanWorld::start(common::QCS, images, PASSWORD).await
}

/// A gateway that accepts connections and never answers.
fn hanging_gateway() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_gateway_ends_at_the_timeout_not_the_request_timeout() {
    let w = world(&[A]).await;
    let gateway = hanging_gateway();
    let mut c = Command::new(qcs_bin());
    c.env_clear()
        .env("NO_COLOR", "1")
        .env("QUALYS_USERNAME", "ci-user")
        .env("QUALYS_PASSWORD", PASSWORD)
        .current_dir(w.out.path())
        .args(["scan", "--gateway-url", &gateway, "--timeout", "3s"])
        .args(["--engine", &format!("unix://{}", w.socket.display())])
        .arg("--output-dir")
        .arg(w.out.path())
        .arg(A);
    let start = Instant::now();
    let (code, _, err) = run(c).await;
    let took = start.elapsed();
    assert!(took < WELL_BEFORE_30S, "took {took:?}: {err}");
    assert!(matches!(code, Some(4 | 5)), "{code:?}: {err}");
    let s = w.summary();
    assert_eq!(s["exit_code"], code.unwrap(), "{s}");
    assert_eq!(image(&s, A)["outcome"], "error", "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_list_call_ends_at_the_timeout() {
    let w = world(&[A]).await;
    w.emu
        .control()
        .inject(FaultRule {
            endpoint: "images".into(),
            action: FaultAction::Hang,
            times: None,
            probability: None,
        })
        .unwrap();
    let mut c = w.scan();
    c.args([A, "--timeout", "3s"]);
    let start = Instant::now();
    let (code, _, err) = run(c).await;
    let took = start.elapsed();
    assert!(took < WELL_BEFORE_30S, "took {took:?}: {err}");
    assert!(matches!(code, Some(4 | 5)), "{code:?}: {err}");
    let s = w.summary();
    assert_eq!(s["exit_code"], code.unwrap(), "{s}");
    assert_eq!(image(&s, A)["outcome"], "error", "{s}");
}

/// `done in 1.4s`, `done in 850ms`, `done in 1m2s` on the line of `input`, in seconds.
fn done_in(err: &str, input: &str) -> f64 {
    let line = err
        .lines()
        .find(|l| l.contains(&format!("{input}: done in")))
        .unwrap_or_else(|| panic!("no `{input}: done in` line:\n{err}"));
    let t = line.split("done in ").nth(1).unwrap().trim();
    let t = t.split_whitespace().next().unwrap();
    if let Some(ms) = t.strip_suffix("ms") {
        return ms.parse::<f64>().unwrap() / 1000.0;
    }
    let (m, rest) = t
        .split_once('m')
        .map_or((0.0, t), |(m, r)| (m.parse::<f64>().unwrap(), r));
    let s = rest
        .strip_suffix('s')
        .map_or(0.0, |s| s.parse::<f64>().unwrap());
    m * 60.0 + s
}

/// The first details call is held 8 s: the other image's result comes on time, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_call_for_one_image_does_not_delay_the_other() {
    let w = world(&[A, B]).await;
    w.emu
        .control()
        .inject(FaultRule {
            endpoint: "images/{id}".into(),
            action: FaultAction::Delay { ms: 8000 },
            times: Some(1),
            probability: None,
        })
        .unwrap();
    let mut c = w.scan();
    c.args([A, B, "--timeout", "60s"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    let (a, b) = (done_in(&err, A), done_in(&err, B));
    let (fast, slow) = (a.min(b), a.max(b));
    assert!(
        slow >= 8.0,
        "one image waited for the delayed call: {a} s, {b} s\n{err}"
    );
    // In lock-step rounds both results would come after the held call; independently, the
    // other one comes well before it (a difference, so that a loaded machine does not matter).
    assert!(
        slow - fast > 4.0,
        "the other image's result waited for the held call: {a} s, {b} s\n{err}"
    );
}

#[test]
fn a_report_from_dev_zero_ends_quickly_with_the_limit() {
    let start = Instant::now();
    let mut child = std::process::Command::new(qcs_bin())
        .env_remove("QCS_MAX_REPORT_SIZE")
        .args(["evaluate", "--report", "/dev/zero", "--output-dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qcs evaluate kept reading /dev/zero for 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than the limit of 256 MiB"), "{err}");
    assert!(err.contains("--max-report-size"), "{err}");
}

#[test]
fn the_report_limit_is_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("r.json");
    std::fs::write(
        &r,
        r#"{"sha":"4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100","vulnerabilities":[]}"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = qcs()
        .args(["evaluate", "--max-report-size", "50", "--report"])
        .arg(&r)
        .arg("--output-dir")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than the limit of 50 bytes"), "{err}");
    let o = qcs()
        .env("QCS_MAX_REPORT_SIZE", "1KiB")
        .args(["evaluate", "--report"])
        .arg(&r)
        .arg("--output-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = qcs()
        .env("QCS_MAX_REPORT_SIZE", "lots")
        .args(["evaluate", "--report"])
        .arg(&r)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("QCS_MAX_REPORT_SIZE"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_answer_over_the_limit_is_an_api_error_never_a_pass() {
    let w = world(&[A]).await;
    let mut c = w.scan();
    c.env("QCS_MAX_ANSWER_SIZE", "2KiB")
        .args([A, "--timeout", "60s"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("larger than the limit of 2048 bytes"), "{err}");
    assert!(err.contains("QCS_MAX_ANSWER_SIZE"), "{err}");
    let s = w.summary();
    assert_eq!(image(&s, A)["error"]["kind"], "api", "{s}");
}
