//! A [`Step`] as text for each CI system: a Jenkins declarative stage (Groovy), GitHub Actions
//! steps, a GitLab CI job and Azure Pipelines steps (YAML). The command line is shell-quoted;
//! YAML values are quoted where plain scalars would be read otherwise; the Groovy `sh` string is
//! single-quoted (no interpolation, so `$VAR` stays the shell's).

use std::fmt::Write as _;

use super::{Secret, Step};
use crate::cli::CiSystem;

/// The step as text for `ci`, comments first.
pub(crate) fn render(step: &Step, ci: CiSystem) -> String {
    let comment = if ci == CiSystem::Jenkins { "//" } else { "#" };
    let mut out = String::new();
    let name = match ci {
        CiSystem::Jenkins => "jenkins",
        CiSystem::Github => "github",
        CiSystem::Gitlab => "gitlab",
        CiSystem::Azure => "azure",
    };
    let vars: Vec<&str> = step.secrets.iter().flat_map(Secret::vars).collect();
    let _ = writeln!(
        out,
        "{comment} Made by `qcs snippet --ci {name}`: runs qcs scan with this configuration (docs/ci.md)."
    );
    let _ = writeln!(
        out,
        "{comment} Secrets from the CI's secret store, by name only: {}.",
        vars.join(", ")
    );
    let _ = writeln!(
        out,
        "{comment} Exit codes: 0 passed, 1 policy violated, 2 configuration, 3 engine/sensor, 4 Qualys API, 5 no result."
    );
    for note in &step.notes {
        let _ = writeln!(out, "{comment} {note}");
    }
    match ci {
        CiSystem::Jenkins => jenkins(step, &mut out),
        CiSystem::Github => github(step, &mut out),
        CiSystem::Gitlab => gitlab(step, &mut out),
        CiSystem::Azure => azure(step, &mut out),
    }
    out
}

/// A word for a POSIX shell: bare when it holds only safe characters, else single-quoted.
pub(crate) fn shell_word(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `qcs scan …` with a group a line, joined by `joiner` (a continuation or a space).
fn command(step: &Step, joiner: &str) -> String {
    let mut parts = vec!["qcs scan".to_owned()];
    parts.extend(step.args.iter().map(|g| {
        g.iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    }));
    parts.join(joiner)
}

/// The command as the lines of a YAML literal block at `indent` spaces.
fn block(step: &Step, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let continuation = format!(" \\\n{pad}  ");
    format!("{pad}{}\n", command(step, &continuation))
}

/// A YAML scalar: plain when that is read back as the same string, else double-quoted.
fn yaml(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./".contains(c);
    let ambiguous = ["true", "false", "yes", "no", "null", "on", "off", "~"]
        .contains(&s.to_ascii_lowercase().as_str())
        || s.parse::<f64>().is_ok();
    if !s.is_empty() && s.chars().all(plain) && !ambiguous && !s.starts_with('-') {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('\\', r"\\").replace('"', "\\\""))
    }
}

/// A Groovy single-quoted string.
fn groovy(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

fn jenkins(step: &Step, out: &mut String) {
    let creds: Vec<String> = step
        .secrets
        .iter()
        .map(|s| match s {
            Secret::Pair { id, user, password } => format!(
                "usernamePassword(credentialsId: {}, usernameVariable: {}, passwordVariable: {})",
                groovy(id),
                groovy(user),
                groovy(password)
            ),
            Secret::Single { id, var } => format!(
                "string(credentialsId: {}, variable: {})",
                groovy(id),
                groovy(var)
            ),
        })
        .collect();
    let sh = format!("sh {}", groovy(&command(step, " ")));
    let _ = writeln!(out, "stage('Qualys container scan') {{");
    let _ = writeln!(out, "    steps {{");
    let _ = writeln!(out, "        withCredentials([");
    let _ = writeln!(out, "            {}", creds.join(",\n            "));
    let _ = writeln!(out, "        ]) {{");
    if step.env.is_empty() {
        let _ = writeln!(out, "            {sh}");
    } else {
        let vars: Vec<String> = step
            .env
            .iter()
            .map(|(k, v)| groovy(&format!("{k}={v}")))
            .collect();
        let _ = writeln!(out, "            withEnv([{}]) {{", vars.join(", "));
        let _ = writeln!(out, "                {sh}");
        let _ = writeln!(out, "            }}");
    }
    let _ = writeln!(out, "        }}");
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "    post {{");
    let _ = writeln!(out, "        always {{");
    if let Some(junit) = &step.reports.junit {
        let _ = writeln!(
            out,
            "            junit allowEmptyResults: true, testResults: {}",
            groovy(junit)
        );
    }
    let _ = writeln!(
        out,
        "            archiveArtifacts allowEmptyArchive: true, artifacts: {}",
        groovy(&format!("{}/**", step.reports.dir))
    );
    let _ = writeln!(out, "        }}");
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "}}");
}

/// The GitHub actions the step uses, pinned by commit (the tag they were taken from in the
/// comment), as zizmor's `unpinned-uses` audit asks (`crates/qcs/tests/ci_lint.rs`).
const UPLOAD_SARIF: &str =
    "github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7 # v4.31.9";
const UPLOAD_ARTIFACT: &str =
    "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2";

