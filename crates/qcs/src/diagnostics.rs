//! Printing policy problems: with the offending line and a caret when the value came from a file
//! (rendered by miette), as one `place: message` line otherwise; each with its `hint:`.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource, SourceSpan};
use owo_colors::OwoColorize;
use qcs_core::policy::{IssueLevel, PolicyIssue};

/// The text of each file a policy came from, for showing the offending lines.
#[derive(Debug, Default)]
pub(crate) struct Sources(Vec<(String, String)>);

impl Sources {
    /// Remembers a file's text under its displayed name.
    pub(crate) fn add(&mut self, name: String, text: String) {
        self.0.push((name, text));
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }
}

/// One issue as a miette diagnostic.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct IssueDiagnostic {
    message: String,
    src: NamedSource<String>,
    span: SourceSpan,
    severity: miette::Severity,
}

impl Diagnostic for IssueDiagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".to_owned()), self.span),
        )))
    }
}

/// Renders issues to text; `color` adds ANSI styling.
pub(crate) fn render(issues: &[PolicyIssue], sources: &Sources, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    // File problems in file order (unknown keys are found while reading, the rest later).
    let mut ordered: Vec<&PolicyIssue> = issues.iter().collect();
    ordered.sort_by_key(|i| {
        (
            i.origin.file.is_none(),
            i.origin.file.clone(),
            i.origin.span.as_ref().map(|s| s.start),
        )
    });
    for issue in ordered {
        let file = issue
            .origin
            .file
            .as_deref()
            .and_then(|f| sources.get(f).map(|t| (f, t)));
        if let (Some((name, text)), Some(span)) = (file, issue.origin.span.clone()) {
            let d = IssueDiagnostic {
                message: issue.message.clone(),
                src: NamedSource::new(name, text.to_owned()),
                span: (span.start, span.len()).into(),
                severity: match issue.level {
                    IssueLevel::Error => miette::Severity::Error,
                    IssueLevel::Warning => miette::Severity::Warning,
                },
            };
            // miette shows the place in its header; the hint follows as our own `hint:` line.
            if handler.render_report(&mut out, &d).is_ok() {
                if let Some(h) = &issue.hint {
                    let _ = writeln!(out, "  hint: {h}");
                }
                out.push('\n');
                continue;
            }
        }
        let label = match (issue.level, color) {
            (IssueLevel::Error, true) => "error".red().bold().to_string(),
            (IssueLevel::Warning, true) => "warning".yellow().bold().to_string(),
            (IssueLevel::Error, false) => "error".to_owned(),
            (IssueLevel::Warning, false) => "warning".to_owned(),
        };
        let _ = writeln!(out, "{label}: {}: {}", issue.origin, issue.message);
        if let Some(h) = &issue.hint {
            let _ = writeln!(out, "  hint: {h}");
        }
    }
    out
}

/// Whether stderr gets colours.
pub(crate) fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os(crate::env::NO_COLOR).is_none()
}

/// Prints issues to stderr.
pub(crate) fn eprint(issues: &[PolicyIssue], sources: &Sources) {
    if issues.is_empty() {
        return;
    }
    let text = render(issues, sources, stderr_color());
    let _ = anstream::stderr().lock().write_all(text.as_bytes());
}
