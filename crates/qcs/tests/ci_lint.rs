//! Every workflow, action, template and snippet the project ships or prints, checked by the tools
//! of the platforms they are for, and every shell script by `shellcheck`:
//!
//! - GitHub: the workflows (`.github/workflows/*.yml`) and the steps `qcs snippet --ci github`
//!   prints (inside a workflow) with actionlint, zizmor (`--offline`) and check-jsonschema's
//!   `vendor.github-workflows`; both forms of the Action (`action.yml`,
//!   `integrations/github/action.yml`) with zizmor and `vendor.github-actions`;
//! - GitLab: the template (`integrations/gitlab/qcs.gitlab-ci.yml`), the CI/CD component
//!   (`templates/*.yml`, each document, and its job as GitLab renders it with the default inputs
//!   and in advisory mode) and the job `qcs snippet --ci gitlab` prints, with
//!   `vendor.gitlab-ci` (hidden jobs also as visible ones: the schema checks only those);
//! - Azure Pipelines: the steps `qcs snippet --ci azure` prints, in a pipeline, with
//!   `vendor.azure-pipelines`;
//! - `shellcheck`: every `*.sh` and `*.bash` file, `.ci/run`, and the shell of every `run:` step,
//!   GitLab `script:` and Azure `script:` above (expressions replaced by placeholders and
//!   `shellcheck`'s exclusions as actionlint applies them: the `WebAssembly` actionlint used here
//!   cannot start `shellcheck` itself).
//!
//! The tools come from `scripts/setup/85-linters.sh` (`/opt/qcs-linters/bin`, else `PATH`); a
//! missing one fails the test with that hint. Each failure shows the tool's own output.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

const SETUP: &str = "scripts/setup/85-linters.sh";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The linter `name`: `/opt/qcs-linters/bin/<name>`, else the one on `PATH`; it must run.
fn tool(name: &str) -> PathBuf {
    let mut candidates = vec![Path::new("/opt/qcs-linters/bin").join(name)];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join(name)));
    }
    let found = candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is missing: run {SETUP} as root (scripts/test.sh runs it)")
        });
    let version = Command::new(&found).arg("--version").output();
    match version {
        Ok(out) if out.status.success() => found,
        Ok(out) => panic!(
            "{} does not run: run {SETUP} as root\n{}",
            found.display(),
            describe(&out)
        ),
        Err(e) => panic!(
            "{} does not start ({e}): run {SETUP} as root",
            found.display()
        ),
    }
}

/// Runs `tool args files` in the repository root and fails, with the tool's output, unless it
/// exits 0.
fn lint(name: &str, args: &[&str], files: &[PathBuf]) -> String {
    assert!(!files.is_empty(), "{name}: nothing to check");
    let out = Command::new(tool(name))
        .args(args)
        .args(files)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let listed: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    assert!(
        out.status.success(),
        "{name} {} found problems in\n  {}\n{}",
        args.join(" "),
        listed.join("\n  "),
        describe(&out)
    );
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn zizmor(files: &[PathBuf]) {
    let said = lint(
        "zizmor",
        &["--offline", "--no-progress", "--color", "never"],
        files,
    );
    assert!(said.contains("No findings"), "zizmor said:\n{said}");
}

fn schema(name: &str, files: &[PathBuf]) {
    lint(
        "check-jsonschema",
        &["--builtin-schema", name, "--color", "never"],
        files,
    );
}

// --- YAML -------------------------------------------------------------------------------------

fn yaml_docs(text: &str, what: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"))
}

fn yaml_file(path: &Path) -> Yaml {
    let mut docs = yaml_docs(
        &fs::read_to_string(path).unwrap(),
        &path.display().to_string(),
    );
    assert_eq!(docs.len(), 1, "{}: one YAML document", path.display());
    docs.remove(0)
}

/// YAML as JSON, for rendering and for check-jsonschema.
fn json(y: &Yaml) -> Value {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Value::from(s.as_str()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) | Yaml::Real(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => panic!("a mapping key that is not a scalar: {other:?}"),
                    };
                    (key, json(v))
                })
                .collect(),
        ),
        Yaml::Null => Value::Null,
        other => panic!("unexpected YAML node {other:?}"),
    }
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// The hidden jobs (`.name`) of a GitLab configuration again as visible jobs (`name`), which is
/// what GitLab's schema checks (it takes any hidden key as an arbitrary YAML anchor).
fn with_visible_jobs(config: &Value) -> Value {
    let mut out = config.as_object().unwrap().clone();
    for (key, job) in config.as_object().unwrap() {
        if let Some(name) = key.strip_prefix('.') {
            out.insert(format!("qcs-visible-{name}"), job.clone());
        }
    }
    Value::Object(out)
}

