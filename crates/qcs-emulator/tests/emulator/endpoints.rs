//! The bulk list (`/images/list` with `Link` paging and its own rate limit), `/images/{id}/vuln`
//! and `/images/{id}/software`, over real HTTP.

use crate::common::*;
use qcs_emulator::{Base, LifecycleRequest, RateLimitConfig, ReportSpec, SeedRequest};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// Seeds `n` processed images, `updated` one second apart except the last two (same instant).
fn seed_many(emu: &qcs_emulator::RunningEmulator, n: u64) -> Vec<String> {
    let mut shas = Vec::new();
    for i in 0..n {
        let (sha, _) = emu
            .control()
            .seed_image(SeedRequest {
                generate: Some(ReportSpec {
                    seed: 100 + i,
                    base: if i % 2 == 0 {
                        Base::Alpine
                    } else {
                        Base::Debian
                    },
                    vulnerabilities: 3,
                    packages: 5,
                    ..ReportSpec::default()
                }),
                ..SeedRequest::default()
            })
            .expect("seeded");
        shas.push(sha);
        if i + 2 < n {
            emu.control().advance(Duration::from_secs(1));
        }
    }
    shas
}

fn next_link(r: &reqwest::Response) -> Option<String> {
    let link = r
        .headers()
        .get("link")
        .expect("a Link header on every page")
        .to_str()
        .expect("text")
        .to_owned();
    if link == "null" {
        return None;
    }
    let url = link
        .strip_prefix('<')
        .and_then(|l| l.strip_suffix(">;rel=next"))
        .unwrap_or_else(|| panic!("not <…>;rel=next: {link}"));
    Some(url.to_owned())
}

#[tokio::test]
async fn the_bulk_list_pages_through_link_headers() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let shas = seed_many(&emu, 7);
    let mut seen = Vec::new();
    let mut url = format!("{}/csapi/v1.3/images/list?limit=2", emu.base_url());
    let mut pages = 0;
    loop {
        let r = http()
            .get(&url)
            .bearer_auth(&t)
            .header("accept", "application/json")
            .send()
            .await
            .expect("call");
        assert_eq!(r.status().as_u16(), 200, "{url}");
        assert_eq!(r.headers()["x-ratelimit-limit"], "120");
        let next = next_link(&r);
        let body = json(r).await;
        let data = body["data"].as_array().expect("data");
        assert!(data.len() <= 2);
        for item in data {
            seen.push(item["sha"].as_str().expect("sha").to_owned());
            // The details shape, findings reduced to qid/result/software, lastFoundOnHost.
            assert!(item["softwares"].is_array() && item["layers"].is_array());
            assert!(item.get("host").is_none());
            assert!(item["lastFoundOnHost"]["hostname"].is_string());
            for v in item["vulnerabilities"].as_array().expect("findings") {
                let keys: BTreeSet<&str> = v
                    .as_object()
                    .expect("object")
                    .keys()
                    .map(String::as_str)
                    .collect();
                assert_eq!(keys, BTreeSet::from(["qid", "result", "software"]));
            }
        }
        pages += 1;
        match next {
            Some(n) => {
                assert!(n.contains("paginationQuery=updated%3E%3D"), "{n}");
                url = n;
            }
            None => break,
        }
    }
    assert_eq!(pages, 4);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 7, "every image once: {seen:?}");
    assert_eq!(unique, shas.iter().collect::<BTreeSet<_>>());

    // The two images updated at the same instant split across pages through `not uuid: […]`.
    let r = get(&emu, &t, "/csapi/v1.3/images/list?limit=6").await;
    let link = next_link(&r).expect("a next page");
    assert!(link.contains("+AND+not+uuid%3A+%5B"), "{link}");
    assert_eq!(json(r).await["data"].as_array().map(Vec::len), Some(6));

    // A filter is kept in the link; v1.2 works too.
    let r = get(
        &emu,
        &t,
        "/csapi/v1.2/images/list?limit=1&filter=operatingSystem%3Aalpine",
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    let mut link = next_link(&r);
    let mut alpine = json(r).await["data"].as_array().expect("data").len();
    while let Some(l) = link {
        assert!(l.contains("/csapi/v1.2/images/list?limit=1&filter=operatingSystem%3Aalpine&"));
        let r = http().get(&l).bearer_auth(&t).send().await.expect("call");
        link = next_link(&r);
        alpine += json(r).await["data"].as_array().expect("data").len();
    }
    assert_eq!(alpine, 4);

    // Nothing matches: 204; bad parameters: 400.
    let r = get(&emu, &t, "/csapi/v1.3/images/list?filter=sha%3A0000").await;
    assert_eq!(r.status().as_u16(), 204);
    for q in [
        "limit=0",
        "limit=251",
        "limit=x",
        "paginationQuery=page%3D2",
        "filter=lastScanned%3A%5B",
    ] {
        let r = get(&emu, &t, &format!("/csapi/v1.3/images/list?{q}")).await;
        assert_eq!(r.status().as_u16(), 400, "{q}");
        assert!(json(r).await["message"].is_string());
    }
    assert_eq!(
        emu.control().requests().counts.get("images/list").copied(),
        Some(15)
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_bulk_list_has_its_own_rate_limit() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    seed_many(&emu, 2);
    emu.control().set_list_rate_limit(RateLimitConfig {
        limit: 3,
        window_secs: 60,
    });
    for i in 0..3 {
        let r = get(&emu, &t, "/csapi/v1.3/images/list").await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["x-ratelimit-remaining"], (2 - i).to_string());
    }
    let r = get(&emu, &t, "/csapi/v1.3/images/list").await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["x-ratelimit-limit"], "3");
    assert!(r.headers().contains_key("retry-after"));
    // The /images/** limit is apart.
    let r = get(&emu, &t, "/csapi/v1.3/images").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-ratelimit-limit"], "5000");
    emu.control().advance(Duration::from_secs(60));
    let r = get(&emu, &t, "/csapi/v1.3/images/list").await;
    assert_eq!(r.status().as_u16(), 200);
    // Through the control API too.
    let r = control_post(
        &emu,
        "list-rate-limit",
        &json!({"limit": 1, "window_secs": 60}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 204);
    let r = get(&emu, &t, "/csapi/v1.3/images/list").await;
    assert_eq!(r.status().as_u16(), 429);
    emu.shutdown().await;
}

