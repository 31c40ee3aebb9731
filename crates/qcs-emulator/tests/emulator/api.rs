//! The gateway API: auth, bearer checks, lifecycle, QQL list, details, v1.2, rate limits,
//! control API, scenario files.

use crate::common::*;
use base64::Engine as _;
use qcs_emulator::{
    EmulatorConfig, LifecycleRequest, ProcessingProfile, RateLimitConfig, ReportSpec, SeedRequest,
    User, start,
};
use serde_json::{Value, json};
use std::time::Duration;

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    assert!(
        !payload.contains(['-', '_']),
        "payload must decode with the standard alphabet"
    );
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(payload)
        .expect("standard base64");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[tokio::test]
async fn auth_basic_oidc_oauth_and_refusals() {
    let emu = emulator().await;
    let base = emu.base_url();
    let t = demo_token(&emu).await;
    let c = claims(&t);
    assert_eq!(c["sub"], "qcs-demo");
    assert!(c["modulesAllowed"].to_string().contains("\"CS\""));
    assert_eq!(c["iat"].as_u64(), Some(T0 / 1000));
    assert_eq!(c["exp"].as_u64(), Some(T0 / 1000 + 4 * 3600));
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t.split('.').next().expect("header"))
        .expect("b64");
    assert_eq!(
        serde_json::from_slice::<Value>(&header).expect("json")["alg"],
        "HS512"
    );

    // Bad password: 401 with a JSON message; permissions=true is accepted and ignored.
    let r = http()
        .post(format!("{base}/auth"))
        .form(&[
            ("username", "qcs-demo"),
            ("password", "nope"),
            ("token", "true"),
            ("permissions", "true"),
        ])
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        json(r).await["message"]
            .as_str()
            .expect("message")
            .contains("invalid")
    );

    for path in ["/auth/oidc", "/auth/oauth"] {
        let r = http()
            .post(format!("{base}{path}"))
            .header("clientId", "qcs-demo")
            .header("clientSecret", "qcs-demo")
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .expect("call");
        assert_eq!(r.status().as_u16(), 201, "{path}");
        let t = r.text().await.expect("token");
        assert_eq!(claims(&t)["sub"], "qcs-demo");
        // The client token works on the CS API.
        assert_eq!(
            get(&emu, &t, "/csapi/v1.3/images").await.status().as_u16(),
            204
        );
        let r = http()
            .post(format!("{base}{path}"))
            .header("clientId", "qcs-demo")
            .header("clientSecret", "wrong")
            .send()
            .await
            .expect("call");
        assert_eq!(r.status().as_u16(), 401, "{path}");
        let r = http()
            .post(format!("{base}{path}"))
            .send()
            .await
            .expect("call");
        assert_eq!(r.status().as_u16(), 401, "{path} without headers");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn bearer_checks_expiry_revocation_and_missing_cs_module() {
    let emu = emulator().await;
    let base = emu.base_url();
    let r = http()
        .get(format!("{base}/csapi/v1.3/images"))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()["x-ratelimit-limit"],
        "5000",
        "rate headers on every /csapi answer"
    );
    assert_eq!(
        r.headers()["x-ratelimit-remaining"],
        "5000",
        "refused calls are not counted"
    );
    let body = json(r).await;
    assert_eq!(body["errorCode"], "401 UNAUTHORIZED");
    assert!(body["timestamp"].is_u64());
    assert_eq!(
        get(&emu, "not.a.jwt", "/csapi/v1.3/images")
            .await
            .status()
            .as_u16(),
        401
    );
    // Unknown /csapi paths are authenticated first, then 404 with the rate headers.
    let r = http()
        .get(format!("{base}/csapi/v1.3/registry"))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 401);
    let t = demo_token(&emu).await;
    let r = get(&emu, &t, "/csapi/v1.3/registry").await;
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.headers().contains_key("x-ratelimit-remaining"));
    assert_eq!(json(r).await["errorCode"], "404 NOT_FOUND");

    // Expiry by the clock: valid until exp, then 401 "JWT expired".
    let t = demo_token(&emu).await;
    emu.control().advance(Duration::from_secs(4 * 3600 - 1));
    assert_eq!(
        get(&emu, &t, "/csapi/v1.3/images").await.status().as_u16(),
        204
    );
    emu.control().advance(Duration::from_secs(1));
    let r = get(&emu, &t, "/csapi/v1.3/images").await;
    assert_eq!(r.status().as_u16(), 401);
    let body = json(r).await;
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("JWT expired at "),
        "{body}"
    );
    assert_eq!(body["errorCode"], "401 UNAUTHORIZED");

    // Mid-run expiry through the control API; a fresh token works again.
    let t = demo_token(&emu).await;
    assert_eq!(
        get(&emu, &t, "/csapi/v1.3/images").await.status().as_u16(),
        204
    );
    let r = http()
        .post(format!("{base}/_emulator/tokens/expire"))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 204);
    let r = get(&emu, &t, "/csapi/v1.3/images").await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        json(r).await["message"]
            .as_str()
            .expect("m")
            .contains("JWT expired")
    );
    let t2 = demo_token(&emu).await;
    assert_eq!(
        get(&emu, &t2, "/csapi/v1.3/images").await.status().as_u16(),
        204
    );

    // Configurable lifetime through the control API.
    control_post(&emu, "token-lifetime", &json!({"seconds": 60})).await;
    let short = demo_token(&emu).await;
    let c = claims(&short);
    assert_eq!(
        c["exp"].as_u64().expect("exp") - c["iat"].as_u64().expect("iat"),
        60
    );

    // A user without the CS module gets a token without "CS" and 403 on the CS API.
    emu.control().add_user(User {
        username: "vm-only".into(),
        password: "pw".into(),
        modules: vec!["VM SCANNER".into()],
    });
    let t = token(&emu, "vm-only", "pw").await;
    assert!(!claims(&t)["modulesAllowed"].to_string().contains("\"CS\""));
    // The same through the control API, for a user and an OAuth client.
    let r = control_post(
        &emu,
        "users",
        &json!({"username": "vm2", "password": "pw2", "modules": ["VM SCANNER"]}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);
    let t2 = token(&emu, "vm2", "pw2").await;
    assert_eq!(
        get(&emu, &t2, "/csapi/v1.3/images").await.status().as_u16(),
        403
    );
    let r = control_post(
        &emu,
        "clients",
        &json!({"client_id": "c-nocs", "client_secret": "s", "modules": []}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);
    let r = http()
        .post(format!("{base}/auth/oauth"))
        .header("clientId", "c-nocs")
        .header("clientSecret", "s")
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 201);
    let t3 = r.text().await.expect("token");
    assert_eq!(claims(&t3)["modulesAllowed"], json!([]));
    assert_eq!(
        get(&emu, &t3, "/csapi/v1.3/images").await.status().as_u16(),
        403
    );
    let r = control_post(&emu, "users", &json!({"username": "x"})).await;
    assert_eq!(r.status().as_u16(), 400, "password is required");
    let r = get(&emu, &t, "/csapi/v1.3/images").await;
    assert_eq!(r.status().as_u16(), 403);
    let body = json(r).await;
    assert_eq!(body["errorCode"], "403 FORBIDDEN");
    assert_eq!(body["message"], "Request Forbidden");
    emu.shutdown().await;
}

