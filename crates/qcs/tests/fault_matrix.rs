//! The fault matrix (issue 12): one table of faults across the Qualys API, the container engine
//! and the filesystem, each run as a pipeline runs `qcs scan` (the real binary against the
//! emulator over HTTP on 127.0.0.1 and its Docker Engine API stand-in with the simulated CI/CD
//! sensor), most of them next to healthy images. For every case the suite checks, the same way:
//!
//! - the exit code (and a bound on the run time where the fault is a hang or a timeout);
//! - `summary.json`: present when the run got to a verdict, absent when it ended with exit 2
//!   (an earlier run's verdict planted before the run must not survive), its `exit_code`, each
//!   image's outcome and `error.kind`;
//! - that no image passed without a complete and fresh report of its own: every passed image is
//!   one the case expects to pass, its raw report in `images/<id>.json` is its own sha, holds a
//!   vulnerability list as long as the counted total, and was scanned after the run started;
//! - that the other images' results are intact (each case names every image's expected result);
//! - that every output file is complete and valid: the JSON ones (`summary.json`,
//!   `results.sarif`, `gl-container-scanning-report.json`, `images/*.json`) parse as JSON,
//!   `junit.xml` parses as XML, and no temporary file is left.
//!
//! Every case runs in its own emulator world; a few run at once. All cases run, and the test
//! fails at the end with the list of every failing case.

// Helpers outside #[test] fns unwrap too: a failure there is a failed case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ScanWorld, kill, stderr_lines, until, wait_exit};
use qcs_emulator::{
    Base, DockerImage, FaultAction, FaultRule, PreviousScan, ReportSpec, SensorState,
};
use serde_json::Value;

/// Passes the policy: a dozen findings, no `Log4Shell`.
const HEALTHY: &str = "acme/healthy:1.0";
/// Fails it: `Log4Shell` among 30 findings.
const VULN: &str = "acme/vuln:1.0";
/// Its scan fails on the platform (`scanStatus: FAILED`).
const BROKEN: &str = "acme/broken:1.0";
/// Clean, with wrongly typed `cvssInfo`/`cvss3Info` objects.
const MISTYPED: &str = "acme/mistyped:1.0";
/// A re-scan that is never processed: only the previous (day-old, clean) report is served.
const RESCAN: &str = "acme/rescan:1.0";
/// Never scanned by the sensor.
const GHOST: &str = "acme/ghost:1.0";
/// Never scanned by the sensor; a case seeds the platform with a document of its own for it.
const CUSTOM: &str = "acme/custom:1.0";
/// Not in the engine.
const UNKNOWN: &str = "nosuch/image:1";

const PASSWORD: &str = "Pw-Matrix-Secret-91c4";
const POLICY: [&str; 2] = ["--fail-cves", "CVE-2021-44228"];
/// Every machine-readable format, so that each is checked after every case.
const FORMATS: [&str; 8] = [
    "--format", "json", "--format", "junit", "--format", "sarif", "--format", "gitlab",
];
/// `--timeout` where the fault is a timeout or a hang.
const SHORT: &str = "4s";
/// `--timeout` otherwise: far above what a healthy image takes.
const LONG: &str = "60s";
/// Cases run at once.
const PARALLEL: usize = 4;

fn spec(seed: u64, vulnerabilities: usize, log4shell: bool) -> ReportSpec {
    ReportSpec {
        seed,
        base: Base::Debian,
        vulnerabilities,
        packages: if log4shell { 90 } else { 40 },
        log4shell,
        app_share: if log4shell { 0.3 } else { 0.2 },
        ..ReportSpec::default()
    }
}

