//! `qcs snippet --ci …`: the step for a given configuration against the expected files in
//! `tests/snippets/` (`QCS_UPDATE_SNIPPETS=1` rewrites them), every YAML step parses as YAML,
//! the Groovy stage balances its brackets and quotes, and no secret value is ever printed.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use assert_cmd::Command;
use yaml_rust2::{Yaml, YamlLoader};

const PASSWORD: &str = "Pw-Snippet-Secret-3b7d";
const HOOK_TOKEN: &str = "Hook-Token-c0ffee";
const PROXY_PASSWORD: &str = "Proxy-Pw-5ea1";

/// A team that keeps a config file: platform and output there, policy flags, a webhook.
fn with_config(dir: &Path, ci: &str) -> Command {
    std::fs::write(
        dir.join("qcs.toml"),
        "[qualys]\nplatform = \"US2\"\n\n[output]\ndir = \"reports\"\nformats = [\"json\", \"table=verdict.txt\"]\n\n[webhook]\nurl-env = \"TEAM_HOOK\"\n",
    )
    .unwrap();
    let mut c = common::qcs();
    c.env_clear()
        .env("NO_COLOR", "1")
        .env("QUALYS_USERNAME", "ci-user")
        .env("QUALYS_PASSWORD", PASSWORD)
        .env(
            "TEAM_HOOK",
            format!("https://hooks.example.com/{HOOK_TOKEN}"),
        )
        .env("QCS_WEBHOOK_SECRET", "Key-4411")
        .current_dir(dir)
        .args(["snippet", "--ci", ci, "--config", "qcs.toml"])
        .args([
            "--fail-severity",
            "5=0,4=2",
            "--fail-cves",
            "CVE-2021-44228",
        ])
        .args(["--timeout", "15m"]);
    c
}

/// No config file: OAuth, a proxy with credentials, an engine, images and a SARIF path.
fn without_config(dir: &Path, ci: &str) -> Command {
    let mut c = common::qcs();
    c.env_clear()
        .env("NO_COLOR", "1")
        .env("QUALYS_PLATFORM", "EU1")
        .env("QUALYS_CLIENT_ID", "client-1")
        .env("QUALYS_CLIENT_SECRET", PASSWORD)
        .env(
            "HTTPS_PROXY",
            format!("http://proxy-user:{PROXY_PASSWORD}@proxy.corp:3128"),
        )
        .env("NO_PROXY", "localhost,.corp")
        .current_dir(dir)
        .args(["snippet", "--ci", ci, "--engine", "tcp://docker:2376"])
        .args(["--skip-sensor-check", "--format", "sarif=out/it's.sarif"])
        .args(["--dockerfile", "docker/app.Dockerfile"])
        .args([
            "--fail-software",
            ".*:log4j-core<2.17.1",
            "acme/app:1.0",
            "acme/worker:1.0",
        ]);
    c
}

fn output(mut c: Command) -> String {
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    for secret in [
        PASSWORD,
        HOOK_TOKEN,
        PROXY_PASSWORD,
        "Key-4411",
        "hooks.example.com",
    ] {
        assert!(
            !text.contains(secret) && !stderr.contains(secret),
            "{secret} leaked:\n{text}{stderr}"
        );
    }
    text
}

/// Compares with `tests/snippets/<name>`, or writes it with `QCS_UPDATE_SNIPPETS=1`.
fn golden(name: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snippets")
        .join(name);
    if std::env::var_os("QCS_UPDATE_SNIPPETS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (QCS_UPDATE_SNIPPETS=1 writes it)\n{text}",
            path.display()
        )
    });
    assert_eq!(
        text,
        want,
        "{} differs (QCS_UPDATE_SNIPPETS=1 rewrites it)",
        path.display()
    );
}

/// The YAML document the snippet is.
fn parse_yaml(text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(docs.len(), 1, "{text}");
    docs.remove(0)
}

