//! `report.html`: one self-contained page for every image of a run (`product.md` §5), the
//! original plugin's report page and more.
//!
//! The page needs no network: CSS, script and the SVG charts are inline, and there are no web
//! fonts. What is the same for every reader (the verdict, the failing conditions with their
//! offending QIDs, the criteria table, charts, exclusions, layers) is rendered here with `askama`,
//! which HTML-escapes every value taken from the report. The vulnerability and software tables,
//! which can hold tens of thousands of rows, are drawn by the page's script from a JSON blob in a
//! `<script type="application/json">` element, a page at a time, with sorting, search and
//! filters; the blob has `<`, `>`, `&`, U+2028 and U+2029 escaped so no report text can end the
//! element, and the script only ever writes report text as text (never as markup).

use std::fmt::Write as _;
use std::io::{self, Write};

use askama::Template;
use qcs_core::summary::{
    ConditionName, Conditions, Evaluation, ExclusionUse, Finding, FindingType, ImageResult,
    Outcome, Summary,
};
use serde_json::{Value, json};

use crate::common::{Check, checks, failing_conditions, image_name, severity_word};

/// The page's style sheet.
const CSS: &str = include_str!("html/report.css");
/// The page's script: tables, paging, sorting, search, filters.
const JS: &str = include_str!("html/report.js");

/// At most this many offending QIDs are listed per failing condition (the rest are counted; the
/// table's "failing only" filter shows them all).
const SHOW_QIDS: usize = 50;

/// Writes the HTML report into `out`.
pub fn write(summary: &Summary, mut out: impl Write) -> io::Result<()> {
    out.write_all(render(summary).as_bytes())
}

/// The HTML report as one string.
pub fn render(summary: &Summary) -> String {
    let page = Page::new(summary);
    // Rendering writes into a String and every value implements Display infallibly; an error
    // here would be a bug in the template, shown rather than hidden.
    page.render()
        .unwrap_or_else(|e| format!("<!doctype html><title>qcs report</title><p>{e}</p>"))
}

/// JSON for a `<script type="application/json">` element: `<`, `>` and `&` (which could end
/// the element or open a comment) and U+2028/U+2029 are written as `\u` escapes, which JSON
/// allows inside strings, the only place they can appear.
pub fn script_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    title: String,
    outcome: &'static str,
    outcome_label: &'static str,
    qcs_version: String,
    passed: usize,
    failed: usize,
    errors: usize,
    images: Vec<ImageView>,
    css: &'static str,
    js: &'static str,
    data: String,
    trend: Option<TrendChart>,
}

/// The trend across builds: confirmed findings by severity per build, as stacked bars.
struct TrendChart {
    width: u32,
    bars: Vec<TrendBar>,
    /// The largest total, written at the top of the axis.
    max: u32,
}

/// One build's stacked bar.
struct TrendBar {
    label: String,
    short: String,
    x: u32,
    text_x: u32,
    total: u32,
    /// Severity 5 first: its count, and the bar part's y and height.
    parts: Vec<TrendPart>,
    /// Counts by severity 5..1, for the table.
    counts: Vec<u32>,
}

/// A severity's part of a bar.
struct TrendPart {
    level: u8,
    y: u32,
    h: u32,
}

/// Height of the trend chart's bar area, in SVG units.
const TREND_H: u32 = 150;

fn trend_chart(points: &[qcs_core::trend::TrendPoint]) -> Option<TrendChart> {
    if points.is_empty() {
        return None;
    }
    let total = |p: &qcs_core::trend::TrendPoint| p.confirmed.0.iter().sum::<u32>();
    let max = points.iter().map(total).max().unwrap_or(0).max(1);
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = 40 + u32::try_from(i).unwrap_or(0) * 30;
            let mut bottom = TREND_H + 10;
            let mut parts = Vec::new();
            for level in 1..=5u8 {
                let n = p.confirmed.0[usize::from(level - 1)];
                let h = u32::try_from(u64::from(n) * u64::from(TREND_H) / u64::from(max))
                    .unwrap_or(TREND_H)
                    .max(u32::from(n > 0));
                bottom -= h.min(bottom);
                parts.push(TrendPart {
                    level,
                    y: bottom,
                    h,
                });
            }
            parts.reverse();
            let short: String = p.label.chars().take(6).collect();
            TrendBar {
                label: p.label.clone(),
                short,
                x,
                text_x: x + 11,
                total: total(p),
                parts,
                counts: (0..5).rev().map(|i| p.confirmed.0[i]).collect(),
            }
        })
        .collect::<Vec<_>>();
    Some(TrendChart {
        width: 50 + u32::try_from(points.len()).unwrap_or(0) * 30,
        bars,
        max,
    })
}