/// The engine of every world: one image per behaviour (the sensor scans only what is tagged).
fn images() -> Vec<DockerImage> {
    let img = |tag: &str, report: ReportSpec| DockerImage {
        tags: vec![tag.into()],
        report: Some(report),
        ..DockerImage::default()
    };
    vec![
        img(HEALTHY, spec(5, 12, false)),
        img(VULN, spec(6, 30, true)),
        img(
            BROKEN,
            ReportSpec {
                scan_error: Some("SCAN_TIMEOUT".into()),
                ..spec(7, 12, false)
            },
        ),
        img(
            MISTYPED,
            ReportSpec {
                mistyped_cvss: 3,
                ..spec(8, 12, false)
            },
        ),
        DockerImage {
            previous_scan: Some(PreviousScan::default()),
            never_processed: true,
            ..img(RESCAN, spec(9, 30, true))
        },
        DockerImage {
            never_scanned: true,
            ..img(GHOST, spec(10, 12, false))
        },
        DockerImage {
            never_scanned: true,
            ..img(CUSTOM, spec(11, 12, false))
        },
    ]
}

/// What one image must end with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    Pass,
    Fail,
    Error(&'static str),
}

/// How the run is driven.
#[derive(Debug, Clone, Copy)]
enum Drive {
    /// Run to the end.
    Run,
    /// Send this signal once the first image of the case has its result.
    Signal(&'static str),
}

/// What a setup step gets: the world and a directory of the user's own (not the output dir).
struct Ctx<'a> {
    w: &'a ScanWorld,
    aux: &'a Path,
}

