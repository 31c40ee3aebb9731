//! Shared helpers: start an emulator on an ephemeral port with a frozen clock, authenticate.

use qcs_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;
use std::fmt::Write as _;

pub(crate) use qcs_test_support::emulator::T0;

pub(crate) fn config() -> EmulatorConfig {
    qcs_test_support::emulator::frozen_config()
}

pub(crate) async fn emulator() -> RunningEmulator {
    qcs_test_support::emulator::start(config()).await
}

pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

pub(crate) async fn token(emu: &RunningEmulator, user: &str, password: &str) -> String {
    let r = http()
        .post(format!("{}/auth", emu.base_url()))
        .form(&[
            ("username", user),
            ("password", password),
            ("token", "true"),
        ])
        .send()
        .await
        .expect("auth call");
    assert_eq!(r.status().as_u16(), 201);
    r.text().await.expect("token text")
}

pub(crate) async fn demo_token(emu: &RunningEmulator) -> String {
    token(emu, "qcs-demo", "qcs-demo").await
}

pub(crate) async fn get(
    emu: &RunningEmulator,
    token: &str,
    path_and_query: &str,
) -> reqwest::Response {
    http()
        .get(format!("{}{path_and_query}", emu.base_url()))
        .bearer_auth(token)
        .header("accept", "application/json")
        .send()
        .await
        .expect("request")
}

pub(crate) async fn json(r: reqwest::Response) -> Value {
    let bytes = r.bytes().await.expect("body");
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

pub(crate) async fn control_post(
    emu: &RunningEmulator,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    http()
        .post(format!("{}/_emulator/{path}", emu.base_url()))
        .json(body)
        .send()
        .await
        .expect("control call")
}

/// The plugin's list filter, encoded like Java's `URLEncoder.encode` (space as `+`).
pub(crate) fn plugin_filter(sha: &str, seconds: u64) -> String {
    url_encoder(&format!(
        "sha:{sha} and lastScanned: [now-{seconds}s ... now]"
    ))
}

/// Java's `URLEncoder.encode(s, "UTF-8")`, as the plugin encodes its form and query values.
pub(crate) fn url_encoder(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(b));
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