#[tokio::test]
async fn image_lifecycle_unknown_processing_processed() {
    // The list is read while the report is processed: `lastScanned` at upload.
    let emu = start(EmulatorConfig {
        processing_profile: ProcessingProfile::LastScannedAtUpload,
        ..config()
    })
    .await
    .expect("start");
    let t = demo_token(&emu).await;
    let r = control_post(
        &emu,
        "images",
        &json!({"generate": {"seed": 11, "vulnerabilities": 30, "packages": 50}, "upload_in_secs": 30, "processing_secs": 60}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 201);
    let seeded = json(r).await;
    assert_eq!(seeded["phase"], "unknown");
    let sha = seeded["sha"].as_str().expect("sha").to_owned();
    let id12 = &sha[..12];
    let tagging = T0;

    // 1. Before the upload: list 204 (empty body), details 404 with the error shape.
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&sha, 0)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);
    assert!(r.bytes().await.expect("body").is_empty());
    let r = get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(json(r).await["errorCode"], "404 NOT_FOUND");

    // 2. Uploaded, processing: list 200 with lastScanned, details 200 with vulnerabilities null.
    let now = emu.control().advance(Duration::from_secs(30));
    let since = (now - tagging) / 1000;
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&sha, since)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let list = json(r).await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["data"][0]["sha"], sha.as_str());
    assert_eq!(list["data"][0]["lastScanned"], (T0 + 30_000).to_string());
    assert!(list["data"][0]["vulnerabilities"].is_null());
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert!(d["vulnerabilities"].is_null());
    assert_eq!(d["sha"], sha.as_str());
    assert!(d["softwares"].is_array());

    // 3. Processed: full report by 64-hex and 12-hex id, on v1.3 and v1.2.
    emu.control().advance(Duration::from_secs(60));
    for path in [
        format!("/csapi/v1.3/images/{sha}"),
        format!("/csapi/v1.3/images/{id12}"),
        format!("/csapi/v1.2/images/{sha}"),
    ] {
        let r = get(&emu, &t, &path).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let d = json(r).await;
        assert_eq!(
            d["vulnerabilities"].as_array().map(Vec::len),
            Some(30),
            "{path}"
        );
        assert_eq!(d["imageId"], id12);
        assert!(d["size"].is_u64());
        assert!(d["layers"][0]["size"].is_string());
        assert_eq!(d["lastScanned"], (T0 + 30_000).to_string());
        assert_eq!(d["updated"], (T0 + 90_000).to_string());
    }
    let c = json(get(&emu, &t, &format!("/csapi/v1.3/images/{id12}/vuln/count")).await).await;
    let total: u64 = (1..=5)
        .map(|i| c[format!("severity{i}Count")].as_u64().expect("count"))
        .sum();
    assert_eq!(total, 30);
    let r = get(&emu, &t, "/csapi/v1.3/images/0123456789ab/vuln/count").await;
    assert_eq!(r.status().as_u16(), 404);
    // The same id rules as the details: `sha256:` allowed, anything else is a 400.
    let by_sha = json(
        get(
            &emu,
            &t,
            &format!("/csapi/v1.3/images/sha256:{sha}/vuln/count"),
        )
        .await,
    )
    .await;
    assert_eq!(by_sha, c);
    let r = get(&emu, &t, "/csapi/v1.3/images/not-an-id/vuln/count").await;
    assert_eq!(r.status().as_u16(), 400);
    let list = json(
        get(
            &emu,
            &t,
            &format!("/csapi/v1.2/images?filter={}", plugin_filter(&sha, 600)),
        )
        .await,
    )
    .await;
    let counts = &list["data"][0]["vulnerabilities"];
    let total: u64 = (1..=5)
        .map(|i| counts[format!("severity{i}Count")].as_u64().expect("count"))
        .sum();
    assert_eq!(total, 30);

    // A scan older than the filter's window does not count (only scans after tagging do).
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&sha, 10)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);

    // Never processed, never scanned.
    let (stuck, _) = emu
        .control()
        .seed_image(SeedRequest {
            generate: Some(ReportSpec {
                seed: 12,
                ..ReportSpec::default()
            }),
            timing: LifecycleRequest {
                never_processed: true,
                ..LifecycleRequest::default()
            },
            ..SeedRequest::default()
        })
        .expect("seeded");
    let (never, _) = emu
        .control()
        .seed_image(SeedRequest {
            generate: Some(ReportSpec {
                seed: 13,
                ..ReportSpec::default()
            }),
            timing: LifecycleRequest {
                never_scanned: true,
                ..LifecycleRequest::default()
            },
            ..SeedRequest::default()
        })
        .expect("seeded");
    emu.control().advance(Duration::from_secs(86_400 * 30));
    let t = demo_token(&emu).await;
    assert_eq!(emu.control().phase(&stuck), qcs_emulator::Phase::Processing);
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{stuck}")).await).await;
    assert!(d["vulnerabilities"].is_null());
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{never}"))
            .await
            .status()
            .as_u16(),
        404
    );

    // Bad ids and versions.
    let r = get(&emu, &t, "/csapi/v1.3/images/not-hex").await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        json(r).await["message"]
            .as_str()
            .expect("m")
            .contains("64-hex")
    );
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.1/images/{sha}"))
            .await
            .status()
            .as_u16(),
        404
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn list_filters_pagination_sorting_and_bad_qql() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let mut shas = Vec::new();
    for i in 0..5u64 {
        let (sha, _) = emu
            .control()
            .seed_image(SeedRequest {
                generate: Some(ReportSpec {
                    seed: 100 + i,
                    vulnerabilities: 3,
                    packages: 5,
                    ..ReportSpec::default()
                }),
                ..SeedRequest::default()
            })
            .expect("seeded");
        shas.push(sha);
        emu.control().advance(Duration::from_secs(10));
    }
    // No filter: all five, newest first by default; count is the total, data one page.
    let r = json(get(&emu, &t, "/csapi/v1.3/images?pageSize=2&pageNumber=3").await).await;
    assert_eq!(r["count"], 5);
    assert_eq!(r["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        r["data"][0]["sha"],
        shas[0].as_str(),
        "oldest is on the last page"
    );
    let r = json(get(&emu, &t, "/csapi/v1.3/images?sort=updated:asc&pageSize=1").await).await;
    assert_eq!(r["data"][0]["sha"], shas[0].as_str());
    // updated comparisons and ranges, AND in capitals, imageId.
    let cut = T0 + 25_000;
    let r = json(
        get(
            &emu,
            &t,
            &format!("/csapi/v1.3/images?filter=updated%3E{cut}"),
        )
        .await,
    )
    .await;
    assert_eq!(r["count"], 2);
    let f = format!(
        "not+lastScanned+is+null+AND+updated%3E{cut}+AND+imageId%3A{}",
        &shas[4][..12]
    );
    let r = json(get(&emu, &t, &format!("/csapi/v1.3/images?filter={f}")).await).await;
    assert_eq!(r["count"], 1);
    let f =
        "updated%3A%5B%222024-06-01T12%3A00%3A00.000Z%22..%222024-06-01T12%3A00%3A15.000Z%22%5D";
    let r = json(get(&emu, &t, &format!("/csapi/v1.3/images?filter={f}")).await).await;
    assert_eq!(r["count"], 2, "T0 and T0+10s");
    // Beyond the last page: 200 with an empty page (count still tells the total).
    let r = json(get(&emu, &t, "/csapi/v1.3/images?pageSize=5&pageNumber=2").await).await;
    assert_eq!(r["count"], 5);
    assert_eq!(r["data"], json!([]));
    // Errors: 400 with a message.
    for q in [
        "filter=vulnerabilities.severity%3A5",
        "filter=sha%3A",
        "filter=lastScanned%3A%5Bnow-5x+...+now%5D",
        "pageNumber=0",
        "pageSize=1001",
        "pageSize=1000&pageNumber=11",
        "sort=size:asc",
    ] {
        let r = get(&emu, &t, &format!("/csapi/v1.3/images?{q}")).await;
        assert_eq!(r.status().as_u16(), 400, "{q}");
        let body = json(r).await;
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{q}: {body}"
        );
        assert_eq!(body["errorCode"], "400 BAD_REQUEST");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn rate_limit_headers_429_and_window_reopening() {
    let emu = start(EmulatorConfig {
        rate_limit: RateLimitConfig {
            limit: 3,
            window_secs: 60,
        },
        ..config()
    })
    .await
    .expect("start");
    let t = demo_token(&emu).await;
    for remaining in [2, 1, 0] {
        let r = get(&emu, &t, "/csapi/v1.3/images").await;
        assert_eq!(r.status().as_u16(), 204);
        assert_eq!(r.headers()["x-ratelimit-limit"], "3");
        assert_eq!(r.headers()["x-ratelimit-window-sec"], "60");
        assert_eq!(
            r.headers()["x-ratelimit-remaining"],
            remaining.to_string().as_str()
        );
    }
    emu.control().advance(Duration::from_secs(20));
    let r = get(&emu, &t, "/csapi/v1.3/images/0123456789ab").await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "40");
    assert_eq!(r.headers()["x-ratelimit-towait-sec"], "40");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(json(r).await["errorCode"], "429 TOO_MANY_REQUESTS");
    // /auth is exempt.
    let _ = demo_token(&emu).await;
    emu.control().advance(Duration::from_secs(40));
    let r = get(&emu, &t, "/csapi/v1.3/images").await;
    assert_eq!(r.status().as_u16(), 204);
    // Limit changed at run time through the control API.
    let r = control_post(
        &emu,
        "rate-limit",
        &json!({"limit": 1000, "window_secs": 60}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        get(&emu, &t, "/csapi/v1.3/images").await.headers()["x-ratelimit-limit"],
        "1000"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn scenario_file_image_dir_users_and_faults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).expect("mkdir");
    let doc = qcs_emulator::generate(&ReportSpec {
        seed: 77,
        vulnerabilities: 4,
        ..ReportSpec::default()
    });
    let sha_file = doc["sha"].as_str().expect("sha").to_owned();
    std::fs::write(reports.join("a.json"), doc.to_string()).expect("write");
    std::fs::write(reports.join("ignored.txt"), "x").expect("write");
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        r#"
token-lifetime-secs = 120
image-dir = "reports"
hide-last-scanned-while-processing = true
[[users]]
username = "ci"
password = "pw"
[[images]]
generate = { seed = 5, base = "alpine", vulnerabilities = 2, packages = 3 }
sha = "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccddddddddddddeeeeeeeeeeeeffff"
upload_after_secs = 10
processing_secs = 5
[[faults]]
endpoint = "images/{id}"
kind = "status"
status = 502
times = 1
"#,
    )
    .expect("write");
    let emu = start(EmulatorConfig {
        scenario: Some(scenario),
        ..config()
    })
    .await
    .expect("start");
    let base = emu.base_url();
    // The default demo user was replaced by the scenario's.
    let r = http()
        .post(format!("{base}/auth"))
        .form(&[("username", "qcs-demo"), ("password", "qcs-demo")])
        .send()
        .await
        .expect("call");
    assert_eq!(r.status().as_u16(), 401);
    let t = token(&emu, "ci", "pw").await;
    assert_eq!(
        claims(&t)["exp"].as_u64().expect("exp") - claims(&t)["iat"].as_u64().expect("iat"),
        120
    );
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{sha_file}"))
            .await
            .status()
            .as_u16(),
        502
    );
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha_file}")).await).await;
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(4));
    let generated = "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccddddddddddddeeeeeeeeeeeeffff";
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{generated}"))
            .await
            .status()
            .as_u16(),
        404
    );
    emu.control().advance(Duration::from_secs(10));
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{generated}")).await).await;
    assert_eq!(d["operatingSystem"], "Alpine Linux 3.19.1");
    // Processing, with lastScanned hidden: details say null, a lastScanned filter finds nothing.
    assert!(d["vulnerabilities"].is_null() && d["lastScanned"].is_null());
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(generated, 60)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);
    emu.control().advance(Duration::from_secs(5));
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(generated, 60)),
    )
    .await;
    assert_eq!(
        r.status().as_u16(),
        200,
        "processed: lastScanned is the upload time"
    );
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{generated}")).await).await;
    assert_eq!(d["vulnerabilities"].as_array().map(Vec::len), Some(2));
    assert_eq!(d["lastScanned"], (T0 + 10_000).to_string());
    emu.shutdown().await;

    // A broken scenario is refused with the file and the reason.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[faults]]\nendpoint = \"images\"\nkind = \"explode\"\n",
    )
    .expect("write");
    let e = start(EmulatorConfig {
        scenario: Some(bad),
        ..config()
    })
    .await
    .expect_err("invalid");
    assert!(e.to_string().contains("bad.toml"), "{e}");
}

