//! The readiness rule and safe batching (`qualys-api.md` §4.8): a previous scan, another
//! image's document or list item, a failed scan, an empty 200 and a wrongly typed sub-object,
//! under every processing profile of the emulator; grouped list answers that cannot be trusted.
//! Odd answers the emulator does not give come from a small fake gateway on 127.0.0.1 that
//! borrows the emulator's tokens.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcs_core::exit::ExitCode;
use qcs_core::report::Vulnerabilities;
use qcs_emulator::{
    EmulatorConfig, FaultAction, LifecycleRequest, ProcessingProfile, RunningEmulator, SeedRequest,
};
use qcs_qualys::{QualysError, WaitOptions, WaitRequest, WaitState};

use crate::common::{EmuClock, client, fault, recorder, request};

async fn emulator_with(profile: ProcessingProfile) -> RunningEmulator {
    qcs_emulator::start(EmulatorConfig {
        processing_profile: profile,
        ..crate::common::config()
    })
    .await
    .unwrap()
}

fn spec(seed: u64) -> qcs_emulator::ReportSpec {
    qcs_emulator::ReportSpec {
        seed,
        vulnerabilities: 5,
        packages: 10,
        ..qcs_emulator::ReportSpec::default()
    }
}

fn seed_with(emu: &RunningEmulator, req: SeedRequest) -> String {
    emu.control().seed_image(req).unwrap().0
}

fn timing(upload: u64, processing: u64) -> LifecycleRequest {
    LifecycleRequest {
        upload_in_secs: upload,
        processing_secs: processing,
        ..LifecycleRequest::default()
    }
}

fn last_scanned(raw: &[u8]) -> i64 {
    let v: serde_json::Value = serde_json::from_slice(raw).unwrap();
    match &v["lastScanned"] {
        serde_json::Value::String(s) => s.parse().unwrap(),
        other => other.as_i64().unwrap(),
    }
}

#[tokio::test]
async fn a_re_scan_never_takes_the_previous_document_under_any_profile() {
    for profile in ProcessingProfile::ALL {
        let emu = emulator_with(profile).await;
        // The platform holds a clean scan of this sha from a day ago; the new scan (5 findings)
        // is uploaded 10 s after tagging and processed 20 s later.
        let sha = seed_with(
            &emu,
            SeedRequest {
                generate: Some(spec(11)),
                previous_scan: Some(qcs_emulator::PreviousScan::default()),
                timing: timing(10, 20),
                ..SeedRequest::default()
            },
        );
        let req = request(&emu, &sha);
        let (cb, _) = recorder();
        let r = client(&emu)
            .wait_for_scan(&req, &WaitOptions::default(), cb)
            .await
            .unwrap_or_else(|e| panic!("{profile}: {e}"));
        assert!(
            matches!(&r.report.vulnerabilities, Vulnerabilities::List(v) if v.len() == 5),
            "{profile}: the previous (clean) document was taken"
        );
        assert!(
            last_scanned(&r.raw) >= req.tagged_at.as_millisecond(),
            "{profile}"
        );
        assert!(r.waited >= Duration::from_secs(30), "{profile}");
    }
}

#[tokio::test]
async fn only_a_previous_document_times_out_instead_of_passing() {
    for profile in ProcessingProfile::ALL {
        let emu = emulator_with(profile).await;
        let sha = seed_with(
            &emu,
            SeedRequest {
                generate: Some(spec(12)),
                previous_scan: Some(qcs_emulator::PreviousScan::default()),
                timing: LifecycleRequest {
                    never_scanned: true,
                    ..LifecycleRequest::default()
                },
                ..SeedRequest::default()
            },
        );
        let opts = WaitOptions {
            timeout: Duration::from_secs(60),
            ..WaitOptions::default()
        };
        let (cb, _) = recorder();
        let e = client(&emu)
            .wait_for_scan(&request(&emu, &sha), &opts, cb)
            .await
            .unwrap_err();
        assert!(matches!(e, QualysError::Timeout { .. }), "{profile}: {e}");
        assert_eq!(e.exit_code(), ExitCode::NoResult);
    }
}

