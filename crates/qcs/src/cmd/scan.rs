//! `qcs scan`: the main job (`plugin-behaviour.md` §1). Every setting is resolved and checked
//! first; then: connect to the container engine, check the Qualys CI/CD sensor, resolve each
//! image (inputs naming the same image are processed once), record the tagging time, tag each
//! image `qualys_scan_target:<sha>`, authenticate to Qualys, wait for every scan result, save
//! each raw report, judge it against the policy, write the outputs, post the webhook (when one
//! is set; its failure is only a warning) and set the exit code.
//!
//! An image that cannot be resolved, tagged or waited for ends as an `error` image with the
//! kind of failure (engine, sensor, api, timeout, config) while the others go on; a missing
//! result is never a pass, whatever the policy (`plugin-behaviour.md` §7).
//!
//! Before any engine or network I/O the outputs are checked and an earlier run's are removed
//! ([`output::prepare`]); `--timeout` bounds the whole Qualys part (authentication and the
//! wait, every request cut to what is left); SIGINT or SIGTERM ends the work at once, the
//! reports are written with every image judged so far (the others `cancelled`) and the run
//! exits 130 or 143 ([`crate::interrupt`]).

mod print_config;

use std::io::Write as _;
use std::sync::Arc;

use qcs_core::Policy;
use qcs_core::evaluate::evaluate_full;
use qcs_core::exit::ExitCode;
use qcs_core::summary::{ErrorKind, Evaluation, ImageError, ImageResult, Summary};
use qcs_engine::{EngineError, UniqueImage};
use qcs_qualys::{QualysClient, QualysError, WaitRequest};

use crate::cli::{GlobalArgs, ScanArgs};
use crate::config;
use crate::error::CliError;
use crate::images;
use crate::interrupt::{self, Interrupt};
use crate::output;
use crate::policy_input;
use crate::progress::{self, Progress};
use crate::settings::engine::EngineSettings;
use crate::settings::output::OutputSettings;
use crate::settings::{self, QualysSettings, WaitSettings};
use crate::webhook;

/// Everything a scan needs, resolved and checked.
pub(crate) struct ScanPlan {
    /// The image inputs, in the order given.
    pub(crate) inputs: Vec<String>,
    /// How to reach Qualys.
    pub(crate) qualys: QualysSettings,
    /// The container engine.
    pub(crate) engine: EngineSettings,
    /// How to wait.
    pub(crate) wait: WaitSettings,
    /// Where reports go.
    pub(crate) output: OutputSettings,
    /// The policy images are judged by.
    pub(crate) policy: Policy,
    /// `--shard K/N`: the part of the image list this run scans.
    pub(crate) shard: Option<qcs_core::shard::Shard>,
    /// The baseline findings are compared with, and what it decides.
    pub(crate) baseline: Option<(
        qcs_core::baseline::Baseline,
        qcs_core::baseline::BaselineMode,
    )>,
}

