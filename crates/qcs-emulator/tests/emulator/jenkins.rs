//! The Jenkins plugin's exact requests (`plugin-behaviour.md` §1, `qualys-api.md` §2.1, §3.1),
//! replayed as raw HTTP/1.1 over a TCP socket, through the whole lifecycle under every
//! processing profile: what the plugin sends, byte for byte as its `Apache HttpClient` does, and
//! the status codes and body fields the plugin reads.

use crate::common::*;
use base64::Engine as _;
use qcs_emulator::{EmulatorConfig, LifecycleRequest, ProcessingProfile, SeedRequest, User, start};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One raw answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends `request` as is on a fresh connection and reads the answer to the end.
async fn raw(addr: std::net::SocketAddr, request: &str) -> Answer {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("send");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status = status_line[9..12].parse().expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        loop {
            let nl = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size");
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16)
                .expect("hex size");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[nl + 2 + size + 2..];
        }
        body = out;
    }
    Answer {
        status,
        headers,
        body,
    }
}

const USER_AGENT: &str = "Apache-HttpClient/4.5.14 (Java/11.0.22)";

/// `QualysAuth`: `POST /auth` with the form body and the plugin's headers.
fn auth_request(host: &str, username: &str, password: &str) -> String {
    let body = format!(
        "username={}&password={}&token=true",
        url_encoder(username),
        url_encoder(password)
    );
    format!(
        "POST /auth HTTP/1.1\r\naccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: {USER_AGENT}\r\nAccept-Encoding: gzip,deflate\r\n\r\n{body}",
        body.len()
    )
}

/// `QualysCSClient.get`: a GET with `accept: application/json` and the Bearer token.
fn get_request(host: &str, path_and_query: &str, token: &str) -> String {
    format!(
        "GET {path_and_query} HTTP/1.1\r\naccept: application/json\r\nAuthorization: Bearer {token}\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: {USER_AGENT}\r\nAccept-Encoding: gzip,deflate\r\n\r\n"
    )
}

/// The plugin's list call for `sha`, `n` seconds after tagging.
fn list_path(sha: &str, n: u64) -> String {
    format!(
        "/csapi/v1.3/images?filter={}",
        url_encoder(&format!("sha:{sha} and lastScanned: [now-{n}s ... now]"))
    )
}

/// What the plugin checks in the token (`validateSubscription`): the payload decodes with
/// `java.util.Base64.getDecoder()` (standard alphabet) and `modulesAllowed` holds `"CS"`.
fn plugin_accepts_token(token: &str) {
    let payload = token.split('.').nth(1).expect("three parts");
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let claims: Value =
        serde_json::from_slice(&engine.decode(payload).expect("standard base64")).expect("JSON");
    assert!(
        claims["modulesAllowed"].to_string().contains("\"CS\""),
        "{claims}"
    );
}

/// The fields the plugin reads from a processed document, with the types its Gson calls need
/// (`qualys-api.md` §4.7).
fn plugin_can_evaluate(doc: &Value, sha: &str) {
    assert_eq!(doc["sha"].as_str(), Some(sha));
    assert!(doc["imageId"].is_string());
    assert!(doc["size"].is_u64());
    assert!(
        doc["repo"]
            .as_array()
            .is_some_and(|r| r[0]["tag"].is_string())
    );
    assert!(
        doc["layers"]
            .as_array()
            .is_some_and(|l| l.iter().all(|l| l["createdBy"].is_string()))
    );
    let vulns = doc["vulnerabilities"].as_array().expect("an array");
    assert!(!vulns.is_empty());
    for v in vulns {
        assert!(v["qid"].is_u64() && v["severity"].is_u64(), "{v}");
        assert!(v["typeDetected"].is_string(), "{v}");
        assert!(v["cveids"].is_array(), "{v}");
        assert!(v["cvssInfo"]["baseScore"].is_string(), "{v}");
        assert!(v["cvss3Info"]["baseScore"].is_string(), "{v}");
        assert!(v["threatIntel"].is_object(), "{v}");
    }
    assert!(
        doc["softwares"]
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["name"].is_string()))
    );
}

/// What one plugin poll saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// List 204: not scanned yet.
    NotScanned,
    /// List 200, details `vulnerabilities: null`.
    Processing,
    /// List 200, details with a `vulnerabilities` array: the plugin stops here.
    Done(Value),
}