// --- files the project ships --------------------------------------------------------------------

fn workflows() -> Vec<PathBuf> {
    let dir = root().join(".github/workflows");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "no workflows in {}", dir.display());
    files
}

fn actions() -> Vec<PathBuf> {
    let files = vec![
        root().join("action.yml"),
        root().join("integrations/github/action.yml"),
    ];
    for f in &files {
        assert!(f.is_file(), "{} is missing", f.display());
    }
    files
}

fn gitlab_template() -> PathBuf {
    root().join("integrations/gitlab/qcs.gitlab-ci.yml")
}

/// The CI/CD components: `templates/<name>.yml` and `templates/<name>/template.yml`.
fn components() -> Vec<PathBuf> {
    let dir = root().join("templates");
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.push(path.join("template.yml"));
        } else if path.extension().and_then(|e| e.to_str()) == Some("yml") {
            files.push(path);
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no component in {}", dir.display());
    files
}

/// Every shell script: `*.sh` and `*.bash` outside build output, and `.ci/run`.
fn shell_scripts() -> Vec<PathBuf> {
    let mut files =
        qcs_test_support::local::repo_files(&root(), &["corpus", "artifacts"], |path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("sh" | "bash")
            )
        });
    files.insert(0, root().join(".ci/run"));
    files
}

// --- what `qcs snippet` prints ------------------------------------------------------------------

/// A snippet configuration: its name, its environment, its arguments.
type Configuration<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

/// `qcs snippet --ci <ci>` for a few configurations: a policy file and images; a config file
/// with a webhook; OAuth, a proxy with credentials, an engine and a SARIF path with a quote.
fn snippets(ci: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("qcs-policy.toml"),
        "[fail]\nseverity = { 5 = 0, 4 = 2 }\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("qcs.toml"),
        "[qualys]\nplatform = \"US2\"\n\n[output]\ndir = \"reports\"\nformats = [\"json\", \"html\"]\n\n[webhook]\nurl-env = \"TEAM_HOOK\"\n",
    )
    .unwrap();
    let configurations: [Configuration; 3] = [
        (
            "policy",
            &[("QUALYS_USERNAME", "u"), ("QUALYS_PASSWORD", "p")],
            &[
                "--platform",
                "US2",
                "--policy",
                "qcs-policy.toml",
                "myapp:1.4",
            ],
        ),
        (
            "config",
            &[
                ("QUALYS_USERNAME", "u"),
                ("QUALYS_PASSWORD", "p"),
                ("TEAM_HOOK", "https://hooks.example.com/x"),
                ("QCS_WEBHOOK_SECRET", "k"),
            ],
            &[
                "--config",
                "qcs.toml",
                "--fail-severity",
                "5=0",
                "--timeout",
                "15m",
            ],
        ),
        (
            "env",
            &[
                ("QUALYS_PLATFORM", "EU1"),
                ("QUALYS_CLIENT_ID", "c"),
                ("QUALYS_CLIENT_SECRET", "s"),
                ("HTTPS_PROXY", "http://proxy-user:pw@proxy.corp:3128"),
                ("NO_PROXY", "localhost,.corp"),
            ],
            &[
                "--engine",
                "tcp://docker:2376",
                "--skip-sensor-check",
                "--format",
                "sarif=out/it's.sarif",
                "--dockerfile",
                "docker/app.Dockerfile",
                "acme/app:1.0",
                "acme/worker:1.0",
            ],
        ),
    ];
    configurations
        .iter()
        .map(|(name, envs, args)| {
            let out = Command::new(env!("CARGO_BIN_EXE_qcs"))
                .env_clear()
                .env("NO_COLOR", "1")
                .envs(envs.iter().copied())
                .current_dir(dir.path())
                .args(["snippet", "--ci", ci])
                .args(*args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "qcs snippet --ci {ci} {}\n{}",
                args.join(" "),
                describe(&out)
            );
            ((*name).to_owned(), text(&out.stdout))
        })
        .collect()
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().fold(String::new(), |mut s, l| {
        if l.is_empty() {
            s.push('\n');
        } else {
            let _ = writeln!(s, "{pad}{l}");
        }
        s
    })
}

