//! The command line: commands, global flags and the policy flags shared by `scan` and
//! `evaluate`. Names are a contract (`product.md` §1–§3).
//!
//! Doc comments here are `--help` text for terminals, so they carry no Markdown backticks.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};
use qcs_core::policy::flags::PolicyFlags;
use qcs_report::FormatSpec;

/// Qualys container scanning for any CI: tag the image for the Qualys CI/CD sensor, wait for the
/// vulnerability report, judge it against your policy, write reports, and set the exit code.
#[derive(Debug, Parser)]
#[command(name = "qcs", version, about, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 passed, 1 policy violated, 2 usage/configuration error, \
3 engine/sensor error, 4 Qualys API error, 5 no complete scan result."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// More detail on stderr (-v debug, -vv trace); QCS_LOG=<filter> overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// Only errors on stderr; no verdict table.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Config file (default: QCS_CONFIG, else ./qcs.toml when present).
    #[arg(long, value_name = "PATH", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// Read no config file (neither QCS_CONFIG nor ./qcs.toml): only flags and environment
    /// variables count, e.g. for a job whose settings are all given.
    #[arg(long, global = true, conflicts_with = "config")]
    pub(crate) no_config: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub(crate) enum Command {
    /// Tag images for the Qualys CI/CD sensor, wait for their vulnerability reports, judge them
    /// against the policy, write reports, and exit with the verdict (0 passed, 1 policy
    /// violated, 2-5 tool errors).
    Scan(ScanArgs),
    /// The whole scan flow on the built-in emulator (Qualys API, Docker API and CI/CD sensor):
    /// see qcs work with no Qualys account and no container engine.
    Demo(DemoArgs),
    /// Evaluate saved image-details JSON (from the API or an earlier scan) offline.
    Evaluate(EvaluateArgs),
    /// Work with policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the Qualys CS API emulator (and optionally a Docker API with a simulated CI/CD
    /// sensor) for trials and tests, until interrupted.
    Emulator(EmulatorArgs),
    /// Authenticate to Qualys, check the Container Security module, and show the gateway,
    /// the token's lifetime and the proxy in use. Exit 0, 2 (configuration) or 4 (API).
    TestConnection(TestConnectionArgs),
    /// List the Qualys platforms with their API, gateway and portal URLs.
    Platforms(PlatformsArgs),
    /// Print a pipeline step that runs qcs scan with this configuration (the same flags,
    /// environment and config file as scan): settings as flags, secrets from the CI system's
    /// secret store, and the report uploads the CI system understands.
    Snippet(SnippetArgs),
    /// Move from another tool: turn its settings into qcs.toml and a policy file.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Work with summaries of earlier runs: merge sharded runs into one verdict and one set of
    /// reports, or draw the trend across builds.
    #[command(subcommand)]
    Report(ReportCommand),
}

/// `qcs report …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Merge the summary.json of many runs (matrix jobs, agents, qcs scan --shard K/N) into one
    /// summary, one set of reports and one exit code. Each run's raw reports (images/<id>.json
    /// beside its summary.json) are copied into the output directory's images/. An image the
    /// runs judged differently is a conflict: an error (exit 5), never a pass. See
    /// docs/reports.md.
    Merge(MergeArgs),
    /// Draw confirmed findings by severity per build from earlier summary.json files: the
    /// latest summary's reports with the trend (an SVG chart in html, a table in markdown).
    Trend(TrendArgs),
}

/// `qcs report merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The summary.json of each run (e.g. shard-*/summary.json).
    #[arg(value_name = "SUMMARY", required = true, num_args = 1..)]
    pub(crate) summaries: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `qcs report trend`.