#[tokio::test]
async fn vuln_and_software_follow_the_details() {
    let emu = emulator().await;
    let t = demo_token(&emu).await;
    let (sha, _) = emu
        .control()
        .seed_image(SeedRequest {
            generate: Some(ReportSpec {
                seed: 120,
                vulnerabilities: 40,
                packages: 30,
                ..ReportSpec::default()
            }),
            timing: LifecycleRequest {
                processing_secs: 10,
                ..LifecycleRequest::default()
            },
            ..SeedRequest::default()
        })
        .expect("seeded");
    // Processing: no findings yet.
    let v = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln")).await).await;
    assert_eq!(v, json!({"details": null}));
    emu.control().advance(Duration::from_secs(10));
    let doc = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;

    let all = json(
        get(
            &emu,
            &t,
            &format!("/csapi/v1.3/images/{sha}/vuln?type=ALL&applyException=true"),
        )
        .await,
    )
    .await;
    assert_eq!(all["details"], doc["vulnerabilities"]);
    let summary = json(
        get(
            &emu,
            &t,
            &format!("/csapi/v1.3/images/{}/vuln?type=SUMMARY", &sha[..12]),
        )
        .await,
    )
    .await;
    let first = summary["details"][0].as_object().expect("finding");
    assert_eq!(
        first.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "qid",
            "title",
            "severity",
            "typeDetected",
            "cveids",
            "patchAvailable"
        ])
    );
    let sev5 = json(
        get(
            &emu,
            &t,
            &format!(
                "/csapi/v1.3/images/{sha}/vuln?filter=vulnerabilities.severity%3A5+and+typeDetected%3ACONFIRMED&sort=vulnerabilities.qid%3Adesc"
            ),
        )
        .await,
    )
    .await;
    let expected: Vec<u64> = {
        let mut q: Vec<u64> = doc["vulnerabilities"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|v| v["severity"] == 5 && v["typeDetected"] == "CONFIRMED")
            .map(|v| v["qid"].as_u64().expect("qid"))
            .collect();
        q.sort_unstable();
        q.reverse();
        q
    };
    let got: Vec<u64> = sev5["details"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v["qid"].as_u64().expect("qid"))
        .collect();
    assert_eq!(got, expected);
    let l4s = json(
        get(
            &emu,
            &t,
            &format!("/csapi/v1.3/images/{sha}/vuln?filter=cveids%3ACVE-2021-44228"),
        )
        .await,
    )
    .await;
    assert_eq!(l4s["details"][0]["qid"], 376_209);
    for q in [
        "type=FULL",
        "filter=port%3A22",
        "filter=severity",
        "sort=title%3Aasc",
    ] {
        let r = get(&emu, &t, &format!("/csapi/v1.3/images/{sha}/vuln?{q}")).await;
        assert_eq!(r.status().as_u16(), 400, "{q}");
    }
    let r = get(&emu, &t, "/csapi/v1.3/images/0123456789ab/vuln").await;
    assert_eq!(r.status().as_u16(), 404);

    let sw = json(get(&emu, &t, &format!("/csapi/v1.2/images/{sha}/software")).await).await;
    let data = sw["data"].as_array().expect("data");
    assert_eq!(data.len(), 30);
    let links: u64 = doc["softwares"]
        .as_array()
        .expect("softwares")
        .iter()
        .map(|s| s["vulnerabilities"].as_array().map_or(0, Vec::len) as u64)
        .sum();
    let counted: u64 = data
        .iter()
        .map(|s| {
            (1..=5)
                .map(|i| {
                    s["vulnerabilities"][format!("severity{i}Count")]
                        .as_u64()
                        .expect("count")
                })
                .sum::<u64>()
        })
        .sum();
    assert_eq!(counted, links);
    for s in data {
        assert!(s["name"].is_string() && s["layerSha"].is_array(), "{s}");
    }
    let log4j: &Value = data
        .iter()
        .find(|s| s["name"] == "org.apache.logging.log4j:log4j-core")
        .expect("log4j-core");
    assert!(
        log4j["vulnerabilities"]["severity5Count"]
            .as_u64()
            .is_some_and(|n| n >= 1)
    );
    assert!(!log4j["layerSha"].as_array().expect("layers").is_empty());
    let counts = emu.control().requests().counts;
    assert!(counts.contains_key("images/{id}/vuln") && counts.contains_key("images/{id}/software"));
    emu.shutdown().await;
}