/// Runs `qcs scan`.
pub(crate) fn run(args: &ScanArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let env = &settings::process_env;
    // Every setting is resolved, and every mistake found, before any engine or network I/O; a
    // mistake found here still clears an earlier run's reports (no stale verdict survives it).
    let resolved = config::locate(global).and_then(|file| {
        let settings = settings::resolve_run(&args.run, file.as_ref(), env)?;
        Ok((file, settings))
    });
    let (file, run_settings) = resolved.map_err(|e| {
        if args.print_config {
            e
        } else {
            output::clear_before_error(args.run.output.output_dir.as_deref(), true, &[], e)
        }
    })?;
    let file = file.as_ref();
    let settings::RunSettings {
        inputs,
        engine,
        wait,
        output,
        webhook,
    } = run_settings;
    // An earlier run's reports go before anything else can fail: whatever happens next, no
    // stale verdict is left behind; an unusable output path ends the run here (exit 2).
    if !args.print_config {
        output::prepare(&output, true, &[])?;
    }
    // With --print-config a Qualys problem (typically missing credentials) is shown with the
    // rest of the settings; otherwise it ends the run here.
    let qualys = settings::resolve_qualys(&args.run.qualys, file, env);
    let qualys = if args.print_config {
        qualys
    } else {
        Ok(qualys?)
    };
    let policy = policy_input::load(&args.run.policy, file, global.quiet)?;
    if args.print_config {
        let text = print_config::render(&print_config::View {
            global,
            file,
            inputs: &inputs,
            qualys: qualys.as_ref(),
            engine: &engine,
            wait: &wait,
            output: &output,
            webhook: &webhook,
            policy_args: &args.run.policy,
            policy: &policy,
        });
        let _ = anstream::stdout().lock().write_all(text.as_bytes());
        return qualys.map(|_| ExitCode::Passed);
    }
    let qualys = qualys?;
    if inputs.list.is_empty() {
        return Err(images::none_given());
    }
    let baseline = crate::runs::load_baseline(&policy)?;
    if let Some((b, mode)) = &baseline
        && !global.quiet
    {
        eprintln!(
            "baseline: {} ({} repositor{}; mode {})",
            b.source,
            b.repositories(),
            if b.repositories() == 1 { "y" } else { "ies" },
            mode.as_str()
        );
    }
    let mut inputs = inputs.list;
    if let Some(shard) = args.run.shard {
        let all = inputs.len();
        inputs.retain(|i| shard.contains(i));
        if !global.quiet {
            eprintln!(
                "shard {shard}: {} of {all} image{}",
                inputs.len(),
                if all == 1 { "" } else { "s" }
            );
        }
        if inputs.is_empty() {
            // An empty shard is no failure: its summary lists no image, and merges cleanly.
            if !global.quiet {
                eprintln!("note: no image falls into shard {shard}; writing an empty summary");
            }
            let mut summary = Summary::new(env!("CARGO_PKG_VERSION"), Vec::new());
            summary.shard = Some(shard);
            finish_summary(&mut summary, &output)?;
            output::write_all(&summary, &output, &output::PluginSources::default(), true)?;
            return Ok(ExitCode::Passed);
        }
    }
    let plan = ScanPlan {
        inputs,
        qualys,
        engine,
        wait,
        output,
        policy,
        shard: args.run.shard,
        baseline,
    };
    let mut client_config = plan.qualys.client_config();
    client_config.max_answer = crate::limits::max_answer(env)?;
    let client = QualysClient::new(client_config)?;
    let ui = Progress::new(global.quiet);
    let runtime = runtime()?;
    let stop = Interrupt::install();
    let summary = runtime.block_on(execute_with(&plan, &client, &ui, stop.as_ref()))?;
    if let Some(code) = interrupted_code(&summary) {
        return Ok(code);
    }
    // After the reports; whatever happens there, the verdict stands (a signal cuts it short).
    runtime.block_on(async {
        tokio::select! {
            () = webhook::deliver(&webhook, &summary, &plan.output.dir, &plan.qualys, &ui) => {}
            _ = interrupt::wait(stop.as_ref()) => {}
        }
    });
    let code = summary.exit();
    Ok(if plan.output.report_only && code != ExitCode::Config {
        ExitCode::Passed
    } else {
        code
    })
}

/// Adds what a summary says beyond the verdicts: the CI build that wrote it and, with
/// `--history DIR`, the trend across builds.
pub(crate) fn finish_summary(
    summary: &mut Summary,
    output: &OutputSettings,
) -> Result<(), CliError> {
    summary.build = crate::runs::build_info(&settings::process_env);
    if let Some(dir) = &output.history {
        summary.trend = crate::runs::trend_with_history(dir, summary)?;
    }
    Ok(())
}

