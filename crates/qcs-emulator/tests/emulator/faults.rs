//! Every fault kind over real HTTP, injected through the control API and the handle, and the
//! request log's counts.

use crate::common::*;
use qcs_emulator::{FaultAction, FaultRule};
use qcs_test_support::emulator::fault;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn status_faults_by_count_then_normal_service() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let r = control_post(
        &emu,
        "faults",
        &json!({"endpoint": "images", "kind": "status", "status": 503, "times": 2}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 201);
    let listed = json(
        http()
            .get(format!("{}/_emulator/faults", emu.base_url()))
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(listed[0]["rule"]["kind"], "status");
    assert_eq!(listed[0]["remaining"], 2);
    for _ in 0..2 {
        let r = get(&emu, &t, "/csapi/v1.3/images").await;
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(json(r).await["errorCode"], "503 SERVICE_UNAVAILABLE");
    }
    assert_eq!(
        get(&emu, &t, "/csapi/v1.3/images").await.status().as_u16(),
        204
    );
    // 429 with retry headers, on /auth.
    emu.control()
        .inject(fault(
            "auth",
            FaultAction::Status {
                status: 429,
                message: Some("slow down".into()),
                retry_after_secs: Some(7),
            },
            Some(1),
        ))
        .expect("valid");
    let r = http()
        .post(format!("{}/auth", emu.base_url()))
        .form(&[("username", "qcs-demo"), ("password", "qcs-demo")])
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(r.headers()["x-ratelimit-towait-sec"], "7");
    assert_eq!(json(r).await["message"], "slow down");
    // Invalid rule through the control API: 400 with the reason.
    let r = control_post(
        &emu,
        "faults",
        &json!({"endpoint": "images", "kind": "status", "status": 9}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn delays_hangs_and_dropped_connections() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let url = format!("{}/csapi/v1.3/images", emu.base_url());
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(1500))
        .build()
        .expect("client");
    // A delay longer than the client's timeout: the client times out.
    emu.control()
        .inject(fault("images", FaultAction::Delay { ms: 20_000 }, Some(1)))
        .expect("valid");
    let e = client
        .get(&url)
        .bearer_auth(&t)
        .send()
        .await
        .expect_err("times out");
    assert!(e.is_timeout(), "{e:?}");
    // A short delay: answered normally.
    emu.control()
        .inject(fault("images", FaultAction::Delay { ms: 20 }, Some(1)))
        .expect("valid");
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&t)
            .send()
            .await
            .expect("ok")
            .status()
            .as_u16(),
        204
    );
    // Hang: never answered.
    emu.control()
        .inject(fault("images", FaultAction::Hang, Some(1)))
        .expect("valid");
    let e = client
        .get(&url)
        .bearer_auth(&t)
        .send()
        .await
        .expect_err("hangs");
    assert!(e.is_timeout(), "{e:?}");
    // Drop: the connection closes without a response (not a timeout).
    emu.control()
        .inject(fault("images", FaultAction::Drop, Some(1)))
        .expect("valid");
    let e = client
        .get(&url)
        .bearer_auth(&t)
        .send()
        .await
        .expect_err("dropped");
    assert!(!e.is_timeout() && e.is_request(), "{e:?}");
    assert_eq!(
        client
            .get(&url)
            .bearer_auth(&t)
            .send()
            .await
            .expect("ok")
            .status()
            .as_u16(),
        204
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn broken_bodies_wrong_content_type_and_token_expiry() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let sha = emu
        .control()
        .seed_generated(qcs_emulator::ReportSpec {
            seed: 9,
            vulnerabilities: 20,
            ..Default::default()
        })
        .expect("seeded");
    let path = format!("/csapi/v1.3/images/{sha}");

    emu.control()
        .inject(fault("images/{id}", FaultAction::Truncate, Some(1)))
        .expect("valid");
    let r = get(&emu, &t, &path).await;
    assert_eq!(r.status().as_u16(), 200, "headers arrive");
    assert!(r.bytes().await.is_err(), "but the body is cut short");

    emu.control()
        .inject(fault("images/{id}", FaultAction::Malformed, Some(1)))
        .expect("valid");
    let r = get(&emu, &t, &path).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let bytes = r.bytes().await.expect("body");
    assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());

    emu.control()
        .inject(fault("images/{id}", FaultAction::WrongContentType, Some(1)))
        .expect("valid");
    let r = get(&emu, &t, &path).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(r.text().await.expect("text").starts_with("<html>"));

    emu.control()
        .inject(fault("images/{id}", FaultAction::EmptyBody, Some(1)))
        .expect("valid");
    let r = get(&emu, &t, &path).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.expect("body").is_empty());

    emu.control()
        .inject(fault("images*", FaultAction::ExpireToken, Some(1)))
        .expect("valid");
    let r = get(&emu, &t, &path).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        json(r).await["message"]
            .as_str()
            .expect("m")
            .starts_with("JWT expired")
    );

    // After the counted faults, normal service.
    let d = json(get(&emu, &t, &path).await).await;
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(20));
    emu.shutdown().await;
}

#[tokio::test]
async fn probability_faults_and_request_log_counts() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    emu.control()
        .inject(FaultRule::status("images", 500).probability(0.5))
        .expect("valid");
    let mut errors = 0;
    for _ in 0..40 {
        if get(&emu, &t, "/csapi/v1.3/images").await.status().as_u16() == 500 {
            errors += 1;
        }
    }
    assert!((8..=32).contains(&errors), "{errors} of 40 with p=0.5");
    let r = http()
        .delete(format!("{}/_emulator/faults", emu.base_url()))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        get(&emu, &t, "/csapi/v1.3/images").await.status().as_u16(),
        204
    );
    let _ = get(&emu, &t, "/csapi/v1.3/images/0123456789ab").await;

    let log = json(
        http()
            .get(format!("{}/_emulator/requests", emu.base_url()))
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(log["counts"]["auth"], 1);
    assert_eq!(log["counts"]["images"], 41);
    assert_eq!(log["counts"]["images/{id}"], 1);
    assert!(
        log["counts"].get("control").is_none(),
        "control calls are not logged"
    );
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 43);
    let faulted = entries
        .iter()
        .filter(|e| e["fault"] == "status 500")
        .count();
    assert_eq!(faulted, errors);
    assert!(
        entries
            .iter()
            .all(|e| e["status"].as_u64().is_some_and(|s| s > 0))
    );
    assert_eq!(entries.last().expect("last")["status"], 404);
    let r = http()
        .delete(format!("{}/_emulator/requests", emu.base_url()))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(emu.control().requests().total, 0);
    emu.shutdown().await;
}
