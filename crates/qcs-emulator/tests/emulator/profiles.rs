//! Processing profiles and per-image behaviours over real HTTP: what the processing state looks
//! like under each profile, failed scans, re-scans, wrongly typed CVSS objects, a 200 with an
//! empty body and `CMS-…` error bodies.

use crate::common::*;
use qcs_emulator::{
    EmulatorConfig, FaultAction, FaultRule, LifecycleRequest, Phase, PreviousScan,
    ProcessingProfile, ReportSpec, RunningEmulator, SeedRequest, start,
};
use serde_json::{Value, json};
use std::time::Duration;

async fn with_profile(profile: ProcessingProfile) -> RunningEmulator {
    start(EmulatorConfig {
        processing_profile: profile,
        ..config()
    })
    .await
    .expect("start")
}

fn seed(emu: &RunningEmulator, spec: ReportSpec, upload: u64, processing: u64) -> String {
    emu.control()
        .seed_image(SeedRequest {
            generate: Some(spec),
            timing: LifecycleRequest {
                upload_in_secs: upload,
                processing_secs: processing,
                ..LifecycleRequest::default()
            },
            ..SeedRequest::default()
        })
        .expect("seeded")
        .0
}

fn null_counts() -> Value {
    json!({"severity5Count": null, "severity3Count": null, "severity4Count": null, "severity1Count": null, "severity2Count": null})
}

fn zero_counts() -> Value {
    json!({"severity5Count": 0, "severity3Count": 0, "severity4Count": 0, "severity1Count": 0, "severity2Count": 0})
}

async fn list_by_sha(emu: &RunningEmulator, t: &str, sha: &str) -> Option<Value> {
    let r = get(emu, t, &format!("/csapi/v1.3/images?filter=sha%3A{sha}")).await;
    match r.status().as_u16() {
        204 => None,
        200 => Some(json(r).await["data"][0].clone()),
        s => panic!("list answered {s}"),
    }
}