/// The GitHub steps in the workflow a user pastes them into.
fn github_workflow(steps: &str) -> String {
    format!(
        "name: qcs\non:\n  push:\npermissions:\n  contents: read\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      actions: read\n      security-events: write\n    steps:\n{}",
        indent(steps, 6)
    )
}

// --- shell inside YAML --------------------------------------------------------------------------

/// A script found in a YAML file: where it is, the shell that runs it, the text.
struct Script {
    origin: String,
    shell: String,
    text: String,
}

/// `${{ … }}` replaced by underscores of the same length, as actionlint does before it hands a
/// `run:` script to `shellcheck`.
fn without_expressions(script: &str) -> String {
    let mut out = String::new();
    let mut rest = script;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&"_".repeat(end + 2));
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

fn str_at<'a>(y: &'a Yaml, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(y, |y, k| Some(&y[*k]))
        .and_then(Yaml::as_str)
}

/// The `run:` scripts of GitHub steps, with their shell (default bash).
fn github_scripts(origin: &str, steps: &Yaml, default_shell: Option<&str>, out: &mut Vec<Script>) {
    for (n, step) in steps.as_vec().into_iter().flatten().enumerate() {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        let shell = step["shell"].as_str().or(default_shell).unwrap_or("bash");
        let name = step["name"]
            .as_str()
            .or_else(|| step["id"].as_str())
            .map_or_else(|| format!("step {}", n + 1), str::to_owned);
        out.push(Script {
            origin: format!("{origin}: {name}"),
            shell: shell.to_owned(),
            text: without_expressions(run),
        });
    }
}

fn workflow_scripts(path: &Path, out: &mut Vec<Script>) {
    let w = yaml_file(path);
    let origin = path.strip_prefix(root()).unwrap().display().to_string();
    let top = str_at(&w, &["defaults", "run", "shell"]);
    for (job, body) in w["jobs"].as_hash().unwrap() {
        let shell = str_at(body, &["defaults", "run", "shell"]).or(top);
        let job = job.as_str().unwrap();
        github_scripts(&format!("{origin} job {job}"), &body["steps"], shell, out);
    }
}

/// Runs `shellcheck` on each script as actionlint would (its exclusions: placeholders make
/// constant tests, the environment comes from `env:`, sourced files are not followed).
fn shellcheck_scripts(scripts: &[Script]) {
    assert!(!scripts.is_empty(), "no script found");
    let dir = tempfile::tempdir().unwrap();
    let mut failures = String::new();
    for (n, s) in scripts.iter().enumerate() {
        let shell = match s.shell.as_str() {
            "bash" | "sh" => s.shell.as_str(),
            other => panic!(
                "{}: a script for {other}, which this test cannot check",
                s.origin
            ),
        };
        let file = dir.path().join(format!("script-{n}.{shell}"));
        fs::write(&file, &s.text).unwrap();
        let out = Command::new(tool("shellcheck"))
            .args(["--norc", "--shell", shell])
            .args(["--exclude", "SC1091,SC2194,SC2050,SC2154,SC2157"])
            .arg(&file)
            .output()
            .unwrap();
        if !out.status.success() {
            let _ = writeln!(
                failures,
                "=== {} ({shell}):\n{}\n{}",
                s.origin,
                s.text,
                describe(&out)
            );
        }
    }
    assert!(
        failures.is_empty(),
        "shellcheck found problems:\n{failures}"
    );
}

// --- the tests --------------------------------------------------------------------------------

#[test]
fn every_shell_script_passes_shellcheck() {
    let files = shell_scripts();
    let relative: Vec<PathBuf> = files
        .iter()
        .map(|f| f.strip_prefix(root()).unwrap().to_owned())
        .collect();
    for needed in [
        ".ci/run",
        "scripts/test.sh",
        "scripts/setup/common.bash",
        "integrations/github/run.sh",
        "integrations/github/install.sh",
        "integrations/github/sarif-notice.sh",
    ] {
        assert!(
            relative.iter().any(|f| f == Path::new(needed)),
            "{needed} not among the scripts found: {relative:?}"
        );
    }
    // From the root, where the scripts' `# shellcheck source=` paths start.
    lint("shellcheck", &["--external-sources"], &relative);
}

