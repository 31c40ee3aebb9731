//! `qcs test-connection`: resolve the Qualys settings, authenticate, check the Container
//! Security module, and show the gateway, auth kind, user, token expiry and proxy in use.
//! Exit 0, 2 (configuration, e.g. missing credentials) or 4 (API or authentication).

use std::io::Write as _;
use std::time::Duration;

use owo_colors::OwoColorize as _;
use qcs_core::exit::ExitCode;
use qcs_qualys::{ConnectionInfo, QualysClient};

use crate::cli::{GlobalArgs, TestConnectionArgs};
use crate::config;
use crate::error::CliError;
use crate::settings::{self, QualysSettings};

/// Runs the command.
pub(crate) fn run(args: &TestConnectionArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let file = config::locate(global)?;
    let s = settings::resolve_qualys(&args.qualys, file.as_ref(), &settings::process_env)?;
    let json = args.format == "json";
    if !json && !global.quiet {
        print_settings(&s);
    }
    let mut cc = s.client_config();
    // Transient failures are retried for 3 × the request timeout (5 s to 60 s).
    cc.auth_deadline =
        (s.request_timeout * 3).clamp(Duration::from_secs(5), Duration::from_secs(60));
    let client = QualysClient::new(cc)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the async runtime: {e}")))?;
    let info = runtime.block_on(client.connect())?;
    if json {
        print_json(&info);
    } else {
        print_info(&info);
    }
    Ok(ExitCode::Passed)
}

fn print_settings(s: &QualysSettings) {
    let mut out = anstream::stdout().lock();
    for (k, v) in s.describe() {
        let _ = writeln!(out, "{:<16} {v}", format!("{k}:").dimmed());
    }
}

fn expires_in(info: &ConnectionInfo) -> Duration {
    qcs_qualys::clock::since(info.token.expires_at, jiff::Timestamp::now())
}

fn print_info(info: &ConnectionInfo) {
    let mut out = anstream::stdout().lock();
    let left = qcs_qualys::error::fmt_duration(Duration::from_secs(expires_in(info).as_secs()));
    let rows = [
        ("user", info.token.user.clone()),
        (
            "token expires",
            format!(
                "{} (in {left})",
                info.token
                    .expires_at
                    .round(jiff::Unit::Second)
                    .unwrap_or(info.token.expires_at)
            ),
        ),
        ("modules", info.token.modules.join(", ")),
        (
            "proxy in use",
            match &info.proxy {
                Some(p) if info.proxy_auth => format!("{p} (with authentication)"),
                Some(p) => p.clone(),
                None => "none".into(),
            },
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "{:<16} {v}", format!("{k}:").dimmed());
    }
    let _ = writeln!(
        out,
        "{} authenticated at {} ({} auth); Container Security is enabled",
        "ok:".green().bold(),
        info.gateway,
        info.auth
    );
}

fn print_json(info: &ConnectionInfo) {
    let v = serde_json::json!({
        "gateway": info.gateway,
        "platform": info.platform,
        "auth": info.auth.to_string(),
        "user": info.token.user,
        "expires_at": info.token.expires_at.to_string(),
        "expires_in_secs": expires_in(info).as_secs(),
        "modules": info.token.modules,
        "cs_module": info.token.has_cs(),
        "proxy": info.proxy,
        "proxy_auth": info.proxy_auth,
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&v).unwrap_or_default()
    );
}
