//! The sensor watching a real Podman service (`qcs_test_support::podman`: its storage in a temp
//! dir; the images are imported from generated rootfs tarballs, nothing is pulled).

use crate::common::*;
use qcs_emulator::{EmulatorConfig, SensorTiming, start};
use qcs_test_support::podman::Podman;
use std::time::Duration;

/// The image's tags, as podman prints them (`[localhost/qcs-test/app:1.0 …]`).
fn repo_tags(podman: &Podman, id: &str) -> String {
    podman.run(&["image", "inspect", "--format", "{{.RepoTags}}", id])
}

#[tokio::test]
async fn watches_podman_for_scan_tags_registers_and_untags() {
    let podman = Podman::with_unix_service();
    let app = podman.import(Some("localhost/qcs-test/app:1.0"), "app");
    let lonely = podman.import(None, "lonely");
    assert_eq!(app.len(), 64);

    let emu = start(EmulatorConfig {
        watch_engine: Some(podman.url().to_owned()),
        sensor: SensorTiming {
            scan_delay_secs: 5,
            processing_delay_secs: 10,
            watch_interval_ms: 3_600_000,
        },
        // The list is read while the report is processed: `lastScanned` at upload.
        processing_profile: qcs_emulator::ProcessingProfile::LastScannedAtUpload,
        ..config()
    })
    .await
    .expect("start watching");
    assert!(emu.describe().contains("watching"));
    let t = demo_token(&emu).await;

    // No scan tag yet: nothing happens.
    emu.control().watch_now().await.expect("pass");
    emu.control().advance(Duration::from_secs(60));
    let t = {
        let _ = t;
        demo_token(&emu).await
    };
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{app}"))
            .await
            .status()
            .as_u16(),
        404
    );

    podman.run(&["tag", &app, &format!("qualys_scan_target:{app}")]);
    podman.run(&["tag", &lonely, &format!("qualys_scan_target:{lonely}")]);
    emu.control().watch_now().await.expect("pass");
    // Scan started, upload pending: still unknown, tag still there.
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{app}"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert!(repo_tags(&podman, &app).contains("qualys_scan_target"));

    emu.control().advance(Duration::from_secs(5));
    emu.control().watch_now().await.expect("pass");
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&app, 5)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{app}")).await).await;
    assert!(d["vulnerabilities"].is_null());
    assert_eq!(d["repo"][0]["registry"], "localhost");
    assert_eq!(d["repo"][0]["repository"], "qcs-test/app");
    assert_eq!(d["repo"][0]["tag"], "1.0");
    // The sensor removed the scan tag (the image has another) but kept the lonely image's.
    let tags = repo_tags(&podman, &app);
    assert!(
        !tags.contains("qualys_scan_target") && tags.contains("qcs-test/app:1.0"),
        "{tags}"
    );
    assert!(
        repo_tags(&podman, &lonely).contains("qualys_scan_target"),
        "only tag kept"
    );

    emu.control().advance(Duration::from_secs(10));
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{app}")).await).await;
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(25));
    let podman_size: u64 = podman
        .run(&["image", "inspect", "--format", "{{.Size}}", &app])
        .trim()
        .parse()
        .expect("size");
    assert_eq!(d["size"].as_u64(), Some(podman_size));
    assert_eq!(
        json(get(&emu, &t, &format!("/csapi/v1.3/images/{lonely}")).await).await["sha"],
        lonely.as_str()
    );

    // Tagging again starts a new scan (a new lastScanned).
    emu.control().advance(Duration::from_secs(100));
    podman.run(&["tag", &app, &format!("qualys_scan_target:{app}")]);
    emu.control().watch_now().await.expect("pass");
    emu.control().advance(Duration::from_secs(5));
    let t = demo_token(&emu).await;
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&app, 5)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200, "the rescan is recent");
    emu.shutdown().await;
}

#[tokio::test]
async fn unreachable_engine_is_reported_at_start() {
    let e = start(EmulatorConfig {
        watch_engine: Some("unix:///nonexistent/podman.sock".into()),
        ..config()
    })
    .await
    .expect_err("no engine");
    let msg = e.to_string();
    assert!(
        msg.contains("/nonexistent/podman.sock") && msg.contains("hint"),
        "{msg}"
    );
    let e = start(EmulatorConfig {
        watch_engine: Some("ftp://x".into()),
        ..config()
    })
    .await
    .expect_err("scheme");
    assert!(e.to_string().contains("unix://"));
}