#[derive(Debug, Args)]
pub(crate) struct TrendArgs {
    /// The summary.json of each build, in any order (ordered by build number, else time).
    #[arg(value_name = "SUMMARY", required = true, num_args = 1..)]
    pub(crate) summaries: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `qcs migrate …`.
#[derive(Debug, Subcommand)]
pub(crate) enum MigrateCommand {
    /// Turn the Jenkins plugin's settings (its global configuration, a job's config.xml or a
    /// Jenkinsfile's getImageVulnsFromQualys call) into qcs.toml and qcs-policy.toml, each
    /// setting with a comment saying where it came from. Prints the secrets to provide, the
    /// settings that could not be read or map only approximately (setting | value | becomes |
    /// note), and the job's equivalent steps. See docs/migration.md.
    Jenkins(MigrateJenkinsArgs),
}

/// `qcs migrate jenkins`.
#[derive(Debug, Args)]
pub(crate) struct MigrateJenkinsArgs {
    /// The plugin's global configuration (default: $JENKINS_HOME/
    /// com.qualys.plugins.containerSecurity.config.QualysGlobalConfig.xml when JENKINS_HOME is
    /// set); credentials.xml beside it, when present, tells the credential types.
    #[arg(long = "global", value_name = "PATH")]
    pub(crate) global_config: Option<PathBuf>,
    /// A job's config.xml (freestyle or pipeline) or a Jenkinsfile, repeatable. A job without
    /// useLocalConfig: true uses the global configuration, as in the plugin.
    #[arg(long = "job", value_name = "PATH")]
    pub(crate) jobs: Vec<PathBuf>,
    /// Where to write qcs.toml and qcs-policy.toml (with several --job: a subdirectory per job).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) out: PathBuf,
    /// Replace qcs.toml and qcs-policy.toml when they exist.
    #[arg(long)]
    pub(crate) force: bool,
}

/// The CI systems `qcs snippet` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CiSystem {
    /// A Jenkins declarative pipeline stage (Groovy).
    Jenkins,
    /// GitHub Actions steps (YAML).
    Github,
    /// A GitLab CI job (YAML).
    Gitlab,
    /// Azure Pipelines steps (YAML).
    Azure,
}