/// Brackets balance and every quote closes, outside strings and comments (`'…'` with `\`
/// escapes, as the snippet writes Groovy strings).
fn assert_groovy_balanced(text: &str) {
    let mut stack = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut chars = line.chars();
        let mut in_string = false;
        while let Some(c) = chars.next() {
            match (in_string, c) {
                (true, '\\') => {
                    chars.next();
                }
                (_, '\'') => in_string = !in_string,
                (false, '{' | '(' | '[') => stack.push(c),
                (false, '}' | ')' | ']') => {
                    let open = stack.pop();
                    let want = match c {
                        '}' => '{',
                        ')' => '(',
                        _ => '[',
                    };
                    assert_eq!(open, Some(want), "line {}: {line}\n{text}", n + 1);
                }
                _ => {}
            }
        }
        assert!(!in_string, "line {}: unclosed string: {line}", n + 1);
    }
    assert!(stack.is_empty(), "unclosed {stack:?}\n{text}");
}

fn script_of(step: &Yaml, key: &str) -> String {
    step[key].as_str().unwrap().to_owned()
}

#[test]
fn github_steps() {
    let dir = tempfile::tempdir().unwrap();
    let text = output(with_config(dir.path(), "github"));
    golden("github-config.yml", &text);
    let y = parse_yaml(&text);
    let steps = y.as_vec().unwrap();
    let run = script_of(&steps[0], "run");
    assert!(run.starts_with("qcs scan \\\n  --config qcs.toml"), "{run}");
    assert_eq!(
        steps[0]["env"]["QUALYS_PASSWORD"].as_str(),
        Some("${{ secrets.QUALYS_PASSWORD }}")
    );
    assert_eq!(
        steps[0]["env"]["TEAM_HOOK"].as_str(),
        Some("${{ secrets.TEAM_HOOK }}")
    );
    let sarif = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .unwrap();
    // Pinned by commit, and a refused upload (no code scanning) does not fail the job.
    let uses = sarif["uses"].as_str().unwrap();
    let sha = uses.split('@').nth(1).unwrap();
    assert!(
        sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
        "{uses}"
    );
    assert_eq!(sarif["continue-on-error"].as_bool(), Some(true));
    assert!(text.contains("`actions: read`"), "{text}");
    assert_eq!(
        sarif["with"]["sarif_file"].as_str(),
        Some("reports/results.sarif")
    );

    let text = output(without_config(
        tempfile::tempdir().unwrap().path(),
        "github",
    ));
    golden("github-env.yml", &text);
    let y = parse_yaml(&text);
    let steps = y.as_vec().unwrap();
    assert_eq!(
        steps[0]["env"]["HTTPS_PROXY"].as_str(),
        Some("http://proxy.corp:3128")
    );
    assert_eq!(
        steps[0]["env"]["QCS_PROXY_PASSWORD"].as_str(),
        Some("${{ secrets.QCS_PROXY_PASSWORD }}")
    );
    let run = script_of(&steps[0], "run");
    assert!(run.contains("--format 'sarif=out/it'\\''s.sarif'"), "{run}");
    assert!(run.contains("--auth oauth"), "{run}");
}

#[test]
fn gitlab_job() {
    let dir = tempfile::tempdir().unwrap();
    let text = output(with_config(dir.path(), "gitlab"));
    golden("gitlab-config.yml", &text);
    let y = parse_yaml(&text);
    let job = &y["qualys-container-scan"];
    assert!(
        job["script"][0]
            .as_str()
            .unwrap()
            .contains("--format gitlab")
    );
    assert_eq!(
        job["artifacts"]["reports"]["container_scanning"].as_str(),
        Some("reports/gl-container-scanning-report.json")
    );
    assert_eq!(
        job["artifacts"]["reports"]["junit"].as_str(),
        Some("reports/junit.xml")
    );
    let text = output(without_config(
        tempfile::tempdir().unwrap().path(),
        "gitlab",
    ));
    golden("gitlab-env.yml", &text);
    let y = parse_yaml(&text);
    assert_eq!(
        y["qualys-container-scan"]["variables"]["NO_PROXY"].as_str(),
        Some("localhost,.corp")
    );
}