/// One image's section.
struct ImageView {
    anchor: String,
    name: String,
    input: String,
    outcome: &'static str,
    outcome_label: &'static str,
    error_kind: Option<&'static str>,
    error_message: Option<String>,
    image_id: Option<String>,
    sha: Option<String>,
    tags: Vec<String>,
    os: Option<String>,
    architecture: Option<String>,
    size: Option<String>,
    scanned_at: Option<String>,
    portal_link: Option<String>,
    failing: Vec<Why>,
    failing_names: String,
    criteria: Vec<Criterion>,
    charts: Option<Charts>,
    total: u32,
    exclusions: Vec<ExclusionRow>,
    layers: Vec<LayerRow>,
    findings: usize,
    software: usize,
    baseline: Vec<String>,
}

/// A failing condition: what is configured, what was found, the offending QIDs.
struct Why {
    name: &'static str,
    configured: String,
    found: String,
    qids: Vec<u32>,
    more_qids: usize,
}

/// A row of the criteria table.
struct Criterion {
    name: String,
    configured: String,
    found: String,
    /// `pass`, `fail` or `off` (not configured).
    status: &'static str,
    status_label: &'static str,
}

/// The SVG charts' geometry, computed here so the template only places rectangles.
struct Charts {
    rows: Vec<BarRow>,
    patch: Vec<Segment>,
    patchable: u32,
    not_patchable: u32,
}

/// One severity's bar: confirmed then potential.
struct BarRow {
    level: u8,
    label: &'static str,
    y: u32,
    text_y: u32,
    confirmed: u32,
    potential: u32,
    confirmed_w: u32,
    potential_x: u32,
    potential_w: u32,
    label_x: u32,
}

/// A part of the patchable bar.
struct Segment {
    x: u32,
    w: u32,
    class: &'static str,
}

/// A row of the exclusions table.
struct ExclusionRow {
    state: &'static str,
    target: String,
    reason: String,
    expires: String,
    matched: u32,
}

/// A row of the layers table.
struct LayerRow {
    n: usize,
    created_by: String,
    size: String,
}

/// Width of a full chart bar, in SVG units.
const BAR: u32 = 230;

impl Page {
    fn new(summary: &Summary) -> Self {
        let images: Vec<ImageView> = summary
            .images
            .iter()
            .enumerate()
            .map(|(i, img)| ImageView::new(i, img, summary.portal_url.as_deref()))
            .collect();
        let title = match summary.images.as_slice() {
            [one] => format!("qcs report: {}", image_name(one)),
            many => format!("qcs report: {} images", many.len()),
        };
        Self {
            title,
            outcome: summary.outcome.as_str(),
            outcome_label: outcome_label(summary.outcome),
            qcs_version: summary.qcs_version.clone(),
            passed: summary.count(Outcome::Passed),
            failed: summary.count(Outcome::Failed),
            errors: summary.count(Outcome::Error),
            images,
            css: CSS,
            js: JS,
            data: script_json(&data(summary)),
            trend: trend_chart(&summary.trend),
        }
    }
}

fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "Passed",
        Outcome::Failed => "Failed",
        Outcome::Error => "Error",
    }
}

