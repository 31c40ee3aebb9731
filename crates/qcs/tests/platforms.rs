//! `qcs platforms`: the table and the JSON list.

use assert_cmd::Command;

fn qcs() -> Command {
    let mut c = Command::cargo_bin("qcs").expect("the qcs binary is built");
    c.env_clear().env("NO_COLOR", "1");
    c
}

#[test]
fn the_table_lists_every_platform() {
    let out = qcs().arg("platforms").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for code in [
        "US1", "US2", "US3", "US4", "EU1", "EU2", "EU3", "IN1", "CA1", "AE1", "UK1", "AU1", "KSA1",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{code} "))),
            "{code} missing:\n{text}"
        );
    }
    assert!(text.contains("https://gateway.qg2.apps.qualys.com"));
    assert!(text.contains("US_PLATFORM_2"));
}

#[test]
fn json_has_all_urls() {
    let out = qcs()
        .args(["platforms", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 13);
    assert_eq!(
        list[0]["gateway_url"],
        "https://gateway.qg1.apps.qualys.com"
    );
    assert_eq!(list[0]["api_url"], "https://qualysapi.qualys.com");
    assert!(list.iter().all(|p| {
        p["portal_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://qualysguard."))
    }));
}