/// The exit code of a run a signal stopped (recorded in its summary), if it was.
fn interrupted_code(summary: &Summary) -> Option<ExitCode> {
    [ExitCode::Interrupted, ExitCode::Terminated]
        .into_iter()
        .find(|c| c.code() == summary.exit_code)
}

/// A runtime for one scan.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the async runtime: {e}")))
}

/// The outcome of each input so far.
struct Verdicts {
    inputs: Vec<String>,
    results: Vec<Option<Evaluation>>,
}

impl Verdicts {
    fn new(inputs: &[String]) -> Self {
        Verdicts {
            inputs: inputs.to_vec(),
            results: vec![None; inputs.len()],
        }
    }

    fn set(&mut self, input: &str, evaluation: Evaluation) {
        if let Some(i) = self.inputs.iter().position(|x| x == input) {
            self.results[i] = Some(evaluation);
        }
    }

    fn fail(&mut self, input: &str, sha: Option<&str>, kind: ErrorKind, message: String) {
        let e = Evaluation::error(sha.map(str::to_owned), ImageError { kind, message });
        self.set(input, e);
    }

    /// Every input without an outcome yet ends with this error.
    fn fail_rest(&mut self, kind: ErrorKind, message: &str) {
        for r in &mut self.results {
            if r.is_none() {
                *r = Some(Evaluation::error(
                    None,
                    ImageError {
                        kind,
                        message: message.to_owned(),
                    },
                ));
            }
        }
    }

    fn into_summary(mut self) -> Summary {
        self.fail_rest(
            ErrorKind::Timeout,
            "no result: the scan stopped before this image was judged",
        );
        let images = self
            .inputs
            .into_iter()
            .zip(self.results)
            .filter_map(|(input, evaluation)| {
                evaluation.map(|evaluation| ImageResult { input, evaluation })
            })
            .collect();
        Summary::new(env!("CARGO_PKG_VERSION"), images)
    }
}

/// The kind of an engine failure: the sensor's own, or the engine's.
fn engine_kind(e: &EngineError) -> ErrorKind {
    match e {
        EngineError::SensorMissing { .. }
        | EngineError::SensorPaused { .. }
        | EngineError::SensorNotCicd { .. } => ErrorKind::Sensor,
        _ if e.exit_code() == ExitCode::Config => ErrorKind::Config,
        _ => ErrorKind::Engine,
    }
}

/// The kind of a Qualys failure, by its exit code.
fn qualys_kind(e: &QualysError) -> ErrorKind {
    match e {
        QualysError::ScanFailed { .. } => return ErrorKind::ScanFailed,
        QualysError::Cancelled { .. } => return ErrorKind::Cancelled,
        _ => {}
    }
    match e.exit_code() {
        ExitCode::Config => ErrorKind::Config,
        ExitCode::NoResult => ErrorKind::Timeout,
        _ => ErrorKind::Api,
    }
}

/// How an image is named in messages: its first input (and how many others name it).
fn label(u: &UniqueImage) -> String {
    let first = u.inputs.first().map_or(u.sha.as_str(), String::as_str);
    match u.inputs.len() {
        0 | 1 => first.to_owned(),
        n => format!("{first} (+{} more)", n - 1),
    }
}

/// Runs the flow for a checked plan, writes the outputs, and returns the summary.
pub(crate) async fn execute(
    plan: &ScanPlan,
    client: &QualysClient,
    ui: &Arc<Progress>,
) -> Result<Summary, CliError> {
    execute_with(plan, client, ui, None).await
}

