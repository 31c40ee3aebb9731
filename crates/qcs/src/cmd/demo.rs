//! `qcs demo`: the whole `qcs scan` flow with no Qualys account and no container engine. It
//! starts the built-in emulator (the Qualys CS API, and a Docker Engine API stand-in with a
//! simulated CI/CD sensor, on a unix socket in a temporary directory, or on a free TCP port on
//! 127.0.0.1 where there are no unix sockets, as on Windows), scans two of the stand-in's
//! images with a bundled policy (one passes, one violates it), writes `summary.json` and
//! `report.html`, and explains what happened and which page to open. It reads no
//! `QUALYS_*`/`DOCKER_*` variable and no config file: everything is fixed here. Exit 0 when the
//! demo ran as intended (whatever the verdicts), non-zero only when it broke.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use qcs_core::Policy;
use qcs_core::exit::ExitCode;
use qcs_core::policy::file;
use qcs_core::summary::{Outcome, Summary};
use qcs_emulator::{Base, DockerImage, DockerListen, EmulatorConfig, ReportSpec};
use qcs_qualys::secret::secret;
use qcs_qualys::{Credentials, Gateway, QualysClient};

use super::scan::{self, ScanPlan};
use crate::cli::{DemoArgs, GlobalArgs};
use crate::diagnostics::Sources;
use crate::error::CliError;
use crate::progress::Progress;
use crate::settings::engine::EngineSettings;
use crate::settings::output::OutputSettings;
use crate::settings::{QualysSettings, Source, WaitSettings};

/// The policy the demo judges with.
const POLICY: &str = include_str!("demo-policy.toml");
/// The file name the policy is saved under in the output directory.
const POLICY_FILE: &str = "demo-policy.toml";
/// The stand-in's seeded image (`EmulatorConfig::demo`): Debian with `Log4Shell`; fails.
const VULNERABLE: &str = "qcs-demo/app:1.0";
/// An image the demo adds: a few low and medium findings; passes.
const CLEAN: &str = "qcs-demo/web:2.3";
/// The emulator's demo account.
const DEMO_USER: &str = "qcs-demo";

/// The bundled policy, validated.
fn policy() -> Result<Policy, CliError> {
    let (policy, issues) = file::from_toml(POLICY_FILE, POLICY, None).validate();
    policy.ok_or_else(|| {
        let mut sources = Sources::default();
        sources.add(POLICY_FILE.to_owned(), POLICY.to_owned());
        CliError::Policy(issues, sources)
    })
}

/// The report the platform will hold for the clean image once the sensor scanned it.
fn clean_report() -> ReportSpec {
    ReportSpec {
        seed: 5,
        base: Base::Debian,
        vulnerabilities: 12,
        packages: 40,
        app_share: 0.2,
        log4shell: false,
        ..ReportSpec::default()
    }
}

/// Runs `qcs demo`.
pub(crate) fn run(args: &DemoArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let policy = policy()?;
    let tmp = tempfile::Builder::new()
        .prefix("qcs-demo-")
        .tempdir()
        .map_err(|e| {
            CliError::Emulator(format!(
                "cannot create a temporary directory for its socket: {e}"
            ))
        })?;
    let mut config = EmulatorConfig::demo(DockerListen::local(tmp.path()));
    config.docker.images.push(DockerImage {
        tags: vec![CLEAN.to_owned()],
        report: Some(clean_report()),
        ..DockerImage::default()
    });
    let ui = Progress::new(global.quiet);
    let started = Instant::now();
    let (summary, gateway) = scan::runtime()?.block_on(async {
        let emulator = qcs_emulator::start(config)
            .await
            .map_err(|e| CliError::Emulator(e.to_string()))?;
        let gateway = emulator.base_url();
        let docker_host = emulator.docker_host().ok_or_else(|| {
            CliError::Emulator(
                "the emulator started without its Docker Engine API stand-in (this is a bug)"
                    .into(),
            )
        })?;
        ui.step(&format!(
            "demo: the Qualys CS API emulator at {gateway}, a Docker Engine API with a simulated CI/CD sensor at {docker_host}"
        ));
        let plan = ScanPlan {
            inputs: vec![VULNERABLE.to_owned(), CLEAN.to_owned()],
            qualys: QualysSettings::fixed(
                Gateway::explicit(&gateway)?,
                Credentials::Basic {
                    username: DEMO_USER.to_owned(),
                    password: secret(DEMO_USER.to_owned()),
                },
            ),
            engine: EngineSettings::fixed(docker_host),
            wait: WaitSettings {
                timeout: std::time::Duration::from_secs(60),
                // Polled every second: the demo's sensor delays are seconds, not minutes.
                interval: qcs_qualys::Interval::Fixed(std::time::Duration::from_secs(1)),
                concurrency: 8,
                sources: [Source::Default, Source::Default, Source::Default],
                batch: qcs_qualys::wait::DEFAULT_BATCH,
                batch_source: Source::Default,
            },
            output: OutputSettings::demo_in(args.output_dir.clone(), Source::Flag("--output-dir")),
            policy,
            shard: None,
            baseline: None,
        };
        let client = QualysClient::new(plan.qualys.client_config())?;
        let summary = scan::execute(&plan, &client, &ui).await;
        emulator.shutdown().await;
        Ok::<_, CliError>((summary?, gateway))
    })?;
    drop(tmp);
    let policy_path = args.output_dir.join(POLICY_FILE);
    std::fs::write(&policy_path, POLICY).map_err(|source| CliError::Write {
        what: "the demo policy".into(),
        path: policy_path.clone(),
        source,
    })?;

    let broken: Vec<String> = summary
        .images
        .iter()
        .filter_map(|i| {
            i.evaluation
                .error
                .as_ref()
                .map(|e| format!("{}: {}", i.input, e.message))
        })
        .collect();
    if !broken.is_empty() {
        ui.problem(
            &format!(
                "the demo did not run as intended:\n  {}",
                broken.join("\n  ")
            ),
            "this is a bug in qcs; please report it with the output above",
        );
        return Ok(summary.exit());
    }
    if !global.quiet {
        let text = explain(&summary, &gateway, &args.output_dir, started.elapsed());
        let _ = anstream::stdout().lock().write_all(text.as_bytes());
    }
    Ok(ExitCode::Passed)
}