impl ImageView {
    fn new(index: usize, img: &ImageResult, portal: Option<&str>) -> Self {
        let e = &img.evaluation;
        let (failing, criteria) = match &e.conditions {
            Some(c) => (why(c, e), criteria(c)),
            None => (Vec::new(), Vec::new()),
        };
        let portal_link = match (portal, &e.sha) {
            (Some(p), Some(sha))
                if (p.starts_with("https://") || p.starts_with("http://"))
                    && sha.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Some(format!(
                    "{}/cs/#/assets/images/{sha}",
                    p.trim_end_matches('/')
                ))
            }
            _ => None,
        };
        let mut exclusions = Vec::new();
        for (state, list) in [
            ("applied", &e.exclusions.applied),
            ("expired", &e.exclusions.expired),
            ("unused", &e.exclusions.unused),
        ] {
            exclusions.extend(list.iter().map(|u| exclusion_row(state, u)));
        }
        Self {
            anchor: format!("image-{}", index + 1),
            name: image_name(img).to_owned(),
            input: img.input.clone(),
            outcome: e.outcome.as_str(),
            outcome_label: outcome_label(e.outcome),
            error_kind: e.error.as_ref().map(|x| error_kind_label(x.kind)),
            error_message: e.error.as_ref().map(|x| x.message.clone()),
            image_id: e.image_id.clone(),
            sha: e.sha.clone(),
            tags: e.tags.clone(),
            os: e.operating_system.clone(),
            architecture: e.image.architecture.clone(),
            size: e.image.size.map(human_size),
            scanned_at: e.scanned_at.clone(),
            portal_link,
            failing_names: failing
                .iter()
                .map(|w| w.name)
                .collect::<Vec<_>>()
                .join(", "),
            failing,
            criteria,
            charts: e.counts.as_ref().map(charts),
            total: e.counts.as_ref().map_or(0, |c| c.total),
            exclusions,
            baseline: e
                .baseline
                .as_ref()
                .map(|b| crate::common::baseline_lines(b, 50))
                .unwrap_or_default(),
            layers: e
                .image
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| LayerRow {
                    n: i + 1,
                    created_by: l.created_by.clone().unwrap_or_default(),
                    size: l.size.map(human_size).unwrap_or_default(),
                })
                .collect(),
            findings: e.every_finding().len(),
            software: e.image.software.len(),
        }
    }
}

fn error_kind_label(k: qcs_core::summary::ErrorKind) -> &'static str {
    use qcs_core::summary::ErrorKind;
    match k {
        ErrorKind::Timeout => "Timed out",
        ErrorKind::NotProcessed => "Not processed yet",
        ErrorKind::ScanFailed => "Scan failed",
        ErrorKind::InvalidFinding => "Finding out of range",
        ErrorKind::Api => "Qualys API error",
        ErrorKind::Engine => "Container engine error",
        ErrorKind::Sensor => "Sensor problem",
        ErrorKind::Config => "Configuration error",
        ErrorKind::Cancelled => "Cancelled",
        ErrorKind::Conflict => "Runs disagree",
    }
}

fn condition_label(n: ConditionName) -> &'static str {
    match n {
        ConditionName::Severity => "Severity",
        ConditionName::Qids => "QIDs",
        ConditionName::Cves => "CVEs",
        ConditionName::Cvss => "CVSS",
        ConditionName::Software => "Software",
    }
}

/// The failing conditions of an image.
fn why(c: &Conditions, e: &Evaluation) -> Vec<Why> {
    checks(c, e)
        .into_iter()
        .filter(|k| !k.passed)
        .map(
            |Check {
                 name,
                 configured,
                 found,
                 mut qids,
                 ..
             }| {
                let more_qids = qids.len().saturating_sub(SHOW_QIDS);
                qids.truncate(SHOW_QIDS);
                Why {
                    name: condition_label(name),
                    configured,
                    found,
                    qids,
                    more_qids,
                }
            },
        )
        .collect()
}

