//! `summary.md`: the verdict in GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY` and
//! merge-request comments.
//!
//! A headline and one row per image (verdict, with `⚠️ N warnings` when parts of its report were
//! read as absent, counts by severity, failing conditions); then per image its warnings (a
//! `[!WARNING]` alert), its conditions (configured vs found), its top findings (those that made
//! it fail first, then by severity), what the exclusions did, and every finding in a collapsed
//! `<details>` table. The whole stays under [`MAX_BYTES`] (GitHub caps a step summary at 1 MiB): rows of the
//! collapsed tables, then whole image sections, are left out first, and a closing note says how
//! many and where the rest is (the verdict in `summary.json`, every finding in the raw image
//! reports).

use std::fmt::Write as _;
use std::io::{self, Write};

use qcs_core::summary::{Finding, FindingType, ImageResult, Outcome, Summary};

use crate::common::{
    checks, cves, escape_md, exclusion_lines, failing_conditions, fix_advice, image_name, list,
    package_label, severity_word,
};

/// The size the summary stays under: GitHub's step-summary cap (1 MiB) less room to spare for
/// whatever else a job appends.
pub const MAX_BYTES: usize = 1_000_000;

/// Top findings shown per image.
const TOP: usize = 10;
/// Items of a list shown in a table cell.
const SHOW: usize = 3;
/// Room kept for the closing note.
const RESERVE: usize = 1024;
/// Warnings listed per image (the rest are counted).
const WARNINGS: usize = 10;

/// Writes the Markdown summary into `out`.
pub fn write(summary: &Summary, mut out: impl Write) -> io::Result<()> {
    out.write_all(render(summary).as_bytes())
}

/// The Markdown summary, at most [`MAX_BYTES`] long.
pub fn render(summary: &Summary) -> String {
    render_limited(summary, MAX_BYTES)
}

/// The Markdown summary, at most `max_bytes` long (the headline and the per-image table are
/// always there).
pub fn render_limited(summary: &Summary, max_bytes: usize) -> String {
    let budget = max_bytes.saturating_sub(RESERVE);
    let mut out = headline(summary, budget / 2);
    out.push_str(&trend_table(summary));
    let mut left_images = Vec::new();
    let mut left_rows = 0;
    for img in &summary.images {
        let section = section(img);
        if out.len() + section.len() > budget {
            left_images.push(image_name(img));
            left_rows += img.evaluation.every_finding().len();
            continue;
        }
        out.push_str(&section);
        left_rows += details(img, budget, &mut out);
    }
    let n = summary.images.len();
    let _ = write!(
        out,
        "\n---\n{n} image{}: {} passed, {} failed, {} without a verdict; exit code {}. \
         Written by qcs {}.\n",
        plural(n),
        count(summary, Outcome::Passed),
        count(summary, Outcome::Failed),
        count(summary, Outcome::Error),
        summary.exit_code,
        escape_md(&summary.qcs_version),
    );
    if !left_images.is_empty() || left_rows > 0 {
        let mut note = String::from(
            "\n> [!NOTE]\n> This summary is cut to stay under GitHub's 1 MiB limit for step \
             summaries:",
        );
        if !left_images.is_empty() {
            let names: Vec<String> = left_images.iter().map(|n| code(n)).collect();
            let _ = write!(
                note,
                " the sections of {} image{} ({}) are left out;",
                left_images.len(),
                plural(left_images.len()),
                list(&names, SHOW)
            );
        }
        if left_rows > 0 {
            let _ = write!(
                note,
                " {left_rows} finding row{} are left out;",
                plural(left_rows)
            );
        }
        note.push_str(
            " the verdict is in `summary.json`, every finding in the raw image reports \
             (`images/<id>.json`).\n",
        );
        out.push_str(&note);
    }
    out
}

fn count(summary: &Summary, o: Outcome) -> usize {
    summary
        .images
        .iter()
        .filter(|i| i.evaluation.outcome == o)
        .count()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// An inline code span (image names, QIDs) that survives any text.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace(['\n', '\r'], " "))
}

fn verdict(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "✅ passed",
        Outcome::Failed => "❌ failed",
        Outcome::Error => "⚠️ no verdict",
    }
}

