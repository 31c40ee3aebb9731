//! The CI integrations under `integrations/`: the Jenkins shared library's step run by Groovy
//! against a stub pipeline context, the GitHub Action's (both forms: `integrations/github` and
//! the root `action.yml`) and the GitLab template's and component's (`templates/`) YAML
//! structure and shell run against a stub `qcs` (command line, outputs, exit codes), and every
//! `qcs` flag they emit checked against the real `qcs scan --help`; the Action's installer
//! against the real release archive of `scripts/release.sh` (`$QCS_DIST`) served on loopback as
//! GitHub serves releases, and `scripts/pin-action.sh`. Needs groovy and `PyYAML`
//! (`scripts/setup/60-groovy.sh`) and the archive (`scripts/release.sh --out target/dist`).

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use qcs_test_support::emulator_process::EmulatorProcess;
use serde_json::Value;

const SECRET: &str = "s3cr3t-P@ss'$(id)";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// A YAML file as JSON, parsed by `PyYAML` (`safe_load`: no custom tags).
fn yaml(path: &Path) -> Value {
    let code = "import json, sys, yaml\njson.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)";
    for python in ["python3", "/usr/bin/python3"] {
        let Ok(out) = Command::new(python).args(["-c", code]).arg(path).output() else {
            continue;
        };
        if out.status.success() {
            return serde_json::from_slice(&out.stdout).unwrap();
        }
        assert!(
            text(&out.stderr).contains("No module named"),
            "{} is not valid YAML: {}",
            path.display(),
            describe(&out)
        );
    }
    panic!("no python3 with PyYAML: run scripts/setup/60-groovy.sh (apt-get install python3-yaml)");
}

/// Every document of a YAML file as JSON, parsed by `PyYAML` (`safe_load_all`).
fn yaml_documents(path: &Path) -> Vec<Value> {
    let code = "import json, sys, yaml\njson.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)";
    let out = Command::new("/usr/bin/python3")
        .args(["-c", code])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} is not valid YAML: {}",
        path.display(),
        describe(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The long flags `qcs scan --help` lists.
fn scan_flags() -> &'static BTreeSet<String> {
    static FLAGS: OnceLock<BTreeSet<String>> = OnceLock::new();
    FLAGS.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_qcs"))
            .args(["scan", "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        long_flags(&text(&out.stdout))
    })
}

fn long_flags(s: &str) -> BTreeSet<String> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.len() > 2 && w.starts_with("--") && w.as_bytes()[2].is_ascii_lowercase())
        .map(str::to_owned)
        .collect()
}

fn assert_known_flags<'a>(args: impl IntoIterator<Item = &'a String>, by: &str) {
    let known = scan_flags();
    for arg in args {
        let flag = arg.split('=').next().unwrap();
        if flag.starts_with("--") {
            assert!(
                known.contains(flag),
                "{by} passes {flag}, which `qcs scan --help` does not list"
            );
        }
    }
}

/// A stand-in `qcs` in `dir/bin`: records its arguments (one a line) and environment in `dir`,
/// writes summary.json (top-level outcome `$STUB_OUTCOME`), summary.md and results.sarif into the
/// `--output-dir` unless `STUB_WRITE=0`, and exits with `$STUB_EXIT`.
fn stub_qcs(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
: > "{d}/args"
for a in "$@"; do printf '%s\n' "$a" >> "{d}/args"; done
env > "{d}/env"
out=qcs-reports; prev=
for a in "$@"; do [ "$prev" = --output-dir ] && out=$a; prev=$a; done
code=${{STUB_EXIT:-0}}
if [ "${{STUB_WRITE:-1}}" = 1 ]; then
  mkdir -p "$out"
  printf '## qcs: %s\n' "${{STUB_OUTCOME:-passed}}" > "$out/summary.md"
  printf '{{"version":"2.1.0","runs":[]}}' > "$out/results.sarif"
  printf '{{"schema_version":1,"outcome":"%s","exit_code":%s,"images":[{{"outcome":"passed"}}]}}' \
    "${{STUB_OUTCOME:-passed}}" "$code" > "$out/summary.json"
fi
exit "$code"
"#,
        d = dir.display()
    );
    let path = bin.join("qcs");
    fs::write(&path, script).unwrap();
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    bin
}

fn recorded_args(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn outcome_for(code: i32) -> &'static str {
    match code {
        0 => "passed",
        1 => "failed",
        _ => "error",
    }
}

// --- Jenkins --------------------------------------------------------------------------------