/// The original's criteria table: QIDs, CVEs, CVSS, software, then severity 5..1, each "Not
/// configured" or configured vs found with pass/fail.
fn criteria(c: &Conditions) -> Vec<Criterion> {
    let status = |configured: bool, passed: bool| match (configured, passed) {
        (false, _) => ("off", "Not configured"),
        (true, true) => ("pass", "Pass"),
        (true, false) => ("fail", "Fail"),
    };
    let row = |name: &str, configured: bool, passed: bool, conf: String, found: String| {
        let (s, label) = status(configured, passed);
        Criterion {
            name: name.to_owned(),
            configured: if configured { conf } else { String::new() },
            found: if configured { found } else { String::new() },
            status: s,
            status_label: label,
        }
    };
    let none_or = |v: String| if v.is_empty() { "none".to_owned() } else { v };
    let mut out = vec![
        row(
            "QIDs",
            c.qids.configured,
            c.qids.passed,
            c.qids.list.join(", "),
            none_or(marked(&c.qids.found, &c.qids.excluded)),
        ),
        row(
            "CVEs",
            c.cves.configured,
            c.cves.passed,
            c.cves.list.join(", "),
            none_or(marked(&c.cves.found, &c.cves.excluded)),
        ),
        row(
            "CVSS",
            c.cvss.configured,
            c.cvss.passed,
            format!(
                "v{} base score below {:.1}",
                c.cvss.version.as_deref().unwrap_or("?"),
                c.cvss.score.unwrap_or(0.0)
            ),
            format!("{} at or above", c.cvss.found),
        ),
        row(
            "Software",
            c.software.configured,
            c.software.passed,
            c.software.list.join(", "),
            none_or(c.software.found.join(", ")),
        ),
    ];
    for level in (1..=5u8).rev() {
        let l = c.severity.levels.get(&level.to_string());
        let limit = l.and_then(|l| l.limit);
        let found = l.map_or(0, |l| l.found);
        out.push(row(
            &format!("Severity {level} ({})", severity_word(level)),
            limit.is_some(),
            l.is_none_or(|l| l.passed),
            limit.map_or_else(String::new, |n| format!("at most {n}")),
            found.to_string(),
        ));
    }
    out
}