/// The headline and the per-image table, rows left out past `limit` bytes (and counted).
fn headline(summary: &Summary, limit: usize) -> String {
    let n = summary.images.len();
    let title = match summary.outcome {
        Outcome::Passed => format!(
            "✅ qcs: {} passed the policy",
            if n == 1 {
                "the image".to_owned()
            } else {
                format!("all {n} images")
            }
        ),
        Outcome::Failed => {
            let f = count(summary, Outcome::Failed);
            format!("❌ qcs: {f} of {n} image{} failed the policy", plural(n))
        }
        Outcome::Error => {
            let e = count(summary, Outcome::Error);
            format!("⚠️ qcs: no verdict for {e} of {n} image{}", plural(n))
        }
    };
    let mut out = format!("## {title}\n\n");
    out.push_str(
        "| Image | Verdict | Critical (5) | High (4) | Medium (3) | Low (2) | Info (1) | Failing conditions |\n\
         |---|---|--:|--:|--:|--:|--:|---|\n",
    );
    for (i, img) in summary.images.iter().enumerate() {
        let row = overview_row(img);
        if out.len() + row.len() > limit {
            let left = summary.images.len() - i;
            let _ = writeln!(
                out,
                "| … and {left} more image{} (size limit; see `summary.json`) | | | | | | | |",
                plural(left)
            );
            break;
        }
        out.push_str(&row);
    }
    out
}

/// An image's row in the headline table.
fn overview_row(img: &ImageResult) -> String {
    let e = &img.evaluation;
    let mut out = format!(
        "| {} | {}{} |",
        code(image_name(img)),
        verdict(e.outcome),
        warning_note(&e.warnings)
    );
    for level in (0..5).rev() {
        let cell = e.counts.as_ref().map_or_else(
            || "–".to_owned(),
            |c| match (c.confirmed.0[level], c.potential.0[level]) {
                (n, 0) => n.to_string(),
                (n, p) => format!("{n} (+{p} potential)"),
            },
        );
        let _ = write!(out, " {cell} |");
    }
    let why = match (&e.error, &e.conditions) {
        (Some(err), _) => escape_md(&err.message),
        (None, Some(c)) if !c.failed().is_empty() => c.failed().join(", "),
        _ => "–".to_owned(),
    };
    let _ = writeln!(out, " {why} |");
    out
}

/// The trend across builds as a small table (confirmed findings by severity per build, oldest
/// first, at most the last 20 builds), or nothing without a trend.
fn trend_table(summary: &Summary) -> String {
    const SHOWN: usize = 20;
    let points = &summary.trend;
    if points.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "
**Trend**: confirmed vulnerabilities per build

         | Build | Critical | High | Medium | Low | Info | Total |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut prev: Option<u32> = None;
    for p in points.iter().skip(points.len().saturating_sub(SHOWN)) {
        let c = &p.confirmed.0;
        let total: u32 = c.iter().sum();
        let delta = match prev {
            Some(b) if total > b => format!(" (+{})", total - b),
            Some(b) if total < b => format!(" (−{})", b - total),
            _ => String::new(),
        };
        prev = Some(total);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {total}{delta} |",
            escape_md(&p.label),
            c[4],
            c[3],
            c[2],
            c[1],
            c[0]
        );
    }
    out
}

/// The part of an image's section that is always shown with it.
fn section(img: &ImageResult) -> String {
    let e = &img.evaluation;
    let (icon, word) = verdict(e.outcome)
        .split_once(' ')
        .unwrap_or(("", "no verdict"));
    let mut out = format!("\n### {icon} {} — {word}\n\n", code(image_name(img)));
    if img.input != image_name(img) {
        let _ = writeln!(out, "Input: {}\n", code(&img.input));
    }
    warning_alert(&e.warnings, &mut out);
    if let Some(err) = &e.error {
        let kind = serde_json::to_value(err.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(out, "No verdict ({kind}): {}", escape_md(&err.message));
        return out;
    }
    if let Some(c) = &e.conditions {
        let checks = checks(c, e);
        if checks.is_empty() {
            out.push_str("No condition is configured.\n");
        } else {
            out.push_str("| Condition | Result | Configured | Found |\n|---|---|---|---|\n");
            for ch in &checks {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    ch.name.as_str(),
                    if ch.passed {
                        "✅ passed"
                    } else {
                        "❌ failed"
                    },
                    escape_md(&ch.configured),
                    escape_md(&ch.found)
                );
            }
        }
    }
    let findings = sorted(img);
    if !findings.is_empty() {
        let shown = findings.len().min(TOP);
        let _ = writeln!(
            out,
            "\n**Top findings** ({shown} of {}; those that fail the policy first, then by \
             severity)\n",
            findings.len()
        );
        table_head(&mut out);
        for f in findings.iter().take(TOP) {
            out.push_str(&row(img, f));
        }
    }
    let mut lines = exclusion_lines(&e.exclusions, 10);
    if let Some(b) = &e.baseline {
        lines.extend(crate::common::baseline_lines(b, 10));
    }
    if !lines.is_empty() {
        out.push('\n');
        for l in lines {
            let _ = writeln!(out, "- {}", escape_md(&l));
        }
    }
    out
}

