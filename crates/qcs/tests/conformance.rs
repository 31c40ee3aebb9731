//! Conformance of the whole `qcs scan` flow under every processing profile of the emulator
//! (`ProcessingProfile::ALL`, `qualys-api.md` §4.8): the real binary against the emulator over
//! HTTP on 127.0.0.1 and its Docker Engine API stand-in on a unix socket, the simulated sensor
//! uploading 1 s after the tag and the platform processing for 2 s, so that every run sees the
//! profile's processing state. Each case runs once per profile:
//!
//! - a fresh scan: the right verdict and exit code for a clean and a vulnerable image;
//! - a re-scan: the platform already holds an older, clean report of the sha and serves it until
//!   the new (vulnerable) one is processed; taking it would pass what must fail;
//! - a failed scan: exit 5 with the error kind `scan_failed`, reported in the polling round that
//!   sees it (not at the timeout), never a pass;
//! - wrongly typed `cvssInfo`/`cvss3Info`: a warning in the image's result and the right verdict.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{ScanWorld, WorldOptions, image, run};
use qcs_emulator::{
    Base, DockerImage, FaultAction, FaultRule, PreviousScan, ProcessingProfile, ReportSpec,
};
use serde_json::Value;

/// Passes `--fail-cves CVE-2021-44228`: a few findings, no `Log4Shell`.
const CLEAN: &str = "acme/clean:1.0";
/// Fails it: `Log4Shell` among 30 findings.
const VULNERABLE: &str = "acme/vuln:1.0";
/// Its scan fails on the platform (`scanStatus: FAILED`, `scanErrorCode: SCAN_TIMEOUT`).
const BROKEN: &str = "acme/broken:1.0";
const PASSWORD: &str = "Pw-Conformance-3f9a";
const POLICY: [&str; 2] = ["--fail-cves", "CVE-2021-44228"];

/// Sensor and platform timings of every world here, seconds; the poll interval.
const SCAN_DELAY_SECS: u64 = 1;
const PROCESSING_SECS: u64 = 2;
const INTERVAL: Duration = Duration::from_secs(1);

fn report(vulnerabilities: usize, log4shell: bool) -> ReportSpec {
    ReportSpec {
        seed: 5,
        base: Base::Debian,
        vulnerabilities,
        packages: if log4shell { 90 } else { 40 },
        log4shell,
        app_share: if log4shell { 0.3 } else { 0.2 },
        ..ReportSpec::default()
    }
}

fn clean() -> ReportSpec {
    report(12, false)
}

fn vulnerable() -> ReportSpec {
    report(30, true)
}

fn docker_image(tag: &str, report: ReportSpec) -> DockerImage {
    DockerImage {
        tags: vec![tag.into()],
        report: Some(report),
        ..DockerImage::default()
    }
}

async fn world(profile: ProcessingProfile, images: Vec<DockerImage>) -> ScanWorld {
    ScanWorld::start_with(
        common::QCS,
        images,
        PASSWORD,
        WorldOptions {
            profile,
            scan_delay_secs: SCAN_DELAY_SECS,
            processing_delay_secs: PROCESSING_SECS,
            interval: "1s",
        },
    )
    .await
}