/// `qcs snippet`: takes what `qcs scan` takes, less --print-config.
#[derive(Debug, Args)]
pub(crate) struct SnippetArgs {
    /// The CI system to write the step for.
    #[arg(long, value_enum, value_name = "SYSTEM")]
    pub(crate) ci: CiSystem,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// Where and how to reach Qualys (shared by `scan` and `test-connection`). Secrets come only
/// from the environment: QUALYS_USERNAME/QUALYS_PASSWORD or QUALYS_CLIENT_ID/
/// QUALYS_CLIENT_SECRET (each also as *_FILE).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Qualys")]
pub(crate) struct QualysArgs {
    /// Qualys platform: US1..US4, EU1..EU3, IN1, CA1, AE1, UK1, AU1, KSA1 (or US_PLATFORM_2
    /// style) [env: QUALYS_PLATFORM].
    #[arg(long, value_name = "CODE")]
    pub(crate) platform: Option<String>,
    /// Qualys API or portal URL, mapped to its gateway [env: QUALYS_API_URL].
    #[arg(long, value_name = "URL")]
    pub(crate) api_url: Option<String>,
    /// Gateway URL, used as is (private platforms, the emulator) [env: QUALYS_GATEWAY_URL].
    #[arg(long, value_name = "URL")]
    pub(crate) gateway_url: Option<String>,
    /// basic (username/password) or oauth (client id/secret) [env: QUALYS_AUTH].
    #[arg(long, value_name = "KIND")]
    pub(crate) auth: Option<String>,
    /// Extra trust anchors (PEM) for the Qualys API [env: QUALYS_CA_BUNDLE].
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_bundle: Option<PathBuf>,
}

/// `qcs scan`.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Print the resolved settings, each with where it came from (flag, env, config,
    /// default), secrets shown only as set; then exit without scanning.
    #[arg(long)]
    pub(crate) print_config: bool,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// The images and every setting of a scan (`qcs scan`, and `qcs snippet` for the step it
/// writes).
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Images to scan: 12- or 64-hex image ids or names (repo:tag, registry/repo:tag,
    /// name@sha256:...). Default: --images, else the IMAGE_ID environment variable.
    #[arg(value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
    /// Images as a comma-separated list (the Jenkins plugin's imageIds); adds to IMAGE.
    #[arg(long = "images", value_name = "IMAGE,...")]
    pub(crate) image_list: Vec<String>,
    /// Scan only shard K of N of the images (1 <= K <= N): an image belongs to shard
    /// (FNV-1a-64 of its name as given) mod N + 1, whatever the order of the list, so N jobs
    /// given the same list scan each image once; merge them with qcs report merge.
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<qcs_core::shard::Shard>,
    #[command(flatten)]
    pub(crate) qualys: QualysArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    #[command(flatten)]
    pub(crate) wait: WaitArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// Where the container engine is (`[engine]`).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Container engine")]
pub(crate) struct EngineArgs {
    /// Engine URL: unix:///var/run/docker.sock (default; on Windows
    /// npipe:////./pipe/docker_engine), tcp://host:2376,
    /// containerd:///run/containerd/containerd.sock, nerdctl:///usr/local/bin/nerdctl
    /// [env: DOCKER_HOST].
    #[arg(long, value_name = "URL")]
    pub(crate) engine: Option<String>,
    /// TLS directory for a tcp:// engine: ca.pem, cert.pem, key.pem [env: DOCKER_CERT_PATH].
    #[arg(long, value_name = "DIR")]
    pub(crate) cert_dir: Option<PathBuf>,
    /// containerd namespace (containerd and nerdctl engines; default k8s.io).
    #[arg(long, value_name = "NAME")]
    pub(crate) namespace: Option<String>,
    /// Do not check for the Qualys CI/CD sensor on this engine (it runs elsewhere).
    #[arg(long)]
    pub(crate) skip_sensor_check: bool,
}

/// How to wait for scan results (`[wait]`).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Waiting")]
pub(crate) struct WaitArgs {
    /// Give up waiting for an image's scan result after this long, e.g. 10m (default), 90s.
    #[arg(long, value_name = "DURATION")]
    pub(crate) timeout: Option<String>,
    /// Poll interval: auto (the default: every 1-10 s, as often as the Jenkins plugin's call
    /// budget affords, images sharing list calls) or a fixed duration such as 30s.
    #[arg(long, value_name = "DURATION")]
    pub(crate) interval: Option<String>,
    /// API calls in flight at once while waiting, over all images (default 8); every image is
    /// waited on at the same time.
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// Images per list call while waiting (default 50; 1 = one image per call, as the Jenkins
    /// plugin does; any doubt about a grouped answer falls back to 1) [env: QCS_WAIT_BATCH].
    #[arg(long, value_name = "N")]
    pub(crate) batch: Option<usize>,
}

/// `qcs demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Directory for the demo's report files.
    #[arg(long, value_name = "DIR", default_value = "qcs-reports")]
    pub(crate) output_dir: PathBuf,
}

/// `qcs test-connection`.
#[derive(Debug, Args)]
pub(crate) struct TestConnectionArgs {
    #[command(flatten)]
    pub(crate) qualys: QualysArgs,
    /// Output: text (default) or json.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub(crate) format: String,
}

/// `qcs platforms`.
#[derive(Debug, Args)]
pub(crate) struct PlatformsArgs {
    /// Output: table (default) or json.
    #[arg(long, value_name = "FORMAT", default_value = "table", value_parser = ["table", "json"])]
    pub(crate) format: String,
}

/// `qcs emulator`.
#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// Address of the CS API listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub(crate) listen: std::net::SocketAddr,
    /// Scenario file (TOML): users, images, timings, faults; see docs/emulator.md.
    #[arg(long, value_name = "FILE")]
    pub(crate) scenario: Option<PathBuf>,
    /// Serve HTTPS with a certificate from a generated test CA (its path is printed).
    #[arg(long)]
    pub(crate) tls: bool,
    /// Where to write the test CA and server certificate with --tls (default: a temp dir).
    #[arg(long, value_name = "DIR", requires = "tls")]
    pub(crate) tls_dir: Option<PathBuf>,
    /// Directory of image-details JSON files to serve as already processed.
    #[arg(long, value_name = "DIR")]
    pub(crate) images: Option<PathBuf>,
    /// Also serve a Docker Engine API stand-in with a simulated CI/CD sensor on this unix socket
    /// path, or on a TCP address given as tcp://IP:PORT (port 0: any free port; the only choice
    /// on Windows, which has no unix sockets here).
    #[arg(long, value_name = "PATH")]
    pub(crate) docker_socket: Option<qcs_emulator::DockerListen>,
    /// Watch a real Docker-compatible engine (e.g. unix:///run/podman/podman.sock) for images
    /// tagged qualys_scan_target:<sha>, as the CI/CD sensor does.
    #[arg(long, value_name = "URL")]
    pub(crate) watch_engine: Option<String>,
    /// What an image looks like while its report is processed: last-scanned-when-processed
    /// (default: lastScanned null until processed), last-scanned-at-upload, or
    /// counts-null-with-status (null counts and scanStatus while the scan runs). Wins over the
    /// scenario file's processing-profile.
    #[arg(long, value_name = "NAME", value_parser = parse_processing_profile)]
    pub(crate) processing_profile: Option<qcs_emulator::ProcessingProfile>,
}