/// What happened, where the files are, and what a pipeline would have done.
fn explain(summary: &Summary, gateway: &str, dir: &Path, took: std::time::Duration) -> String {
    let count = |o: Outcome| {
        summary
            .images
            .iter()
            .filter(|i| i.evaluation.outcome == o)
            .count()
    };
    let code = summary.exit().code();
    let meaning = match code {
        0 => "every image passed",
        1 => "an image violates the policy, so the build fails",
        _ => "a tool error",
    };
    let first_id = summary
        .images
        .iter()
        .find_map(|i| i.evaluation.image_id.clone())
        .unwrap_or_else(|| "<id>".into());
    let d = dir.display();
    // The page's address to click or paste: absolute, so it works from any directory.
    let page =
        std::path::absolute(dir.join("report.html")).unwrap_or_else(|_| dir.join("report.html"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nWhat happened ({}):",
        qcs_qualys::error::fmt_duration(took)
    );
    let _ = writeln!(
        s,
        "  1. qcs started the built-in emulator: the Qualys CS API at {gateway} (user {DEMO_USER})\n     and a Docker Engine API with a simulated Qualys CI/CD sensor."
    );
    let _ = writeln!(
        s,
        "  2. It checked the sensor, resolved {VULNERABLE} and {CLEAN} to their image ids and tagged\n     each qualys_scan_target:<id>; the sensor scanned them and uploaded their inventories."
    );
    let _ = writeln!(
        s,
        "  3. It authenticated to the API and waited for each image's vulnerability report."
    );
    let _ = writeln!(
        s,
        "  4. It judged each report against the demo policy: {} passed, {} failed (the table above).",
        count(Outcome::Passed),
        count(Outcome::Failed)
    );
    let _ = writeln!(s, "\nFiles:");
    let _ = writeln!(
        s,
        "  {d}/report.html         the report to read: why each image failed, charts, searchable tables"
    );
    let _ = writeln!(
        s,
        "  {d}/summary.json        the verdict for CI tools and scripts"
    );
    let _ = writeln!(
        s,
        "  {d}/images/<id>.json    each image's report as the API returned it"
    );
    let _ = writeln!(s, "  {d}/{POLICY_FILE}    the policy used");
    let _ = writeln!(
        s,
        "  Judge a report again offline: qcs evaluate --policy {d}/{POLICY_FILE} --report {d}/images/{first_id}.json"
    );
    let _ = writeln!(
        s,
        "\nIn a pipeline, `qcs scan {VULNERABLE} {CLEAN} --policy {POLICY_FILE}` would exit with code {code} here\n({meaning})."
    );
    let _ = writeln!(s, "\nOpen the report in your browser: {}", file_url(&page));
    let _ = writeln!(
        s,
        "Next: QUALYS_USERNAME=… QUALYS_PASSWORD=… qcs test-connection --platform <yours>; see docs/scan.md."
    );
    s
}

/// The `file:` URL of an absolute path: `file:///home/me/report.html`, and on Windows
/// `file:///C:/Users/me/report.html` (forward slashes, three of them before the drive).
fn file_url(path: &Path) -> String {
    let shown = path.display().to_string();
    if cfg!(windows) {
        format!("file:///{}", shown.replace('\\', "/"))
    } else {
        format!("file://{shown}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_policy_is_valid_and_has_no_expiring_exclusion() {
        let p = super::policy().expect("valid");
        assert!(p.has_conditions());
        assert!(p.exclusions.iter().all(|e| e.expires.is_none()));
    }

    #[test]
    fn the_report_page_is_pointed_at_with_a_file_url() {
        #[cfg(not(windows))]
        let (path, url) = (
            "/tmp/reports/report.html",
            "file:///tmp/reports/report.html",
        );
        #[cfg(windows)]
        let (path, url) = (
            r"C:\Users\ci\reports\report.html",
            "file:///C:/Users/ci/reports/report.html",
        );
        assert_eq!(super::file_url(std::path::Path::new(path)), url);
    }
}
