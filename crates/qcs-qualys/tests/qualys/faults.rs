//! Every fault kind the emulator offers, on the list, details and auth endpoints: transient
//! ones end in the result, lasting ones in the right error, 400/403 at once.

use std::time::Duration;

use qcs_core::exit::ExitCode;
use qcs_emulator::{FaultAction, RateLimitConfig};
use qcs_qualys::{QualysError, WaitOptions, WaitState};

use crate::common::{client, client_config, count, emulator, fault, recorder, request, seed};

fn status(status: u16, retry_after_secs: Option<u64>) -> FaultAction {
    FaultAction::Status {
        status,
        message: Some(format!("injected {status}")),
        retry_after_secs,
    }
}

/// Waits for an image that is ready at once, with `rule` active; returns the result.
async fn wait_with(
    endpoint: &str,
    action: FaultAction,
    times: Option<u32>,
) -> (
    qcs_emulator::RunningEmulator,
    Result<qcs_qualys::ScanResult, QualysError>,
) {
    let emu = emulator().await;
    let sha = seed(&emu, 7, 0, 0);
    emu.control()
        .inject(fault(endpoint, action, times))
        .unwrap();
    let opts = WaitOptions {
        timeout: Duration::from_secs(120),
        ..WaitOptions::default()
    };
    let (cb, _) = recorder();
    let mut cfg = client_config(&emu);
    cfg.request_timeout = Duration::from_millis(400);
    let c = qcs_qualys::QualysClient::new(cfg).unwrap();
    let r = c.wait_for_scan(&request(&emu, &sha), &opts, cb).await;
    (emu, r)
}

#[tokio::test]
async fn transient_faults_are_retried_to_the_result() {
    let cases: Vec<(&str, FaultAction)> = vec![
        ("images", status(500, None)),
        ("images", status(502, None)),
        ("images", status(503, None)),
        ("images/{id}", status(504, None)),
        ("images", FaultAction::Delay { ms: 50 }),
        ("images", FaultAction::Hang),
        ("images/{id}", FaultAction::Hang),
        ("images", FaultAction::Drop),
        ("images/{id}", FaultAction::Drop),
        ("images", FaultAction::Truncate),
        ("images/{id}", FaultAction::Truncate),
        ("images", FaultAction::Malformed),
        ("images/{id}", FaultAction::Malformed),
        ("images", FaultAction::WrongContentType),
        ("images/{id}", FaultAction::WrongContentType),
        ("images", FaultAction::EmptyBody),
        ("images/{id}", FaultAction::EmptyBody),
        ("images", FaultAction::ExpireToken),
        ("auth", status(503, None)),
        ("auth", FaultAction::Drop),
        ("auth", FaultAction::Malformed),
        ("auth", FaultAction::EmptyBody),
        ("auth", FaultAction::WrongContentType),
        ("auth", FaultAction::Truncate),
    ];
    for (endpoint, action) in cases {
        let label = format!("{endpoint} {action:?}");
        // Two expired-token answers in a row are a refusal (one re-auth per call), not a glitch.
        let times = if action == FaultAction::ExpireToken {
            1
        } else {
            2
        };
        let (emu, r) = wait_with(endpoint, action, Some(times)).await;
        let r = r.unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(r.calls >= 2, "{label}");
        assert!(!r.raw.is_empty(), "{label}");
        let faulted = emu
            .control()
            .requests()
            .entries
            .iter()
            .filter(|e| e.fault.is_some())
            .count();
        assert!(faulted >= 1, "{label}: the fault never fired");
    }
}

#[tokio::test]
async fn rate_limits_and_conflicts_honour_the_wait_hint() {
    for code in [429, 409] {
        let emu = emulator().await;
        let sha = seed(&emu, 8, 0, 0);
        emu.control()
            .inject(fault("images", status(code, Some(7)), Some(1)))
            .unwrap();
        let start = emu.control().now_ms();
        let (cb, _) = recorder();
        client(&emu)
            .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
            .await
            .unwrap();
        let entries = emu.control().requests().entries;
        let second = entries
            .iter()
            .filter(|e| e.endpoint == "images")
            .nth(1)
            .unwrap();
        assert!(
            second.at_ms >= start + 7000,
            "{code}: retried after {} ms",
            second.at_ms - start
        );
    }
}

