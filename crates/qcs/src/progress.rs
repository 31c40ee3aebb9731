//! What `qcs scan` tells a person while it works, on stderr: each step as a plain line, and
//! while it waits for scan results a live line per image (spinner, state, time) when stderr is
//! a terminal, or a log line per state change otherwise (CI logs). `-q` silences all of it but
//! errors; `NO_COLOR` turns colours off.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use qcs_qualys::error::fmt_duration;
use qcs_qualys::{WaitEvent, WaitState};

/// How progress is shown.
enum Mode {
    /// Errors only.
    Quiet,
    /// A line per step and per state change.
    Lines,
    /// Live lines on a terminal.
    Live(MultiProgress),
}

/// One image being waited for.
struct Tracked {
    label: String,
    bar: Option<ProgressBar>,
}

/// The progress reporter of one scan; shared with the wait's callback.
pub(crate) struct Progress {
    mode: Mode,
    color: bool,
    images: Mutex<HashMap<String, Tracked>>,
    /// The live lines are final: what follows is written below them.
    settled: AtomicBool,
}

impl Progress {
    /// Quiet, live (stderr is a terminal) or plain lines.
    pub(crate) fn new(quiet: bool) -> Arc<Self> {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Live(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Mode::Lines
        };
        Arc::new(Progress {
            mode,
            color: crate::diagnostics::stderr_color(),
            images: Mutex::new(HashMap::new()),
            settled: AtomicBool::new(false),
        })
    }

    /// Writes text to stderr, above any live lines.
    fn write(&self, text: &str) {
        let out = || {
            let _ = anstream::stderr().lock().write_all(text.as_bytes());
        };
        match &self.mode {
            Mode::Live(m) if !self.settled.load(Ordering::Relaxed) => m.suspend(out),
            _ => out(),
        }
    }

    /// A step of the flow (unless quiet).
    pub(crate) fn step(&self, message: &str) {
        if !matches!(self.mode, Mode::Quiet) {
            self.write(&format!("{message}\n"));
        }
    }

    /// A problem with what to do about it (even when quiet).
    pub(crate) fn problem(&self, message: &str, hint: &str) {
        match &self.mode {
            Mode::Live(m) if !self.settled.load(Ordering::Relaxed) => {
                m.suspend(|| crate::error::print_problem(message, hint));
            }
            _ => crate::error::print_problem(message, hint),
        }
    }

    /// The style of a live line: spinning while waiting, or final.
    fn style(&self, final_line: bool) -> ProgressStyle {
        let template = match (final_line, self.color) {
            (false, true) => "{spinner:.cyan} {prefix:.bold}: {msg} {elapsed:.dim}",
            (false, false) => "{spinner} {prefix}: {msg} {elapsed}",
            (true, true) => "  {prefix:.bold}: {msg}",
            (true, false) => "  {prefix}: {msg}",
        };
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
    }

    /// Starts following an image's wait, shown as `label`.
    pub(crate) fn track(&self, sha: &str, label: &str) {
        let bar = match &self.mode {
            Mode::Live(m) => {
                let bar = m.add(ProgressBar::new_spinner().with_style(self.style(false)));
                bar.set_prefix(label.to_owned());
                bar.set_message("waiting for the scan");
                bar.enable_steady_tick(Duration::from_millis(120));
                Some(bar)
            }
            Mode::Lines | Mode::Quiet => None,
        };
        self.lock().insert(
            sha.to_owned(),
            Tracked {
                label: label.to_owned(),
                bar,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tracked>> {
        self.images.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A state change reported by the wait.
    pub(crate) fn event(&self, e: &WaitEvent) {
        if matches!(self.mode, Mode::Quiet) {
            return;
        }
        let images = self.lock();
        let Some(t) = images.get(&e.sha) else {
            return;
        };
        let took = fmt_duration(e.elapsed);
        let text = match &e.state {
            WaitState::Done => format!("done in {took}"),
            // The error itself is reported with its hint when the wait is over.
            WaitState::Failed(_) => format!("gave up after {took}"),
            other => other.to_string(),
        };
        match &t.bar {
            Some(bar) => match &e.state {
                WaitState::Done | WaitState::Failed(_) => {
                    bar.set_style(self.style(true));
                    bar.finish_with_message(text);
                }
                _ => bar.set_message(text),
            },
            None => {
                let label = t.label.clone();
                drop(images);
                self.step(&format!("{label}: {text}"));
            }
        }
    }

    /// Stops every live line still running (the wait is over); what is written next goes
    /// below them.
    pub(crate) fn finish(&self) {
        for t in self.lock().values() {
            if let Some(bar) = &t.bar {
                if !bar.is_finished() {
                    bar.set_style(self.style(true));
                    bar.abandon();
                }
            }
        }
        self.settled.store(true, Ordering::Relaxed);
    }

    /// Whether only errors are shown.
    pub(crate) fn quiet(&self) -> bool {
        matches!(self.mode, Mode::Quiet)
    }
}

/// The wait's callback, feeding `progress`.
pub(crate) fn callback(progress: &Arc<Progress>) -> qcs_qualys::Callback {
    let p = Arc::clone(progress);
    Arc::new(move |e: &WaitEvent| p.event(e))
}