/// ` · ⚠️ N warning(s)` after a verdict, or nothing.
fn warning_note(warnings: &[String]) -> String {
    match warnings.len() {
        0 => String::new(),
        n => format!(" · ⚠️ {n} warning{}", plural(n)),
    }
}

/// A `[!WARNING]` alert listing what was read as absent (at most [`WARNINGS`] lines).
fn warning_alert(warnings: &[String], out: &mut String) {
    let n = warnings.len();
    if n == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "> [!WARNING]\n> {n} warning{}: parts of the report had the wrong type and were read as \
         absent; the verdict rests on the rest.",
        plural(n)
    );
    for w in warnings.iter().take(WARNINGS) {
        let _ = writeln!(out, "> - {}", escape_md(w));
    }
    if n > WARNINGS {
        let _ = writeln!(out, "> - … and {} more (see `summary.json`)", n - WARNINGS);
    }
    out.push('\n');
}

/// Appends the collapsed table of every finding, as many rows as fit under `budget`; returns
/// how many were left out.
fn details(img: &ImageResult, budget: usize, out: &mut String) -> usize {
    let findings = sorted(img);
    if findings.len() <= TOP {
        return 0;
    }
    let mut block = format!(
        "\n<details><summary>All {} findings</summary>\n\n",
        findings.len()
    );
    table_head(&mut block);
    let close = "\n</details>\n";
    let extra = 200; // the "left out" line
    if out.len() + block.len() + close.len() + extra > budget {
        return findings.len();
    }
    let mut shown = 0;
    for f in &findings {
        let r = row(img, f);
        if out.len() + block.len() + r.len() + close.len() + extra > budget {
            break;
        }
        block.push_str(&r);
        shown += 1;
    }
    let left = findings.len() - shown;
    if left > 0 {
        let _ = write!(
            block,
            "\n{left} more finding{} left out (size limit); every finding is in the raw image \
             report (`images/<id>.json`).\n",
            plural(left)
        );
    }
    block.push_str(close);
    out.push_str(&block);
    left
}

/// The image's findings: those that made it fail first, then by severity, confirmed before
/// potential, then by QID.
fn sorted(img: &ImageResult) -> Vec<&Finding> {
    let c = img.evaluation.conditions.as_ref();
    let mut v: Vec<&Finding> = img.evaluation.every_finding().iter().collect();
    v.sort_by_key(|f| {
        (
            failing_conditions(f, c).is_empty(),
            std::cmp::Reverse(f.severity),
            f.kind != FindingType::Confirmed,
            f.qid,
        )
    });
    v
}

fn table_head(out: &mut String) {
    out.push_str(
        "| QID | Severity | Title | CVEs | Package | Fix | Policy |\n|--:|---|---|---|---|---|---|\n",
    );
}