#[tokio::test]
async fn the_emulators_own_rate_limit_is_honoured() {
    let emu = emulator().await;
    emu.control().set_rate_limit(RateLimitConfig {
        limit: 4,
        window_secs: 60,
    });
    let shas: Vec<String> = (0..5).map(|i| seed(&emu, 200 + i, 0, 0)).collect();
    let reqs = shas.iter().map(|s| request(&emu, s)).collect();
    let (cb, _) = recorder();
    let results = client(&emu)
        .wait_for_scans(reqs, &WaitOptions::default(), cb)
        .await;
    for (req, r) in &results {
        assert!(
            r.is_ok(),
            "{}: {:?}",
            req.sha,
            r.as_ref().err().map(ToString::to_string)
        );
    }
    let log = emu.control().requests();
    assert!(
        log.entries.iter().any(|e| e.status == 429),
        "the limit was never reached"
    );
}

#[tokio::test]
async fn bad_request_and_forbidden_stop_at_once() {
    for (code, endpoint) in [
        (400, "images"),
        (403, "images"),
        (403, "images/{id}"),
        (404, "images"),
    ] {
        let (emu, r) = wait_with(endpoint, status(code, None), None).await;
        let e = r.unwrap_err();
        match (&e, code) {
            (
                QualysError::Http {
                    status,
                    message,
                    endpoint: ep,
                    ..
                },
                _,
            ) => {
                assert_eq!(*status, code);
                assert_eq!(message, &format!("injected {code}"));
                assert!(ep.starts_with("/csapi/v1.3/images"), "{ep}");
            }
            // 404 on the list is not an error for the original either: it means "not yet".
            (QualysError::Timeout { .. }, 404) => {}
            _ => panic!("{code} {endpoint}: {e}"),
        }
        if code != 404 {
            assert_eq!(e.exit_code(), ExitCode::Api);
            assert!(count(&emu, endpoint) <= 2, "{code} {endpoint}: polled on");
        }
    }
}

#[tokio::test]
async fn lasting_failures_end_in_an_api_error_at_the_deadline() {
    for (endpoint, action) in [
        ("images", status(503, None)),
        ("images", FaultAction::Drop),
        ("images", FaultAction::Hang),
        ("images/{id}", FaultAction::Malformed),
        ("images/{id}", FaultAction::WrongContentType),
    ] {
        let label = format!("{endpoint} {action:?}");
        let (_emu, r) = wait_with(endpoint, action, None).await;
        let e = r.unwrap_err();
        assert!(matches!(e, QualysError::GaveUp { .. }), "{label}: {e}");
        assert_eq!(e.exit_code(), ExitCode::Api, "{label}");
    }
}

#[tokio::test]
async fn lasting_auth_failures_are_api_errors() {
    let emu = emulator().await;
    emu.control()
        .inject(fault("auth", status(503, None), None))
        .unwrap();
    let e = client(&emu).connect().await.unwrap_err();
    assert!(matches!(e, QualysError::GaveUp { .. }), "{e}");
    assert_eq!(e.exit_code(), ExitCode::Api);

    emu.control().clear_faults();
    emu.control()
        .inject(fault("auth", status(403, None), None))
        .unwrap();
    let e = client(&emu).connect().await.unwrap_err();
    assert!(
        matches!(e, QualysError::AuthRejected { status: 403, .. }),
        "{e}"
    );
}

#[tokio::test]
async fn transport_retries_are_reported_too() {
    let emu = emulator().await;
    let sha = seed(&emu, 10, 0, 0);
    emu.control()
        .inject(fault("images", status(503, None), Some(1)))
        .unwrap();
    let (cb, events) = recorder();
    client(&emu)
        .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
        .await
        .unwrap();
    let states: Vec<WaitState> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.state.clone())
        .collect();
    assert!(
        matches!(states.first(), Some(WaitState::Retrying(r)) if r.contains("503")),
        "{states:?}"
    );
    assert_eq!(states.last(), Some(&WaitState::Done));
}

#[tokio::test]
async fn retries_are_reported_through_the_callback() {
    let emu = emulator().await;
    let sha = seed(&emu, 9, 0, 0);
    emu.control()
        .inject(fault("images/{id}", FaultAction::Malformed, Some(1)))
        .unwrap();
    let (cb, events) = recorder();
    client(&emu)
        .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
        .await
        .unwrap();
    let states: Vec<WaitState> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.state.clone())
        .collect();
    assert!(
        matches!(states.first(), Some(WaitState::Retrying(_))),
        "{states:?}"
    );
    assert_eq!(states.last(), Some(&WaitState::Done));
}