/// [`execute`], stopped by a signal of `stop`: the images without a result by then end
/// `cancelled`, the summary's exit code is the signal's (130, 143), and the outputs are
/// written all the same.
pub(crate) async fn execute_with(
    plan: &ScanPlan,
    client: &QualysClient,
    ui: &Arc<Progress>,
    stop: Option<&Interrupt>,
) -> Result<Summary, CliError> {
    let mut verdicts = Verdicts::new(&plan.inputs);
    let engine = tokio::select! {
        r = engine_steps(plan, ui, &mut verdicts) => Some(r),
        _ = interrupt::wait(stop) => None,
    };
    if let Some((tagged, tagged_at)) = engine
        && !tagged.is_empty()
    {
        qualys_steps(plan, client, ui, &tagged, tagged_at, &mut verdicts, stop).await;
    }
    ui.finish();
    let signal = stop.and_then(Interrupt::received);
    if let Some(s) = signal {
        verdicts.fail_rest(
            ErrorKind::Cancelled,
            &format!(
                "cancelled: qcs got {} before this image had a result",
                s.name()
            ),
        );
    }
    let mut summary = verdicts.into_summary();
    summary.shard = plan.shard;
    finish_summary(&mut summary, &plan.output)?;
    if let Some(s) = signal {
        summary.exit_code = s.exit_code().code();
        summary.outcome = qcs_core::summary::Outcome::Error;
    }
    // the HTML report links each image to the platform's portal, when the platform is known
    summary.portal_url = plan
        .qualys
        .gateway
        .platform
        .map(|p| p.portal_url.to_owned());
    let written: Vec<String> = plan
        .output
        .formats
        .iter()
        .filter_map(|f| match f.destination(&plan.output.dir) {
            qcs_report::format::Destination::File(p) => Some(p.display().to_string()),
            qcs_report::format::Destination::Stdout => None,
        })
        .collect();
    if !written.is_empty() {
        ui.step(&format!("reports: {}", written.join(", ")));
    }
    let plugin = output::PluginSources::saved_in(&summary, &plan.output.dir, plan.policy.potential);
    output::write_all(&summary, &plan.output, &plugin, ui.quiet())?;
    Ok(summary)
}

/// Engine, sensor, resolve, de-duplicate, tag. Returns the tagged images and when tagging
/// began; every input that fails here has its error recorded.
async fn engine_steps(
    plan: &ScanPlan,
    ui: &Progress,
    verdicts: &mut Verdicts,
) -> (Vec<UniqueImage>, jiff::Timestamp) {
    let engine = match qcs_engine::connect(&plan.engine.config).await {
        Ok(e) => e,
        Err(e) => {
            verdicts.fail_rest(engine_kind(&e), &e.to_string());
            ui.problem(&e.to_string(), e.hint());
            return (Vec::new(), jiff::Timestamp::now());
        }
    };
    ui.step(&format!("engine: {}", engine.describe()));
    if plan.engine.sensor_check {
        match engine.check_sensor().await {
            Ok(s) => ui.step(&format!(
                "sensor: {}{} runs in CI/CD mode",
                s.name,
                s.version.map(|v| format!(" ({v})")).unwrap_or_default()
            )),
            Err(e) => {
                verdicts.fail_rest(engine_kind(&e), &e.to_string());
                ui.problem(&e.to_string(), e.hint());
                return (Vec::new(), jiff::Timestamp::now());
            }
        }
    } else {
        ui.step(&format!(
            "sensor: not checked ({})",
            plan.engine.sensor_check_source
        ));
    }

    let mut resolved = Vec::with_capacity(plan.inputs.len());
    for input in &plan.inputs {
        match engine.resolve(input).await {
            Ok(image) => {
                ui.step(&format!("{input}: image {}", image.short_id()));
                resolved.push(image);
            }
            Err(e) => {
                verdicts.fail(input, None, engine_kind(&e), e.to_string());
                ui.problem(&e.to_string(), e.hint());
            }
        }
    }
    let unique = qcs_engine::dedupe(resolved);
    for u in &unique {
        if let [first, rest @ ..] = u.inputs.as_slice() {
            for dup in rest {
                ui.step(&format!(
                    "{dup}: same image as {first} ({}); processing it once",
                    u.sha.get(..12).unwrap_or(&u.sha)
                ));
            }
        }
    }

    // Only a scan made after this moment counts as this build's.
    let tagged_at = jiff::Timestamp::now();
    let mut tagged = Vec::with_capacity(unique.len());
    for u in unique {
        match engine.tag(&u.first()).await {
            Ok(tag) => {
                ui.step(&format!("{}: tagged {tag}", label(&u)));
                tagged.push(u);
            }
            Err(e) => {
                for input in &u.inputs {
                    verdicts.fail(input, Some(&u.sha), engine_kind(&e), e.to_string());
                }
                ui.problem(&e.to_string(), e.hint());
            }
        }
    }
    (tagged, tagged_at)
}