fn row(img: &ImageResult, f: &Finding) -> String {
    let failing = failing_conditions(f, img.evaluation.conditions.as_ref());
    let policy = if let Some(x) = &f.excluded_by {
        format!("excluded ({})", escape_md(x))
    } else if !failing.is_empty() {
        let names: Vec<&str> = failing.iter().map(|c| c.as_str()).collect();
        format!("❌ {}", names.join(", "))
    } else if !f.in_scope {
        "not judged".to_owned()
    } else {
        "–".to_owned()
    };
    let policy = match f.baseline_state {
        Some(qcs_core::baseline::BaselineState::New) => format!("🆕 new · {policy}"),
        Some(qcs_core::baseline::BaselineState::Unchanged) => format!("unchanged · {policy}"),
        None => policy,
    };
    let packages: Vec<String> = f.packages.iter().map(package_label).collect();
    let title = if f.kind == FindingType::Confirmed {
        escape_md(&f.title)
    } else {
        format!("{} (potential)", escape_md(&f.title))
    };
    format!(
        "| {} | {} {} | {} | {} | {} | {} | {} |\n",
        f.qid,
        f.severity,
        severity_word(f.severity),
        title,
        escape_md(&list(&cves(f), SHOW)),
        escape_md(&list(&packages, SHOW)),
        escape_md(&fix_advice(f).unwrap_or_else(|| "–".to_owned())),
        policy
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fixture;

    #[test]
    fn headline_table_and_a_section_per_image() {
        let md = render(&fixture::summary());
        assert!(
            md.starts_with("## ❌ qcs: 1 of 3 images failed the policy\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "| `registry.example:5000/acme/app:1.0` | ❌ failed | 2 | 0 | 0 (+1 potential) | 0 | 0 | severity, cves |"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| `acme/db:3.0` | ⚠️ no verdict | – | – | – | – | – | no scan result after 600 s |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| severity | ❌ failed | severity 5 at most 0 | severity 5: 1 |"),
            "{md}"
        );
        assert!(md.contains("| qids | ✅ passed |"), "{md}");
        assert!(
            md.contains("No verdict (timeout): no scan result after 600 s"),
            "{md}"
        );
        assert!(
            md.contains("- excluded: qid 179203 (not reachable) x1"),
            "{md}"
        );
        assert!(md.contains("exit code 1"), "{md}");
        assert!(!md.contains("[!NOTE]"), "{md}");
    }

    #[test]
    fn warnings_are_noted_in_the_verdict_and_listed_in_the_section() {
        let mut s = fixture::summary();
        s.images[0].evaluation.warnings = vec![
            "`cvssInfo` is a string, not an object: read as absent (2 times)".into(),
            "`threatIntel` is an array, not an object: read as absent".into(),
        ];
        let md = render(&s);
        assert!(
            md.contains("| `registry.example:5000/acme/app:1.0` | ❌ failed · ⚠️ 2 warnings | 2 |"),
            "{md}"
        );
        assert!(
            md.contains(
                "> [!WARNING]\n> 2 warnings: parts of the report had the wrong type and were read as absent; the verdict rests on the rest.\n\
                 > - `cvssInfo` is a string, not an object: read as absent (2 times)\n\
                 > - `threatIntel` is an array, not an object: read as absent\n\n"
            ),
            "{md}"
        );
        assert_eq!(md.matches("[!WARNING]").count(), 1, "only that image: {md}");
        assert_eq!(md.matches("⚠️ 2 warnings").count(), 1, "{md}");

        s.images[0].evaluation.warnings = (0..WARNINGS + 2).map(|i| format!("w{i}")).collect();
        let md = render(&s);
        assert!(
            md.contains(&format!("⚠️ {} warnings |", WARNINGS + 2)),
            "{md}"
        );
        assert!(md.contains("> - … and 2 more (see `summary.json`)"), "{md}");
        assert!(!md.contains(&format!("> - w{WARNINGS}\n")), "{md}");
    }

    #[test]
    fn no_warnings_no_note() {
        let md = render(&fixture::summary());
        assert!(
            !md.contains("[!WARNING]") && !md.contains("warning"),
            "{md}"
        );
    }

    #[test]
    fn top_findings_put_failing_ones_first_and_escape_titles() {
        let md = render(&fixture::summary());
        let first = md
            .lines()
            .find(|l| l.starts_with("| 376209 "))
            .expect("the failing finding is listed");
        assert_eq!(
            first,
            "| 376209 | 5 Critical | Vulnerability &lt;376209> \\| pipe | CVE-2024-376209 | openssl 1.1.1k | upgrade openssl 1.1.1k to 1.1.1t | ❌ severity, cves |"
        );
        let excluded = md.lines().find(|l| l.starts_with("| 179203 ")).unwrap();
        assert!(
            excluded.ends_with("| excluded (qid 179203) |"),
            "{excluded}"
        );
        let potential = md.lines().find(|l| l.starts_with("| 105000 ")).unwrap();
        assert!(potential.contains("(potential)"), "{potential}");
        assert!(potential.ends_with("| not judged |"), "{potential}");
    }

    #[test]
    fn a_large_report_stays_under_the_limit_and_says_what_was_left_out() {
        let mut s = fixture::summary();
        let f = s.images[0].evaluation.findings[2].clone();
        s.images[0].evaluation.findings = (0..5000)
            .map(|i| {
                let mut f = f.clone();
                f.qid = 100_000 + i;
                f
            })
            .collect();
        let full = render(&s);
        assert!(full.contains("All 5000 findings"));
        assert!(!full.contains("[!NOTE]"));
        let cut = render_limited(&s, 100_000);
        assert!(cut.len() <= 100_000, "{}", cut.len());
        assert!(cut.contains("more findings left out (size limit)"), "{cut}");
        assert!(cut.contains(
            "finding rows are left out; the verdict is in `summary.json`, every finding in the raw \
             image reports (`images/<id>.json`)."
        ));
        let many = Summary::new("0.1.0", vec![s.images[1].clone(); 20_000]);
        let cut = render_limited(&many, 1_000_000);
        assert!(cut.len() <= 1_000_000, "{}", cut.len());
        assert!(cut.contains("more images (size limit; see `summary.json`) |"));
        let tiny = render_limited(&s, 3_000);
        assert!(tiny.len() <= 3_000, "{}", tiny.len());
        assert!(
            tiny.contains("the sections of 1 image (`registry.example:5000/acme/app:1.0`)"),
            "{tiny}"
        );
    }
}