#[test]
fn azure_steps() {
    let dir = tempfile::tempdir().unwrap();
    let text = output(with_config(dir.path(), "azure"));
    golden("azure-config.yml", &text);
    let y = parse_yaml(&text);
    let steps = y.as_vec().unwrap();
    assert_eq!(
        steps[0]["env"]["QUALYS_PASSWORD"].as_str(),
        Some("$(QUALYS_PASSWORD)")
    );
    assert_eq!(
        steps[1]["inputs"]["testResultsFiles"].as_str(),
        Some("reports/junit.xml")
    );
    let text = output(without_config(tempfile::tempdir().unwrap().path(), "azure"));
    golden("azure-env.yml", &text);
    parse_yaml(&text);
}

#[test]
fn jenkins_stage() {
    let dir = tempfile::tempdir().unwrap();
    let text = output(with_config(dir.path(), "jenkins"));
    golden("jenkins-config.groovy", &text);
    assert_groovy_balanced(&text);
    assert!(text.contains(
        "usernamePassword(credentialsId: 'qualys-api', usernameVariable: 'QUALYS_USERNAME', passwordVariable: 'QUALYS_PASSWORD')"
    ));
    assert!(text.contains("junit allowEmptyResults: true, testResults: 'reports/junit.xml'"));
    let text = output(without_config(
        tempfile::tempdir().unwrap().path(),
        "jenkins",
    ));
    golden("jenkins-env.groovy", &text);
    assert_groovy_balanced(&text);
    // The shell's '\'' inside a Groovy single-quoted string.
    assert!(
        text.contains(r"\'\\\'\'"),
        "a quote in a shell word: {text}"
    );
}

#[test]
fn a_configuration_problem_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::qcs();
    c.env_clear()
        .current_dir(dir.path())
        .args(["snippet", "--ci", "github"]);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Qualys platform"));
}

/// `qcs snippet --no-config` makes a step that reads no config file either, so a `qcs.toml` in
/// the repository cannot change what the step does.
#[test]
fn no_config_is_carried_into_the_step() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("qcs.toml"),
        "[output]\ndir = \"elsewhere\"\n",
    )
    .unwrap();
    let mut c = without_config(dir.path(), "github");
    c.arg("--no-config");
    let text = output(c);
    let run = script_of(&parse_yaml(&text).as_vec().unwrap()[0], "run");
    assert!(run.contains("--no-config"), "{run}");
    assert!(!run.contains("--config "), "{run}");
    let text = output(without_config(dir.path(), "github"));
    let run = script_of(&parse_yaml(&text).as_vec().unwrap()[0], "run");
    assert!(run.contains("--config qcs.toml"), "{run}");
}

/// The step's command line, run by bash as `qcs scan --print-config`: it parses, and the
/// settings it resolves are the ones the snippet was made from.
#[test]
fn the_step_command_runs_as_qcs_scan() {
    let bin = assert_cmd::cargo::cargo_bin("qcs");
    for (with, expect) in [
        (
            true,
            &[
                "config file        qcs.toml",
                "timeout          15m (from flag --timeout)",
                "table=verdict.txt, sarif, markdown",
            ][..],
        ),
        (
            false,
            &[
                "platform EU1",
                "tcp://docker:2376 (from flag --engine)",
                "sarif=out/it's.sarif, json, markdown",
                "acme/app:1.0, acme/worker:1.0",
            ][..],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = if with {
            output(with_config(dir.path(), "github"))
        } else {
            output(without_config(dir.path(), "github"))
        };
        let y = parse_yaml(&text);
        let run = script_of(&y.as_vec().unwrap()[0], "run");
        let script = run.replacen(
            "qcs scan",
            &format!("'{}' scan --print-config", bin.display()),
            1,
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env_clear()
            .env("QUALYS_USERNAME", "u")
            .env("QUALYS_PASSWORD", "p")
            .env("QUALYS_CLIENT_ID", "u")
            .env("QUALYS_CLIENT_SECRET", "p")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{script}\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for e in expect {
            assert!(stdout.contains(e), "{e}:\n{stdout}");
        }
    }
}