fn parse_processing_profile(s: &str) -> Result<qcs_emulator::ProcessingProfile, String> {
    s.parse()
}

/// `qcs policy …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Validate a policy file (TOML, or the plugin's criteria JSON) and print every problem
    /// with its location; exit 2 when there is an error, 0 otherwise (warnings allowed).
    Check {
        /// The policy file: qcs TOML (`[fail]`, `[[exclude]]`), or criteria JSON (`*.json`).
        file: PathBuf,
    },
}

/// `qcs evaluate`.
#[derive(Debug, Args)]
pub(crate) struct EvaluateArgs {
    /// Image-details JSON files (`GET /csapi/v1.3/images/{sha}` responses).
    #[arg(long = "report", value_name = "FILE", required = true, num_args = 1..)]
    pub(crate) reports: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Evaluate as of this time (RFC 3339) instead of now; decides which exclusions expired.
    #[arg(long, value_name = "TIME")]
    pub(crate) now: Option<jiff::Timestamp>,
    /// The largest report file read, e.g. 512MiB, 1GiB or a number of bytes (default 256MiB);
    /// a larger file or pipe is refused without being read further [env: QCS_MAX_REPORT_SIZE].
    #[arg(long, value_name = "SIZE")]
    pub(crate) max_report_size: Option<String>,
}

/// Where reports go.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Directory for report files (default: [output] dir in the config, else qcs-reports).
    #[arg(long, value_name = "DIR")]
    pub(crate) output_dir: Option<PathBuf>,
    /// Output format, repeatable: FORMAT or FORMAT=PATH (`-` is stdout). Formats: json
    /// (summary.json), table (verdict table as text, stdout by default), sarif (results.sarif),
    /// junit (junit.xml), gitlab (gl-container-scanning-report.json), markdown (summary.md), html
    /// (report.html), plugin (the Jenkins plugin's qualys_images_summary.json and
    /// qualys_<id>.json per image; its PATH is a directory); see docs/reports.md. Default:
    /// [output] formats in the config, else json.
    #[arg(long = "format", value_name = "FORMAT[=PATH]")]
    pub(crate) formats: Vec<FormatSpec>,
    /// The Dockerfile of the images, relative to the repository root: the file every SARIF
    /// result points at, as GitHub code scanning needs one (default: [output] dockerfile in the
    /// config, else Dockerfile).
    #[arg(long, value_name = "PATH")]
    pub(crate) dockerfile: Option<String>,
    /// Always exit 0 after writing reports (except for usage errors, exit 2).
    #[arg(long)]
    pub(crate) report_only: bool,
    /// Earlier builds' summaries for the trend chart: DIR/*.json and DIR/*/summary.json
    /// (confirmed findings by severity per build, this run last).
    #[arg(long, value_name = "DIR")]
    pub(crate) history: Option<PathBuf>,
}

