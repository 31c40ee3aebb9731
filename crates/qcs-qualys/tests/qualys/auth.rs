//! Basic and OAuth authentication, the CS module check, token reuse and refresh.

use std::time::Duration;

use qcs_core::exit::ExitCode;
use qcs_emulator::{Client, FaultAction, User};
use qcs_qualys::auth::OAuthEndpoint;
use qcs_qualys::secret::secret;
use qcs_qualys::{AuthKind, Credentials, QualysClient, QualysError, WaitOptions};

use crate::common::{client, client_config, count, emulator, fault, now, recorder, request, seed};

#[tokio::test]
async fn basic_auth_reads_user_expiry_and_modules() {
    let emu = emulator().await;
    let info = client(&emu).connect().await.unwrap();
    assert_eq!(info.token.user, "qcs-demo");
    assert!(info.token.has_cs());
    assert_eq!(info.auth, AuthKind::Basic);
    assert_eq!(
        info.token.expires_at.as_second(),
        now(&emu).as_second() + 4 * 3600
    );
    assert_eq!(info.gateway, emu.base_url());
    assert!(info.proxy.is_none());
}

#[tokio::test]
async fn oauth_through_oidc_and_oauth() {
    let emu = emulator().await;
    for (endpoint, key) in [
        (OAuthEndpoint::Oidc, "auth/oidc"),
        (OAuthEndpoint::Oauth, "auth/oauth"),
    ] {
        let mut c = client_config(&emu);
        c.credentials = Credentials::OAuth {
            client_id: secret("qcs-demo"),
            client_secret: secret("qcs-demo"),
            endpoint,
        };
        let info = QualysClient::new(c).unwrap().connect().await.unwrap();
        assert_eq!(info.auth, AuthKind::OAuth);
        assert!(info.token.has_cs());
        assert_eq!(count(&emu, key), 1, "{key}");
    }
}

#[tokio::test]
async fn wrong_password_is_a_clear_api_error_at_once() {
    let emu = emulator().await;
    let mut c = client_config(&emu);
    c.credentials = Credentials::Basic {
        username: "qcs-demo".into(),
        password: secret("not-the-password"),
    };
    let e = QualysClient::new(c).unwrap().connect().await.unwrap_err();
    assert!(
        matches!(e, QualysError::AuthRejected { status: 401, .. }),
        "{e}"
    );
    assert_eq!(e.exit_code(), ExitCode::Api);
    assert!(!e.to_string().contains("not-the-password"));
    assert_eq!(count(&emu, "auth"), 1);
}

#[tokio::test]
async fn a_user_without_cs_is_refused_clearly() {
    let emu = emulator().await;
    emu.control().add_user(User {
        username: "vm-only".into(),
        password: "pw".into(),
        modules: vec!["VM SCANNER".into()],
    });
    let mut c = client_config(&emu);
    c.credentials = Credentials::Basic {
        username: "vm-only".into(),
        password: secret("pw"),
    };
    let e = QualysClient::new(c).unwrap().connect().await.unwrap_err();
    assert!(
        matches!(&e, QualysError::NoCsModule { user, .. } if user == "vm-only"),
        "{e}"
    );
    assert_eq!(e.exit_code(), ExitCode::Api);
    assert!(e.hint().contains("Container Security"));
}

#[tokio::test]
async fn an_oauth_client_without_cs_is_refused() {
    let mut cfg = crate::common::config();
    cfg.clients = vec![Client {
        client_id: "c".into(),
        client_secret: "s".into(),
        modules: vec!["VM SCANNER".into()],
    }];
    let emu = qcs_emulator::start(cfg).await.unwrap();
    let mut c = client_config(&emu);
    c.credentials = Credentials::OAuth {
        client_id: secret("c"),
        client_secret: secret("s"),
        endpoint: OAuthEndpoint::Oidc,
    };
    let e = QualysClient::new(c).unwrap().connect().await.unwrap_err();
    assert!(matches!(e, QualysError::NoCsModule { .. }), "{e}");
}

