//! Running the processes of a test: a command that must succeed, a service logging to a file
//! and polled until it is ready, a child's stderr read line by line while it runs, signals, and
//! a bounded wait for the exit. Every wait is bounded; a failure panics with what was seen.

use std::borrow::BorrowMut;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a service may take to come up.
pub const START_LIMIT: Duration = Duration::from_secs(30);

/// Runs `cmd` with no stdin and returns its output, whatever its exit status.
///
/// # Panics
/// When the command cannot be started.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `cmd` with no stdin; returns its stdout.
///
/// # Panics
/// When the command cannot be started or does not succeed (with its status and output).
pub fn run_ok(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `cmd` with no stdin and its stdout and stderr in the file `log`.
///
/// # Panics
/// When the log cannot be created or the command cannot be started.
pub fn spawn_logged(cmd: &mut Command, log: &Path) -> Child {
    let out = std::fs::File::create(log)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
    let err = out
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot share {}: {e}", log.display()));
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Kills the child and reaps it; for `Drop`.
pub fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Polls `ready` every 50 ms until it is true.
///
/// # Panics
/// After [`START_LIMIT`], with `what` and the service's `log`.
pub fn wait_until(what: &str, log: &Path, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < START_LIMIT,
            "{what} did not come up within {START_LIMIT:?}; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends each line of a child's stderr on the returned channel, from a thread.
pub fn stderr_lines(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Appends the lines from `rx` (see [`stderr_lines`]) to `seen` until it contains `marker`.
///
/// # Panics
/// When `marker` has not come within 60 s, with what was seen.
pub fn until(rx: &mpsc::Receiver<String>, marker: &str, seen: &mut String) {
    let end = Instant::now() + Duration::from_secs(60);
    while !seen.contains(marker) {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(e) => panic!("no `{marker}` on stderr within 60 s ({e}):\n{seen}"),
        }
    }
}

/// Sends `signal` (`INT`, `TERM`, …) to the child with kill(1).
///
/// # Panics
/// When kill(1) cannot run or fails.
pub fn kill(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{signal}");
}

/// Waits for the child's exit (`Child` or `&mut Child`): its code and how long the wait took.
///
/// # Panics
/// When it has not exited within 30 s (it is killed then).
pub fn wait_exit(mut child: impl BorrowMut<Child>) -> (Option<i32>, Duration) {
    let child = child.borrow_mut();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return (status.code(), start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(30) {
            stop(child);
            panic!("the process did not exit within 30 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