#[test]
fn jenkins_step_against_a_stub_pipeline() {
    let groovy = Command::new("groovy").arg("--version").output();
    assert!(
        groovy.is_ok_and(|o| o.status.success()),
        "groovy is missing: run scripts/setup/60-groovy.sh (apt-get install groovy)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let commands_file = tmp.path().join("commands");
    // The step also runs the real qcs once against the emulator, through bash as `sh` would.
    let emu = emulator();
    // Run where the stub may write its reports (not in the source tree).
    let out = Command::new("bash")
        .arg(root().join("integrations/jenkins/test/run.sh"))
        .current_dir(tmp.path())
        .env("QCS_COMMANDS_OUT", &commands_file)
        .env("QCS_E2E_BIN", env!("CARGO_BIN_EXE_qcs"))
        .env("QCS_E2E_GATEWAY", &emu.url)
        .env("QCS_E2E_ENGINE", &emu.engine)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", describe(&out));
    let closing = stdout
        .lines()
        .rev()
        .find(|l| l.ends_with(" failed"))
        .unwrap_or_default();
    let passed: u32 = closing
        .split(' ')
        .next()
        .unwrap_or_default()
        .parse()
        .unwrap_or(0);
    assert!(
        closing.ends_with(" 0 failed") && passed >= 34,
        "closing line {closing:?}\n{stdout}"
    );

    // Every flag the step produced is one `qcs scan` has.
    let commands = fs::read_to_string(&commands_file).unwrap();
    let flags: Vec<String> = commands
        .split(|c: char| c.is_whitespace() || c == '\t')
        .filter(|w| w.starts_with("--"))
        .map(str::to_owned)
        .collect();
    assert!(flags.len() > 50, "too few flags recorded: {flags:?}");
    assert_known_flags(&flags, "the Jenkins step");

    // The plugin's criteria, as the step turns them into flags, are a policy the real qcs takes.
    let criteria = commands
        .lines()
        .find_map(|l| {
            l.strip_prefix("plugin names: the fail conditions become the qcs policy flags\t")
        })
        .expect("the criteria scenario's command line");
    let real = criteria.replacen("qcs ", &format!("{} ", env!("CARGO_BIN_EXE_qcs")), 1);
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{real} --platform US2 --print-config"))
        .current_dir(tmp.path())
        .env("QUALYS_USERNAME", "ci-bot")
        .env("QUALYS_PASSWORD", "x")
        .env_remove("QCS_CONFIG")
        .output()
        .unwrap();
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{real}\n{}", describe(&out));
    for part in [
        "CVE-2018-2771",
        "rpm-libs=4.8.0-55.el6",
        "7.0",
        "170560-170590",
        "potential",
    ] {
        assert!(
            shown.contains(part),
            "{part} missing from the policy qcs read:\n{shown}"
        );
    }
}

// --- GitHub Action --------------------------------------------------------------------------

fn github() -> PathBuf {
    root().join("integrations/github")
}

#[test]
fn github_action_metadata() {
    let action = yaml(&github().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().unwrap();
    for name in [
        "images",
        "policy",
        "platform",
        "gateway-url",
        "formats",
        "timeout",
        "report-only",
        "sarif-upload",
        "version",
        "username",
        "password",
        "auth",
        "ca-bundle",
        "proxy",
        "no-proxy",
        "proxy-username",
        "proxy-password",
        "interval",
        "dockerfile",
        "args",
    ] {
        assert!(inputs.contains_key(name), "input {name} missing");
        assert!(
            inputs[name]["description"].is_string(),
            "input {name} undocumented"
        );
    }
    assert_eq!(inputs["sarif-upload"]["default"], "true");
    assert_eq!(inputs["report-only"]["default"], "false");
    for (name, output) in action["outputs"].as_object().unwrap() {
        assert_eq!(
            output["value"],
            format!("${{{{ steps.scan.outputs.{name} }}}}")
        );
    }
    for name in ["outcome", "exit-code", "summary-path"] {
        assert!(
            action["outputs"].get(name).is_some(),
            "output {name} missing"
        );
    }

    let steps = action["runs"]["steps"].as_array().unwrap();
    let step = |id: &str| {
        steps
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no step {id}"))
    };
    assert_eq!(
        step("install")["run"],
        r#"bash "$GITHUB_ACTION_PATH/install.sh""#
    );
    let scan = step("scan");
    assert_eq!(scan["run"], r#"bash "$GITHUB_ACTION_PATH/run.sh""#);
    assert_eq!(scan["env"]["QCS_BIN"], "${{ steps.install.outputs.bin }}");
    // Every input reaches run.sh as INPUT_<NAME> (or the install step), and no input is pasted
    // into a shell line, where a value could inject commands.
    for name in inputs.keys() {
        let var = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
        let handled_elsewhere =
            ["version", "repository", "sarif-category"].contains(&name.as_str());
        assert!(
            handled_elsewhere || scan["env"][&var] == format!("${{{{ inputs.{name} }}}}"),
            "input {name} does not reach run.sh as {var}"
        );
    }
    for s in steps {
        if let Some(run) = s["run"].as_str() {
            assert!(
                !run.contains("${{"),
                "an expression inside a run line: {run}"
            );
        }
    }
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .unwrap();
    let cond = upload["if"].as_str().unwrap();
    assert!(
        cond.contains("!cancelled()") && cond.contains("inputs.sarif-upload == 'true'"),
        "{cond}"
    );
    // A pull request from a fork has a read-only token: no upload is tried there.
    assert!(
        cond.contains("github.event.pull_request.head.repo.full_name == github.repository"),
        "{cond}"
    );
    assert_eq!(
        upload["with"]["sarif_file"],
        "${{ steps.scan.outputs.sarif-path }}"
    );
    // Pinned by commit; where code scanning refuses the upload the job goes on, and the next
    // step says why in the job summary.
    let uses = upload["uses"].as_str().unwrap();
    let sha = uses.split('@').nth(1).unwrap();
    assert!(
        sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
        "{uses} is not pinned by commit"
    );
    assert_eq!(upload["continue-on-error"], true);
    assert_eq!(upload["id"], "upload");
    let notice = step("upload-notice");
    assert_eq!(
        notice["run"],
        r#"bash "$GITHUB_ACTION_PATH/sarif-notice.sh""#
    );
    let cond = notice["if"].as_str().unwrap();
    assert!(
        cond.contains("steps.upload.outcome != 'success'") && cond.contains("!cancelled()"),
        "{cond}"
    );
    assert_eq!(
        notice["env"]["QCS_UPLOAD_OUTCOME"],
        "${{ steps.upload.outcome }}"
    );
}

/// The action.yml at the repository root (the Marketplace's form) is the same action: the same
/// inputs, outputs and steps, running the scripts of integrations/github.
#[test]
fn the_root_action_is_the_same_action_with_the_same_scripts() {
    let sub = yaml(&github().join("action.yml"));
    let top = yaml(&root().join("action.yml"));
    for key in [
        "name",
        "description",
        "author",
        "branding",
        "inputs",
        "outputs",
    ] {
        assert_eq!(
            top[key], sub[key],
            "{key} differs between the two action.yml"
        );
    }
    let mut expected = sub["runs"].clone();
    for step in expected["steps"].as_array_mut().unwrap() {
        if let Some(run) = step["run"].as_str() {
            let moved = run.replace(
                "$GITHUB_ACTION_PATH/",
                "$GITHUB_ACTION_PATH/integrations/github/",
            );
            assert_ne!(moved, run, "a run line without the action's path: {run}");
            step["run"] = Value::from(moved);
        }
    }
    assert_eq!(top["runs"], expected);
    // Every script the action runs exists there.
    for step in top["runs"]["steps"].as_array().unwrap() {
        if let Some(run) = step["run"].as_str() {
            let script = run
                .trim_start_matches("bash \"$GITHUB_ACTION_PATH/")
                .trim_end_matches('"');
            assert!(root().join(script).is_file(), "{run}: {script} is missing");
        }
    }
}

/// sarif-notice.sh, run when the upload did not succeed: a warning, a paragraph in the job
/// summary saying why, and exit 0 (the verdict is the scan step's).
#[test]
fn github_sarif_notice_explains_and_never_fails() {
    for (outcome, says) in [
        (
            "failure",
            &[
                "GitHub Advanced Security",
                "security-events: write",
                "actions: read",
                "sarif-upload: false",
            ][..],
        ),
        ("skipped", &["pull request comes from a fork"][..]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let summary = tmp.path().join("summary");
        fs::write(&summary, "## qcs: failed\n").unwrap();
        let out = Command::new("bash")
            .arg(github().join("sarif-notice.sh"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("QCS_UPLOAD_OUTCOME", outcome)
            .env("QCS_SARIF_PATH", "qcs-reports/results.sarif")
            .output()
            .unwrap();
        assert!(out.status.success(), "{outcome}: {}", describe(&out));
        assert!(
            text(&out.stdout).starts_with("::warning title=qcs::"),
            "{outcome}: {}",
            describe(&out)
        );
        let written = fs::read_to_string(&summary).unwrap();
        assert!(written.starts_with("## qcs: failed\n"), "{written}");
        assert!(written.contains("qcs-reports/results.sarif"), "{written}");
        for part in says {
            assert!(
                written.contains(part),
                "{outcome}: {part:?} missing:\n{written}"
            );
        }
    }
}

/// One run of run.sh with a stub qcs; returns (exit code, args, outputs, step summary, stdout).
struct Run {
    code: i32,
    args: Vec<String>,
    outputs: String,
    summary: String,
    stdout: String,
    qcs_env: String,
    /// The directory run.sh ran in (kept until the run is dropped).
    work: PathBuf,
    _tmp: tempfile::TempDir,
}

fn run_github(envs: &[(&str, &str)]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let bin = stub_qcs(tmp.path());
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    let (outputs, summary) = (tmp.path().join("outputs"), tmp.path().join("summary"));
    fs::write(&summary, "earlier step\n").unwrap();
    let out = Command::new("bash")
        .arg(github().join("run.sh"))
        .current_dir(&work)
        .env_clear()
        .env("PATH", path_with(&bin))
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let args = if tmp.path().join("args").exists() {
        recorded_args(tmp.path())
    } else {
        Vec::new()
    };
    Run {
        code: out.status.code().unwrap(),
        args,
        outputs: fs::read_to_string(&outputs).unwrap_or_default(),
        summary: fs::read_to_string(&summary).unwrap(),
        stdout: text(&out.stdout),
        qcs_env: fs::read_to_string(tmp.path().join("env")).unwrap_or_default(),
        work,
        _tmp: tmp,
    }
}

/// Whitespace-separated words, for expected command lines.
fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn github_run_builds_the_command_line_and_keeps_secrets_in_the_environment() {
    let r = run_github(&[
        ("INPUT_IMAGES", "myapp:1.4,\nworker:1.4\n"),
        ("INPUT_POLICY", "ci/qcs policy.toml"),
        ("INPUT_PLATFORM", "US2"),
        ("INPUT_GATEWAY_URL", "http://127.0.0.1:8443"),
        ("INPUT_FORMATS", "json,markdown,sarif,html"),
        ("INPUT_TIMEOUT", "15m"),
        ("INPUT_REPORT_ONLY", "false"),
        ("INPUT_SARIF_UPLOAD", "true"),
        ("INPUT_SKIP_SENSOR_CHECK", "true"),
        ("INPUT_ARGS", "--concurrency\n4\n"),
        ("INPUT_USERNAME", "ci-bot"),
        ("INPUT_PASSWORD", SECRET),
        ("INPUT_AUTH", "basic"),
        ("INPUT_CA_BUNDLE", "certs/corp ca.pem"),
        ("INPUT_INTERVAL", "5s"),
        ("INPUT_DOCKERFILE", "docker/app.Dockerfile"),
        ("INPUT_PROXY", "http://proxy.corp:3128"),
        ("INPUT_NO_PROXY", "localhost,.corp"),
        ("INPUT_PROXY_USERNAME", "proxy-bot"),
        ("INPUT_PROXY_PASSWORD", "proxy-pw-9f1"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.args,
        strs(&[
            "scan",
            "--platform",
            "US2",
            "--gateway-url",
            "http://127.0.0.1:8443",
            "--auth",
            "basic",
            "--ca-bundle",
            "certs/corp ca.pem",
            "--policy",
            "ci/qcs policy.toml",
            "--timeout",
            "15m",
            "--interval",
            "5s",
            "--dockerfile",
            "docker/app.Dockerfile",
            "--skip-sensor-check",
            "--output-dir",
            "qcs-reports",
            "--format",
            "json",
            "--format",
            "markdown",
            "--format",
            "sarif",
            "--format",
            "html",
            "--concurrency",
            "4",
            "myapp:1.4",
            "worker:1.4",
        ])
    );
    assert_known_flags(&r.args, "the GitHub Action");
    assert!(
        r.qcs_env
            .lines()
            .any(|l| l == format!("QUALYS_PASSWORD={SECRET}")),
        "qcs did not get the password"
    );
    assert!(r.qcs_env.lines().any(|l| l == "QUALYS_USERNAME=ci-bot"));
    // The proxy reaches qcs as the variables it reads, its credentials never as arguments.
    for var in [
        "HTTPS_PROXY=http://proxy.corp:3128",
        "NO_PROXY=localhost,.corp",
        "QCS_PROXY_USERNAME=proxy-bot",
        "QCS_PROXY_PASSWORD=proxy-pw-9f1",
    ] {
        assert!(r.qcs_env.lines().any(|l| l == var), "{var} missing for qcs");
    }
    assert!(
        r.stdout.contains("::add-mask::proxy-pw-9f1"),
        "{}",
        r.stdout
    );
    assert!(!r.args.iter().any(|a| a.contains("s3cr3t")));
    // The only place the password is printed is the runner's mask command.
    for line in r.stdout.lines().filter(|l| l.contains("s3cr3t")) {
        assert_eq!(line, format!("::add-mask::{SECRET}"));
    }
    let outputs: BTreeSet<&str> = r.outputs.lines().collect();
    let expected = [
        "outcome=passed",
        "exit-code=0",
        "report-dir=qcs-reports",
        "summary-path=qcs-reports/summary.md",
        "sarif-path=qcs-reports/results.sarif",
    ];
    assert_eq!(outputs, expected.into_iter().collect());
    assert_eq!(r.summary, "earlier step\n## qcs: passed\n");
}

/// `args` holds one argument a line: an argument keeps its spaces, blanks around a line, Windows
/// line ends and empty lines are dropped, and nothing is split on spaces or expanded.
#[test]
fn github_run_takes_one_argument_a_line() {
    let r = run_github(&[
        ("INPUT_IMAGES", "a:1"),
        (
            "INPUT_ARGS",
            "  --concurrency\r\n4\n\n--fail-software=.*:my lib<2.0\n--exclude-cves\n  CVE-2021-1 \n$(id) *\n",
        ),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let extra: Vec<&str> = r
        .args
        .iter()
        .skip_while(|a| *a != "json")
        .skip(1)
        .skip_while(|a| a.as_str() == "--format" || a.as_str() == "markdown")
        .map(String::as_str)
        .collect();
    assert_eq!(
        extra,
        [
            "--concurrency",
            "4",
            "--fail-software=.*:my lib<2.0",
            "--exclude-cves",
            "CVE-2021-1",
            "$(id) *",
            "a:1"
        ],
        "{:?}",
        r.args
    );
    // The command line shown in the log quotes what the shell would need quoted.
    assert!(
        r.stdout.contains(r"--fail-software=.\*:my\ lib\<2.0"),
        "{}",
        r.stdout
    );
}

#[test]
fn github_run_exit_codes_and_outputs() {
    for code in [0, 1, 2, 3, 4, 5, 127] {
        let exit = code.to_string();
        let write = if code == 2 { "0" } else { "1" };
        let r = run_github(&[
            ("INPUT_IMAGES", "myapp:1.4"),
            ("STUB_EXIT", &exit),
            ("STUB_OUTCOME", outcome_for(code)),
            ("STUB_WRITE", write),
        ]);
        assert_eq!(r.code, code, "{}", r.stdout);
        assert!(
            r.outputs.contains(&format!("\nexit-code={code}\n")),
            "{}",
            r.outputs
        );
        assert!(
            r.outputs
                .starts_with(&format!("outcome={}\n", outcome_for(code))),
            "{}",
            r.outputs
        );
        let annotated = r
            .stdout
            .lines()
            .any(|l| l.starts_with("::error title=qcs::"));
        assert_eq!(annotated, code != 0, "{}", r.stdout);
        if code == 2 {
            // No reports: empty paths, and the job summary says why.
            assert!(
                r.outputs.contains("summary-path=\n") && r.outputs.contains("sarif-path=\n"),
                "{}",
                r.outputs
            );
            assert!(
                r.summary
                    .contains("exit code 2 (usage or configuration error)"),
                "{}",
                r.summary
            );
        } else {
            assert!(
                r.summary
                    .ends_with(&format!("## qcs: {}\n", outcome_for(code))),
                "{}",
                r.summary
            );
        }
    }
    let policy = run_github(&[
        ("INPUT_IMAGES", "a:1"),
        ("STUB_EXIT", "1"),
        ("STUB_OUTCOME", "failed"),
    ]);
    assert!(
        policy
            .stdout
            .contains("::error title=qcs::policy violated (exit code 1)"),
        "{}",
        policy.stdout
    );
}

#[test]
fn github_run_report_only_passes_and_tells_the_real_outcome() {
    let r = run_github(&[
        ("INPUT_IMAGES", "a:1"),
        ("INPUT_REPORT_ONLY", "true"),
        ("STUB_OUTCOME", "failed"),
    ]);
    assert_eq!(r.code, 0);
    assert!(r.args.contains(&"--report-only".to_owned()), "{:?}", r.args);
    assert!(
        r.outputs.starts_with("outcome=failed\nexit-code=0\n"),
        "{}",
        r.outputs
    );
    let plain = run_github(&[("INPUT_IMAGES", "a:1")]);
    assert!(!plain.args.contains(&"--report-only".to_owned()));
}

/// The values of the `--format` flags, in order.
fn formats_of(args: &[String]) -> Vec<&str> {
    args.windows(2)
        .filter(|w| w[0] == "--format")
        .map(|w| w[1].as_str())
        .collect()
}

#[test]
fn github_run_adds_the_formats_it_needs() {
    let r = run_github(&[("INPUT_FORMATS", "junit"), ("INPUT_SARIF_UPLOAD", "true")]);
    assert_eq!(formats_of(&r.args), ["junit", "json", "markdown", "sarif"]);
    assert_eq!(
        r.args.last().unwrap(),
        "sarif",
        "no image given: qcs reads IMAGE_ID"
    );
    let r = run_github(&[
        ("INPUT_FORMATS", "json html"),
        ("INPUT_SARIF_UPLOAD", "false"),
        ("INPUT_STEP_SUMMARY", "false"),
    ]);
    assert_eq!(formats_of(&r.args), ["json", "html"]);
    assert_eq!(
        r.summary, "earlier step\n",
        "step-summary false still wrote the summary"
    );
}

fn run_install(envs: &[(&str, &str)], path: &str) -> (Output, String) {
    let tmp = tempfile::tempdir().unwrap();
    let outputs = tmp.path().join("outputs");
    // In the temp dir: the installer runs the stub `qcs`, which writes reports where it runs.
    let out = Command::new("bash")
        .arg(github().join("install.sh"))
        .current_dir(tmp.path())
        .env_clear()
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &outputs)
        .env("RUNNER_TEMP", tmp.path())
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    (out, fs::read_to_string(&outputs).unwrap_or_default())
}

#[test]
fn github_install_uses_the_qcs_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = stub_qcs(tmp.path());
    let (out, outputs) = run_install(&[], &path_with(&bin));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(outputs, format!("bin={}\n", bin.join("qcs").display()));
    let (out, _) = run_install(&[("QCS_VERSION", "installed")], "/usr/bin:/bin");
    assert!(
        !out.status.success(),
        "version installed without qcs on PATH must fail"
    );
    assert!(
        text(&out.stdout).contains("there is none") || text(&out.stderr).contains("there is none")
    );
}

// --- GitHub Action: install.sh against the real release archive -----------------------------

/// The version the workspace builds, which `scripts/release.sh` names the archive for.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The runner this machine is, as GitHub names it (`RUNNER_OS`, `RUNNER_ARCH`), and the release
/// target `scripts/release.sh` builds here by default.
fn this_runner() -> (&'static str, &'static str, String) {
    let (os, os_part) = match std::env::consts::OS {
        "linux" => ("Linux", "unknown-linux-musl"),
        "macos" => ("macOS", "apple-darwin"),
        other => panic!("no qcs release target for {other}"),
    };
    let (arch, arch_part) = match std::env::consts::ARCH {
        "x86_64" => ("X64", "x86_64"),
        "aarch64" => ("ARM64", "aarch64"),
        other => panic!("no qcs release target for {other}"),
    };
    (os, arch, format!("{arch_part}-{os_part}"))
}

/// What `scripts/release.sh` wrote for this machine: the archive of this version and
/// `SHA256SUMS`, in `$QCS_DIST` (`scripts/test.sh` builds it and sets that), else `target/dist`.
struct Dist {
    dir: PathBuf,
    asset: String,
}

impl Dist {
    fn archive(&self) -> PathBuf {
        self.dir.join(&self.asset)
    }

    /// The `SHA256SUMS` line's checksum of the archive.
    fn listed_sha256(&self) -> String {
        let sums = fs::read_to_string(self.dir.join("SHA256SUMS")).unwrap();
        sums.lines()
            .find_map(|l| {
                let (sum, name) = l.split_once("  ")?;
                (name == self.asset).then(|| sum.to_owned())
            })
            .unwrap_or_else(|| panic!("SHA256SUMS lists no {}:\n{sums}", self.asset))
    }
}

fn dist() -> Dist {
    let dir =
        std::env::var_os("QCS_DIST").map_or_else(|| root().join("target/dist"), PathBuf::from);
    let (_, _, target) = this_runner();
    let asset = format!("qcs-{target}.tar.gz");
    let d = Dist { dir, asset };
    assert!(
        d.archive().is_file() && d.dir.join("SHA256SUMS").is_file(),
        "no release archive {} with SHA256SUMS in {}: run `scripts/release.sh --out target/dist` \
         first (scripts/test.sh does, and sets QCS_DIST to it)",
        d.asset,
        d.dir.display()
    );
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(d.archive())
        .output()
        .unwrap();
    assert!(listing.status.success(), "{}", describe(&listing));
    let top = format!("qcs-{VERSION}-{target}/");
    assert!(
        text(&listing.stdout).lines().next() == Some(top.as_str()),
        "{} is not the archive of qcs {VERSION} (it should hold {top}):\n{}\nrun \
         `scripts/release.sh --out target/dist` again",
        d.archive().display(),
        text(&listing.stdout)
    );
    assert_eq!(
        d.listed_sha256(),
        sha256_hex(&fs::read(d.archive()).unwrap())
    );
    d
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// GitHub's releases on loopback: serves the files under its directory by URL path
/// (`/releases/download/v<version>/<asset>`), answers `/releases/latest/download/<asset>` with a
/// redirect to the latest version's, as GitHub does, and records every path asked for.
struct ReleaseServer {
    base: String,
    addr: std::net::SocketAddr,
    dir: tempfile::TempDir,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReleaseServer {
    fn start(latest: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Bound before the thread starts: connections queue until it accepts them.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (files, log, stopped, latest) = (
            dir.path().to_owned(),
            Arc::clone(&requests),
            Arc::clone(&stop),
            latest.to_owned(),
        );
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve_release_file(stream, &files, &latest, &log);
                }
            }
        });
        ReleaseServer {
            base: format!("http://{addr}/releases"),
            addr,
            dir,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Publishes `files` (copied) as the release v`version`.
    fn publish(&self, version: &str, files: &[&Path]) -> PathBuf {
        let release = self
            .dir
            .path()
            .join(format!("releases/download/v{version}"));
        fs::create_dir_all(&release).unwrap();
        for file in files {
            fs::copy(file, release.join(file.file_name().unwrap())).unwrap();
        }
        release
    }

    /// The paths asked for since the last call.
    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the stop flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_release_file(mut stream: TcpStream, files: &Path, latest: &str, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let Some(path) = request_line.split_whitespace().nth(1).map(str::to_owned) else {
        return; // the stop signal's connection
    };
    log.lock().unwrap().push(path.clone());
    let (status, location, body) =
        if let Some(asset) = path.strip_prefix("/releases/latest/download/") {
            let to = format!("/releases/download/v{latest}/{asset}");
            ("302 Found", Some(to), Vec::new())
        } else {
            let relative = path.trim_start_matches('/');
            let file = files.join(relative);
            if !relative.split('/').any(|part| part == "..") && file.is_file() {
                ("200 OK", None, fs::read(&file).unwrap())
            } else {
                ("404 Not Found", None, b"Not Found".to_vec())
            }
        };
    let location = location.map(|to| format!("Location: {to}\r\n"));
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
        body.len(),
        location.unwrap_or_default()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// One run of install.sh against a release server, installing into its own directory.
struct Installed {
    out: Output,
    outputs: String,
    requests: Vec<String>,
    dest: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Installed {
    fn stderr(&self) -> String {
        text(&self.out.stderr)
    }
}

/// install.sh on runner `os`/`arch` with releases from `server`, `PATH` as given (the default
/// `/usr/bin:/bin` has no qcs), more environment in `envs`.
fn install_from(
    server: &ReleaseServer,
    (os, arch): (&str, &str),
    envs: &[(&str, &str)],
    path: Option<&str>,
) -> Installed {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("bin");
    let dest_str = dest.display().to_string();
    let mut all = vec![
        ("RUNNER_OS", os),
        ("RUNNER_ARCH", arch),
        ("QCS_DOWNLOAD_BASE", server.base.as_str()),
        ("QCS_INSTALL_DIR", dest_str.as_str()),
    ];
    all.extend_from_slice(envs);
    let (out, outputs) = run_install(&all, path.unwrap_or("/usr/bin:/bin"));
    Installed {
        out,
        outputs,
        requests: server.take_requests(),
        dest,
        _tmp: tmp,
    }
}

fn assert_installed(run: &Installed, version: &str) {
    assert!(run.out.status.success(), "{}", describe(&run.out));
    let bin = run.dest.join("qcs");
    assert_eq!(run.outputs, format!("bin={}\n", bin.display()));
    let ran = Command::new(&bin).arg("--version").output().unwrap();
    assert!(ran.status.success(), "{}", describe(&ran));
    assert_eq!(text(&ran.stdout).trim_end(), format!("qcs {version}"));
}

fn assert_refused(run: &Installed, says: &[&str]) {
    assert!(
        !run.out.status.success(),
        "install.sh accepted it:\n{}",
        describe(&run.out)
    );
    let stderr = run.stderr();
    assert!(
        stderr.starts_with("::error title=qcs::"),
        "no error annotation:\n{}",
        describe(&run.out)
    );
    for part in says {
        assert!(
            stderr.contains(part),
            "{part:?} missing:\n{}",
            describe(&run.out)
        );
    }
    assert!(run.outputs.is_empty(), "outputs written: {}", run.outputs);
    assert!(
        !run.dest.join("qcs").exists(),
        "a refused qcs was left installed"
    );
}

#[test]
fn github_install_installs_the_release_asked_for_and_runs_it() {
    let dist = dist();
    let runner = this_runner();
    let server = ReleaseServer::start(VERSION);
    server.publish(VERSION, &[&dist.archive(), &dist.dir.join("SHA256SUMS")]);
    let release = format!("/releases/download/v{VERSION}");
    let asset = &dist.asset;
    let exact = [
        format!("{release}/{asset}"),
        format!("{release}/SHA256SUMS"),
    ];
    for asked in [format!("v{VERSION}"), VERSION.to_owned()] {
        let run = install_from(
            &server,
            (runner.0, runner.1),
            &[("QCS_VERSION", &asked)],
            None,
        );
        assert_installed(&run, VERSION);
        assert_eq!(run.requests, exact, "asked for {asked}");
        let stdout = text(&run.out.stdout);
        assert!(
            stdout.contains(&format!("{}/download/v{VERSION}/{asset}", server.base))
                && stdout.contains(&dist.listed_sha256()),
            "{stdout}"
        );
    }
    // No version and no qcs on PATH: the latest release (GitHub redirects to its version).
    let run = install_from(&server, (runner.0, runner.1), &[], None);
    assert_installed(&run, VERSION);
    assert_eq!(
        run.requests,
        [
            format!("/releases/latest/download/{asset}"),
            exact[0].clone(),
            "/releases/latest/download/SHA256SUMS".to_owned(),
            exact[1].clone(),
        ]
    );
}

#[test]
fn github_install_refuses_a_checksum_mismatch() {
    let dist = dist();
    let runner = (this_runner().0, this_runner().1);
    let asset = dist.asset.as_str();
    let real = dist.listed_sha256();
    let server = ReleaseServer::start(VERSION);
    let ask = [("QCS_VERSION", VERSION)];

    // SHA256SUMS says something else for the archive.
    let release = server.publish(VERSION, &[&dist.archive(), &dist.dir.join("SHA256SUMS")]);
    let wrong = sha256_hex(b"not the archive");
    let sums = fs::read_to_string(release.join("SHA256SUMS")).unwrap();
    fs::write(release.join("SHA256SUMS"), sums.replace(&real, &wrong)).unwrap();
    let run = install_from(&server, runner, &ask, None);
    assert_refused(
        &run,
        &[
            &format!("checksum mismatch for {asset}"),
            &format!("SHA256SUMS expects {wrong}"),
            &format!("the download is {real}"),
        ],
    );

    // The archive changed after SHA256SUMS was written.
    fs::write(release.join("SHA256SUMS"), &sums).unwrap();
    let mut archive = fs::read(dist.archive()).unwrap();
    archive.extend_from_slice(b"tampered");
    fs::write(release.join(asset), &archive).unwrap();
    let run = install_from(&server, runner, &ask, None);
    assert_refused(
        &run,
        &[
            &format!("checksum mismatch for {asset}"),
            &format!("SHA256SUMS expects {real}"),
            &format!("the download is {}", sha256_hex(&archive)),
        ],
    );

    // SHA256SUMS without a line for the archive.
    let other: String = sums
        .split_inclusive('\n')
        .filter(|l| !l.trim_end().ends_with(asset))
        .collect();
    fs::write(release.join(asset), fs::read(dist.archive()).unwrap()).unwrap();
    fs::write(release.join("SHA256SUMS"), other).unwrap();
    let run = install_from(&server, runner, &ask, None);
    assert_refused(&run, &[&format!("does not list {asset}")]);
}

#[test]
fn github_install_refuses_a_missing_asset_or_release() {
    let dist = dist();
    let (os, arch, _) = this_runner();
    let server = ReleaseServer::start(VERSION);
    server.publish(VERSION, &[&dist.archive(), &dist.dir.join("SHA256SUMS")]);

    // The release has no build for the other architecture (only this machine's was built).
    let (other_arch, other_part) = if arch == "X64" {
        ("ARM64", "aarch64")
    } else {
        ("X64", "x86_64")
    };
    let other_asset = dist
        .asset
        .replacen(dist.asset.split('-').nth(1).unwrap(), other_part, 1);
    let missing = format!("{}/download/v{VERSION}/{other_asset}", server.base);
    let run = install_from(&server, (os, other_arch), &[("QCS_VERSION", VERSION)], None);
    assert_refused(
        &run,
        &[
            &format!("{missing} is missing (HTTP 404)"),
            &format!("may not have a qcs build for {os} {other_arch} runners"),
        ],
    );
    assert_eq!(
        run.requests,
        [format!("/releases/download/v{VERSION}/{other_asset}")]
    );

    // A version that was never released.
    let run = install_from(&server, (os, arch), &[("QCS_VERSION", "9.9.9")], None);
    assert_refused(
        &run,
        &[
            &format!(
                "{}/download/v9.9.9/{} is missing (HTTP 404)",
                server.base, dist.asset
            ),
            "version 9.9.9 does not exist",
        ],
    );

    // A release without SHA256SUMS: nothing is installed unverified.
    server.publish("1.0.0", &[&dist.archive()]);
    let run = install_from(&server, (os, arch), &[("QCS_VERSION", "1.0.0")], None);
    assert_refused(
        &run,
        &[
            &format!(
                "{}/download/v1.0.0/SHA256SUMS is missing (HTTP 404)",
                server.base
            ),
            "cannot be verified",
        ],
    );

    // A release whose archive (checksum and all) holds another version of qcs.
    server.publish("2.0.0", &[&dist.archive(), &dist.dir.join("SHA256SUMS")]);
    let run = install_from(&server, (os, arch), &[("QCS_VERSION", "2.0.0")], None);
    assert_refused(
        &run,
        &[&format!("holds qcs {VERSION} (qcs-{VERSION}-"), "not 2.0.0"],
    );

    // An archive named for 3.0.0 (directory and checksum) whose binary is another version:
    // the installed qcs --version must print the version asked for.
    let (_, _, target) = this_runner();
    let tmp = tempfile::tempdir().unwrap();
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(dist.archive())
        .arg("-C")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(untar.status.success(), "{}", describe(&untar));
    let renamed = format!("qcs-3.0.0-{target}");
    fs::rename(
        tmp.path().join(format!("qcs-{VERSION}-{target}")),
        tmp.path().join(&renamed),
    )
    .unwrap();
    let archive = tmp.path().join(&dist.asset);
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(tmp.path())
        .arg(&renamed)
        .output()
        .unwrap();
    assert!(tar.status.success(), "{}", describe(&tar));
    let sums = tmp.path().join("SHA256SUMS");
    let line = format!(
        "{}  {}\n",
        sha256_hex(&fs::read(&archive).unwrap()),
        dist.asset
    );
    fs::write(&sums, line).unwrap();
    server.publish("3.0.0", &[&archive, &sums]);
    let run = install_from(&server, (os, arch), &[("QCS_VERSION", "3.0.0")], None);
    assert_refused(
        &run,
        &[
            "does not run as qcs 3.0.0",
            &format!("printed: qcs {VERSION}"),
        ],
    );
}

#[test]
fn github_install_picks_the_asset_of_each_runner() {
    let dist = dist();
    let (this_os, this_arch, _) = this_runner();
    let server = ReleaseServer::start(VERSION);
    server.publish(VERSION, &[&dist.archive(), &dist.dir.join("SHA256SUMS")]);
    for (os, arch, asset) in [
        ("Linux", "X64", "qcs-x86_64-unknown-linux-musl.tar.gz"),
        ("Linux", "ARM64", "qcs-aarch64-unknown-linux-musl.tar.gz"),
        ("macOS", "X64", "qcs-x86_64-apple-darwin.tar.gz"),
        ("macOS", "ARM64", "qcs-aarch64-apple-darwin.tar.gz"),
        ("Windows", "X64", "qcs-x86_64-pc-windows-msvc.zip"),
    ] {
        let run = install_from(&server, (os, arch), &[("QCS_VERSION", VERSION)], None);
        let url = format!("/releases/download/v{VERSION}/{asset}");
        assert_eq!(run.requests.first(), Some(&url), "{os} {arch}");
        assert!(
            text(&run.out.stdout).contains(&format!(
                "downloading {}/download/v{VERSION}/{asset}",
                server.base
            )),
            "{os} {arch}: {}",
            describe(&run.out)
        );
        if (os, arch) == (this_os, this_arch) {
            assert_installed(&run, VERSION);
        } else {
            assert_refused(&run, &["is missing (HTTP 404)", asset]);
        }
    }
    for (os, arch) in [("Windows", "ARM64"), ("Linux", "X86"), ("FreeBSD", "X64")] {
        let run = install_from(&server, (os, arch), &[("QCS_VERSION", VERSION)], None);
        assert_refused(
            &run,
            &[
                &format!("no qcs release for {os} {arch} runners"),
                "version: installed",
            ],
        );
        assert!(run.requests.is_empty(), "{os} {arch}: {:?}", run.requests);
    }
}

#[test]
fn github_install_uses_the_version_the_action_is_pinned_to() {
    let dist = dist();
    let runner = (this_runner().0, this_runner().1);
    let server = ReleaseServer::start("9.9.9");
    server.publish(VERSION, &[&dist.archive(), &dist.dir.join("SHA256SUMS")]);
    let exact = format!("/releases/download/v{VERSION}/{}", dist.asset);

    // Pinned, with another qcs on PATH (the stub prints no version): the pinned release.
    let tmp = tempfile::tempdir().unwrap();
    let stub = stub_qcs(tmp.path());
    let path = path_with(&stub);
    let run = install_from(
        &server,
        runner,
        &[("QCS_ACTION_VERSION", VERSION)],
        Some(&path),
    );
    assert_installed(&run, VERSION);
    assert_eq!(run.requests.first(), Some(&exact));

    // The pin is what is asked for: 9.9.9 (the latest here, but never published) is looked up.
    let run = install_from(&server, runner, &[("QCS_ACTION_VERSION", "v9.9.9")], None);
    assert_refused(&run, &["/download/v9.9.9/", "is missing (HTTP 404)"]);
    assert_eq!(
        run.requests,
        [format!("/releases/download/v9.9.9/{}", dist.asset)]
    );

    // The version input wins over the pin.
    let run = install_from(
        &server,
        runner,
        &[("QCS_VERSION", VERSION), ("QCS_ACTION_VERSION", "9.9.9")],
        None,
    );
    assert_installed(&run, VERSION);

    // A qcs on PATH that is the pinned version is used as it is.
    let bin = tmp.path().join("pinned");
    fs::create_dir(&bin).unwrap();
    fs::write(
        bin.join("qcs"),
        format!("#!/bin/sh\necho 'qcs {VERSION}'\n"),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(bin.join("qcs"))
        .status()
        .unwrap();
    let run = install_from(
        &server,
        runner,
        &[("QCS_ACTION_VERSION", VERSION)],
        Some(&path_with(&bin)),
    );
    assert!(run.out.status.success(), "{}", describe(&run.out));
    assert_eq!(run.outputs, format!("bin={}\n", bin.join("qcs").display()));
    assert!(run.requests.is_empty(), "{:?}", run.requests);
}

// --- the release workflow's pinning of the action -------------------------------------------

fn pin_action(version: &str, file: &Path) -> Output {
    Command::new("bash")
        .arg(root().join("scripts/pin-action.sh"))
        .arg(version)
        .arg(file)
        .output()
        .unwrap()
}

/// The install step's `QCS_ACTION_VERSION`.
fn pinned_version(action: &Value) -> Value {
    let steps = action["runs"]["steps"].as_array().unwrap();
    let install = steps.iter().find(|s| s["id"] == "install").unwrap();
    install["env"]["QCS_ACTION_VERSION"].clone()
}

#[test]
fn pin_action_writes_the_version_into_a_copy_of_action_yml() {
    let original_path = github().join("action.yml");
    let original = fs::read_to_string(&original_path).unwrap();
    let unpinned = yaml(&original_path);
    // As committed, the action is not pinned: the release workflow pins its own commit.
    assert_eq!(pinned_version(&unpinned), Value::from(""));

    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("action.yml");
    fs::write(&copy, &original).unwrap();
    let out = pin_action("v1.2.3", &copy);
    assert!(out.status.success(), "{}", describe(&out));
    let pinned = yaml(&copy);
    assert_eq!(pinned_version(&pinned), Value::from("1.2.3"));
    // Only that value changed: the same YAML otherwise, one line of text different.
    let mut expected = unpinned.clone();
    let steps = expected["runs"]["steps"].as_array_mut().unwrap();
    let install = steps.iter_mut().find(|s| s["id"] == "install").unwrap();
    install["env"]["QCS_ACTION_VERSION"] = Value::from("1.2.3");
    assert_eq!(pinned, expected);
    let after = fs::read_to_string(&copy).unwrap();
    let changed: Vec<(&str, &str)> = original
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(original.lines().count(), after.lines().count());

    // A second run finds no unpinned marker and changes nothing.
    let out = pin_action("1.2.4", &copy);
    assert!(!out.status.success(), "pinned twice: {}", describe(&out));
    assert!(
        text(&out.stderr).contains("already pinned"),
        "{}",
        describe(&out)
    );
    assert_eq!(fs::read_to_string(&copy).unwrap(), after);

    // Without the marker, or with it twice: refused, unchanged.
    let marker = original
        .lines()
        .find(|l| l.trim_start().starts_with("QCS_ACTION_VERSION:"))
        .unwrap();
    for (name, content) in [
        ("none", original.replace(&format!("{marker}\n"), "")),
        (
            "twice",
            original.replace(marker, &format!("{marker}\n{marker}")),
        ),
    ] {
        fs::write(&copy, &content).unwrap();
        let out = pin_action("1.2.3", &copy);
        assert!(!out.status.success(), "{name}: {}", describe(&out));
        assert!(
            text(&out.stderr).contains("marker line exactly once"),
            "{name}: {}",
            describe(&out)
        );
        assert_eq!(fs::read_to_string(&copy).unwrap(), content, "{name}");
    }

    // Not a version.
    fs::write(&copy, &original).unwrap();
    for bad in ["1.2", "latest", "1.2.3; rm -rf /"] {
        let out = pin_action(bad, &copy);
        assert!(!out.status.success(), "{bad}: {}", describe(&out));
        assert!(
            text(&out.stderr).contains("is not a version"),
            "{}",
            describe(&out)
        );
    }
    assert_eq!(fs::read_to_string(&copy).unwrap(), original);
}

/// Both forms of the action (the root action.yml, integrations/github/action.yml) are pinned in
/// one run, as the release workflow does; a file that cannot be pinned leaves both unchanged.
#[test]
fn pin_action_pins_both_forms_of_the_action_or_neither() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("root-action.yml");
    let sub = tmp.path().join("action.yml");
    let top_text = fs::read_to_string(root().join("action.yml")).unwrap();
    let sub_text = fs::read_to_string(github().join("action.yml")).unwrap();
    assert_eq!(
        pinned_version(&yaml(&root().join("action.yml"))),
        Value::from("")
    );
    fs::write(&top, &top_text).unwrap();
    fs::write(&sub, &sub_text).unwrap();
    let out = Command::new("bash")
        .arg(root().join("scripts/pin-action.sh"))
        .args(["2.3.4"])
        .arg(&top)
        .arg(&sub)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(pinned_version(&yaml(&top)), Value::from("2.3.4"));
    assert_eq!(pinned_version(&yaml(&sub)), Value::from("2.3.4"));

    // The second file is already pinned: the first stays as it was.
    fs::write(&top, &top_text).unwrap();
    let out = Command::new("bash")
        .arg(root().join("scripts/pin-action.sh"))
        .args(["2.3.5"])
        .arg(&top)
        .arg(&sub)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("already pinned"),
        "{}",
        describe(&out)
    );
    assert_eq!(fs::read_to_string(&top).unwrap(), top_text);
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".pin."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// --- GitLab ---------------------------------------------------------------------------------

fn gitlab_template() -> Value {
    yaml(&root().join("integrations/gitlab/qcs.gitlab-ci.yml"))
}

/// The template's script: the one `script:` entry of `.qcs-scan`.
fn gitlab_script(t: &Value) -> String {
    let lines: Vec<&str> = t[".qcs-scan"]["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    lines.join("\n")
}

/// The image series the template and the component run: `<major>-shell`, or `0.<minor>-shell`
/// before 1.0 (where a minor release may break), of the workspace version.
fn shell_image() -> String {
    let mut parts = VERSION.split('.');
    let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
    let series = if major == "0" {
        format!("0.{minor}")
    } else {
        major.to_owned()
    };
    let manifest: toml::Table = fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let repository = manifest["workspace"]["package"]["repository"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://github.com/")
        .to_lowercase();
    format!("ghcr.io/{repository}:{series}-shell")
}

#[test]
fn gitlab_template_structure() {
    let t = gitlab_template();
    let keys: Vec<&String> = t.as_object().unwrap().keys().collect();
    assert!(
        keys.iter().all(|k| k.starts_with('.')),
        "including the template must add no job: {keys:?}"
    );
    let job = &t[".qcs-scan"];
    assert!(
        job["allow_failure"].is_null(),
        "the gate job must fail on a policy violation"
    );
    // No job-level variables: they would take precedence over the pipeline's top-level
    // variables of the same names and blank them. The defaults are in the script.
    assert!(
        job["variables"].is_null() && t[".qcs-scan-advisory"]["variables"].is_null(),
        "job-level variables mask the pipeline's: {}",
        job["variables"]
    );
    let script = gitlab_script(&t);
    for (var, default) in [
        ("QCS_IMAGES", ""),
        ("QCS_POLICY", ""),
        ("QCS_PLATFORM", ""),
        ("QCS_FORMATS", "json junit gitlab markdown"),
        ("QCS_REPORT_ONLY", "false"),
        ("QCS_ARGS", ""),
        ("QCS_BIN", "qcs"),
    ] {
        assert!(
            script.contains(&format!("${{{var}:-{default}}}")),
            "{var} has no default {default:?} in the script"
        );
    }
    assert_eq!(job["stage"], "test");
    assert_eq!(job["image"]["name"], shell_image());
    assert_eq!(job["image"]["entrypoint"], serde_json::json!([""]));
    // The off switch: QCS_DISABLED "true" or "1" leaves the job out; otherwise it runs.
    let rules = job["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert_eq!(
        rules[0]["if"],
        r#"$QCS_DISABLED == "true" || $QCS_DISABLED == "1""#
    );
    assert_eq!(rules[0]["when"], "never");
    assert_eq!(rules[1], serde_json::json!({"when": "on_success"}));
    let artifacts = &job["artifacts"];
    assert_eq!(artifacts["when"], "always");
    assert_eq!(
        artifacts["reports"]["container_scanning"],
        "qcs-reports/gl-container-scanning-report.json"
    );
    assert_eq!(artifacts["reports"]["junit"], "qcs-reports/junit.xml");
    assert_eq!(artifacts["reports"]["dotenv"], "qcs-reports/qcs.env");
    assert!(
        artifacts["paths"]
            .as_array()
            .unwrap()
            .contains(&Value::from("qcs-reports/"))
    );
    let advisory = &t[".qcs-scan-advisory"];
    assert_eq!(advisory["extends"], ".qcs-scan");
    assert_eq!(
        advisory["allow_failure"]["exit_codes"],
        serde_json::json!([1])
    );
}

/// The shell image the template names is the Containerfile's `shell` target, which the release
/// workflow publishes as `<version>-shell` (and the series tags); building it needs the pinned
/// Alpine base from a registry, so it is checked here as text.
#[test]
fn gitlab_image_is_the_shell_variant_the_release_publishes() {
    let containerfile = fs::read_to_string(root().join("Containerfile")).unwrap();
    let stages: Vec<&str> = containerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    let shell = stages[0];
    assert!(shell.ends_with(" AS shell"), "{shell}");
    let base = shell.split_whitespace().nth(1).unwrap();
    let digest = base.split("@sha256:").nth(1).unwrap_or_default();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "the shell image's base {base} is not pinned by digest"
    );
    // The default image stays the last stage: a build without --target makes it.
    assert_eq!(stages[1], "FROM scratch AS qcs");
    let release = fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    assert!(
        release.contains("build shell -shell shell"),
        "release.yml does not push -shell"
    );
    assert!(
        release.contains("--target \"$target\""),
        "release.yml does not build the target"
    );
    // The template's image is that variant.
    let image = shell_image();
    assert!(image.ends_with("-shell"));
    assert_eq!(gitlab_template()[".qcs-scan"]["image"]["name"], image);
}

fn gitlab_component() -> (Value, Value) {
    let mut docs = yaml_documents(&root().join("templates/qcs-scan.yml"));
    assert_eq!(
        docs.len(),
        2,
        "a component is its spec, `---`, then the jobs"
    );
    let body = docs.pop().unwrap();
    (docs.pop().unwrap(), body)
}

/// The component's job with its inputs' values, as GitLab renders `$[[ inputs.NAME ]]`.
fn render_component(body: &Value, inputs: &[(&str, &str)]) -> Value {
    let fill = |s: &str| {
        inputs.iter().fold(s.to_owned(), |s, (k, v)| {
            s.replace(&format!("$[[ inputs.{k} ]]"), v)
        })
    };
    match body {
        Value::String(s) => Value::from(fill(s)),
        Value::Array(a) => Value::Array(a.iter().map(|v| render_component(v, inputs)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (fill(k), render_component(v, inputs)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The component (templates/qcs-scan.yml) is the template's job with inputs: it includes the
/// template from its own project, extends `.qcs-scan` (or `.qcs-scan-advisory`), and has no
/// script of its own; each input reaches a variable the script reads.
#[test]
fn gitlab_component_runs_the_template_job_with_inputs() {
    let (header, body) = gitlab_component();
    let inputs = header["spec"]["inputs"].as_object().unwrap();
    for name in [
        "job-name", "stage", "image", "images", "policy", "platform", "formats", "advisory",
    ] {
        assert!(
            inputs[name]["description"].is_string(),
            "input {name} missing or undocumented"
        );
    }
    assert_eq!(inputs["advisory"]["type"], "boolean");
    assert_eq!(inputs["advisory"]["default"], false);
    assert_eq!(inputs["stage"]["default"], "test");
    assert_eq!(inputs["image"]["default"], shell_image());
    let template = gitlab_template();
    let script = gitlab_script(&template);
    let formats = inputs["formats"]["default"].as_str().unwrap();
    assert!(
        script.contains(&format!("${{QCS_FORMATS:-{formats}}}")),
        "the component's default formats are not the template's"
    );

    assert_eq!(
        body["include"],
        serde_json::json!([{"local": "integrations/gitlab/qcs.gitlab-ci.yml"}])
    );
    let job = &body["$[[ inputs.job-name ]]"];
    assert_eq!(
        job["extends"],
        ".qcs-component-advisory-$[[ inputs.advisory ]]"
    );
    for (advisory, extends) in [("false", ".qcs-scan"), ("true", ".qcs-scan-advisory")] {
        let mode = &body[format!(".qcs-component-advisory-{advisory}")];
        assert_eq!(mode["extends"], extends);
        assert!(
            template.get(extends).is_some(),
            "the template has no {extends}"
        );
    }
    for key in ["script", "before_script", "after_script"] {
        assert!(job[key].is_null(), "the component has a {key} of its own");
    }
    assert_eq!(job["stage"], "$[[ inputs.stage ]]");
    assert_eq!(job["image"]["name"], "$[[ inputs.image ]]");
    let variables = job["variables"].as_object().unwrap();
    for (var, input) in [
        ("QCS_IMAGES", "images"),
        ("QCS_POLICY", "policy"),
        ("QCS_PLATFORM", "platform"),
        ("QCS_FORMATS", "formats"),
    ] {
        assert_eq!(variables[var], format!("$[[ inputs.{input} ]]"));
        assert!(
            script.contains(&format!("${{{var}:-")),
            "the script does not read {var}"
        );
    }
    // Every input is used.
    let text = fs::read_to_string(root().join("templates/qcs-scan.yml")).unwrap();
    let after_spec = text.split("\n---\n").nth(1).unwrap();
    for name in inputs.keys() {
        assert!(
            after_spec.contains(&format!("$[[ inputs.{name} ]]")),
            "input {name} is never used"
        );
    }
}

/// One run of the GitLab job's script.
struct GitlabRun {
    code: i32,
    args: Vec<String>,
    dotenv: String,
    stdout: String,
    /// The directory the script ran in (kept until the run is dropped).
    work: PathBuf,
    _tmp: tempfile::TempDir,
}

/// Runs the template's script as GitLab would (the job's variables in the environment, `-e`)
/// with `shell` in a fresh directory, a stub `qcs` first on `PATH`.
fn run_gitlab(shell: &[&str], vars: &[(&str, &str)]) -> GitlabRun {
    let script = gitlab_script(&gitlab_template());
    let tmp = tempfile::tempdir().unwrap();
    let bin = stub_qcs(tmp.path());
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    let mut cmd = Command::new(shell[0]);
    cmd.args(&shell[1..])
        .arg(&script)
        .current_dir(&work)
        .env_clear()
        .env("PATH", path_with(&bin));
    let out = cmd.envs(vars.iter().copied()).output().unwrap();
    let args = if tmp.path().join("args").exists() {
        recorded_args(tmp.path())
    } else {
        Vec::new()
    };
    GitlabRun {
        code: out.status.code().unwrap(),
        args,
        dotenv: fs::read_to_string(work.join("qcs-reports/qcs.env")).unwrap_or_default(),
        stdout: text(&out.stdout),
        work,
        _tmp: tmp,
    }
}

#[test]
fn gitlab_script_command_line() {
    let r = run_gitlab(
        &["sh", "-e", "-c"],
        &[
            ("QCS_IMAGES", "registry.example/app:abc123, worker:1"),
            ("QCS_POLICY", "qcs-policy.toml"),
            ("QCS_PLATFORM", "EU1"),
            ("QCS_TIMEOUT", "15m"),
            ("QCS_ARGS", "--skip-sensor-check\n--concurrency\n4\n"),
            ("QUALYS_PASSWORD", SECRET),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.args,
        words(concat!(
            "scan --output-dir qcs-reports --platform EU1 --policy qcs-policy.toml --timeout 15m ",
            "--format json --format junit --format gitlab --format markdown --skip-sensor-check ",
            "--concurrency 4 registry.example/app:abc123 worker:1",
        ))
    );
    assert_known_flags(&r.args, "the GitLab template");
    assert!(!r.stdout.contains("s3cr3t"));
    let r = run_gitlab(
        &["sh", "-e", "-c"],
        &[("QCS_REPORT_ONLY", "true"), ("QCS_FORMATS", "json,gitlab")],
    );
    assert_eq!(
        r.args,
        words("scan --output-dir qcs-reports --format json --format gitlab --report-only")
    );
}

/// `QCS_ARGS` holds one argument a line, in sh and bash alike: an argument keeps its spaces,
/// blanks around a line, Windows line ends and empty lines are dropped, nothing is expanded.
#[test]
fn gitlab_script_takes_one_argument_a_line() {
    for shell in [
        &["sh", "-e", "-c"][..],
        &["bash", "-e", "-o", "pipefail", "-c"][..],
    ] {
        let r = run_gitlab(
            shell,
            &[
                (
                    "QCS_ARGS",
                    "  --concurrency\r\n4\n\n--fail-software=.*:my lib<2.0\n\t--exclude-cves \nCVE-2021-1\n$(id) *\n",
                ),
                ("QCS_FORMATS", "json"),
            ],
        );
        assert_eq!(r.code, 0, "{shell:?}: {}", r.stdout);
        assert_eq!(
            r.args,
            strs(&[
                "scan",
                "--output-dir",
                "qcs-reports",
                "--format",
                "json",
                "--concurrency",
                "4",
                "--fail-software=.*:my lib<2.0",
                "--exclude-cves",
                "CVE-2021-1",
                "$(id) *",
            ]),
            "{shell:?}"
        );
    }
}

/// A setting given where GitLab puts pipeline-wide variables (the job's environment, with no
/// job-level variable of the template in the way) reaches qcs, and `QCS_PLATFORM` is optional:
/// without it qcs reads `QUALYS_PLATFORM` itself.
#[test]
fn gitlab_pipeline_variables_are_not_masked() {
    let r = run_gitlab(
        &["sh", "-e", "-c"],
        &[
            ("QCS_POLICY", "ci/policy.toml"),
            ("QCS_FORMATS", "json,gitlab"),
            ("QCS_IMAGES", "app:1"),
            ("QUALYS_PLATFORM", "EU1"),
        ],
    );
    assert_eq!(
        r.args,
        words(
            "scan --output-dir qcs-reports --policy ci/policy.toml --format json --format gitlab app:1"
        )
    );
}

#[test]
fn gitlab_script_exit_codes() {
    for shell in [
        &["sh", "-e", "-c"][..],
        &["bash", "-e", "-o", "pipefail", "-c"][..],
    ] {
        for code in [0, 1, 2, 3, 4, 5, 127] {
            let exit = code.to_string();
            let write = if code == 2 { "0" } else { "1" };
            let r = run_gitlab(
                shell,
                &[
                    ("QCS_IMAGES", "a:1"),
                    ("STUB_EXIT", &exit),
                    ("STUB_OUTCOME", outcome_for(code)),
                    ("STUB_WRITE", write),
                ],
            );
            assert_eq!(r.code, code, "{shell:?}: {}", r.stdout);
            let outcome = outcome_for(code);
            let expected = format!("QCS_EXIT_CODE={code}\nQCS_OUTCOME={outcome}\n");
            assert_eq!(r.dotenv, expected, "{shell:?}");
        }
    }
    // report only: exit 0, the verdict from summary.json
    let r = run_gitlab(
        &["sh", "-e", "-c"],
        &[("QCS_REPORT_ONLY", "true"), ("STUB_OUTCOME", "failed")],
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.dotenv, "QCS_EXIT_CODE=0\nQCS_OUTCOME=failed\n");
}

// --- end to end: the real qcs against the emulator ------------------------------------------

/// `qcs emulator` with its Docker Engine API stand-in and a running CI/CD sensor, serving
/// `acme/app:1.0` (40 vulnerabilities) and `acme/web:1.0` (none), scanned within about 2 s.
struct Emulator {
    url: String,
    engine: String,
    _process: EmulatorProcess,
}

const SCENARIO: &str = r#"
[sensor]
scan_delay_secs = 1
processing_delay_secs = 1
watch_interval_ms = 100

[docker]
sensor = "running"

[[docker.images]]
tags = ["acme/app:1.0"]
report = { seed = 9, base = "debian", vulnerabilities = 40, packages = 120 }

[[docker.images]]
tags = ["acme/web:1.0"]
report = { seed = 3, base = "alpine", vulnerabilities = 0, packages = 20, log4shell = false }
"#;

/// Any vulnerability fails the image: the action's `args` and the template's `QCS_ARGS`, one
/// argument a line.
const STRICT: &str = "--fail-severity\n5=0,4=0,3=0,2=0,1=0\n--timeout=60s\n";

fn emulator() -> Emulator {
    let process = EmulatorProcess::with_scenario(env!("CARGO_BIN_EXE_qcs"), SCENARIO);
    Emulator {
        url: process.url(),
        engine: format!("unix://{}", process.socket().display()),
        _process: process,
    }
}

#[test]
fn github_action_end_to_end_with_the_real_qcs() {
    let emu = emulator();
    // The real qcs, the emulator's gateway, engine and user, any vulnerability fails.
    let run = |images: &str, more: &[(&str, &str)]| {
        let mut envs = vec![
            ("QCS_BIN", env!("CARGO_BIN_EXE_qcs")),
            ("INPUT_IMAGES", images),
            ("INPUT_GATEWAY_URL", emu.url.as_str()),
            ("INPUT_ENGINE", emu.engine.as_str()),
            ("INPUT_USERNAME", "qcs-demo"),
            ("INPUT_PASSWORD", "qcs-demo"),
            ("INPUT_ARGS", STRICT),
        ];
        envs.extend_from_slice(more);
        run_github(&envs)
    };
    // The action's default formats, which the real qcs must know.
    let action = yaml(&github().join("action.yml"));
    let formats = action["inputs"]["formats"]["default"].as_str().unwrap();
    // With the inputs for the auth kind, a CA bundle, the proxy (the emulator on loopback
    // bypasses it), the poll interval and the Dockerfile the SARIF results point at.
    let r = run(
        "acme/app:1.0\nacme/web:1.0",
        &[
            ("INPUT_FORMATS", formats),
            ("INPUT_SARIF_UPLOAD", "true"),
            ("INPUT_AUTH", "basic"),
            ("INPUT_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"),
            ("INPUT_PROXY", "http://127.0.0.1:9"),
            ("INPUT_NO_PROXY", "127.0.0.1,localhost"),
            ("INPUT_INTERVAL", "1s"),
            ("INPUT_DOCKERFILE", "docker/app.Dockerfile"),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let outputs: BTreeSet<&str> = r.outputs.lines().collect();
    let expected = [
        "outcome=failed",
        "exit-code=1",
        "report-dir=qcs-reports",
        "summary-path=qcs-reports/summary.md",
        "sarif-path=qcs-reports/results.sarif",
    ];
    assert_eq!(outputs, expected.into_iter().collect());
    let summary_md = fs::read_to_string(r.work.join("qcs-reports/summary.md")).unwrap();
    assert!(summary_md.contains("acme/app:1.0"), "{summary_md}");
    assert_eq!(r.summary, format!("earlier step\n{summary_md}"));
    let sarif: Value = serde_json::from_str(
        &fs::read_to_string(r.work.join("qcs-reports/results.sarif")).unwrap(),
    )
    .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let uris: BTreeSet<&str> = sarif["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["results"].as_array().into_iter().flatten())
        .flat_map(|res| res["locations"].as_array().into_iter().flatten())
        .filter_map(|loc| loc["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert_eq!(uris, BTreeSet::from(["docker/app.Dockerfile"]), "{sarif}");

    // report-only: the job passes, the outcome still says failed
    let r = run(
        "acme/app:1.0",
        &[
            ("INPUT_SARIF_UPLOAD", "false"),
            ("INPUT_REPORT_ONLY", "true"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.outputs.starts_with("outcome=failed\nexit-code=0\n"),
        "{}",
        r.outputs
    );
}

#[test]
fn gitlab_template_end_to_end_with_the_real_qcs() {
    let emu = emulator();
    let t = gitlab_template();
    let reports = &t[".qcs-scan"]["artifacts"]["reports"];
    let env = |images| {
        [
            ("QCS_BIN", env!("CARGO_BIN_EXE_qcs")),
            ("QCS_IMAGES", images),
            ("QCS_ARGS", STRICT),
            ("QUALYS_GATEWAY_URL", emu.url.as_str()),
            ("DOCKER_HOST", emu.engine.as_str()),
            ("QUALYS_USERNAME", "qcs-demo"),
            ("QUALYS_PASSWORD", "qcs-demo"),
        ]
    };
    for (images, code, outcome) in [("acme/web:1.0", 0, "passed"), ("acme/app:1.0", 1, "failed")] {
        let r = run_gitlab(&["sh", "-e", "-c"], &env(images));
        assert_eq!(r.code, code, "{}", r.stdout);
        assert_eq!(
            r.dotenv,
            format!("QCS_EXIT_CODE={code}\nQCS_OUTCOME={outcome}\n")
        );
        // The files GitLab is told to read are the ones qcs wrote.
        for kind in ["container_scanning", "junit", "dotenv"] {
            let path = reports[kind].as_str().unwrap();
            assert!(r.work.join(path).is_file(), "{kind} report {path} missing");
        }
        let gl: Value = serde_json::from_str(
            &fs::read_to_string(r.work.join(reports["container_scanning"].as_str().unwrap()))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(gl["scan"]["type"], "container_scanning");
    }

    // The component's job: its variables from the inputs (the defaults, an image and a policy
    // given), the rest from the environment as before.
    let (header, body) = gitlab_component();
    let mut inputs: Vec<(String, String)> = header["spec"]["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["default"].to_string().trim_matches('"').to_owned(),
            )
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("strict.toml");
    fs::write(
        &policy,
        "[fail]\nseverity = { 5 = 0, 4 = 0, 3 = 0, 2 = 0, 1 = 0 }\n",
    )
    .unwrap();
    for (k, v) in &mut inputs {
        match k.as_str() {
            "images" => *v = "acme/app:1.0".to_owned(),
            "policy" => *v = policy.display().to_string(),
            _ => {}
        }
    }
    let pairs: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let rendered = render_component(&body, &pairs);
    let job = &rendered["qcs-scan"];
    let mut env: Vec<(&str, &str)> = job["variables"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect();
    env.extend([
        ("QCS_BIN", env!("CARGO_BIN_EXE_qcs")),
        ("QCS_ARGS", "--timeout=60s"),
        ("QUALYS_GATEWAY_URL", emu.url.as_str()),
        ("DOCKER_HOST", emu.engine.as_str()),
        ("QUALYS_USERNAME", "qcs-demo"),
        ("QUALYS_PASSWORD", "qcs-demo"),
    ]);
    let r = run_gitlab(&["sh", "-e", "-c"], &env);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.dotenv, "QCS_EXIT_CODE=1\nQCS_OUTCOME=failed\n");
    // The command line the script printed (the real qcs ran, not the recording stub).
    for part in [
        format!("--policy {}", policy.display()),
        "--format json --format junit --format gitlab --format markdown".to_owned(),
    ] {
        assert!(r.stdout.contains(&part), "{part} missing:\n{}", r.stdout);
    }
}