type Step = Box<dyn Fn(&Ctx<'_>, &mut Vec<String>) + Send + Sync>;
type Check = Box<dyn Fn(&Ctx<'_>) -> Result<(), String> + Send + Sync>;

/// One row of the matrix.
struct Case {
    name: &'static str,
    exit: i32,
    /// `summary.json`'s `exit_code` when it differs from the process's (`--report-only`).
    summary_exit: Option<i32>,
    /// The inputs, in order, with what each must end with.
    images: Vec<(&'static str, Want)>,
    /// Whether `summary.json` is written (false: the run must end with exit 2 before any work).
    summary: bool,
    timeout: &'static str,
    /// Point `--engine` at the world's stand-in.
    engine: bool,
    /// Replace the world's output directory (`--output-dir`) by this path under `aux`.
    output_dir: Option<&'static str>,
    formats: bool,
    env: Vec<(&'static str, String)>,
    steps: Vec<Step>,
    checks: Vec<Check>,
    drive: Drive,
    /// The run must end within this time.
    within: Option<Duration>,
}

fn case(name: &'static str, exit: i32) -> Case {
    Case {
        name,
        exit,
        summary_exit: None,
        images: Vec::new(),
        summary: exit != 2,
        timeout: LONG,
        engine: true,
        output_dir: None,
        formats: true,
        env: Vec::new(),
        steps: Vec::new(),
        checks: Vec::new(),
        drive: Drive::Run,
        within: None,
    }
}

impl Case {
    fn img(mut self, input: &'static str, want: Want) -> Self {
        self.images.push((input, want));
        self
    }

    /// The healthy image next to the faulty one, with the result the fault leaves it.
    fn healthy(self, want: Want) -> Self {
        self.img(HEALTHY, want)
    }

    fn short(mut self) -> Self {
        self.timeout = SHORT;
        self
    }

    fn within(mut self, secs: u64) -> Self {
        self.within = Some(Duration::from_secs(secs));
        self
    }

    fn env(mut self, key: &'static str, value: &str) -> Self {
        self.env.push((key, value.to_owned()));
        self
    }

    fn args(self, args: &'static [&'static str]) -> Self {
        self.step(move |_, a| a.extend(args.iter().map(|s| (*s).to_owned())))
    }

    fn step(mut self, f: impl Fn(&Ctx<'_>, &mut Vec<String>) + Send + Sync + 'static) -> Self {
        self.steps.push(Box::new(f));
        self
    }

    fn check(mut self, f: impl Fn(&Ctx<'_>) -> Result<(), String> + Send + Sync + 'static) -> Self {
        self.checks.push(Box::new(f));
        self
    }

    /// A fault rule on `endpoint`, for the next `times` requests (`None`: every request).
    fn fault(self, endpoint: &'static str, action: FaultAction, times: Option<u32>) -> Self {
        self.step(move |c, _| {
            c.w.emu
                .control()
                .inject(FaultRule {
                    endpoint: endpoint.into(),
                    action: action.clone(),
                    times,
                    probability: None,
                })
                .unwrap();
        })
    }

    fn sensor(self, state: SensorState) -> Self {
        self.step(move |c, _| c.w.emu.control().set_sensor_state(state))
    }

    /// Seeds the platform with a processed document for [`CUSTOM`]'s sha, changed by `edit`.
    fn custom_report(self, edit: fn(&mut Value)) -> Self {
        self.step(move |c, _| {
            let sha = c.w.id_of(CUSTOM);
            let mut doc = qcs_emulator::generate(&ReportSpec {
                sha: Some(sha),
                ..spec(11, 12, false)
            });
            edit(&mut doc);
            c.w.emu
                .control()
                .seed_image(qcs_emulator::SeedRequest {
                    // The document's own sha (no override, which would drop its `imageId`).
                    document: Some(doc),
                    ..qcs_emulator::SeedRequest::default()
                })
                .unwrap();
        })
    }

    /// An earlier run's passing `summary.json` in the output directory.
    fn stale_summary(self) -> Self {
        self.step(|c, _| {
            std::fs::write(c.w.out.path().join("summary.json"), STALE).unwrap();
        })
    }
}

const STALE: &str = r#"{"schema_version":1,"outcome":"passed","exit_code":0,"images":[]}"#;

/// The `i`-th finding's field `key` set to `v` (`None`: removed).
fn set_finding(doc: &mut Value, i: usize, key: &str, v: Option<Value>) {
    let f = doc["vulnerabilities"][i].as_object_mut().unwrap();
    match v {
        Some(v) => f.insert(key.into(), v),
        None => f.remove(key),
    };
}

#[allow(clippy::too_many_lines, reason = "the table")]
fn cases() -> Vec<Case> {
    use FaultAction as F;
    use Want::{Error, Fail, Pass};
    let status = |status| F::Status {
        status,
        message: None,
        retry_after_secs: None,
    };
    vec![
        // ---- the control cases: the same world without a fault
        case("no fault", 1).healthy(Pass).img(VULN, Fail),
        // ---- authentication
        case("auth 401 bad credentials", 4)
            .healthy(Error("api"))
            .img(VULN, Error("api"))
            .env("QUALYS_PASSWORD", "wrong-password"),
        case("auth 503 twice then recovery", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .fault("auth", status(503), Some(2)),
        case("auth hangs (gateway stalls) with --timeout", 4)
            .healthy(Error("api"))
            .short()
            .within(20)
            .fault("auth", F::Hang, None),
        case("token expired mid-wait", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .fault("images", F::ExpireToken, Some(1))
            .fault("images/{id}", F::ExpireToken, Some(1)),
        // ---- the list call
        case("list 5xx burst then recovery", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .fault("images", status(503), Some(4)),
        case("list 429 with Retry-After", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .fault(
                "images",
                F::Status {
                    status: 429,
                    message: None,
                    retry_after_secs: Some(1),
                },
                Some(2),
            ),
        case("list 400 bad QQL", 4)
            .healthy(Error("api"))
            .img(VULN, Error("api"))
            .fault(
                "images",
                F::Status {
                    status: 400,
                    message: Some("Invalid filter: unexpected token at 1:12".into()),
                    retry_after_secs: None,
                },
                None,
            ),
        case("list empty 200 forever", 5)
            .healthy(Error("timeout"))
            .short()
            .fault("images", F::EmptyBody, None),
        case("list HTML answer forever", 4)
            .healthy(Error("api"))
            .short()
            .fault("images", F::WrongContentType, None),
        case("list truncated JSON forever", 4)
            .healthy(Error("api"))
            .short()
            .fault("images", F::Truncate, None),
        case("list truncated twice then recovery", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .fault("images", F::Truncate, Some(2)),
        // No answer at all is "no result yet" (exit 5), not a failing call (exit 4): see
        // docs/qualys.md, "At the wait limit".
        // A gateway that stops answering is an API error (4), as the hanging authentication
        // is, whichever of the call and the deadline comes first.
        case("list hangs with --timeout", 4)
            .healthy(Error("api"))
            .short()
            .within(20)
            .fault("images", F::Hang, None),
        // ---- the details call
        case("details 404 forever", 5)
            .healthy(Error("timeout"))
            .short()
            .fault("images/{id}", status(404), None),
        case("details 503 forever", 4)
            .healthy(Error("api"))
            .short()
            .fault("images/{id}", status(503), None),
        case("details 503 for the first calls, then recovery", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .fault("images/{id}", status(503), Some(2)),
        case("details truncated forever", 4)
            .healthy(Error("api"))
            .short()
            .fault("images/{id}", F::Truncate, None),
        case("details HTML forever", 4)
            .healthy(Error("api"))
            .short()
            .fault("images/{id}", F::WrongContentType, None),
        case("details malformed JSON forever", 4)
            .healthy(Error("api"))
            .short()
            .fault("images/{id}", F::Malformed, None),
        case("details empty 200 forever", 5)
            .healthy(Error("timeout"))
            .short()
            .fault("images/{id}", F::EmptyBody, None),
        case("details CMS error body forever", 4)
            .healthy(Error("api"))
            .short()
            .fault(
                "images/{id}",
                F::StatusCms {
                    status: 500,
                    error_code: Some("CMS-2002".into()),
                    message: None,
                },
                None,
            ),
        case("list CMS error body 403", 4)
            .healthy(Error("api"))
            .fault(
                "images",
                F::StatusCms {
                    status: 403,
                    error_code: Some("CMS-2002".into()),
                    message: Some("Access denied".into()),
                },
                None,
            ),
        case("details document of another image (imageId)", 4)
            .healthy(Pass)
            .img(CUSTOM, Error("api"))
            .short()
            .custom_report(|d| d["imageId"] = Value::from("0123456789ab")),
        case("oversized API answer (QCS_MAX_ANSWER_SIZE)", 4)
            .healthy(Error("api"))
            .img(VULN, Error("api"))
            .env("QCS_MAX_ANSWER_SIZE", "2KiB"),
        // ---- what the report says
        case("stale previous scan only (re-scan never processed)", 5)
            .healthy(Pass)
            .img(RESCAN, Error("timeout"))
            .short(),
        case("failed scan (scan_error)", 5)
            .healthy(Pass)
            .img(BROKEN, Error("scan_failed")),
        case("failed scan with --report-only", 0)
            .healthy(Pass)
            .img(BROKEN, Error("scan_failed"))
            .args(&["--report-only"])
            .summary_exit(5),
        case("mistyped cvssInfo/cvss3Info", 1)
            .healthy(Pass)
            .img(MISTYPED, Pass)
            .img(VULN, Fail)
            .check(|c| {
                let s = c.w.summary();
                let w = common::image(&s, MISTYPED)["warnings"].to_string();
                (w.contains("cvssInfo") && w.contains("cvss3Info"))
                    .then_some(())
                    .ok_or(format!("no cvss warnings: {w}"))
            }),
        case("severity 9", 5)
            .healthy(Pass)
            .img(CUSTOM, Error("invalid_finding"))
            .custom_report(|d| set_finding(d, 0, "severity", Some(Value::from(9)))),
        case("severity 0", 5)
            .healthy(Pass)
            .img(CUSTOM, Error("invalid_finding"))
            .custom_report(|d| set_finding(d, 0, "severity", Some(Value::from(0)))),
        case("severity -1", 5)
            .healthy(Pass)
            .img(CUSTOM, Error("invalid_finding"))
            .custom_report(|d| set_finding(d, 0, "severity", Some(Value::from(-1)))),
        case("severity null", 5)
            .healthy(Pass)
            .img(CUSTOM, Error("invalid_finding"))
            .custom_report(|d| set_finding(d, 0, "severity", Some(Value::Null))),
        case("severity missing", 5)
            .healthy(Pass)
            .img(CUSTOM, Error("invalid_finding"))
            .custom_report(|d| set_finding(d, 0, "severity", None)),
        case("CVSS base score 11.5", 5)
            .healthy(Pass)
            .img(CUSTOM, Error("invalid_finding"))
            .custom_report(|d| d["vulnerabilities"][0]["cvss3Info"]["baseScore"] = "11.5".into()),
        case("never scanned", 5)
            .healthy(Pass)
            .img(GHOST, Error("timeout"))
            .short(),
        // ---- the engine and the sensor
        case("engine: image not found", 3)
            .healthy(Pass)
            .img(UNKNOWN, Error("engine")),
        case("engine socket missing", 3)
            .healthy(Error("engine"))
            .img(VULN, Error("engine"))
            .no_engine()
            .args(&["--engine", "unix:///nonexistent/docker.sock"]),
        case("sensor missing", 3)
            .healthy(Error("sensor"))
            .sensor(SensorState::Missing),
        case("sensor paused", 3)
            .healthy(Error("sensor"))
            .sensor(SensorState::Paused),
        case("sensor not in CI/CD mode", 3)
            .healthy(Error("sensor"))
            .sensor(SensorState::NotCicd),
        // ---- signals
        case("SIGTERM during the wait", 143)
            .healthy(Pass)
            .img(GHOST, Error("cancelled"))
            .signal("TERM"),
        case("SIGINT during the wait", 130)
            .healthy(Pass)
            .img(GHOST, Error("cancelled"))
            .signal("INT"),
        // ---- the filesystem
        case("output dir is a file", 2)
            .healthy(Pass)
            .img(VULN, Fail)
            .output_dir("a-file")
            .step(|c, _| std::fs::write(c.aux.join("a-file"), "x").unwrap()),
        case("output path under a file", 2)
            .healthy(Pass)
            .img(VULN, Fail)
            .stale_summary()
            .step(|c, a| {
                std::fs::write(c.aux.join("a-file"), "x").unwrap();
                let p = c.aux.join("a-file/junit.xml");
                a.extend(["--format".into(), format!("junit={}", p.display())]);
            }),
        case("output path is a directory", 2)
            .healthy(Pass)
            .stale_summary()
            .step(|c, a| {
                std::fs::create_dir(c.aux.join("a-dir")).unwrap();
                let p = c.aux.join("a-dir");
                a.extend(["--format".into(), format!("sarif={}", p.display())]);
            }),
        case("stale earlier summary.json is replaced", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .stale_summary(),
        case("symlink at summary.json", 1)
            .healthy(Pass)
            .img(VULN, Fail)
            .step(|c, _| {
                let victim = c.aux.join("victim.json");
                std::fs::write(&victim, STALE).unwrap();
                std::os::unix::fs::symlink(&victim, c.w.out.path().join("summary.json")).unwrap();
            })
            .check(|c| {
                let victim = std::fs::read_to_string(c.aux.join("victim.json")).unwrap();
                let meta = std::fs::symlink_metadata(c.w.out.path().join("summary.json")).unwrap();
                if victim != STALE {
                    Err(format!("the link's target was written: {victim}"))
                } else if !meta.file_type().is_file() {
                    Err("summary.json is still a link".into())
                } else {
                    Ok(())
                }
            }),
        case("two formats on one path", 2)
            .healthy(Pass)
            .stale_summary()
            .step(|c, a| {
                let p = c.aux.join("same.txt");
                a.extend([
                    "--format".into(),
                    format!("table={}", p.display()),
                    "--format".into(),
                    format!("markdown={}", p.display()),
                ]);
            }),
        case("two formats on standard output", 2)
            .healthy(Pass)
            .no_formats()
            .args(&["--format", "json=-", "--format", "table"]),
        // ---- configuration and policy
        case("config typo: polciy", 2)
            .healthy(Pass)
            .img(VULN, Fail)
            .stale_summary()
            .config("polciy = \"strict.toml\"\n"),
        case("config typo: [wiat] (found in the working directory)", 2)
            .healthy(Pass)
            .img(VULN, Fail)
            .stale_summary()
            .step(|c, _| {
                std::fs::write(c.w.out.path().join("qcs.toml"), "[wiat]\ntimeout = \"1s\"\n")
                    .unwrap();
            }),
        case("config typo: [Policy.fail]", 2)
            .healthy(Pass)
            .img(VULN, Fail)
            .stale_summary()
            .config("[Policy.fail]\ncves = [\"CVE-2021-44228\"]\n"),
        case("criteria JSON with a duplicate key", 2)
            .healthy(Pass)
            .img(VULN, Fail)
            .stale_summary()
            .step(|c, a| {
                let p = c.aux.join("criteria.json");
                std::fs::write(
                    &p,
                    "{\"failConditions\": {\"severities\": {\"5\": 0},\n \"severities\": {\"4\": 9}}}",
                )
                .unwrap();
                a.extend(["--criteria-json".into(), p.display().to_string()]);
            }),
        case("--fail-severity \"\"", 2)
            .healthy(Pass)
            .stale_summary()
            .args(&["--fail-severity", ""]),
    ]
}

impl Case {
    fn summary_exit(mut self, code: i32) -> Self {
        self.summary_exit = Some(code);
        self
    }

    fn no_engine(mut self) -> Self {
        self.engine = false;
        self
    }

    fn no_formats(mut self) -> Self {
        self.formats = false;
        self
    }

    fn signal(mut self, signal: &'static str) -> Self {
        self.drive = Drive::Signal(signal);
        self.timeout = "10m";
        self
    }

    fn output_dir(mut self, rel: &'static str) -> Self {
        self.output_dir = Some(rel);
        self
    }

    /// A config file (`--config`) with `body`.
    fn config(self, body: &'static str) -> Self {
        self.step(move |c, a| {
            let p = c.aux.join("qcs.toml");
            std::fs::write(&p, body).unwrap();
            a.extend(["--config".into(), p.display().to_string()]);
        })
    }
}

/// `c` with `--output-dir` pointing at `dir` instead.
fn with_output_dir(c: &std::process::Command, dir: &Path) -> std::process::Command {
    let mut n = std::process::Command::new(c.get_program());
    n.env_clear();
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            n.env(k, v);
        }
    }
    if let Some(d) = c.get_current_dir() {
        n.current_dir(d);
    }
    let mut args = c.get_args();
    while let Some(a) = args.next() {
        n.arg(a);
        if a == "--output-dir" {
            args.next();
            n.arg(dir);
        }
    }
    n
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Runs one case: `Ok` when it went as expected, else what went wrong.
async fn run_case(c: Arc<Case>) -> Result<(), String> {
    let w = ScanWorld::start(common::QCS, images(), PASSWORD).await;
    let aux = tempfile::tempdir().unwrap();
    let ctx = Ctx {
        w: &w,
        aux: aux.path(),
    };
    // Reports must be scanned after this (ms precision, so a second of slack).
    let started_ms = now_ms() - 1000;
    let mut extra = Vec::new();
    for step in &c.steps {
        step(&ctx, &mut extra);
    }
    let mut cmd = if c.engine {
        w.scan_process()
    } else {
        w.scan_process_without_engine()
    };
    if let Some(rel) = c.output_dir {
        cmd = with_output_dir(&cmd, &aux.path().join(rel));
    }
    cmd.args(c.images.iter().map(|(i, _)| *i))
        .args(POLICY)
        .args(["--timeout", c.timeout]);
    if c.formats {
        cmd.args(FORMATS);
    }
    cmd.args(&extra);
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let (code, err) = match c.drive {
        Drive::Run => {
            let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
        Drive::Signal(signal) => {
            let first = c.images[0].0;
            tokio::task::spawn_blocking(move || {
                cmd.stdout(Stdio::null()).stderr(Stdio::piped());
                let mut child = cmd.spawn().unwrap();
                let rx = stderr_lines(child.stderr.take().unwrap());
                let mut seen = String::new();
                until(&rx, &format!("{first}: done in"), &mut seen);
                kill(&child, signal);
                let (code, _) = wait_exit(child);
                seen.extend(rx.try_iter().map(|l| l + "\n"));
                (code, seen)
            })
            .await
            .unwrap()
        }
    };
    let took = started.elapsed();
    let mut problems = Vec::new();
    let stderr_tail = || {
        let lines: Vec<&str> = err.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    };
    if code != Some(c.exit) {
        problems.push(format!("exit code {code:?}, expected {}", c.exit));
    }
    if let Some(max) = c.within
        && took > max
    {
        problems.push(format!("took {took:?}, more than {max:?}"));
    }
    let out = match c.output_dir {
        Some(rel) => aux.path().join(rel),
        None => w.out.path().to_owned(),
    };
    let summary_path = out.join("summary.json");
    if c.summary {
        match check_summary(&c, &w, &out, started_ms) {
            Ok(()) => {}
            Err(e) => problems.push(e),
        }
    } else {
        if let Ok(left) = std::fs::read_to_string(&summary_path) {
            let which = if left == STALE {
                "the earlier run's"
            } else {
                "a new one"
            };
            problems.push(format!(
                "summary.json ({which}) exists after a run that ended before its verdict"
            ));
        }
        if w.count("docker/images/tag") != 0 {
            problems.push("an image was tagged before the configuration error".into());
        }
    }
    if out.is_dir() {
        problems.extend(check_outputs(&out));
    }
    for check in &c.checks {
        if let Err(e) = check(&ctx) {
            problems.push(e);
        }
    }
    w.emu.shutdown().await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n  --- stderr (last lines) ---\n{}",
            problems.join("\n"),
            stderr_tail()
        ))
    }
}

/// `summary.json`: its exit code, every image's result, and that no image passed without a
/// complete and fresh report of its own.
#[allow(
    clippy::many_single_char_names,
    reason = "case, world, summary, image, error"
)]
fn check_summary(c: &Case, w: &ScanWorld, out: &Path, started_ms: i64) -> Result<(), String> {
    let bytes = std::fs::read(out.join("summary.json"))
        .map_err(|e| format!("summary.json not written: {e}"))?;
    let s: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("summary.json does not parse: {e}"))?;
    let mut problems = Vec::new();
    let want_exit = c.summary_exit.unwrap_or(c.exit);
    if s["exit_code"] != want_exit {
        problems.push(format!(
            "summary exit_code {}, expected {want_exit}",
            s["exit_code"]
        ));
    }
    let listed = s["images"].as_array().map_or(0, Vec::len);
    if listed != c.images.len() {
        problems.push(format!(
            "summary lists {listed} images, expected {}",
            c.images.len()
        ));
    }
    for (input, want) in &c.images {
        let Some(i) = s["images"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["input"] == *input))
        else {
            problems.push(format!("{input}: not in summary.json"));
            continue;
        };
        let (outcome, kind) = (&i["outcome"], &i["error"]["kind"]);
        let ok = match want {
            Want::Pass => outcome == "passed" && i["error"].is_null(),
            Want::Fail => outcome == "failed" && i["error"].is_null(),
            Want::Error(k) => outcome == "error" && kind == *k,
        };
        if !ok {
            problems.push(format!(
                "{input}: {outcome} ({kind}: {}), expected {want:?}",
                i["error"]["message"]
            ));
        }
        if outcome == "passed" || outcome == "failed" {
            if let Err(e) = own_fresh_report(i, w, out, input, started_ms) {
                problems.push(format!("{input} is {outcome} without its report: {e}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// A judged image's raw report: its own sha, a complete vulnerability list, scanned in this run.
fn own_fresh_report(
    i: &Value,
    w: &ScanWorld,
    out: &Path,
    input: &str,
    started_ms: i64,
) -> Result<(), String> {
    let sha = w.id_of(input);
    if i["sha"] != sha.as_str() {
        return Err(format!("sha {} is not the image's {sha}", i["sha"]));
    }
    let raw_path = out.join(format!("images/{}.json", &sha[..12]));
    let raw: Value = serde_json::from_slice(
        &std::fs::read(&raw_path).map_err(|e| format!("{}: {e}", raw_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", raw_path.display()))?;
    if raw["sha"] != sha.as_str() {
        return Err(format!("the raw report is of {}", raw["sha"]));
    }
    let n = raw["vulnerabilities"]
        .as_array()
        .ok_or("the raw report has no vulnerability list")?
        .len();
    if i["counts"]["total"] != n {
        return Err(format!(
            "counts.total {} but {n} findings in the report",
            i["counts"]["total"]
        ));
    }
    let at = i["scanned_at"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .ok_or(format!("no scanned_at: {}", i["scanned_at"]))?;
    if at.as_millisecond() < started_ms {
        return Err(format!("scanned_at {at} is before the run"));
    }
    Ok(())
}

/// Every output file in `out` (and `out/images`) is complete: JSON parses, XML is well formed,
/// no temporary file is left.
fn check_outputs(out: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for dir in [out.to_owned(), out.join("images")] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        files.extend(rd.map(|e| e.unwrap().path()));
    }
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("qcs-tmp") {
            problems.push(format!("temporary file left: {name}"));
            continue;
        }
        if std::fs::symlink_metadata(&f).is_ok_and(|m| m.file_type().is_symlink()) {
            continue;
        }
        let ext = f
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if matches!(ext.as_deref(), Some("json" | "sarif")) {
            let bytes = std::fs::read(&f).unwrap();
            if let Err(e) = serde_json::from_slice::<Value>(&bytes) {
                problems.push(format!("{name} is not valid JSON: {e}"));
            }
        } else if ext.as_deref() == Some("xml") {
            let text = std::fs::read_to_string(&f).unwrap();
            if let Err(e) = well_formed_xml(&text) {
                problems.push(format!("{name} is not well-formed XML: {e}"));
            }
        }
    }
    problems
}

fn well_formed_xml(text: &str) -> Result<(), String> {
    let mut r = quick_xml::Reader::from_str(text);
    r.config_mut().check_end_names = true;
    let (mut depth, mut roots) = (0usize, 0usize);
    loop {
        match r.read_event().map_err(|e| e.to_string())? {
            quick_xml::events::Event::Start(_) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Empty(_) if depth == 0 => roots += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || roots != 1 {
        return Err(format!("{roots} root elements, {depth} left open"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_fault_kind_gives_its_exit_code_and_never_a_silent_pass() {
    let cases: Vec<Arc<Case>> = cases().into_iter().map(Arc::new).collect();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut set = tokio::task::JoinSet::new();
    for c in cases {
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let t = Instant::now();
            // A panic in the case (a broken setup, a missing stderr line) is its failure.
            let r = match tokio::spawn(run_case(c.clone())).await {
                Ok(r) => r,
                Err(e) => Err(match e.try_into_panic() {
                    Ok(p) => p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "panicked".into()),
                    Err(e) => e.to_string(),
                }),
            };
            (c.name, c.exit, t.elapsed(), r)
        });
    }
    let mut failed = Vec::new();
    let mut total = 0;
    while let Some(done) = set.join_next().await {
        let (name, exit, took, r) = done.unwrap();
        total += 1;
        match r {
            Ok(()) => eprintln!("ok   {name} (exit {exit}, {took:.1?})"),
            Err(e) => {
                eprintln!("FAIL {name} (expected exit {exit}, {took:.1?})");
                failed.push(format!("{name}:\n{e}"));
            }
        }
    }
    eprintln!("{total} cases in {:.1?}", started.elapsed());
    assert!(
        failed.is_empty(),
        "{} of {total} cases failed:\n\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}