/// The plugin's polling loop (`GetImageVulnsNotifier`): N = seconds since tagging (0 on the
/// first poll), 30 s apart, until data or 600 s. Returns what each poll saw, with its N.
async fn plugin_polls(
    emu: &qcs_emulator::RunningEmulator,
    token: &str,
    sha: &str,
    tagging_ms: u64,
) -> Vec<(u64, Seen)> {
    let addr = emu.addr();
    let host = addr.to_string();
    let mut seen = Vec::new();
    loop {
        let n = (emu.control().now_ms() - tagging_ms) / 1000;
        if n > 600 {
            break;
        }
        let list = raw(addr, &get_request(&host, &list_path(sha, n), token)).await;
        let step = match list.status {
            204 => {
                assert!(list.body.is_empty(), "204 has no body");
                Seen::NotScanned
            }
            200 => {
                assert!(list.json().is_object(), "the plugin needs a JSON object");
                assert_eq!(list.header("content-type"), Some("application/json"));
                let details = raw(
                    addr,
                    &get_request(&host, &format!("/csapi/v1.3/images/{sha}"), token),
                )
                .await;
                assert_eq!(details.status, 200);
                let doc = details.json();
                assert_eq!(doc["sha"].as_str(), Some(sha), "getAsString on sha");
                match &doc["vulnerabilities"] {
                    Value::Null => Seen::Processing,
                    Value::Array(_) => Seen::Done(doc),
                    other => panic!("vulnerabilities is neither null nor an array: {other}"),
                }
            }
            other => panic!(
                "the plugin polls on through {other}, but the emulator should not send it: {}",
                String::from_utf8_lossy(&list.body)
            ),
        };
        let done = matches!(step, Seen::Done(_));
        seen.push((n, step));
        if done {
            break;
        }
        emu.control().advance(Duration::from_secs(30));
    }
    seen
}

fn shape(seen: &[(u64, Seen)]) -> Vec<(u64, &'static str)> {
    seen.iter()
        .map(|(n, s)| {
            (
                *n,
                match s {
                    Seen::NotScanned => "204",
                    Seen::Processing => "processing",
                    Seen::Done(_) => "done",
                },
            )
        })
        .collect()
}

async fn emulator_with(profile: ProcessingProfile) -> qcs_emulator::RunningEmulator {
    let emu = start(EmulatorConfig {
        processing_profile: profile,
        ..config()
    })
    .await
    .expect("start");
    emu.control().add_user(User {
        username: "jenkins@acme.example".into(),
        password: "P@ss w:rd&1+/=".into(),
        modules: vec!["VM SCANNER".into(), "CS".into()],
    });
    emu
}

/// The plugin authenticates with its exact form body and headers.
async fn plugin_token(emu: &qcs_emulator::RunningEmulator) -> String {
    let host = emu.addr().to_string();
    let a = raw(
        emu.addr(),
        &auth_request(&host, "jenkins@acme.example", "P@ss w:rd&1+/="),
    )
    .await;
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let token = String::from_utf8(a.body).expect("text");
    assert_eq!(token.split('.').count(), 3, "a raw JWT, not JSON: {token}");
    plugin_accepts_token(&token);
    // A wrong password (same encoding) is a 401 with a body the plugin prints.
    let bad = raw(
        emu.addr(),
        &auth_request(&host, "jenkins@acme.example", "P@ss w:rd&1+"),
    )
    .await;
    assert_eq!(bad.status, 401);
    assert!(!bad.body.is_empty());
    token
}

