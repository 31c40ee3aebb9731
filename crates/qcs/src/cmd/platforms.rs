//! `qcs platforms`: the Qualys platforms with their API, gateway and portal URLs.

use std::fmt::Write as _;
use std::io::Write as _;

use qcs_core::exit::ExitCode;
use qcs_qualys::PLATFORMS;

use crate::cli::PlatformsArgs;
use crate::error::CliError;

/// Runs the command.
#[allow(clippy::unnecessary_wraps, reason = "every command returns this type")]
pub(crate) fn run(args: &PlatformsArgs) -> Result<ExitCode, CliError> {
    let mut out = std::io::stdout().lock();
    if args.format == "json" {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(PLATFORMS).unwrap_or_default()
        );
        return Ok(ExitCode::Passed);
    }
    let headers = [
        "code",
        "plugin code",
        "API URL",
        "gateway URL",
        "portal URL",
    ];
    let rows: Vec<[&str; 5]> = PLATFORMS
        .iter()
        .map(|p| {
            [
                p.code,
                p.plugin_code,
                p.api_url,
                p.gateway_url,
                p.portal_url,
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ");
            }
        }
        s
    };
    let _ = writeln!(out, "{}", line(headers));
    for r in rows {
        let _ = writeln!(out, "{}", line(r));
    }
    Ok(ExitCode::Passed)
}