async fn in_window(emu: &RunningEmulator, t: &str, sha: &str, secs: u64) -> u16 {
    get(
        emu,
        t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(sha, secs)),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn the_default_profile_is_last_scanned_when_processed() {
    assert_eq!(
        EmulatorConfig::default().processing_profile,
        ProcessingProfile::LastScannedWhenProcessed
    );
    let emu = emulator().await;
    assert_eq!(
        emu.control().processing_profile(),
        ProcessingProfile::LastScannedWhenProcessed
    );
    let r = http()
        .get(format!("{}/_emulator/processing-profile", emu.base_url()))
        .send()
        .await
        .expect("call");
    assert_eq!(
        json(r).await,
        json!({"profile": "last-scanned-when-processed"})
    );
    // Switched through the control API: images stored from then on.
    let r = control_post(
        &emu,
        "processing-profile",
        &json!({"profile": "counts-null-with-status"}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        emu.control().processing_profile(),
        ProcessingProfile::CountsNullWithStatus
    );
    let r = control_post(&emu, "processing-profile", &json!({"profile": "soon"})).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        "soon"
            .parse::<ProcessingProfile>()
            .expect_err("unknown")
            .contains("last-scanned-at-upload")
    );
    for p in ProcessingProfile::ALL {
        assert_eq!(p.name().parse::<ProcessingProfile>(), Ok(p));
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn each_profile_shows_the_processing_state_its_own_way() {
    for profile in ProcessingProfile::ALL {
        let emu = with_profile(profile).await;
        let t = demo_token(&emu).await;
        let spec = ReportSpec {
            seed: 41,
            vulnerabilities: 9,
            packages: 20,
            ..ReportSpec::default()
        };
        let sha = seed(&emu, spec, 10, 20);
        let upload = (T0 + 10_000).to_string();
        emu.control().advance(Duration::from_secs(10));
        assert_eq!(emu.control().phase(&sha), Phase::Processing);

        let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
        let item = list_by_sha(&emu, &t, &sha).await.expect("listed");
        let count =
            json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln/count")).await).await;
        let vuln = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln")).await).await;
        let sw = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/software")).await).await;
        assert!(d["vulnerabilities"].is_null(), "{profile}");
        assert!(d["scanErrorCode"].is_null(), "{profile}");
        assert!(vuln["details"].is_null(), "{profile}");
        assert_eq!(sw["data"].as_array().map(Vec::len), Some(20), "{profile}");
        let window = in_window(&emu, &t, &sha, 10).await;
        match profile {
            ProcessingProfile::LastScannedAtUpload => {
                assert_eq!(d["lastScanned"], upload.as_str());
                assert!(d["scanStatus"].is_null());
                assert_eq!(item["lastScanned"], upload.as_str());
                assert!(item["vulnerabilities"].is_null());
                assert_eq!(count, zero_counts());
                assert!(sw["data"][0]["vulnerabilities"].is_null());
                assert_eq!(window, 200);
            }
            ProcessingProfile::LastScannedWhenProcessed => {
                assert!(d["lastScanned"].is_null());
                assert!(d["scanStatus"].is_null());
                assert!(item["lastScanned"].is_null());
                assert!(item["vulnerabilities"].is_null());
                assert_eq!(count, zero_counts());
                assert!(sw["data"][0]["vulnerabilities"].is_null());
                assert_eq!(window, 204, "lastScanned filters wait for the report");
            }
            ProcessingProfile::CountsNullWithStatus => {
                assert_eq!(d["lastScanned"], upload.as_str());
                assert_eq!(d["scanStatus"], "PENDING");
                assert_eq!(item["scanStatus"], "PENDING");
                assert_eq!(item["vulnerabilities"], null_counts());
                assert_eq!(count, null_counts());
                assert_eq!(sw["data"][0]["vulnerabilities"], null_counts());
                assert_eq!(window, 200);
                // Halfway through the processing time: IN_PROGRESS.
                emu.control().advance(Duration::from_secs(10));
                let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
                assert_eq!(d["scanStatus"], "IN_PROGRESS");
                assert!(d["vulnerabilities"].is_null());
                let item = list_by_sha(&emu, &t, &sha).await.expect("listed");
                assert_eq!(item["scanStatus"], "IN_PROGRESS");
                emu.control().advance(Duration::from_secs(9));
                let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
                assert!(d["vulnerabilities"].is_null(), "1 s before the report");
            }
        }

        // Processed: the same under every profile.
        let now = emu.control().now_ms();
        emu.control()
            .advance(Duration::from_millis(T0 + 30_000 - now));
        assert_eq!(emu.control().phase(&sha), Phase::Processed);
        let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
        assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(9));
        assert_eq!(d["lastScanned"], upload.as_str(), "{profile}");
        assert_eq!(d["scanStatus"], "SUCCESS", "{profile}");
        assert!(d["scanErrorCode"].is_null());
        let item = list_by_sha(&emu, &t, &sha).await.expect("listed");
        assert_eq!(item["lastScanned"], upload.as_str());
        let count =
            json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln/count")).await).await;
        assert_eq!(item["vulnerabilities"], count);
        let total: u64 = (1..=5)
            .map(|i| {
                count[format!("severity{i}Count")]
                    .as_u64()
                    .expect("a number")
            })
            .sum();
        assert_eq!(total, 9);
        assert_eq!(in_window(&emu, &t, &sha, 30).await, 200);
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn a_failed_scan_reports_its_error_and_never_vulnerabilities() {
    for profile in ProcessingProfile::ALL {
        let emu = with_profile(profile).await;
        let t = demo_token(&emu).await;
        let sha = seed(
            &emu,
            ReportSpec {
                seed: 42,
                vulnerabilities: 7,
                scan_error: Some("SCAN_TIMEOUT".into()),
                ..ReportSpec::default()
            },
            5,
            10,
        );
        emu.control().advance(Duration::from_secs(5));
        assert_eq!(emu.control().phase(&sha), Phase::Processing);
        let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
        assert!(d["vulnerabilities"].is_null());
        assert!(
            d["scanErrorCode"].is_null(),
            "{profile}: no error while it runs"
        );
        emu.control().advance(Duration::from_secs(10));
        assert_eq!(emu.control().phase(&sha), Phase::Failed);
        for _ in 0..2 {
            let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
            assert_eq!(d["scanStatus"], "FAILED", "{profile}");
            assert_eq!(d["scanErrorCode"], "SCAN_TIMEOUT", "{profile}");
            assert!(d["vulnerabilities"].is_null(), "{profile}");
            assert_eq!(d["lastScanned"], (T0 + 5_000).to_string(), "{profile}");
            // Every profile lists it in the build's window, so a client sees the failure.
            let r = get(
                &emu,
                &t,
                &format!(
                    "/csapi/v1.3/images?filter={}",
                    plugin_filter(&sha, (emu.control().now_ms() - T0) / 1000)
                ),
            )
            .await;
            assert_eq!(r.status().as_u16(), 200, "{profile}");
            let item = json(r).await["data"][0].clone();
            assert_eq!(item["scanStatus"], "FAILED");
            assert_eq!(item["scanErrorCode"], "SCAN_TIMEOUT");
            let vuln = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln")).await).await;
            assert!(vuln["details"].is_null());
            let count =
                json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln/count")).await).await;
            if profile == ProcessingProfile::CountsNullWithStatus {
                assert_eq!(count, null_counts());
                assert_eq!(item["vulnerabilities"], null_counts());
            } else {
                assert_eq!(count, zero_counts());
                assert!(item["vulnerabilities"].is_null());
            }
            // ...forever.
            emu.control().advance(Duration::from_secs(3600));
        }
        let state = json(
            http()
                .get(format!("{}/_emulator/state", emu.base_url()))
                .send()
                .await
                .expect("state"),
        )
        .await;
        assert_eq!(state["images"][0]["phase"], "failed");
        assert_eq!(state["images"][0]["failed"], true);
        emu.shutdown().await;
    }

    // A document that says so fails the same way (its own status and code kept).
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let mut doc = qcs_emulator::generate(&ReportSpec {
        seed: 43,
        ..ReportSpec::default()
    });
    doc["scanStatus"] = json!("ERROR");
    doc["scanErrorCode"] = json!("CMS-5001");
    let (sha, phase) = emu
        .control()
        .seed_image(SeedRequest {
            document: Some(doc),
            ..SeedRequest::default()
        })
        .expect("seeded");
    assert_eq!(phase, Phase::Failed);
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert_eq!(d["scanStatus"], "ERROR");
    assert_eq!(d["scanErrorCode"], "CMS-5001");
    assert!(d["vulnerabilities"].is_null());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_rescan_serves_the_previous_document_until_the_new_one_is_processed() {
    for profile in ProcessingProfile::ALL {
        let emu = with_profile(profile).await;
        let t = demo_token(&emu).await;
        let r = control_post(
            &emu,
            "images",
            &json!({
                "generate": {"seed": 44, "vulnerabilities": 15},
                "previous_scan": {},
                "upload_in_secs": 10,
                "processing_secs": 20,
            }),
        )
        .await;
        assert_eq!(r.status().as_u16(), 201);
        let seeded = json(r).await;
        assert_eq!(seeded["phase"], "processed", "the earlier scan is known");
        let sha = seeded["sha"].as_str().expect("sha").to_owned();
        let old = (T0 - 86_400_000).to_string();
        let new = (T0 + 10_000).to_string();

        // Before the new upload: the earlier, clean report; not in the build's window.
        let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
        assert_eq!(d["lastScanned"], old.as_str());
        assert_eq!(d["vulnerabilities"], json!([]));
        assert_eq!(in_window(&emu, &t, &sha, 0).await, 204);

        // Uploaded, processing: the details still serve the earlier document.
        emu.control().advance(Duration::from_secs(10));
        assert_eq!(emu.control().phase(&sha), Phase::Processing);
        let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
        assert_eq!(d["lastScanned"], old.as_str(), "{profile}");
        assert_eq!(d["vulnerabilities"], json!([]), "{profile}");
        assert_eq!(d["scanStatus"], "SUCCESS", "{profile}");
        let vuln = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln")).await).await;
        assert_eq!(vuln["details"], json!([]));
        let item = list_by_sha(&emu, &t, &sha).await.expect("listed");
        let window = in_window(&emu, &t, &sha, 10).await;
        match profile {
            ProcessingProfile::LastScannedWhenProcessed => {
                assert_eq!(item["lastScanned"], old.as_str());
                assert_eq!(window, 204);
            }
            _ => {
                assert_eq!(item["lastScanned"], new.as_str(), "{profile}");
                assert_eq!(window, 200, "{profile}: listed, but the details are stale");
            }
        }

        // Processed: the new report.
        emu.control().advance(Duration::from_secs(20));
        let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
        assert_eq!(d["lastScanned"], new.as_str());
        assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(15));
        assert_eq!(in_window(&emu, &t, &sha, 30).await, 200);
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn a_rescan_from_the_scenario_file_with_its_own_earlier_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        r#"
processing-profile = "last-scanned-at-upload"
[[images]]
generate = { seed = 45, vulnerabilities = 4 }
upload_after_secs = 5
processing_secs = 5
previous_scan = { age_secs = 3600, generate = { seed = 46, vulnerabilities = 2, log4shell = false } }
"#,
    )
    .expect("write");
    let emu = start(EmulatorConfig {
        scenario: Some(scenario),
        ..config()
    })
    .await
    .expect("start");
    assert_eq!(
        emu.control().processing_profile(),
        ProcessingProfile::LastScannedAtUpload
    );
    let t = demo_token(&emu).await;
    let sha = qcs_emulator::generate_sha(45);
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert_eq!(
        d["sha"],
        sha.as_str(),
        "the earlier report carries this sha"
    );
    assert_eq!(d["lastScanned"], (T0 - 3_600_000).to_string());
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(2));
    emu.control().advance(Duration::from_secs(7));
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(2));
    emu.control().advance(Duration::from_secs(3));
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(4));
    assert_eq!(d["lastScanned"], (T0 + 5_000).to_string());
    emu.shutdown().await;
}

/// A Docker stand-in image with `previous_scan` is known to the platform from the start.
#[tokio::test]
async fn a_docker_image_with_a_previous_scan_is_known_before_tagging() {
    let emu = start(EmulatorConfig {
        docker_socket: Some(qcs_emulator::DockerListen::Tcp(
            "127.0.0.1:0".parse().expect("addr"),
        )),
        docker: qcs_emulator::DockerSeed {
            sensor: qcs_emulator::SensorState::Running,
            images: vec![
                qcs_emulator::DockerImage {
                    tags: vec!["acme/known:1.0".into()],
                    previous_scan: Some(PreviousScan::default()),
                    ..qcs_emulator::DockerImage::default()
                },
                qcs_emulator::DockerImage {
                    tags: vec!["acme/new:1.0".into()],
                    ..qcs_emulator::DockerImage::default()
                },
            ],
        },
        ..config()
    })
    .await
    .expect("start");
    let t = demo_token(&emu).await;
    let images = emu.control().docker_images();
    let find = |tag: &str| {
        images
            .iter()
            .find(|(_, tags)| tags.iter().any(|t| t.contains(tag)))
            .map(|(id, _)| id.clone())
            .expect("image")
    };
    let known = find("acme/known");
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{known}")).await).await;
    assert_eq!(d["vulnerabilities"], json!([]));
    assert_eq!(d["lastScanned"], (T0 - 86_400_000).to_string());
    assert_eq!(d["repo"][0]["repository"], "acme/known");
    let fresh = find("acme/new");
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{fresh}"))
            .await
            .status()
            .as_u16(),
        404
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn wrongly_typed_cvss_objects_are_opt_in() {
    let doc = qcs_emulator::generate(&ReportSpec {
        seed: 47,
        vulnerabilities: 10,
        mistyped_cvss: 3,
        ..ReportSpec::default()
    });
    let v = doc["vulnerabilities"].as_array().expect("array");
    for f in &v[..7] {
        assert!(
            f["cvssInfo"].is_object() && f["cvss3Info"].is_object(),
            "{f}"
        );
    }
    assert!(v[7]["cvssInfo"].is_string() && v[7]["cvss3Info"].is_object());
    assert!(v[8]["cvssInfo"].is_object() && v[8]["cvss3Info"].is_number());
    assert!(v[9]["cvssInfo"].is_number() && v[9]["cvss3Info"].is_string());
    let plain = qcs_emulator::generate(&ReportSpec {
        seed: 47,
        vulnerabilities: 10,
        ..ReportSpec::default()
    });
    assert!(
        plain["vulnerabilities"]
            .as_array()
            .expect("array")
            .iter()
            .all(|f| f["cvssInfo"].is_object() && f["cvss3Info"].is_object())
    );

    // Served as generated.
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let sha = emu
        .control()
        .seed_generated(ReportSpec {
            seed: 47,
            vulnerabilities: 10,
            mistyped_cvss: 3,
            ..ReportSpec::default()
        })
        .expect("seeded");
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert!(d["vulnerabilities"][7]["cvssInfo"].is_string());
    assert!(d["vulnerabilities"][9]["cvssInfo"].is_number());
    emu.shutdown().await;
}

#[tokio::test]
async fn empty_200_bodies_on_the_list_and_the_details() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let sha = emu
        .control()
        .seed_generated(ReportSpec {
            seed: 48,
            vulnerabilities: 3,
            ..ReportSpec::default()
        })
        .expect("seeded");
    emu.control()
        .inject(FaultRule::new("images", FaultAction::EmptyBody).times(1))
        .expect("rule");
    let r = control_post(
        &emu,
        "faults",
        &json!({"endpoint": "images/{id}", "kind": "empty_body", "times": 1}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 201);
    for path in [
        format!("/csapi/v1.3/images?filter={}", plugin_filter(&sha, 60)),
        format!("/csapi/v1.3/images/{sha}"),
    ] {
        let r = get(&emu, &t, &path).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "application/json");
        assert!(r.bytes().await.expect("body").is_empty(), "{path}");
        // The rule is used up: the next call is normal.
        let r = get(&emu, &t, &path).await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(json(r).await.is_object());
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn cms_error_bodies_next_to_the_documented_shape() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let r = control_post(
        &emu,
        "faults",
        &json!({"endpoint": "images", "kind": "status", "status": 400, "body": "cms", "error_code": "CMS-2002", "message": "Invalid filter", "times": 1}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 201);
    // The rule round-trips in its flat form.
    let faults = json(
        http()
            .get(format!("{}/_emulator/faults", emu.base_url()))
            .send()
            .await
            .expect("faults"),
    )
    .await;
    assert!(faults.to_string().contains("\"body\":\"cms\""), "{faults}");
    emu.control()
        .inject(FaultRule::status_cms("images/{id}", 500, None).times(1))
        .expect("rule");
    emu.control()
        .inject(FaultRule::status("images/{id}", 503).times(1))
        .expect("rule");
    let r = get(&emu, &t, "/csapi/v1.3/images?filter=sha%3A0").await;
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        json(r).await,
        json!({"errorCode": "CMS-2002", "errorMessage": "Invalid filter"})
    );
    let id = "0123456789ab";
    let r = get(&emu, &t, &format!("/csapi/v1.3/images/{id}")).await;
    assert_eq!(r.status().as_u16(), 500);
    assert_eq!(
        json(r).await,
        json!({"errorCode": "CMS-2002", "errorMessage": "Internal Server Error"})
    );
    let r = get(&emu, &t, &format!("/csapi/v1.3/images/{id}")).await;
    assert_eq!(r.status().as_u16(), 503);
    let body = json(r).await;
    assert_eq!(body["errorCode"], "503 SERVICE_UNAVAILABLE");
    assert!(body["message"].is_string() && body["timestamp"].is_u64());

    // Mistakes are refused.
    for bad in [
        json!({"endpoint": "images", "kind": "status", "status": 400, "error_code": "CMS-1"}),
        json!({"endpoint": "images", "kind": "status", "status": 400, "body": "xml"}),
        json!({"endpoint": "images", "kind": "drop", "body": "cms"}),
        json!({"endpoint": "images", "kind": "status", "status": 429, "body": "cms", "retry_after_secs": 3}),
    ] {
        let r = control_post(&emu, "faults", &bad).await;
        assert_eq!(r.status().as_u16(), 400, "{bad}");
    }
    let parsed: FaultRule = toml::from_str(
        "endpoint = \"images\"\nkind = \"status\"\nstatus = 404\nbody = \"cms\"\nerror_code = \"CMS-2404\"\n",
    )
    .expect("toml");
    assert_eq!(
        parsed.action,
        FaultAction::StatusCms {
            status: 404,
            error_code: Some("CMS-2404".into()),
            message: None
        }
    );
    emu.shutdown().await;
}