#[tokio::test]
async fn a_failed_scan_ends_the_wait_within_one_round_under_every_profile() {
    for profile in ProcessingProfile::ALL {
        let emu = emulator_with(profile).await;
        let sha = seed_with(
            &emu,
            SeedRequest {
                generate: Some(qcs_emulator::ReportSpec {
                    scan_error: Some("SCAN_TIMEOUT".into()),
                    ..spec(13)
                }),
                timing: timing(5, 10),
                ..SeedRequest::default()
            },
        );
        let start = emu.control().now_ms();
        let (cb, events) = recorder();
        let e = client(&emu)
            .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, QualysError::ScanFailed { reason, .. } if reason.contains("SCAN_TIMEOUT")),
            "{profile}: {e}"
        );
        assert_eq!(e.exit_code(), ExitCode::NoResult);
        // The failure shows at +15 s; rounds are at most 10 s apart.
        let took = emu.control().now_ms() - start;
        assert!((15_000..=25_000).contains(&took), "{profile}: {took} ms");
        let failed = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e.state, WaitState::Failed(_)))
            .count();
        assert_eq!(failed, 1, "{profile}");
    }
}

#[tokio::test]
async fn a_wrongly_typed_cvss_block_is_a_warning_not_an_unusable_report() {
    for profile in ProcessingProfile::ALL {
        let emu = emulator_with(profile).await;
        let sha = seed_with(
            &emu,
            SeedRequest {
                generate: Some(qcs_emulator::ReportSpec {
                    mistyped_cvss: 3,
                    ..spec(14)
                }),
                timing: timing(3, 3),
                ..SeedRequest::default()
            },
        );
        let (cb, _) = recorder();
        let r = client(&emu)
            .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
            .await
            .unwrap_or_else(|e| panic!("{profile}: {e}"));
        let Vulnerabilities::List(v) = &r.report.vulnerabilities else {
            panic!("{profile}: no list")
        };
        assert_eq!(v.len(), 5, "{profile}");
        assert!(
            r.report.warnings.iter().any(|w| w.contains("cvssInfo")),
            "{profile}: {:?}",
            r.report.warnings
        );
        assert!(
            r.report.warnings.iter().any(|w| w.contains("cvss3Info")),
            "{profile}: {:?}",
            r.report.warnings
        );
        // The first findings kept their scores.
        assert!(v[0].cvss3().is_some(), "{profile}");
    }
}

#[tokio::test]
async fn an_empty_200_reads_like_204() {
    for endpoint in ["images", "images/{id}"] {
        let emu = emulator_with(ProcessingProfile::LastScannedAtUpload).await;
        let sha = seed_with(
            &emu,
            SeedRequest {
                generate: Some(spec(15)),
                ..SeedRequest::default()
            },
        );
        emu.control()
            .inject(fault(endpoint, FaultAction::EmptyBody, Some(2)))
            .unwrap();
        let (cb, events) = recorder();
        let r = client(&emu)
            .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
            .await
            .unwrap();
        assert!(matches!(r.report.vulnerabilities, Vulnerabilities::List(_)));
        // Not a retried failure: a "not yet" answer.
        let retried = events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e.state, WaitState::Retrying(_)));
        assert!(!retried, "{endpoint}");
        let faulted = emu
            .control()
            .requests()
            .entries
            .iter()
            .filter(|e| e.fault.is_some())
            .count();
        assert_eq!(faulted, 2, "{endpoint}");
    }
}

/// How many images each list call asked about, in the order they arrived.
fn images_per_list_call(emu: &RunningEmulator) -> Vec<usize> {
    emu.control()
        .requests()
        .entries
        .iter()
        .filter(|e| e.endpoint == "images")
        .map(|e| e.path.matches("sha%3A").count() + e.path.matches("sha:").count())
        .collect()
}

#[tokio::test]
async fn repeated_5xx_on_a_group_fall_back_to_one_image_per_call() {
    let emu = emulator_with(ProcessingProfile::LastScannedAtUpload).await;
    let shas: Vec<String> = (0..4)
        .map(|i| {
            seed_with(
                &emu,
                SeedRequest {
                    generate: Some(spec(20 + i)),
                    timing: timing(3 + i, 2),
                    ..SeedRequest::default()
                },
            )
        })
        .collect();
    emu.control()
        .inject(fault(
            "images",
            FaultAction::Status {
                status: 503,
                message: None,
                retry_after_secs: None,
            },
            Some(2),
        ))
        .unwrap();
    let (cb, _) = recorder();
    let reqs: Vec<WaitRequest> = shas.iter().map(|s| request(&emu, s)).collect();
    let results = client(&emu)
        .wait_for_scans(reqs, &WaitOptions::default(), cb)
        .await;
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let calls = images_per_list_call(&emu);
    assert_eq!(calls[..2], [4, 4], "{calls:?}");
    assert!(calls[2..].iter().all(|&n| n == 1), "{calls:?}");
}