/// Authenticate, wait for every tagged image, save and judge each result.
async fn qualys_steps(
    plan: &ScanPlan,
    client: &QualysClient,
    ui: &Arc<Progress>,
    tagged: &[UniqueImage],
    tagged_at: jiff::Timestamp,
    verdicts: &mut Verdicts,
    stop: Option<&Interrupt>,
) {
    // `--timeout` bounds authentication and the wait together: no request outlives it.
    let deadline = qcs_qualys::clock::add(client.clock().now(), plan.wait.timeout);
    let connected = tokio::select! {
        r = client.connect_until(deadline) => r,
        _ = interrupt::wait(stop) => return,
    };
    match connected {
        Ok(info) => ui.step(&format!(
            "Qualys: authenticated at {} as {} ({} auth); Container Security is enabled",
            info.gateway, info.token.user, info.auth
        )),
        Err(e) => {
            verdicts.fail_rest(qualys_kind(&e), &e.to_string());
            ui.problem(&e.to_string(), e.hint());
            return;
        }
    }
    ui.step(&format!(
        "waiting for {} image{} (timeout {}, interval {})",
        tagged.len(),
        if tagged.len() == 1 { "" } else { "s" },
        qcs_qualys::error::fmt_duration(plan.wait.timeout),
        plan.wait.interval_text()
    ));
    for u in tagged {
        ui.track(&u.sha, &label(u));
    }
    let requests = tagged
        .iter()
        .map(|u| WaitRequest {
            sha: u.sha.clone(),
            tagged_at,
        })
        .collect();
    let mut options = plan.wait.options();
    options.timeout = qcs_qualys::clock::since(deadline, client.clock().now());
    let results = client
        .wait_for_scans_until(requests, &options, progress::callback(ui), async {
            interrupt::wait(stop).await;
        })
        .await;
    ui.finish();
    let now = jiff::Timestamp::now();
    for (request, result) in results {
        let Some(u) = tagged.iter().find(|u| u.sha == request.sha) else {
            continue;
        };
        match result {
            Ok(scan) => {
                // The raw report is the input of `qcs evaluate`: an image whose report cannot
                // be saved has no verdict (exit 2), the others go on.
                if let Err(e) = output::save_raw(&plan.output.dir, &scan.sha, &scan.raw) {
                    for input in &u.inputs {
                        verdicts.fail(input, Some(&u.sha), ErrorKind::Config, e.to_string());
                    }
                    ui.problem(
                        &e.to_string(),
                        "check the free space and the permissions of the output directory",
                    );
                    continue;
                }
                let baseline = plan.baseline.as_ref().map(|(baseline, mode)| {
                    qcs_core::evaluate::BaselineInput {
                        baseline,
                        mode: *mode,
                    }
                });
                let evaluation = evaluate_full(
                    &plan.policy,
                    &scan.report,
                    now,
                    baseline,
                    plan.output.needs_every_finding(),
                );
                for input in &u.inputs {
                    verdicts.set(input, evaluation.clone());
                }
            }
            Err(e) => {
                for input in &u.inputs {
                    verdicts.fail(input, Some(&u.sha), qualys_kind(&e), e.to_string());
                }
                if !matches!(e, QualysError::Cancelled { .. }) {
                    ui.problem(&format!("{}: {e}", label(u)), e.hint());
                }
            }
        }
    }
}