#[test]
fn the_shell_inside_workflows_actions_templates_and_snippets_passes_shellcheck() {
    let mut scripts = Vec::new();
    for w in workflows() {
        workflow_scripts(&w, &mut scripts);
    }
    for a in actions() {
        let action = yaml_file(&a);
        let origin = a.strip_prefix(root()).unwrap().display().to_string();
        github_scripts(&origin, &action["runs"]["steps"], None, &mut scripts);
    }
    // The GitLab template's script, as GitLab's shell runs it (POSIX sh in the image).
    let template = yaml_file(&gitlab_template());
    for (key, job) in template.as_hash().unwrap() {
        if let Some(lines) = job["script"].as_vec() {
            let text: Vec<&str> = lines.iter().map(|l| l.as_str().unwrap()).collect();
            scripts.push(Script {
                origin: format!(
                    "integrations/gitlab/qcs.gitlab-ci.yml {}",
                    key.as_str().unwrap()
                ),
                shell: "sh".to_owned(),
                text: text.join("\n"),
            });
        }
    }
    for (name, text) in snippets("github") {
        let steps = yaml_docs(&text, "github snippet").remove(0);
        github_scripts(
            &format!("qcs snippet --ci github ({name})"),
            &steps,
            None,
            &mut scripts,
        );
    }
    for (name, text) in snippets("gitlab") {
        let config = yaml_docs(&text, "gitlab snippet").remove(0);
        for (job, body) in config.as_hash().unwrap() {
            let lines: Vec<&str> = body["script"]
                .as_vec()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            scripts.push(Script {
                origin: format!("qcs snippet --ci gitlab ({name}) {}", job.as_str().unwrap()),
                shell: "sh".to_owned(),
                text: lines.join("\n"),
            });
        }
    }
    for (name, text) in snippets("azure") {
        let steps = yaml_docs(&text, "azure snippet").remove(0);
        for step in steps.as_vec().unwrap() {
            if let Some(script) = step["script"].as_str() {
                scripts.push(Script {
                    origin: format!("qcs snippet --ci azure ({name})"),
                    shell: "bash".to_owned(),
                    text: script.to_owned(),
                });
            }
        }
    }
    let origins: Vec<&str> = scripts.iter().map(|s| s.origin.as_str()).collect();
    for needed in [
        "release.yml job check",
        "action.yml: scan",
        "qcs.gitlab-ci.yml .qcs-scan",
        "qcs snippet --ci azure",
    ] {
        assert!(
            origins.iter().any(|o| o.contains(needed)),
            "no script from {needed}: {origins:?}"
        );
    }
    shellcheck_scripts(&scripts);
}

#[test]
fn github_workflows_pass_actionlint_zizmor_and_the_schema() {
    let files = workflows();
    lint("actionlint", &[], &files);
    zizmor(&files);
    schema("vendor.github-workflows", &files);
}

#[test]
fn github_actions_pass_zizmor_and_the_schema() {
    let files = actions();
    zizmor(&files);
    schema("vendor.github-actions", &files);
}

#[test]
fn github_snippets_pass_actionlint_zizmor_and_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = snippets("github")
        .into_iter()
        .map(|(name, steps)| {
            let path = dir.path().join(format!("snippet-{name}.yml"));
            fs::write(&path, github_workflow(&steps)).unwrap();
            path
        })
        .collect();
    lint("actionlint", &[], &files);
    zizmor(&files);
    schema("vendor.github-workflows", &files);
}