fn github(step: &Step, out: &mut String) {
    let _ = writeln!(out, "- name: Qualys container scan");
    let _ = writeln!(out, "  env:");
    for (k, v) in &step.env {
        let _ = writeln!(out, "    {k}: {}", yaml(v));
    }
    for var in step.secrets.iter().flat_map(Secret::vars) {
        let _ = writeln!(out, "    {var}: ${{{{ secrets.{var} }}}}");
    }
    let _ = writeln!(out, "  run: |");
    out.push_str(&block(step, 4));
    // hashFiles() takes a string in single quotes, where a quote is doubled.
    let exists = |path: &str| {
        yaml(&format!(
            "${{{{ !cancelled() && hashFiles('{}') != '' }}}}",
            path.replace('\'', "''")
        ))
    };
    if let Some(md) = &step.reports.markdown {
        let _ = writeln!(out, "- name: Qualys verdict in the job summary");
        let _ = writeln!(out, "  if: {}", exists(md));
        let _ = writeln!(
            out,
            "  run: {}",
            yaml(&format!(
                "cat {} >> \"$GITHUB_STEP_SUMMARY\"",
                shell_word(md)
            ))
        );
    }
    if let Some(sarif) = &step.reports.sarif {
        let _ = writeln!(
            out,
            "# The SARIF upload needs `permissions: security-events: write` on the job (and `actions: read`"
        );
        let _ = writeln!(
            out,
            "# in private repositories, which also need GitHub Advanced Security); where code scanning"
        );
        let _ = writeln!(
            out,
            "# refuses it (no GHAS, a pull request from a fork), it warns and the job goes on."
        );
        let _ = writeln!(out, "- name: Qualys findings to code scanning");
        let _ = writeln!(out, "  if: {}", exists(sarif));
        let _ = writeln!(out, "  continue-on-error: true");
        let _ = writeln!(out, "  uses: {UPLOAD_SARIF}");
        let _ = writeln!(out, "  with:");
        let _ = writeln!(out, "    sarif_file: {}", yaml(sarif));
        let _ = writeln!(out, "    category: qcs");
    }
    let _ = writeln!(out, "- name: Qualys reports");
    let _ = writeln!(out, "  if: ${{{{ !cancelled() }}}}");
    let _ = writeln!(out, "  uses: {UPLOAD_ARTIFACT}");
    let _ = writeln!(out, "  with:");
    let _ = writeln!(out, "    name: qcs-reports");
    let _ = writeln!(out, "    path: {}", yaml(&step.reports.dir));
}

fn gitlab(step: &Step, out: &mut String) {
    let vars: Vec<&str> = step.secrets.iter().flat_map(Secret::vars).collect();
    let _ = writeln!(
        out,
        "# Define {} as masked CI/CD variables (Settings > CI/CD > Variables); jobs see them as ${}.",
        vars.join(", "),
        vars.join(", $")
    );
    let _ = writeln!(out, "qualys-container-scan:");
    let _ = writeln!(out, "  stage: test");
    if !step.env.is_empty() {
        let _ = writeln!(out, "  variables:");
        for (k, v) in &step.env {
            let _ = writeln!(out, "    {k}: {}", yaml(v));
        }
    }
    let _ = writeln!(out, "  script:");
    let _ = writeln!(out, "    - |");
    out.push_str(&block(step, 6));
    let _ = writeln!(out, "  artifacts:");
    let _ = writeln!(out, "    when: always");
    let _ = writeln!(out, "    paths:");
    let _ = writeln!(out, "      - {}", yaml(&format!("{}/", step.reports.dir)));
    if step.reports.gitlab.is_some() || step.reports.junit.is_some() {
        let _ = writeln!(out, "    reports:");
        if let Some(g) = &step.reports.gitlab {
            let _ = writeln!(out, "      container_scanning: {}", yaml(g));
        }
        if let Some(j) = &step.reports.junit {
            let _ = writeln!(out, "      junit: {}", yaml(j));
        }
    }
}

fn azure(step: &Step, out: &mut String) {
    let _ = writeln!(out, "- script: |");
    out.push_str(&block(step, 4));
    let _ = writeln!(out, "  displayName: Qualys container scan");
    let _ = writeln!(out, "  env:");
    for (k, v) in &step.env {
        let _ = writeln!(out, "    {k}: {}", yaml(v));
    }
    // Secret variables reach a script only when mapped.
    for var in step.secrets.iter().flat_map(Secret::vars) {
        let _ = writeln!(out, "    {var}: $({var})");
    }
    if let Some(junit) = &step.reports.junit {
        let _ = writeln!(out, "- task: PublishTestResults@2");
        let _ = writeln!(out, "  displayName: Qualys verdict as test results");
        let _ = writeln!(out, "  condition: succeededOrFailed()");
        let _ = writeln!(out, "  inputs:");
        let _ = writeln!(out, "    testResultsFormat: JUnit");
        let _ = writeln!(out, "    testResultsFiles: {}", yaml(junit));
        let _ = writeln!(out, "    testRunTitle: Qualys container scan");
    }
    let _ = writeln!(out, "- task: PublishPipelineArtifact@1");
    let _ = writeln!(out, "  displayName: Qualys reports");
    let _ = writeln!(out, "  condition: succeededOrFailed()");
    let _ = writeln!(out, "  inputs:");
    let _ = writeln!(out, "    targetPath: {}", yaml(&step.reports.dir));
    let _ = writeln!(out, "    artifact: qcs-reports");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_scalars_are_quoted_only_when_needed() {
        assert_eq!(shell_word("--fail-severity"), "--fail-severity");
        assert_eq!(shell_word("5=0,4=2"), "5=0,4=2");
        assert_eq!(shell_word("it's $x"), r"'it'\''s $x'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(yaml("qcs-reports/junit.xml"), "qcs-reports/junit.xml");
        assert_eq!(yaml("http://p:3128"), "\"http://p:3128\"");
        assert_eq!(yaml("true"), "\"true\"");
        assert_eq!(yaml("1.5"), "\"1.5\"");
        assert_eq!(groovy(r"a'b\c"), r"'a\'b\\c'");
    }
}
