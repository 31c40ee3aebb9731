//! The verdict table people read at the end of a run: per image its outcome and counts by
//! severity, then for a failure each failing condition with configured vs found, what the
//! exclusions did, and the parts of the report that were read as absent (its warnings).

use std::fmt::Write as _;

use comfy_table::{CellAlignment, Table, presets};
use owo_colors::OwoColorize;
use qcs_core::summary::{Conditions, ImageResult, Outcome, Summary};

use crate::common::{counted_cves, counted_qids, cvss_by_score};

/// How to draw the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
}

/// At most this many items of a found list are shown; the rest are counted.
const SHOW: usize = 8;

/// Renders the verdict table and the closing line.
pub fn render(summary: &Summary, style: Style) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header([
        "IMAGE", "OUTCOME", "SEV5", "SEV4", "SEV3", "SEV2", "SEV1", "TOTAL",
    ]);
    for img in &summary.images {
        let counts = img.evaluation.counts.as_ref();
        let mut row = vec![label(img), paint(img.evaluation.outcome, style)];
        for level in (0..5).rev() {
            row.push(counts.map_or_else(
                || "-".to_owned(),
                |c| {
                    let (conf, pot) = (c.confirmed.0[level], c.potential.0[level]);
                    if pot > 0 {
                        format!("{conf}+{pot}p")
                    } else {
                        conf.to_string()
                    }
                },
            ));
        }
        row.push(counts.map_or_else(|| "-".to_owned(), |c| c.total.to_string()));
        t.add_row(row);
    }
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, 2));
        if i >= 2 {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = t
        .to_string()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    let potential = summary
        .images
        .iter()
        .filter_map(|i| i.evaluation.counts.as_ref());
    if potential
        .into_iter()
        .any(|c| c.potential.0.iter().any(|n| *n > 0))
    {
        out.push_str(
            "(N+Mp: N confirmed, M potential; judged only when the policy checks potential ones)\n",
        );
    }

    for img in &summary.images {
        let details = details(img);
        if !details.is_empty() {
            let _ = writeln!(out, "\n{}", label(img));
            for d in details {
                let _ = writeln!(out, "  {d}");
            }
        }
    }
    let n = |o: Outcome| {
        summary
            .images
            .iter()
            .filter(|i| i.evaluation.outcome == o)
            .count()
    };
    let _ = writeln!(
        out,
        "\n{} image{}: {} passed, {} failed, {} error{} (exit {})",
        summary.images.len(),
        if summary.images.len() == 1 { "" } else { "s" },
        n(Outcome::Passed),
        n(Outcome::Failed),
        n(Outcome::Error),
        if n(Outcome::Error) == 1 { "" } else { "s" },
        summary.exit_code,
    );
    out
}

fn label(img: &ImageResult) -> String {
    match &img.evaluation.image_id {
        Some(id) if !img.input.contains(id.as_str()) => format!("{} ({id})", img.input),
        _ => img.input.clone(),
    }
}

fn paint(o: Outcome, style: Style) -> String {
    let s = o.as_str().to_uppercase();
    if !style.color {
        return s;
    }
    match o {
        Outcome::Passed => s.green().bold().to_string(),
        Outcome::Failed => s.red().bold().to_string(),
        Outcome::Error => s.yellow().bold().to_string(),
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    crate::common::list(items, SHOW)
}

/// The lines under an image: its error, its failing conditions, its exclusions, its warnings.
fn details(img: &ImageResult) -> Vec<String> {
    let e = &img.evaluation;
    let mut out = Vec::new();
    if let Some(err) = &e.error {
        out.push(format!("error: {}", err.message));
    }
    if let Some(c) = &e.conditions {
        failing(c, &mut out);
    }
    out.extend(crate::common::exclusion_lines(&e.exclusions, SHOW));
    if let Some(b) = &e.baseline {
        out.extend(crate::common::baseline_lines(b, SHOW));
    }
    warnings(&e.warnings, &mut out);
    out
}

/// `⚠ N warnings` and one line each (at most [`SHOW`], the rest counted).
fn warnings(warnings: &[String], out: &mut Vec<String>) {
    if warnings.is_empty() {
        return;
    }
    let n = warnings.len();
    out.push(format!(
        "\u{26a0} {n} warning{}: parts of the report had the wrong type and were read as absent",
        if n == 1 { "" } else { "s" }
    ));
    for w in warnings.iter().take(SHOW) {
        out.push(format!("  warning: {w}"));
    }
    if n > SHOW {
        out.push(format!("  … and {} more (see summary.json)", n - SHOW));
    }
}

fn failing(c: &Conditions, out: &mut Vec<String>) {
    for (level, l) in c.severity.levels.iter().rev() {
        if !l.passed {
            out.push(format!(
                "FAIL severity {level}: found {}, limit {}",
                l.found,
                l.limit.unwrap_or(0)
            ));
        }
    }
    if !c.qids.passed {
        out.push(format!(
            "FAIL qids: found {} (configured {})",
            list(&counted_qids(&c.qids)),
            list(&c.qids.list)
        ));
    }
    if !c.cves.passed {
        out.push(format!(
            "FAIL cves: found {} (configured {})",
            list(&counted_cves(&c.cves)),
            list(&c.cves.list)
        ));
    }
    if !c.cvss.passed {
        out.push(format!(
            "FAIL cvss v{} >= {:.1}: {} vulnerabilit{} ({})",
            c.cvss.version.as_deref().unwrap_or("?"),
            c.cvss.score.unwrap_or(0.0),
            c.cvss.found,
            if c.cvss.found == 1 { "y" } else { "ies" },
            list(&cvss_by_score(&c.cvss))
        ));
    }
    if !c.software.passed {
        out.push(format!(
            "FAIL software: found {} (configured {})",
            list(&c.software.found),
            list(&c.software.list)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fixture;

    const CVSS: &str = "`cvssInfo` is a string, not an object: read as absent (2 times)";
    const CVSS3: &str = "`cvss3Info` is a number, not an object: read as absent";

    #[test]
    fn warnings_are_a_note_and_their_lines_under_the_image() {
        let mut s = fixture::summary();
        s.images[1].evaluation.warnings = vec![CVSS.into(), CVSS3.into()];
        let t = render(&s, Style::default());
        let label = label(&s.images[1]);
        let block = t
            .split(&format!("\n{label}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("no details for {label} in:\n{t}"));
        let lines: Vec<&str> = block.lines().take(3).collect();
        assert_eq!(
            lines,
            [
                "  \u{26a0} 2 warnings: parts of the report had the wrong type and were read as absent",
                &format!("    warning: {CVSS}"),
                &format!("    warning: {CVSS3}"),
            ],
            "{t}"
        );
        assert!(t.contains("PASSED"), "the verdict stands: {t}");
    }

    #[test]
    fn no_warnings_no_note_and_many_are_counted() {
        let s = fixture::summary();
        assert!(!render(&s, Style::default()).contains('\u{26a0}'));

        let mut s = fixture::summary();
        s.images[0].evaluation.warnings = (0..SHOW + 3).map(|i| format!("w{i}")).collect();
        let t = render(&s, Style::default());
        assert!(
            t.contains(&format!("\u{26a0} {} warnings", SHOW + 3)),
            "{t}"
        );
        assert!(t.contains(&format!("    warning: w{}\n", SHOW - 1)), "{t}");
        assert!(!t.contains(&format!("warning: w{SHOW}\n")), "{t}");
        assert!(t.contains("  … and 3 more (see summary.json)"), "{t}");
    }
}
