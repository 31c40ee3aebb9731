//! What `qcs migrate jenkins` prints (on standard output): the files written, the secrets to
//! provide, the table of settings that need a look (setting | value | becomes | note), and the
//! equivalent of the job's step: the freestyle job's steps, or a pipeline stage.

use std::fmt::Write as _;

use super::mapping::{Binding, Migration};
use super::model::{JobKind, Row};
use crate::cmd::snippet::render::shell_word;

/// The report directory the printed steps use (`qcs scan`'s default).
const REPORTS: &str = "qcs-reports";

/// The whole report for one migration.
pub(crate) fn render(
    m: &Migration,
    title: &str,
    written: (&str, &str),
    job: Option<(&str, JobKind)>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "wrote {} ({} setting{}) and {} ({} condition{} and exclusion{})",
        written.0,
        m.counts.0,
        plural(m.counts.0),
        written.1,
        m.counts.1,
        plural(m.counts.1),
        plural(m.counts.1),
    );
    if !m.instructions.is_empty() {
        let _ = writeln!(
            out,
            "\nSecrets (never written to a file: qcs reads them from the environment):"
        );
        for i in &m.instructions {
            let _ = writeln!(out, "  - {} = {}: {}", i.setting, i.shown, i.text);
        }
    }
    if !m.rows.is_empty() {
        let _ = writeln!(
            out,
            "\nSettings to check ({}: not readable, or mapped approximately):",
            m.rows.len()
        );
        out.push_str(&table(&m.rows));
    }
    let _ = writeln!(out, "\nCheck the result:");
    let _ = writeln!(out, "  qcs policy check {}", written.1);
    let _ = writeln!(
        out,
        "  qcs scan --config {} --print-config    # with the secrets above set",
        written.0
    );
    match job {
        Some((name, JobKind::Freestyle)) => out.push_str(&freestyle(m, name)),
        Some((name, _)) => out.push_str(&pipeline(m, name)),
        None => {
            let _ = writeln!(
                out,
                "\nJobs that keep the plugin's step (the qcs library's getImageVulnsFromQualys with \
                 useGlobalConfig) read these files: docs/migration.md, \"The \
                 getImageVulnsFromQualys step\"."
            );
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The table: a header and one line per row, the columns aligned (the note last, unpadded).
pub(crate) fn table(rows: &[Row]) -> String {
    let header = ["setting", "value", "becomes", "note"];
    let cells: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.setting.as_str(),
                r.value.as_str(),
                r.becomes.as_str(),
                r.note.as_str(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &cells {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(one_line(c).chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut s = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let c = one_line(c);
            if i == 3 {
                s.push_str(&c);
            } else {
                let pad = widths[i].saturating_sub(c.chars().count());
                let _ = write!(s, "{c}{} | ", " ".repeat(pad));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", line(header));
    for r in cells {
        let _ = writeln!(out, "{}", line(r));
    }
    out
}

/// A cell on one line (a multi-line value, a Jenkinsfile expression).
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// `qcs scan` with the formats the printed steps publish and the images.
fn scan_command(m: &Migration, formats: &[&str]) -> String {
    let mut words = vec!["qcs scan".to_owned()];
    for f in formats {
        words.push(format!("--format {f}"));
    }
    words.extend(m.images.iter().map(|i| shell_word(i)));
    words.join(" ")
}

fn binding_line(b: &Binding) -> String {
    match &b.vars {
        (user, Some(pass)) => format!(
            "Username and password (separated): credential {}, username variable {user}, password variable {pass}",
            b.id
        ),
        (var, None) => format!("Secret text: credential {}, variable {var}", b.id),
    }
}

/// The freestyle job's equivalent: an Execute shell step, the `JUnit` and HTML Publisher
/// post-build steps.
pub(crate) fn freestyle(m: &Migration, name: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nFreestyle job `{name}`: replace the post-build action \"Scan container images with \
         Qualys CS\" by these steps\n(qcs.toml and qcs-policy.toml in the workspace, e.g. from \
         the repository; or QCS_CONFIG naming them on the agent):"
    );
    if !m.bindings.is_empty() {
        let _ = writeln!(out, "  Build Environment > Use secret text(s) or file(s):");
        for b in &m.bindings {
            let _ = writeln!(out, "      {}", binding_line(b));
        }
    }
    let _ = writeln!(
        out,
        "  Build > Add build step > Execute shell (after the step that builds the image):"
    );
    let _ = writeln!(out, "      {}", scan_command(m, &["json", "junit", "html"]));
    if m.images.is_empty() {
        let _ = writeln!(
            out,
            "      (no imageIds: qcs scans the images in IMAGE_ID, as the plugin did)"
        );
    }
    let _ = writeln!(
        out,
        "      (exit 1: the policy is violated; 2-5: qcs could not judge, see docs/exit-codes.md; \
         either fails the build, and the post-build actions below still run)"
    );
    let _ = writeln!(
        out,
        "  Post-build Actions > Publish JUnit test result report:"
    );
    let _ = writeln!(
        out,
        "      Test report XMLs: {REPORTS}/junit.xml (tick \"Do not fail the build on empty test results\")"
    );
    let _ = writeln!(out, "  Post-build Actions > Publish HTML reports:");
    let _ = writeln!(
        out,
        "      HTML directory to archive: {REPORTS}; Index page[s]: report.html; Report title: Qualys container scan"
    );
    let _ = writeln!(
        out,
        "  Post-build Actions > Archive the artifacts (optional): {REPORTS}/**"
    );
    out
}

/// A pipeline's equivalent stage (plain `sh`; the qcs shared library's step reads the same
/// files).
pub(crate) fn pipeline(m: &Migration, name: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nPipeline `{name}`: with qcs.toml and qcs-policy.toml in the repository, the step becomes"
    );
    let creds: Vec<String> = m
        .bindings
        .iter()
        .map(|b| match &b.vars {
            (user, Some(pass)) => format!(
                "usernamePassword(credentialsId: '{}', usernameVariable: '{user}', passwordVariable: '{pass}')",
                b.id
            ),
            (var, None) => format!("string(credentialsId: '{}', variable: '{var}')", b.id),
        })
        .collect();
    let sh = format!(
        "sh '{}'",
        scan_command(m, &["json", "junit", "html"]).replace('\'', "\\'")
    );
    if creds.is_empty() {
        let _ = writeln!(out, "    {sh}");
    } else {
        let _ = writeln!(
            out,
            "    withCredentials([{}]) {{",
            creds.join(",\n                     ")
        );
        let _ = writeln!(out, "        {sh}");
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(
        out,
        "    // in post {{ always {{ … }} }}: junit testResults: '{REPORTS}/junit.xml', allowEmptyResults: true"
    );
    let _ = writeln!(
        out,
        "    //                       archiveArtifacts artifacts: '{REPORTS}/**', allowEmptyArchive: true"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_its_columns() {
        let rows = vec![
            Row {
                setting: "a".into(),
                value: "long value".into(),
                becomes: "x".into(),
                note: "n1".into(),
            },
            Row {
                setting: "longer setting".into(),
                value: "v\nw".into(),
                becomes: "yy".into(),
                note: "n2".into(),
            },
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "  setting        | value      | becomes | note");
        assert_eq!(lines[1], "  a              | long value | x       | n1");
        assert_eq!(lines[2], "  longer setting | v w        | yy      | n2");
    }
}