/// `$[[ inputs.NAME ]]` replaced in every string and key, as GitLab renders a component.
fn interpolate(v: &Value, inputs: &BTreeMap<String, String>) -> Value {
    let fill = |s: &str| {
        let mut s = s.to_owned();
        for (name, value) in inputs {
            s = s.replace(&format!("$[[ inputs.{name} ]]"), value);
        }
        assert!(!s.contains("$[["), "an input without a value: {s}");
        s
    };
    match v {
        Value::String(s) => Value::from(fill(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| interpolate(x, inputs)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (fill(k), interpolate(x, inputs)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

#[test]
fn gitlab_template_component_and_snippets_pass_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![gitlab_template()];
    let template = json(&yaml_file(&gitlab_template()));
    files.push(write_json(
        dir.path(),
        "template-visible.json",
        &with_visible_jobs(&template),
    ));

    for component in components() {
        let name = component
            .strip_prefix(root().join("templates"))
            .unwrap()
            .display()
            .to_string()
            .replace(['/', '.'], "-");
        let docs = yaml_docs(
            &fs::read_to_string(&component).unwrap(),
            &component.display().to_string(),
        );
        assert_eq!(
            docs.len(),
            2,
            "{}: a component is its spec header, `---`, then the jobs",
            component.display()
        );
        let header = json(&docs[0]);
        let body = json(&docs[1]);
        files.push(write_json(
            dir.path(),
            &format!("{name}-spec.json"),
            &header,
        ));
        files.push(write_json(dir.path(), &format!("{name}-jobs.json"), &body));
        // Rendered with the default inputs, and with each boolean input flipped.
        let specs = header["spec"]["inputs"].as_object().unwrap();
        let defaults: BTreeMap<String, String> = specs
            .iter()
            .map(|(k, spec)| {
                let value = match &spec["default"] {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    other => panic!("{}: input {k} has default {other}", component.display()),
                };
                (k.clone(), value)
            })
            .collect();
        let mut variants = vec![("defaults".to_owned(), defaults.clone())];
        for (k, spec) in specs {
            if spec["type"] == "boolean" {
                let mut flipped = defaults.clone();
                let on = spec["default"] != Value::Bool(true);
                flipped.insert(k.clone(), on.to_string());
                variants.push((format!("{k}-{on}"), flipped));
            }
        }
        for (variant, inputs) in variants {
            let rendered = with_visible_jobs(&interpolate(&body, &inputs));
            files.push(write_json(
                dir.path(),
                &format!("{name}-{variant}.json"),
                &rendered,
            ));
        }
    }
    for (name, text) in snippets("gitlab") {
        let path = dir.path().join(format!("snippet-{name}.gitlab-ci.yml"));
        fs::write(&path, text).unwrap();
        files.push(path);
    }
    schema("vendor.gitlab-ci", &files);
}

#[test]
fn azure_snippets_pass_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = snippets("azure")
        .into_iter()
        .map(|(name, steps)| {
            // The steps as a pipeline's steps, where the user pastes them.
            let path = dir
                .path()
                .join(format!("snippet-{name}.azure-pipelines.yml"));
            fs::write(&path, format!("steps:\n{}", indent(&steps, 2))).unwrap();
            path
        })
        .collect();
    schema("vendor.azure-pipelines", &files);
}

/// The checks fail on what they are for: a broken file of each kind is refused, so a green run
/// above means something.
#[test]
fn the_linters_refuse_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |name: &str, args: &[&str], file: &Path| {
        let out = Command::new(tool(name))
            .args(args)
            .arg(file)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{name} accepted {}:\n{}",
            file.display(),
            describe(&out)
        );
    };
    let workflow = dir.path().join("bad.yml");
    fs::write(
        &workflow,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo ${{ github.event.issue.title }}\n",
    )
    .unwrap();
    refused("actionlint", &[], &workflow);
    refused("zizmor", &["--offline", "--no-progress"], &workflow);
    let gitlab = dir.path().join("bad.gitlab-ci.yml");
    fs::write(&gitlab, "job:\n  script: [x]\n  rules:\n    - iff: $X\n").unwrap();
    refused(
        "check-jsonschema",
        &["--builtin-schema", "vendor.gitlab-ci"],
        &gitlab,
    );
    let azure = dir.path().join("bad.azure-pipelines.yml");
    fs::write(&azure, "steps:\n  - script: echo\n    displayNme: x\n").unwrap();
    refused(
        "check-jsonschema",
        &["--builtin-schema", "vendor.azure-pipelines"],
        &azure,
    );
    let script = dir.path().join("bad.sh");
    fs::write(
        &script,
        "#!/bin/sh\nfor f in $(ls *.txt); do echo $f; done\n",
    )
    .unwrap();
    refused("shellcheck", &[], &script);
}