/// `a, b (excluded)`: what was found, those only on excluded vulnerabilities marked.
fn marked<T: PartialEq + std::fmt::Display>(found: &[T], excluded: &[T]) -> String {
    found
        .iter()
        .map(|x| {
            if excluded.contains(x) {
                format!("{x} (excluded)")
            } else {
                x.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn charts(c: &qcs_core::summary::Counts) -> Charts {
    let max = (0..5)
        .map(|i| c.confirmed.0[i] + c.potential.0[i])
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: u32| -> u32 {
        let w = u64::from(n) * u64::from(BAR) / u64::from(max);
        // a non-zero count stays visible
        u32::try_from(w).unwrap_or(BAR).max(u32::from(n > 0))
    };
    let rows = (1..=5u8)
        .rev()
        .enumerate()
        .map(|(row, level)| {
            let i = usize::from(level - 1);
            let (confirmed, potential) = (c.confirmed.0[i], c.potential.0[i]);
            let (cw, pw) = (scale(confirmed), scale(potential));
            let y = u32::try_from(row).unwrap_or(0) * 26 + 4;
            BarRow {
                level,
                label: severity_word(level),
                y,
                text_y: y + 14,
                confirmed,
                potential,
                confirmed_w: cw,
                potential_x: 90 + cw,
                potential_w: pw,
                label_x: 96 + cw + pw,
            }
        })
        .collect();
    let all = (c.patchable + c.not_patchable).max(1);
    let part = |n: u32| {
        u32::try_from(u64::from(n) * u64::from(BAR + 90) / u64::from(all)).unwrap_or(BAR + 90)
    };
    let pw = part(c.patchable);
    Charts {
        rows,
        patch: vec![
            Segment {
                x: 0,
                w: pw,
                class: "patch-yes",
            },
            Segment {
                x: pw,
                w: part(c.not_patchable),
                class: "patch-no",
            },
        ],
        patchable: c.patchable,
        not_patchable: c.not_patchable,
    }
}

fn exclusion_row(state: &'static str, u: &ExclusionUse) -> ExclusionRow {
    let target = match (&u.qid, &u.cve) {
        (Some(q), _) => format!("QID {q}"),
        (None, Some(c)) => c.clone(),
        (None, None) => "?".to_owned(),
    };
    ExclusionRow {
        state,
        target,
        reason: u.reason.clone().unwrap_or_default(),
        expires: u.expires.clone().unwrap_or_default(),
        matched: u.matched,
    }
}

/// `187.7 MB` style sizes (decimal units, as registries show them).
fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    #[allow(clippy::cast_precision_loss)] // display only
    let mut v = bytes as f64;
    let mut unit = 0;
    while v.abs() >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The blob the script draws the tables from: per image, findings and software as arrays (the
/// field order is the script's `F` and `S` constants).
fn data(summary: &Summary) -> Value {
    let images: Vec<Value> = summary
        .images
        .iter()
        .map(|img| {
            let e = &img.evaluation;
            let findings: Vec<Value> = e
                .every_finding()
                .iter()
                .map(|f| finding_row(f, e.conditions.as_ref()))
                .collect();
            let software: Vec<Value> = e
                .image
                .software
                .iter()
                .map(|p| json!([p.name, p.version, p.fix_version]))
                .collect();
            json!({
                "scanned_at": e.scanned_at,
                "findings": findings,
                "software": software,
            })
        })
        .collect();
    json!({ "images": images })
}

fn finding_row(f: &Finding, c: Option<&Conditions>) -> Value {
    let fails: Vec<&str> = failing_conditions(f, c)
        .into_iter()
        .map(ConditionName::as_str)
        .collect();
    let kind = match f.kind {
        FindingType::Confirmed => "confirmed",
        FindingType::Potential => "potential",
        FindingType::Other => "other",
    };
    let packages: Vec<Value> = f
        .packages
        .iter()
        .map(|p| json!([p.name, p.version, p.fix_version]))
        .collect();
    let conditions: Vec<&str> = f.conditions.iter().map(|c| c.as_str()).collect();
    let d = &f.details;
    json!([
        f.qid,
        f.title,
        f.severity,
        kind,
        f.cves,
        f.cvss2,
        f.cvss3,
        f.patchable,
        packages,
        conditions,
        f.excluded_by,
        f.in_scope,
        d.category,
        d.first_found,
        d.threat_intel,
        d.cvss2_temporal,
        d.cvss3_temporal,
        d.access_vector,
        d.result,
        fails,
        f.baseline_state
            .map(qcs_core::baseline::BaselineState::as_str),
    ])
}

/// `a, b, c` for the template.
fn join_qids(qids: &[u32]) -> String {
    let mut s = String::new();
    for (i, q) in qids.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{q}");
    }
    s
}

impl Why {
    fn qid_text(&self) -> String {
        join_qids(&self.qids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fixture;
    use qcs_core::summary::{
        ErrorKind, Evaluation, ImageDetails, ImageError, LayerInfo, Package, Summary,
    };

    fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
        let start = s.find(from).map_or(0, |i| i + from.len());
        let end = s[start..].find(to).map_or(s.len(), |i| start + i);
        &s[start..end]
    }

    #[test]
    fn script_json_cannot_end_the_element() {
        let v = json!({"t": "</script><!-- & \u{2028}\u{2029} <b>"});
        let s = script_json(&v);
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!s.contains(bad), "{bad:?} left in {s}");
        }
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn report_text_is_escaped_everywhere() {
        let mut s = fixture::summary();
        let e = &mut s.images[0].evaluation;
        e.findings[0].title = "<script>alert(1)</script>".into();
        e.findings[0].details.result = Some("</script><img src=x onerror=alert(2)>".into());
        e.tags = vec!["evil<script>alert(3)</script>:1".into()];
        e.exclusions.applied[0].reason = Some("<b>bold</b> & \"quoted\"".into());
        e.image.layers = vec![LayerInfo {
            created_by: Some("RUN echo '<script>alert(4)</script>'".into()),
            size: Some(10),
        }];
        s.images[2].evaluation.error = Some(ImageError {
            kind: ErrorKind::Api,
            message: "<iframe src=x>".into(),
        });
        let html = render(&s);
        // exactly the page's own two script elements: the data and the code
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        assert!(!html.contains("<img"));
        assert!(!html.contains("<iframe"));
        assert!(!html.contains("<b>bold"));
        assert!(html.contains("evil&#60;script&#62;") || html.contains("evil&lt;script&gt;"));
        assert!(html.contains("&#60;iframe") || html.contains("&lt;iframe"));
        // the title is in the data blob, escaped, and parses back to the same text
        let blob = between(
            &html,
            r#"<script type="application/json" id="qcs-data">"#,
            "</script>",
        );
        let v: Value = serde_json::from_str(blob).unwrap();
        assert_eq!(
            v["images"][0]["findings"][0][1],
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn failed_passed_and_error_images() {
        let s = fixture::summary();
        let html = render(&s);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(r#"<html lang="en""#));
        // the run's verdict (a policy failure outranks an error) and each image's
        assert!(
            html.contains(r#"class="verdict verdict-failed""#),
            "run outcome"
        );
        let main = between(&html, "<main", "</main>");
        let sections: Vec<&str> = main.split("<section class=\"image ").skip(1).collect();
        assert_eq!(sections.len(), 3);
        assert!(sections[0].starts_with("outcome-failed"));
        assert!(sections[1].starts_with("outcome-passed"));
        assert!(sections[2].starts_with("outcome-error"));
        // why the failed one failed: severity and CVEs, the offending QID
        let why = between(sections[0], r#"class="why""#, "</section>");
        assert!(why.contains("Severity") && why.contains("CVEs"), "{why}");
        assert!(why.contains("376209"), "{why}");
        assert!(
            !why.contains("179203"),
            "excluded QID offends nothing: {why}"
        );
        // the passed one has no why panel; the error one shows its message
        assert!(!sections[1].contains(r#"class="why""#));
        assert!(sections[2].contains("Timed out"));
        assert!(sections[2].contains("no scan result after 600 s"));
        assert!(!sections[2].contains("criteria"));
        // criteria: not configured rows say so
        assert!(sections[0].contains("Not configured"));
        // exclusions applied and unused with reasons
        assert!(sections[0].contains("not reachable"));
        assert!(sections[0].contains("unused"));
        // no link without a portal
        assert!(!html.contains("/cs/#/assets/images/"));
        // nothing that would load from the network
        for bad in ["src=\"http", "href=\"http", "@import", "url(http", "<link"] {
            assert!(!html.contains(bad), "{bad}");
        }
    }

    #[test]
    fn portal_link_when_the_platform_is_known() {
        let mut s = fixture::summary();
        s.portal_url = Some("https://qualysguard.qg2.apps.qualys.com".into());
        let html = render(&s);
        let link = format!(
            "https://qualysguard.qg2.apps.qualys.com/cs/#/assets/images/{}",
            "a".repeat(64)
        );
        assert!(html.contains(&link));
        s.portal_url = Some("javascript:alert(1)".into());
        assert!(!render(&s).contains("javascript:"));
    }

    #[test]
    fn image_without_findings() {
        let mut e = Evaluation::error(
            Some("d".repeat(64)),
            ImageError {
                kind: ErrorKind::Api,
                message: String::new(),
            },
        );
        e.outcome = Outcome::Passed;
        e.error = None;
        e.counts = Some(qcs_core::summary::Counts::default());
        e.conditions = Some(Conditions::default());
        e.image = ImageDetails {
            size: Some(187_667_860),
            architecture: Some("amd64".into()),
            layers: Vec::new(),
            software: vec![Package {
                name: "zlib".into(),
                version: Some("1.2".into()),
                fix_version: None,
            }],
        };
        let s = Summary::new(
            "0.1.0",
            vec![ImageResult {
                input: "clean:1".into(),
                evaluation: e,
            }],
        );
        let html = render(&s);
        assert!(html.contains("qcs report: clean:1"));
        assert!(html.contains("187.7 MB"));
        assert!(html.contains("No vulnerabilities"));
        assert!(html.contains(r#"class="verdict verdict-passed""#));
        let blob = between(&html, r#"id="qcs-data">"#, "</script>");
        let v: Value = serde_json::from_str(blob).unwrap();
        assert_eq!(v["images"][0]["findings"], json!([]));
        assert_eq!(v["images"][0]["software"][0][0], "zlib");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_000), "1.0 kB");
        assert_eq!(human_size(187_667_860), "187.7 MB");
    }
}