/// The policy as flags (or the original plugin's criteria JSON).
#[derive(Debug, Args)]
#[command(next_help_heading = "Policy")]
pub(crate) struct PolicyArgs {
    /// Policy file (TOML: [fail] and [[exclude]]; see docs/policy.md). Default: the config's
    /// [policy] table or `policy = "file"`.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// The Jenkins plugin's criteria JSON ({"failConditions": {...}}). Over the policy file,
    /// and flags over both, the later wins per condition (a severity level, the CVSS threshold,
    /// potential, fixable-only); list entries add up. See docs/policy.md.
    #[arg(long, value_name = "FILE")]
    pub(crate) criteria_json: Option<PathBuf>,
    /// Fail when more than LIMIT vulnerabilities of LEVEL are found: 5=0,4=2; LEVEL=off drops a
    /// level's limit from the policy file.
    #[arg(long, value_name = "LEVEL=LIMIT,...")]
    pub(crate) fail_severity: Vec<String>,
    /// Fail when any of these QIDs (or inclusive ranges a-b) is found.
    #[arg(long, value_name = "QID,...")]
    pub(crate) fail_qids: Vec<String>,
    /// Fail when any of these CVEs is found.
    #[arg(long, value_name = "CVE,...")]
    pub(crate) fail_cves: Vec<String>,
    /// Fail when an installed package matches NAME[OP VERSION]; NAME is a regex; OP is
    /// = (version regex), <, <=, >, >= (version order).
    #[arg(long, value_name = "FILTER,...")]
    pub(crate) fail_software: Vec<String>,
    /// Fail at a CVSS base score: VERSION:SCORE with VERSION 2, 3 or max, e.g. 3:7.0 (replaces
    /// the policy file's threshold; off drops it).
    #[arg(long, value_name = "VERSION:SCORE")]
    pub(crate) fail_cvss: Option<String>,
    /// Also apply the conditions to POTENTIAL vulnerabilities; --potential=false switches off
    /// the policy file's potential = true.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub(crate) potential: Option<bool>,
    /// Count only vulnerabilities with a patch available; --fixable-only=false switches off the
    /// policy file's fixable-only = true.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub(crate) fixable_only: Option<bool>,
    /// Exclude these QIDs (or ranges a-b) from judgement.
    #[arg(long, value_name = "QID,...")]
    pub(crate) exclude_qids: Vec<String>,
    /// Exclude vulnerabilities whose CVEs are all listed here.
    #[arg(long, value_name = "CVE,...")]
    pub(crate) exclude_cves: Vec<String>,
    /// A baseline: an earlier run's summary.json or a saved raw image report. Each finding is
    /// then new or unchanged, and what the baseline had and the image no longer has is fixed
    /// (over [baseline] path of the policy). See docs/policy.md.
    #[arg(long, value_name = "PATH")]
    pub(crate) baseline: Option<String>,
    /// What fails with a baseline: all (every finding, as without one; the default) or new
    /// (only findings not in the baseline) (over [baseline] mode of the policy).
    #[arg(long, value_name = "MODE", value_parser = ["all", "new"])]
    pub(crate) baseline_mode: Option<String>,
}

impl PolicyArgs {
    /// The flag part, in the form `qcs-core` reads.
    pub(crate) fn flags(&self) -> PolicyFlags {
        PolicyFlags {
            fail_severity: self.fail_severity.clone(),
            fail_qids: self.fail_qids.clone(),
            fail_cves: self.fail_cves.clone(),
            fail_software: self.fail_software.clone(),
            fail_cvss: self.fail_cvss.clone(),
            potential: self.potential,
            fixable_only: self.fixable_only,
            exclude_qids: self.exclude_qids.clone(),
            exclude_cves: self.exclude_cves.clone(),
            baseline: self.baseline.clone(),
            baseline_mode: self.baseline_mode.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
