//! `qcs scan` as a pipeline runs it: the real binary against the emulator (the Qualys CS API
//! over HTTP on 127.0.0.1) and its Docker Engine API stand-in with the simulated CI/CD sensor
//! (on a unix socket in a temp dir). Exit codes 0–5, `summary.json`, the saved raw reports,
//! the sources of images and settings, and no secret in any output.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use assert_cmd::Command;
use common::{image, run};
use qcs_emulator::{Base, DockerImage, ReportSpec, SensorState};
use serde_json::Value;

/// Passes `--fail-cves CVE-2021-44228`: a few findings, no `Log4Shell`.
const CLEAN: &str = "acme/clean:1.0";
/// Fails it: `Log4Shell` among 30 findings.
const VULNERABLE: &str = "acme/vuln:1.0";
/// Never scanned by the sensor.
const GHOST: &str = "acme/ghost:1.0";
const PASSWORD: &str = "Pw-Scan-Secret-8c1e";

/// The emulator and Docker stand-in with the three images above.
struct World(common::ScanWorld);

impl std::ops::Deref for World {
    type Target = common::ScanWorld;

    fn deref(&self) -> &common::ScanWorld {
        &self.0
    }
}

impl World {
    async fn new() -> Self {
        let report = |seed, vulnerabilities, packages, log4shell| ReportSpec {
            seed,
            base: Base::Debian,
            vulnerabilities,
            packages,
            log4shell,
            app_share: if log4shell { 0.3 } else { 0.2 },
            ..ReportSpec::default()
        };
        let images = vec![
            DockerImage {
                tags: vec![CLEAN.into()],
                report: Some(report(5, 12, 40, false)),
                ..DockerImage::default()
            },
            DockerImage {
                tags: vec![VULNERABLE.into()],
                report: Some(report(5, 30, 90, true)),
                ..DockerImage::default()
            },
            DockerImage {
                tags: vec![GHOST.into()],
                never_scanned: true,
                ..DockerImage::default()
            },
        ];
        World(common::ScanWorld::start(images, PASSWORD).await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_image_passes_and_its_raw_report_is_saved() {
    let w = World::new().await;
    let mut c = w.scan();
    c.args([CLEAN, "--fail-cves", "CVE-2021-44228"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    let s = w.summary();
    assert_eq!(s["schema_version"], 2);
    assert_eq!(s["outcome"], "passed");
    assert_eq!(s["exit_code"], 0);
    let i = image(&s, CLEAN);
    let sha = w.id_of(CLEAN);
    assert_eq!(i["sha"], sha.as_str());
    assert_eq!(i["image_id"], &sha[..12]);
    assert_eq!(i["outcome"], "passed");
    assert_eq!(i["error"], Value::Null);
    assert_eq!(i["counts"]["total"], 12);
    assert_eq!(i["conditions"]["cves"]["configured"], true);
    assert_eq!(i["conditions"]["cves"]["passed"], true);
    let raw: Value = serde_json::from_slice(
        &std::fs::read(w.out.path().join(format!("images/{}.json", &sha[..12]))).unwrap(),
    )
    .unwrap();
    assert_eq!(raw["sha"], sha.as_str());
    assert_eq!(raw["vulnerabilities"].as_array().unwrap().len(), 12);
    assert_eq!(w.count("docker/images/tag"), 1);
    assert!(err.contains("runs in CI/CD mode"), "{err}");
    assert!(
        err.contains(&format!("tagged qualys_scan_target:{sha}")),
        "{err}"
    );
    assert!(err.contains(&format!("{CLEAN}: done in")), "{err}");
    assert!(err.contains("PASSED"), "the verdict table: {err}");
}

/// The Docker stand-in on TCP loopback, the engine `qcs demo` uses where there are no unix
/// sockets (Windows): `--engine tcp://127.0.0.1:<port>` scans through it as through the socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stand_in_on_tcp_is_an_engine_like_the_socket() {
    let any_port = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let emu = qcs_emulator::start(qcs_emulator::EmulatorConfig {
        sensor: qcs_emulator::SensorTiming {
            scan_delay_secs: 1,
            processing_delay_secs: 0,
            ..qcs_emulator::SensorTiming::default()
        },
        ..qcs_emulator::EmulatorConfig::demo(qcs_emulator::DockerListen::Tcp(any_port))
    })
    .await
    .unwrap();
    let host = emu.docker_host().unwrap();
    assert!(host.starts_with("tcp://127.0.0.1:"), "{host}");
    let out = tempfile::tempdir().unwrap();
    let mut c = Command::cargo_bin("qcs").unwrap();
    c.env_clear()
        .env("NO_COLOR", "1")
        .env("QUALYS_USERNAME", "qcs-demo")
        .env("QUALYS_PASSWORD", "qcs-demo")
        .current_dir(out.path())
        .args(["scan", "--gateway-url", &emu.base_url(), "--engine", &host])
        .args(["--interval", "200ms", "--output-dir"])
        .arg(out.path())
        .args(["qcs-demo/app:1.0", "--fail-cves", "CVE-2021-44228"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(1), "Log4Shell is in the demo image: {err}");
    let s = common::summary_json(out.path());
    let i = image(&s, "qcs-demo/app:1.0");
    assert_eq!(i["outcome"], "failed", "{s}");
    assert_eq!(i["error"], Value::Null, "{s}");
    assert!(err.contains("runs in CI/CD mode"), "{err}");
    let tags = emu
        .control()
        .requests()
        .counts
        .get("docker/images/tag")
        .copied();
    assert_eq!(tags, Some(1));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_violation_exits_1_and_report_only_exits_0() {
    let w = World::new().await;
    let mut c = w.scan();
    c.args([VULNERABLE, "--fail-cves", "CVE-2021-44228"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(1), "{err}");
    let s = w.summary();
    assert_eq!(s["outcome"], "failed");
    let i = image(&s, VULNERABLE);
    assert_eq!(i["outcome"], "failed");
    assert_eq!(i["conditions"]["cves"]["found"][0], "CVE-2021-44228");
    assert!(err.contains("FAIL cves"), "{err}");

    let mut c = w.scan();
    c.args([VULNERABLE, "--fail-cves", "CVE-2021-44228", "--report-only"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(w.summary()["exit_code"], 1, "the verdict is still written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensor_missing_paused_or_not_cicd_exits_3_before_tagging() {
    let w = World::new().await;
    for (state, says) in [
        (SensorState::Missing, "sensor container is not running"),
        (SensorState::Paused, "is paused"),
        (SensorState::NotCicd, "not deployed in CI/CD mode"),
    ] {
        w.emu.control().set_sensor_state(state);
        let mut c = w.scan();
        c.arg(CLEAN);
        let (code, _, err) = run(c).await;
        assert_eq!(code, Some(3), "{state:?}: {err}");
        assert!(
            err.contains(says) && err.contains("hint:"),
            "{state:?}: {err}"
        );
        let s = w.summary();
        assert_eq!(image(&s, CLEAN)["error"]["kind"], "sensor", "{state:?}");
        assert_eq!(s["exit_code"], 3);
    }
    assert_eq!(w.count("docker/images/tag"), 0, "nothing tagged");
    assert_eq!(w.count("auth"), 0, "Qualys not contacted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sensor_check_can_be_skipped() {
    let w = World::new().await;
    let mut c = w.scan();
    c.args([CLEAN, "--skip-sensor-check"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("sensor: not checked (flag --skip-sensor-check)"),
        "{err}"
    );
    assert_eq!(w.count("docker/containers/json"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_is_not_there_is_exit_3_for_every_image() {
    let w = World::new().await;
    let mut c = w.scan_without_engine();
    c.args([
        CLEAN,
        VULNERABLE,
        "--engine",
        "unix:///nonexistent/docker.sock",
    ]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("/nonexistent/docker.sock does not exist") && err.contains("hint:"),
        "{err}"
    );
    let s = w.summary();
    for input in [CLEAN, VULNERABLE] {
        assert_eq!(image(&s, input)["error"]["kind"], "engine");
    }
    assert_eq!(w.emu.control().requests().total, 0, "Qualys not contacted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_image_is_an_engine_error_and_the_others_are_still_judged() {
    let w = World::new().await;
    let mut c = w.scan();
    c.args([CLEAN, "nosuch/image:1"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(3), "{err}");
    let s = w.summary();
    assert_eq!(image(&s, CLEAN)["outcome"], "passed");
    let bad = image(&s, "nosuch/image:1");
    assert_eq!(bad["outcome"], "error");
    assert_eq!(bad["error"]["kind"], "engine");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("image `nosuch/image:1` not found")
    );
    assert!(err.contains("hint: build or load the image"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_exit_4_and_quiet_shows_only_the_error() {
    let w = World::new().await;
    let mut c = w.scan();
    c.args(["-q", CLEAN]).env("QUALYS_PASSWORD", "wrong");
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("authentication refused") && err.contains("hint:"),
        "{err}"
    );
    assert!(
        !err.contains("engine:") && !err.contains("OUTCOME"),
        "-q: no steps, no table: {err}"
    );
    assert_eq!(image(&w.summary(), CLEAN)["error"]["kind"], "api");
    assert!(
        !format!("{out}{err}").contains("wrong"),
        "the password is not printed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_never_comes_is_a_timeout_even_without_fail_conditions() {
    let w = World::new().await;
    let mut c = w.scan();
    c.args([GHOST, "--timeout", "2s"]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(5), "{err}");
    let s = w.summary();
    assert_eq!(s["outcome"], "error");
    let i = image(&s, GHOST);
    assert_eq!(i["outcome"], "error");
    assert_eq!(i["error"]["kind"], "timeout");
    assert!(
        err.contains("timed out") && err.contains("--timeout"),
        "{err}"
    );
    assert!(err.contains(&format!("{GHOST}: not scanned yet")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_from_image_id_or_a_comma_list() {
    let w = World::new().await;
    let mut c = w.scan();
    c.args(["--fail-cves", "CVE-2021-44228"])
        .env("IMAGE_ID", format!(" {CLEAN} ,{VULNERABLE}"));
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(1), "{err}");
    let inputs: Vec<Value> = w.summary()["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["input"].clone())
        .collect();
    assert_eq!(inputs, [CLEAN, VULNERABLE]);

    let mut c = w.scan();
    c.args(["--images", &format!("{VULNERABLE}, {CLEAN}")])
        .env("IMAGE_ID", GHOST);
    let (code, _, err) = run(c).await;
    assert_eq!(
        code,
        Some(0),
        "no policy: both pass on data; IMAGE_ID unused: {err}"
    );
    let s = w.summary();
    assert_eq!(s["images"].as_array().unwrap().len(), 2);
    assert_eq!(s["images"][0]["input"], VULNERABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_naming_the_same_image_are_processed_once() {
    let w = World::new().await;
    let short = w.id_of(CLEAN)[..12].to_owned();
    let mut c = w.scan();
    c.args([CLEAN, &short]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "{short}: same image as {CLEAN} ({short}); processing it once"
        )),
        "{err}"
    );
    assert_eq!(w.count("docker/images/tag"), 1);
    assert_eq!(w.count("images/{id}"), 1, "one details fetch");
    let s = w.summary();
    assert_eq!(image(&s, CLEAN)["sha"], image(&s, &short)["sha"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_config_shows_every_source_and_no_secret() {
    let w = World::new().await;
    let secrets = [
        PASSWORD,
        "Client-Secret-5d2a",
        "Proxy-Pw-77e1",
        "Url-Pw-90b3",
    ];
    std::fs::write(
        w.out.path().join("qcs.toml"),
        "[wait]\ntimeout = \"15m\"\n[engine]\nnamespace = \"ci\"\n",
    )
    .unwrap();
    let mut c = w.scan();
    c.args(["--print-config", "--images", CLEAN])
        .env("QUALYS_CLIENT_SECRET", secrets[1])
        .env("QCS_PROXY_PASSWORD", secrets[2])
        .env(
            "HTTP_PROXY",
            format!("http://puser:{}@proxy.invalid:3128", secrets[3]),
        );
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    for line in [
        format!(
            "gateway          {} (used as given) (from flag --gateway-url)",
            w.emu.base_url()
        ),
        "username         ci-user (from env QUALYS_USERNAME)".to_owned(),
        "password         set (from env QUALYS_PASSWORD)".to_owned(),
        "timeout          15m (from config [wait] timeout)".to_owned(),
        "namespace        ci (from config [engine] namespace)".to_owned(),
        "concurrency      8 (from default)".to_owned(),
        "url              http://proxy.invalid:3128 (from env HTTP_PROXY)".to_owned(),
        format!("images             {CLEAN} (from flag --images)"),
        "config file        qcs.toml (found in the working directory)".to_owned(),
    ] {
        assert!(out.contains(&line), "missing `{line}` in:\n{out}");
    }
    for s in secrets {
        assert!(
            !out.contains(s) && !err.contains(s),
            "{s} printed:\n{out}\n{err}"
        );
    }
    assert_eq!(
        w.emu.control().requests().total,
        0,
        "no I/O with --print-config"
    );
}

#[test]
fn print_config_without_credentials_shows_the_rest_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::qcs()
        .current_dir(dir.path())
        .env_remove("QUALYS_USERNAME")
        .env_remove("QUALYS_PASSWORD")
        .env_remove("QUALYS_CLIENT_ID")
        .env_remove("QUALYS_CLIENT_SECRET")
        .env_remove("DOCKER_HOST")
        .args([
            "scan",
            "--print-config",
            "--platform",
            "US2",
            "--timeout",
            "90s",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("not usable (see the error below)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("timeout          1m30s (from flag --timeout)"),
        "{stdout}"
    );
    assert!(stdout.contains("images             none"), "{stdout}");
    assert!(
        stderr.contains("missing credentials") && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_mistakes_exit_2_before_any_io() {
    let w = World::new().await;
    let conf = w.out.path().join("bad.toml");
    std::fs::write(&conf, "[engine]\nsocket = \"/run/docker.sock\"\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--config".into(), conf.display().to_string(), CLEAN.into()],
            "unknown key `socket` in [engine]",
        ),
        (vec![], "no image to scan"),
        (
            vec![CLEAN.into(), "--engine".into(), "ssh://build".into()],
            "container engine URL `ssh://build` is not valid",
        ),
        (
            vec![CLEAN.into(), "--timeout".into(), "soon".into()],
            "`soon` is not a duration",
        ),
        (
            vec!["sha256:xyz".into()],
            "image `sha256:xyz` is not a valid image id",
        ),
        (
            vec![CLEAN.into(), "--fail-cvss".into(), "3:11".into()],
            "the policy is invalid",
        ),
    ];
    for (args, says) in cases {
        let mut c = if args.iter().any(|a| a == "--engine") {
            w.scan_without_engine()
        } else {
            w.scan()
        };
        c.args(&args);
        let (code, _, err) = run(c).await;
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains(says) && err.contains("hint:"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        w.emu.control().requests().total,
        0,
        "no engine or API request"
    );
    assert!(!w.out.path().join("summary.json").exists());
}

#[test]
fn the_scan_help_names_the_contract_flags() {
    let out = common::qcs().args(["scan", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--images",
        "--engine",
        "--skip-sensor-check",
        "--timeout",
        "--interval",
        "--concurrency",
        "--output-dir",
        "--format",
        "--report-only",
        "--print-config",
        "--platform",
        "--gateway-url",
        "--policy",
        "--criteria-json",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
