//! The webhook of `qcs scan` (`plugin-behaviour.md` §6, with §7's fixes): after the reports are
//! written, one POST of the outcome to the URL the environment holds, through the Qualys
//! settings' proxy and trusting their CA bundle. A failure is a warning: it never changes the
//! exit code of a judged scan. The URL is never shown beyond `scheme://host/…`.
//!
//! - [`payload`]: the body, built from the summary without I/O;
//! - [`send`]: the signed POST and its one retry.

pub(crate) mod payload;
pub(crate) mod send;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use owo_colors::OwoColorize as _;
use qcs_core::summary::Summary;
use qcs_qualys::ExposeSecret as _;

use crate::progress::Progress;
use crate::settings::webhook::{WebhookSettings, WebhookTarget};
use crate::settings::{self, QualysSettings};
use payload::{CiContext, ImageFacts};

/// Posts the outcome when a webhook is configured; reports success as a step and failure as a
/// warning on stderr (even with `-q`), never as an error.
pub(crate) async fn deliver(
    settings: &WebhookSettings,
    summary: &Summary,
    output_dir: &Path,
    qualys: &QualysSettings,
    ui: &Progress,
) {
    let Some(target) = &settings.target else {
        return;
    };
    match post_outcome(settings, target, summary, output_dir, qualys).await {
        Ok(status) => ui.step(&format!(
            "webhook: posted the outcome to {} (HTTP {status})",
            target.shown
        )),
        Err((message, hint)) => warn(
            &format!(
                "webhook: the outcome was not posted to {}: {message}",
                target.shown
            ),
            hint,
        ),
    }
}

async fn post_outcome(
    settings: &WebhookSettings,
    target: &WebhookTarget,
    summary: &Summary,
    output_dir: &Path,
    qualys: &QualysSettings,
) -> Result<u16, (String, &'static str)> {
    let facts = read_facts(summary, output_dir);
    let ci = CiContext::detect(&settings::process_env);
    let body = serde_json::to_vec(&payload::build(summary, &facts, &ci)).map_err(|e| {
        (
            format!("cannot encode the body: {e}"),
            "this is a bug in qcs; please report it",
        )
    })?;
    let client = qcs_qualys::transport::build(
        target.url.expose_secret(),
        &qualys.tls,
        &qualys.proxy,
        settings.timeout,
    )
    .map_err(|e| {
        (
            send::scrub(&e.to_string(), target.url.expose_secret()),
            e.hint(),
        )
    })?;
    tracing::debug!(
        "webhook: posting {} bytes to {}{}",
        body.len(),
        target.shown,
        if target.secret.is_some() {
            ", signed"
        } else {
            ""
        }
    );
    send::post(&client, &target.url, target.secret.as_ref(), body)
        .await
        .map_err(|e| (e.to_string(), e.hint()))
}

/// The raw image details saved for each judged image (`images/<id>.json`), for the plugin's
/// per-image fields; a file that is missing or unreadable only leaves those fields null.
fn read_facts(summary: &Summary, output_dir: &Path) -> HashMap<String, ImageFacts> {
    let mut facts = HashMap::new();
    for image in &summary.images {
        let (Some(sha), Some(id)) = (&image.evaluation.sha, &image.evaluation.image_id) else {
            continue;
        };
        let path = output_dir.join("images").join(format!("{id}.json"));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        match serde_json::from_slice::<ImageFacts>(&bytes) {
            Ok(f) => {
                facts.insert(sha.clone(), f);
            }
            Err(e) => tracing::debug!("webhook: {} not read: {e}", path.display()),
        }
    }
    facts
}

/// Prints `warning: <message>` and `  hint: <hint>` to stderr.
fn warn(message: &str, hint: &str) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{} {message}", "warning:".yellow().bold());
    let _ = writeln!(err, "  {} {hint}", "hint:".cyan().bold());
}
