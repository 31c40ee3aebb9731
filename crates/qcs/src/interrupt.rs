//! SIGINT and SIGTERM during `qcs scan`: the first ends the work at once (the wait, tagging,
//! authentication) and lets the scan write its reports with every image judged so far, the
//! others `cancelled`, then exit 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once
//! with that code, whatever is being done.
//!
//! The signals are received on a thread of their own (with its own small runtime), so that a
//! second signal is seen even while the main thread writes reports.

use qcs_core::exit::ExitCode;
use tokio::sync::watch;

/// Which signal ended the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT (Ctrl-C): exit 130.
    Interrupt,
    /// SIGTERM (a CI system stopping the job): exit 143.
    Terminate,
}

impl Signal {
    /// The exit code: 128 + the signal number.
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Signal::Interrupt => ExitCode::Interrupted,
            Signal::Terminate => ExitCode::Terminated,
        }
    }

    /// `SIGINT` or `SIGTERM`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// Tells whether (and which) signal has come.
#[derive(Debug, Clone)]
pub(crate) struct Interrupt {
    rx: watch::Receiver<Option<Signal>>,
}

impl Interrupt {
    /// Starts listening for SIGINT and SIGTERM; returns once the handlers are in place (from
    /// then on the signals no longer kill the process by themselves). `None` when they cannot
    /// be set up (the default behaviour stays: the signal ends the process).
    pub(crate) fn install() -> Option<Interrupt> {
        let (tx, rx) = watch::channel(None);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<bool>();
        let spawned = std::thread::Builder::new()
            .name("qcs-signals".into())
            .spawn(move || listen(&tx, &ready_tx));
        if spawned.is_err() || !ready_rx.recv().unwrap_or(false) {
            tracing::debug!("signal handlers not installed; SIGINT and SIGTERM end qcs at once");
            return None;
        }
        Some(Interrupt { rx })
    }

    /// The signal received, if any.
    pub(crate) fn received(&self) -> Option<Signal> {
        *self.rx.borrow()
    }

    /// Ends when a signal has come (at once if one has).
    pub(crate) async fn wait(&self) -> Signal {
        let mut rx = self.rx.clone();
        loop {
            if let Some(s) = *rx.borrow_and_update() {
                return s;
            }
            if rx.changed().await.is_err() {
                // The listener is gone: no signal will come.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Ends when `interrupt` (if any) has a signal; never without one.
pub(crate) async fn wait(interrupt: Option<&Interrupt>) -> Signal {
    match interrupt {
        Some(i) => i.wait().await,
        None => std::future::pending().await,
    }
}

#[cfg(unix)]
fn listen(tx: &watch::Sender<Option<Signal>>, ready: &std::sync::mpsc::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        let _ = ready.send(false);
        return;
    };
    rt.block_on(async {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            let _ = ready.send(false);
            return;
        };
        let _ = ready.send(true);
        loop {
            let s = tokio::select! {
                _ = int.recv() => Signal::Interrupt,
                _ = term.recv() => Signal::Terminate,
            };
            if let Some(first) = *tx.borrow() {
                eprintln!(
                    "qcs: {} after {}: stopping at once (exit {})",
                    s.name(),
                    first.name(),
                    s.exit_code().code()
                );
                std::process::exit(i32::from(s.exit_code().code()));
            }
            eprintln!(
                "qcs: {}: stopping the scan; writing the reports with the images judged so far (send it again to stop at once)",
                s.name()
            );
            let _ = tx.send(Some(s));
        }
    });
}

#[cfg(not(unix))]
fn listen(tx: &watch::Sender<Option<Signal>>, ready: &std::sync::mpsc::Sender<bool>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        let _ = ready.send(false);
        return;
    };
    rt.block_on(async {
        let _ = ready.send(true);
        loop {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            if tx.borrow().is_some() {
                std::process::exit(i32::from(Signal::Interrupt.exit_code().code()));
            }
            eprintln!(
                "qcs: Ctrl-C: stopping the scan; writing the reports with the images judged so far (press it again to stop at once)"
            );
            let _ = tx.send(Some(Signal::Interrupt));
        }
    });
}