#[tokio::test]
async fn one_token_serves_every_request_and_image() {
    let emu = emulator().await;
    let shas: Vec<String> = (0..6).map(|i| seed(&emu, 100 + i, 3 * i, 4)).collect();
    let c = client(&emu);
    let reqs = shas.iter().map(|s| request(&emu, s)).collect();
    let (cb, _) = recorder();
    let results = c.wait_for_scans(reqs, &WaitOptions::default(), cb).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(count(&emu, "auth"), 1);
    assert!(count(&emu, "images") >= 6);
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let mut cfg = crate::common::config();
    cfg.token_lifetime_secs = 600;
    let emu = qcs_emulator::start(cfg).await.unwrap();
    let c = client(&emu);
    c.connect().await.unwrap();
    // 400 s later, less than the 300 s margin is left: the next call gets a new token first.
    emu.control().advance(Duration::from_secs(400));
    let sha = seed(&emu, 1, 0, 0);
    let (cb, _) = recorder();
    c.wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
        .await
        .unwrap();
    assert_eq!(count(&emu, "auth"), 2);
    let statuses: Vec<u16> = emu
        .control()
        .requests()
        .entries
        .iter()
        .map(|e| e.status)
        .collect();
    assert!(!statuses.contains(&401), "{statuses:?}");
}

#[tokio::test]
async fn a_jwt_expired_answer_re_authenticates_once() {
    let emu = emulator().await;
    let c = client(&emu);
    c.connect().await.unwrap();
    emu.control().expire_tokens();
    let sha = seed(&emu, 2, 0, 0);
    let (cb, _) = recorder();
    let r = c
        .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
        .await
        .unwrap();
    assert_eq!(r.sha, sha);
    assert_eq!(count(&emu, "auth"), 2);
}

#[tokio::test]
async fn a_401_after_re_auth_stops_with_the_status() {
    let emu = emulator().await;
    emu.control()
        .inject(fault("images", FaultAction::ExpireToken, None))
        .unwrap();
    let sha = seed(&emu, 3, 0, 0);
    let (cb, _) = recorder();
    let e = client(&emu)
        .wait_for_scan(&request(&emu, &sha), &WaitOptions::default(), cb)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, QualysError::Http { status: 401, message, .. } if message.contains("JWT expired")),
        "{e}"
    );
    assert_eq!(e.exit_code(), ExitCode::Api);
    assert_eq!(count(&emu, "auth"), 2);
    assert_eq!(count(&emu, "images"), 2);
}

#[tokio::test]
async fn auth_retries_5xx_and_gives_up_on_garbage_at_the_deadline() {
    let emu = emulator().await;
    emu.control()
        .inject(fault(
            "auth",
            FaultAction::Status {
                status: 503,
                message: None,
                retry_after_secs: None,
            },
            Some(2),
        ))
        .unwrap();
    client(&emu).connect().await.unwrap();
    assert_eq!(count(&emu, "auth"), 3);

    emu.control().clear_faults();
    emu.control()
        .inject(fault("auth", FaultAction::Malformed, None))
        .unwrap();
    let e = client(&emu).connect().await.unwrap_err();
    assert!(matches!(e, QualysError::BadToken { .. }), "{e}");
    assert_eq!(e.exit_code(), ExitCode::Api);
}

#[tokio::test]
async fn requests_carry_the_user_agent_and_the_form() {
    use std::io::{Read as _, Write as _};
    // A one-shot server that records the request and refuses it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !String::from_utf8_lossy(&buf).contains("token=true") {
            let n = sock.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = r#"{"message":"Bad credentials"}"#;
        let _ = write!(
            sock,
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        String::from_utf8_lossy(&buf).into_owned()
    });
    let cfg = qcs_qualys::ClientConfig::new(
        qcs_qualys::Gateway::explicit(&url).unwrap(),
        crate::common::demo_basic(),
    );
    let e = QualysClient::new(cfg).unwrap().connect().await.unwrap_err();
    assert!(
        matches!(&e, QualysError::AuthRejected { status: 401, message, .. } if message == "Bad credentials"),
        "{e}"
    );
    let request = server.join().unwrap().to_ascii_lowercase();
    assert!(request.starts_with("post /auth http/1.1"), "{request}");
    assert!(
        request.contains(&format!("user-agent: qcs/{}", env!("CARGO_PKG_VERSION"))),
        "{request}"
    );
    assert!(
        request.contains("username=qcs-demo&password=qcs-demo&token=true"),
        "{request}"
    );
}