/// `scanned_at` of an image result, as epoch ms.
fn scanned_at_ms(result: &Value) -> i64 {
    let at = result["scanned_at"]
        .as_str()
        .unwrap_or_else(|| panic!("no scanned_at in {result}"));
    at.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_scan_gives_the_right_verdict_under_every_profile() {
    for profile in ProcessingProfile::ALL {
        let w = world(
            profile,
            vec![
                docker_image(CLEAN, clean()),
                docker_image(VULNERABLE, vulnerable()),
            ],
        )
        .await;
        let started = now_ms();

        let mut c = w.scan();
        c.arg(CLEAN).args(POLICY).args(["--timeout", "60s"]);
        let (code, _, err) = run(c).await;
        assert_eq!(code, Some(0), "{profile}: {err}");
        let s = w.summary();
        let i = image(&s, CLEAN);
        assert_eq!(i["outcome"], "passed", "{profile}: {s}");
        assert_eq!(i["error"], Value::Null, "{profile}");
        assert_eq!(i["sha"], w.id_of(CLEAN).as_str(), "{profile}");
        assert_eq!(i["counts"]["total"], 12, "{profile}: the processed report");
        assert!(scanned_at_ms(i) >= started, "{profile}: this build's scan");

        let mut c = w.scan();
        c.arg(VULNERABLE).args(POLICY).args(["--timeout", "60s"]);
        let (code, _, err) = run(c).await;
        assert_eq!(code, Some(1), "{profile}: {err}");
        let s = w.summary();
        assert_eq!(s["outcome"], "failed", "{profile}");
        let i = image(&s, VULNERABLE);
        assert_eq!(i["outcome"], "failed", "{profile}: {s}");
        assert_eq!(i["counts"]["total"], 30, "{profile}");
        assert_eq!(
            i["conditions"]["cves"]["found"][0], "CVE-2021-44228",
            "{profile}"
        );
        assert!(err.contains("FAIL cves"), "{profile}: {err}");
        w.emu.shutdown().await;
    }
}

/// The platform holds a day-old clean report of the vulnerable image's sha; after the tag it
/// keeps serving it (with its old `lastScanned`) until the new scan is processed. Once with the
/// list as the profile shapes it, once with list answers that cannot be read, so that the
/// client has only the details to judge by and is offered the previous document in every round
/// until the new one is processed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_scan_never_takes_the_previous_report_under_every_profile() {
    for profile in ProcessingProfile::ALL {
        for unreadable_list in [false, true] {
            let case = format!("{profile}, unreadable list: {unreadable_list}");
            let w = world(
                profile,
                vec![DockerImage {
                    previous_scan: Some(PreviousScan::default()),
                    ..docker_image(VULNERABLE, vulnerable())
                }],
            )
            .await;
            let sha = w.id_of(VULNERABLE);
            // Before the tag, the platform answers with the previous, clean report.
            let before = w.emu.control().phase(&sha);
            assert_eq!(before, qcs_emulator::Phase::Processed, "{case}");
            if unreadable_list {
                w.emu
                    .control()
                    .inject(FaultRule {
                        endpoint: "images".into(),
                        action: FaultAction::Malformed,
                        times: None,
                        probability: None,
                    })
                    .unwrap();
            }
            let started = now_ms();
            let mut c = w.scan();
            c.arg(VULNERABLE).args(POLICY).args(["--timeout", "60s"]);
            let (code, _, err) = run(c).await;
            assert_eq!(code, Some(1), "{case}: the new report fails: {err}");
            let s = w.summary();
            let i = image(&s, VULNERABLE);
            assert_eq!(i["outcome"], "failed", "{case}: {s}");
            assert_eq!(
                i["counts"]["total"], 30,
                "{case}: not the previous, clean report"
            );
            assert!(
                scanned_at_ms(i) >= started,
                "{case}: scanned_at {} is the previous scan's",
                i["scanned_at"]
            );
            let raw: Value = serde_json::from_slice(
                &std::fs::read(w.out.path().join(format!("images/{}.json", &sha[..12]))).unwrap(),
            )
            .unwrap();
            assert_eq!(
                raw["vulnerabilities"].as_array().map(Vec::len),
                Some(30),
                "{case}: the saved raw report is the new one"
            );
            // Under `last-scanned-when-processed` the list's window matches only the processed
            // new scan (the previous one is listed with its old `lastScanned`), so the details
            // are asked once; under the others the list names the image from the upload on.
            if unreadable_list && profile != ProcessingProfile::LastScannedWhenProcessed {
                assert!(
                    w.count("images/{id}") > 1,
                    "{case}: the details were asked more than once, so the previous report was \
                     offered and refused"
                );
            }
            w.emu.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scan_is_exit_5_within_one_polling_round_under_every_profile() {
    // Far beyond when the failure shows (scan delay + processing after the tag): a run that
    // waited for the timeout could not finish before `bound`.
    let timeout = Duration::from_secs(120);
    let bound = Duration::from_secs(SCAN_DELAY_SECS + PROCESSING_SECS)
        + 5 * INTERVAL
        + Duration::from_secs(10);
    assert!(bound * 2 < timeout);
    for profile in ProcessingProfile::ALL {
        let w = world(
            profile,
            vec![
                docker_image(
                    BROKEN,
                    ReportSpec {
                        scan_error: Some("SCAN_TIMEOUT".into()),
                        ..clean()
                    },
                ),
                docker_image(CLEAN, clean()),
            ],
        )
        .await;
        let started = Instant::now();
        let mut c = w.scan();
        // No fail condition: an image with a report would pass on its data, so a failed scan
        // taken as a report would pass too.
        c.args([BROKEN, CLEAN, "--timeout", "120s"]);
        let (code, _, err) = run(c).await;
        let took = started.elapsed();
        assert_eq!(code, Some(5), "{profile}: {err}");
        assert!(
            took < bound,
            "{profile}: took {took:?}, the failure shows {} s after the tag",
            SCAN_DELAY_SECS + PROCESSING_SECS
        );
        let s = w.summary();
        assert_eq!(s["exit_code"], 5, "{profile}");
        assert_eq!(s["outcome"], "error", "{profile}");
        let b = image(&s, BROKEN);
        assert_eq!(b["outcome"], "error", "{profile}: {s}");
        assert_eq!(b["error"]["kind"], "scan_failed", "{profile}: {s}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("SCAN_TIMEOUT"),
            "{profile}: {s}"
        );
        assert_eq!(b["counts"], Value::Null, "{profile}: no verdict on data");
        assert_eq!(image(&s, CLEAN)["outcome"], "passed", "{profile}");

        // One round: after the failure became visible, at most the list call that may have
        // raced it and the one that saw it.
        let log = w.emu.control().requests();
        let tagged = log
            .entries
            .iter()
            .find(|e| e.endpoint == "docker/images/tag" && e.path.contains(&w.id_of(BROKEN)))
            .or_else(|| {
                log.entries
                    .iter()
                    .find(|e| e.endpoint == "docker/images/tag")
            })
            .map(|e| e.at_ms)
            .unwrap();
        let failed_at = tagged + (SCAN_DELAY_SECS + PROCESSING_SECS) * 1000;
        let lists_after = log
            .entries
            .iter()
            .filter(|e| e.endpoint == "images" && e.at_ms >= failed_at)
            .count();
        assert!(
            lists_after <= 2,
            "{profile}: {lists_after} list calls after the scan failed"
        );
        w.emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrongly_typed_cvss_is_a_warning_and_the_verdict_stands_under_every_profile() {
    for profile in ProcessingProfile::ALL {
        let w = world(
            profile,
            vec![
                docker_image(
                    CLEAN,
                    ReportSpec {
                        mistyped_cvss: 3,
                        ..clean()
                    },
                ),
                docker_image(
                    VULNERABLE,
                    ReportSpec {
                        mistyped_cvss: 3,
                        ..vulnerable()
                    },
                ),
            ],
        )
        .await;
        let mut c = w.scan();
        c.args([CLEAN, VULNERABLE])
            .args(POLICY)
            .args(["--timeout", "60s"]);
        let (code, _, err) = run(c).await;
        assert_eq!(code, Some(1), "{profile}: not exit 4: {err}");
        let s = w.summary();
        for (input, outcome, total) in [(CLEAN, "passed", 12), (VULNERABLE, "failed", 30)] {
            let i = image(&s, input);
            assert_eq!(i["outcome"], outcome, "{profile}: {input}: {s}");
            assert_eq!(i["error"], Value::Null, "{profile}: {input}");
            assert_eq!(i["counts"]["total"], total, "{profile}: {input}");
            let warnings: Vec<&str> = i["warnings"]
                .as_array()
                .unwrap_or_else(|| panic!("{profile}: {input}: no warnings in {i}"))
                .iter()
                .map(|w| w.as_str().unwrap())
                .collect();
            assert!(
                warnings.iter().any(|w| w.contains("cvssInfo")),
                "{profile}: {input}: {warnings:?}"
            );
            assert!(
                warnings.iter().any(|w| w.contains("cvss3Info")),
                "{profile}: {input}: {warnings:?}"
            );
        }
        w.emu.shutdown().await;
    }
}