#[tokio::test]
async fn batch_1_sends_no_grouped_filter() {
    let emu = emulator_with(ProcessingProfile::LastScannedAtUpload).await;
    let shas: Vec<String> = (0..5)
        .map(|i| {
            seed_with(
                &emu,
                SeedRequest {
                    generate: Some(spec(30 + i)),
                    timing: timing(2 * i, 3),
                    ..SeedRequest::default()
                },
            )
        })
        .collect();
    let opts = WaitOptions {
        batch: 1,
        ..WaitOptions::default()
    };
    let (cb, _) = recorder();
    let reqs: Vec<WaitRequest> = shas.iter().map(|s| request(&emu, s)).collect();
    let results = client(&emu).wait_for_scans(reqs, &opts, cb).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let entries = emu.control().requests().entries;
    let lists: Vec<&str> = entries
        .iter()
        .filter(|e| e.endpoint == "images")
        .map(|e| e.path.as_str())
        .collect();
    assert!(lists.len() >= 5);
    for path in lists {
        let sha_terms = path.matches("sha%3A").count() + path.matches("sha:").count();
        assert_eq!(sha_terms, 1, "{path}");
        assert!(
            !path.contains("+or+") && !path.contains("%20or%20"),
            "{path}"
        );
    }
}

/// What the fake gateway answers to a list call (given its filter) or a details call (given
/// the sha): status and body.
type Answerer = Arc<dyn Fn(&str) -> (u16, String) + Send + Sync>;