#[tokio::test]
async fn the_plugin_flow_under_every_profile() {
    for profile in ProcessingProfile::ALL {
        let emu = emulator_with(profile).await;
        let token = plugin_token(&emu).await;
        // Tagged at T0; the sensor uploads 40 s later; processed 60 s after that.
        let tagging = emu.control().now_ms();
        let (sha, _) = emu
            .control()
            .seed_image(SeedRequest {
                generate: Some(qcs_emulator::ReportSpec {
                    seed: 31,
                    vulnerabilities: 25,
                    packages: 60,
                    ..qcs_emulator::ReportSpec::default()
                }),
                timing: LifecycleRequest {
                    upload_in_secs: 40,
                    processing_secs: 60,
                    ..LifecycleRequest::default()
                },
                ..SeedRequest::default()
            })
            .expect("seeded");
        let seen = plugin_polls(&emu, &token, &sha, tagging).await;
        let expected: Vec<(u64, &str)> = match profile {
            // The list matches from the upload: the plugin reads "To be processed" twice.
            ProcessingProfile::LastScannedAtUpload | ProcessingProfile::CountsNullWithStatus => {
                vec![
                    (0, "204"),
                    (30, "204"),
                    (60, "processing"),
                    (90, "processing"),
                    (120, "done"),
                ]
            }
            // lastScanned null until processed: the list stays 204 until then.
            ProcessingProfile::LastScannedWhenProcessed => vec![
                (0, "204"),
                (30, "204"),
                (60, "204"),
                (90, "204"),
                (120, "done"),
            ],
        };
        assert_eq!(shape(&seen), expected, "{profile}");
        let Some((_, Seen::Done(doc))) = seen.last() else {
            panic!("{profile}: no report")
        };
        plugin_can_evaluate(doc, &sha);
        assert_eq!(
            doc["lastScanned"],
            (tagging + 40_000).to_string(),
            "{profile}"
        );
        assert_eq!(doc["scanStatus"], "SUCCESS", "{profile}");
        assert_eq!(doc["vulnerabilities"].as_array().map(Vec::len), Some(25));

        // While processing, the list item and details as each profile shows them, through the
        // plugin's own requests.
        if profile != ProcessingProfile::LastScannedWhenProcessed {
            let (sha2, _) = emu
                .control()
                .seed_image(SeedRequest {
                    generate: Some(qcs_emulator::ReportSpec {
                        seed: 32,
                        ..qcs_emulator::ReportSpec::default()
                    }),
                    timing: LifecycleRequest {
                        processing_secs: 60,
                        ..LifecycleRequest::default()
                    },
                    ..SeedRequest::default()
                })
                .expect("seeded");
            let host = emu.addr().to_string();
            let list = raw(
                emu.addr(),
                &get_request(&host, &list_path(&sha2, 0), &token),
            )
            .await;
            assert_eq!(list.status, 200, "{profile}");
            let item = &list.json()["data"][0];
            let details = raw(
                emu.addr(),
                &get_request(&host, &format!("/csapi/v1.3/images/{sha2}"), &token),
            )
            .await
            .json();
            assert!(details["vulnerabilities"].is_null());
            if profile == ProcessingProfile::CountsNullWithStatus {
                assert_eq!(
                    item["vulnerabilities"],
                    json!({"severity5Count": null, "severity3Count": null, "severity4Count": null, "severity1Count": null, "severity2Count": null})
                );
                assert_eq!(item["scanStatus"], "PENDING");
                assert_eq!(details["scanStatus"], "PENDING");
                assert!(details["scanErrorCode"].is_null());
            } else {
                assert!(item["vulnerabilities"].is_null());
                assert!(details["scanStatus"].is_null());
            }
        }
        emu.shutdown().await;
    }
}

/// A re-scan replayed the plugin's way: under the two profiles whose list matches at the
/// upload, the plugin's first "done" is the previous scan's document (older `lastScanned` than
/// the tagging: the hazard `qcs` must refuse); under the default it gets the new report.
#[tokio::test]
async fn the_plugin_flow_on_a_rescan() {
    for profile in ProcessingProfile::ALL {
        let emu = emulator_with(profile).await;
        let token = plugin_token(&emu).await;
        let tagging = emu.control().now_ms();
        let (sha, _) = emu
            .control()
            .seed_image(SeedRequest {
                generate: Some(qcs_emulator::ReportSpec {
                    seed: 33,
                    vulnerabilities: 12,
                    ..qcs_emulator::ReportSpec::default()
                }),
                previous_scan: Some(qcs_emulator::PreviousScan::default()),
                timing: LifecycleRequest {
                    upload_in_secs: 20,
                    processing_secs: 60,
                    ..LifecycleRequest::default()
                },
                ..SeedRequest::default()
            })
            .expect("seeded");
        let seen = plugin_polls(&emu, &token, &sha, tagging).await;
        let Some((n, Seen::Done(doc))) = seen.last() else {
            panic!("{profile}: no report: {seen:?}")
        };
        let last_scanned: u64 = doc["lastScanned"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("lastScanned");
        match profile {
            ProcessingProfile::LastScannedWhenProcessed => {
                assert_eq!(*n, 90, "{profile}: {seen:?}");
                assert_eq!(last_scanned, tagging + 20_000);
                assert_eq!(doc["vulnerabilities"].as_array().map(Vec::len), Some(12));
            }
            _ => {
                assert_eq!(*n, 30, "{profile}: {seen:?}");
                assert_eq!(
                    last_scanned,
                    tagging - 86_400_000,
                    "{profile}: the old scan"
                );
                assert_eq!(doc["vulnerabilities"], json!([]), "{profile}");
            }
        }
        emu.shutdown().await;
    }
}