#[tokio::test]
async fn control_api_state_advance_and_errors() {
    let emu = emulator().await;
    let base = emu.base_url();
    let h = json(
        http()
            .get(format!("{base}/_emulator/health"))
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(h["now"], T0);
    assert_eq!(h["frozen"], true);
    let r = json(control_post(&emu, "advance", &json!({"seconds": 90})).await).await;
    assert_eq!(r["now"], T0 + 90_000);
    let r = control_post(&emu, "advance", &json!({"seconds": 1, "ms": 1})).await;
    assert_eq!(r.status().as_u16(), 400);
    let r = control_post(&emu, "images", &json!({"document": {"sha": "sha256:nope"}})).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        json(r).await["message"]
            .as_str()
            .expect("m")
            .contains("64 hex")
    );
    let r = control_post(&emu, "images", &json!({"bogus": 1})).await;
    assert_eq!(r.status().as_u16(), 400);
    let doc = qcs_emulator::generate(&ReportSpec {
        seed: 3,
        vulnerabilities: 1,
        ..ReportSpec::default()
    });
    let r = json(
        control_post(
            &emu,
            "images",
            &json!({"document": doc, "never_processed": true}),
        )
        .await,
    )
    .await;
    assert_eq!(r["phase"], "processing");
    let sha = r["sha"].as_str().expect("sha").to_owned();
    let r = json(control_post(&emu, &format!("images/{sha}/lifecycle"), &json!({})).await).await;
    assert_eq!(r["phase"], "processed");
    let st = json(
        http()
            .get(format!("{base}/_emulator/state"))
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(st["images"][0]["phase"], "processed");
    assert_eq!(st["images"][0]["vulnerabilities"], 1);
    assert!(
        st["users"][0].get("password").is_none(),
        "no secrets in the state"
    );
    // A large real-world document (several MB) is accepted by the control API.
    let big = qcs_emulator::generate(&ReportSpec {
        seed: 4,
        vulnerabilities: 3_000,
        packages: 600,
        ..ReportSpec::default()
    });
    let big_len = big.to_string().len();
    assert!(big_len > 4 * 1024 * 1024, "{big_len}");
    let r = control_post(&emu, "images", &json!({ "document": big })).await;
    assert_eq!(r.status().as_u16(), 201);
    emu.shutdown().await;
}