/// A gateway on 127.0.0.1 that takes its tokens from `emu` and answers `list` and `details`;
/// returns its URL and the filters of the list calls it saw.
async fn fake_gateway(
    emu: &RunningEmulator,
    list: Answerer,
    details: Answerer,
) -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::extract::{Path, Query, RawForm};
    use axum::routing::{get, post};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let auth_url = format!("{}/auth", emu.base_url());
    let log = seen.clone();
    let app = axum::Router::new()
        .route(
            "/auth",
            post(move |RawForm(form): RawForm| {
                let url = auth_url.clone();
                async move {
                    let r = reqwest::Client::new()
                        .post(url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(form)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    let body = r.text().await.unwrap();
                    (axum::http::StatusCode::from_u16(status).unwrap(), body)
                }
            }),
        )
        .route(
            "/csapi/v1.3/images",
            get(
                move |Query(q): Query<std::collections::HashMap<String, String>>| {
                    let filter = q.get("filter").cloned().unwrap_or_default();
                    log.lock().unwrap().push(filter.clone());
                    let (status, body) = list(&filter);
                    async move { reply(status, body) }
                },
            ),
        )
        .route(
            "/csapi/v1.3/images/{sha}",
            get(move |Path(sha): Path<String>| {
                let (status, body) = details(&sha);
                async move { reply(status, body) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn reply(status: u16, body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

fn fake_client(emu: &RunningEmulator, url: &str) -> qcs_qualys::QualysClient {
    let mut cfg = crate::common::client_config(emu);
    cfg.gateway = qcs_qualys::Gateway::explicit(url).unwrap();
    qcs_qualys::QualysClient::new(cfg).unwrap()
}

const A: &str = "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000001";
const B: &str = "bbbbbbbbbbbb0000000000000000000000000000000000000000000000000002";
const C: &str = "cccccccccccc0000000000000000000000000000000000000000000000000003";

fn processed_item(sha: &str, at_ms: i64) -> String {
    format!(
        r#"{{"sha":"{sha}","lastScanned":"{at_ms}","scanStatus":"SUCCESS","vulnerabilities":{{"severity5Count":0,"severity4Count":0,"severity3Count":0,"severity2Count":0,"severity1Count":0}}}}"#
    )
}

fn details_doc(sha: &str, at_ms: i64) -> String {
    format!(
        r#"{{"sha":"{sha}","imageId":"{}","lastScanned":"{at_ms}","scanStatus":"SUCCESS","vulnerabilities":[]}}"#,
        &sha[..12]
    )
}

fn short_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(40),
        ..WaitOptions::default()
    }
}

#[tokio::test]
async fn another_images_details_are_never_the_result() {
    let emu = emulator_with(ProcessingProfile::default()).await;
    let clock = Arc::new(EmuClock(emu.control().clone()));
    let c1 = clock.clone();
    let c2 = clock.clone();
    // The list says A is processed; the details of A are B's document.
    let list: Answerer = Arc::new(move |_| {
        let t = qcs_qualys::Clock::now(&*c1).as_millisecond();
        (
            200,
            format!(r#"{{"count":1,"data":[{}]}}"#, processed_item(A, t)),
        )
    });
    let details: Answerer = Arc::new(move |_| {
        let t = qcs_qualys::Clock::now(&*c2).as_millisecond();
        (200, details_doc(B, t))
    });
    let (url, _) = fake_gateway(&emu, list, details).await;
    let (cb, _) = recorder();
    let e = fake_client(&emu, &url)
        .wait_for_scan(&request(&emu, A), &short_wait(), cb)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, QualysError::GaveUp { last, .. } if last.contains(B)),
        "{e}"
    );
}

#[tokio::test]
async fn a_one_image_list_naming_another_sha_or_an_old_scan_is_not_scanned_yet() {
    for (what, item_sha, age_ms) in [("another sha", B, 0), ("an old scan", A, 3_600_000)] {
        let emu = emulator_with(ProcessingProfile::default()).await;
        let clock = Arc::new(EmuClock(emu.control().clone()));
        let list: Answerer = Arc::new(move |_| {
            let t = qcs_qualys::Clock::now(&*clock).as_millisecond() - age_ms;
            (
                200,
                format!(r#"{{"count":1,"data":[{}]}}"#, processed_item(item_sha, t)),
            )
        });
        let details_calls = Arc::new(Mutex::new(0u32));
        let dc = details_calls.clone();
        let details: Answerer = Arc::new(move |_| {
            *dc.lock().unwrap() += 1;
            (200, details_doc(A, 0))
        });
        let (url, _) = fake_gateway(&emu, list, details).await;
        let (cb, _) = recorder();
        let e = fake_client(&emu, &url)
            .wait_for_scan(&request(&emu, A), &short_wait(), cb)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, QualysError::Timeout { last_state, .. } if last_state == "not scanned yet"),
            "{what}: {e}"
        );
        assert_eq!(*details_calls.lock().unwrap(), 0, "{what}");
    }
}

#[tokio::test]
async fn a_stale_details_document_is_not_the_result() {
    let emu = emulator_with(ProcessingProfile::default()).await;
    let clock = Arc::new(EmuClock(emu.control().clone()));
    let c1 = clock.clone();
    // A list that does not filter; details an hour old (a previous scan).
    let list: Answerer = Arc::new(move |_| {
        let t = qcs_qualys::Clock::now(&*c1).as_millisecond();
        (
            200,
            format!(r#"{{"count":1,"data":[{}]}}"#, processed_item(A, t)),
        )
    });
    let details: Answerer = Arc::new(move |_| {
        let t = qcs_qualys::Clock::now(&*clock).as_millisecond() - 3_600_000;
        (200, details_doc(A, t))
    });
    let (url, _) = fake_gateway(&emu, list, details).await;
    let (cb, _) = recorder();
    let e = fake_client(&emu, &url)
        .wait_for_scan(&request(&emu, A), &short_wait(), cb)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, QualysError::Timeout { last_state, .. } if last_state == "not scanned yet"),
        "{e}"
    );
}

#[tokio::test]
async fn a_grouped_answer_with_a_foreign_item_falls_back_to_one_image_per_call() {
    let emu = emulator_with(ProcessingProfile::default()).await;
    let clock = Arc::new(EmuClock(emu.control().clone()));
    let c1 = clock.clone();
    // Grouped calls answer an item for C (never asked about); one-image calls answer A's and
    // B's own items, then their details.
    let list: Answerer = Arc::new(move |filter| {
        let t = qcs_qualys::Clock::now(&*c1).as_millisecond();
        if filter.contains(" or ") {
            return (
                200,
                format!(r#"{{"count":1,"data":[{}]}}"#, processed_item(C, t)),
            );
        }
        let sha = if filter.contains(A) { A } else { B };
        (
            200,
            format!(r#"{{"count":1,"data":[{}]}}"#, processed_item(sha, t)),
        )
    });
    let details: Answerer = Arc::new(move |sha| {
        let t = qcs_qualys::Clock::now(&*clock).as_millisecond();
        (200, details_doc(sha, t))
    });
    let (url, filters) = fake_gateway(&emu, list, details).await;
    let (cb, _) = recorder();
    let reqs = vec![request(&emu, A), request(&emu, B)];
    let results = fake_client(&emu, &url)
        .wait_for_scans(reqs, &WaitOptions::default(), cb)
        .await;
    for (req, r) in &results {
        let r = r.as_ref().unwrap();
        assert_eq!(r.report.sha.as_str(), req.sha);
    }
    let filters = filters.lock().unwrap();
    assert_eq!(filters.len(), 3, "{filters:?}");
    assert!(filters[0].contains(" or "), "{filters:?}");
    assert!(
        filters[1..].iter().all(|f| !f.contains(" or ")),
        "{filters:?}"
    );
}
