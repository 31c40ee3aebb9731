//! Benchmark of waiting for scan results: against the emulator (real HTTP on 127.0.0.1, a frozen
//! clock moved by the client's sleeps), scan results appear at random times; for each polling
//! strategy it measures the delay from a result becoming available to the client having it
//! (median and p95, in emulated time) and the API calls per image, beside the original plugin's
//! fixed 30 s schedule simulated on the same timings (list every 30 s, plus the details call once
//! the image is listed).
//!
//! `cargo run --release -p qcs-qualys --example wait_bench -- [IMAGES] [SEED] [OPTIONS]`
//!
//! Options (emulated time): `--profile NAME|all` runs the matrix under the emulator's processing
//! profile `NAME` (`last-scanned-at-upload`, `last-scanned-when-processed`,
//! `counts-null-with-status`) or under each of them in turn (default: the emulator's default
//! profile); `--waves 1,5,50` chooses how many images are waited on at once (default 1, 5, 15,
//! 25, 50, 100, 200); `--batch 50,1` the images per list call of the qcs rows (default 50, the
//! client's default; `1` is what a gateway refusing grouped filters leaves). With `--profile`
//! the fixed 30 s qcs row is left out.
//!
//! With `--real IMAGES [--profile NAME|all]`, all images are waited on at once in real time (the
//! emulator on wall time, default rate limit, concurrency 8), with one image per list call and
//! with the default groups of 50: this takes a few minutes per profile.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::sync::Arc;
use std::time::Duration;

use qcs_emulator::{
    Control, EmulatorConfig, LifecycleRequest, ProcessingProfile, ReportSpec, SeedRequest,
};
use qcs_qualys::clock::Sleep;
use qcs_qualys::secret::secret;
use qcs_qualys::{
    ClientConfig, Clock, Credentials, Gateway, Interval, QualysClient, WaitOptions, WaitRequest,
};
use rand::{Rng as _, SeedableRng as _};

#[derive(Debug)]
struct EmuClock(Control);

impl Clock for EmuClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(i64::try_from(self.0.now_ms()).unwrap()).unwrap()
    }

    fn sleep(&self, d: Duration) -> Sleep<'_> {
        self.0.advance(d);
        Box::pin(tokio::task::yield_now())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn summary(name: &str, mut delays: Vec<f64>, calls: &[f64]) {
    delays.sort_by(f64::total_cmp);
    let mean_calls = calls.iter().sum::<f64>() / calls.len() as f64;
    let max_calls = calls.iter().copied().fold(0.0, f64::max);
    println!(
        "| {name} | {:.2} | {:.2} | {:.2} | {mean_calls:.1} | {max_calls:.1} |",
        percentile(&delays, 0.5),
        percentile(&delays, 0.95),
        delays.last().copied().unwrap_or(0.0),
    );
}

/// The emulated-time matrix's settings, from the command line.
struct Matrix {
    images: usize,
    seed: u64,
    /// `None`: the emulator's default profile, and the former rows (with the fixed 30 s one).
    profiles: Option<Vec<ProcessingProfile>>,
    waves: Vec<usize>,
    batches: Vec<usize>,
}

fn list_of<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Vec<T> {
    value
        .map(|v| v.split(',').map(|x| x.trim().parse().ok()).collect())
        .and_then(|v: Option<Vec<T>>| v.filter(|v| !v.is_empty()))
        .unwrap_or_else(|| panic!("{flag} takes a comma-separated list of numbers"))
}

fn matrix(args: &[String]) -> Matrix {
    let mut m = Matrix {
        images: 200,
        seed: 42,
        profiles: None,
        waves: vec![1, 5, 15, 25, 50, 100, 200],
        batches: vec![qcs_qualys::wait::DEFAULT_BATCH],
    };
    let mut positional = Vec::new();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--profile" => {
                let v = it.next().expect("--profile takes a name or `all`");
                m.profiles = Some(if v == "all" {
                    ProcessingProfile::ALL.to_vec()
                } else {
                    vec![v.parse().unwrap_or_else(|e| panic!("{e}"))]
                });
            }
            "--waves" => m.waves = list_of("--waves", it.next()),
            "--batch" => m.batches = list_of("--batch", it.next()),
            _ => positional.push(a),
        }
    }
    if let Some(n) = positional.first().and_then(|a| a.parse().ok()) {
        m.images = n;
    }
    if let Some(n) = positional.get(1).and_then(|a| a.parse().ok()) {
        m.seed = n;
    }
    m
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--real") {
        let images = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
        let profiles = matrix(&args[2..])
            .profiles
            .unwrap_or_else(|| vec![ProcessingProfile::default()]);
        for profile in profiles {
            real_time(images, profile).await;
        }
        return;
    }
    let m = matrix(&args);
    let mut rng = rand::rngs::StdRng::seed_from_u64(m.seed);
    // Upload 10–120 s after tagging, processing 5–60 s (CI/CD sensor, priority queue).
    let timings: Vec<(u64, u64)> = (0..m.images)
        .map(|_| (rng.random_range(10..=120), rng.random_range(5..=60)))
        .collect();
    println!(
        "{} images, upload 10-120 s after tagging, processing 5-60 s (seed {})",
        m.images, m.seed
    );
    let profiles = m
        .profiles
        .clone()
        .unwrap_or_else(|| vec![ProcessingProfile::default()]);
    for profile in profiles {
        let emu = qcs_emulator::start(EmulatorConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            frozen_clock_ms: Some(1_717_243_200_000),
            processing_profile: profile,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        emu.control().set_rate_limit(qcs_emulator::RateLimitConfig {
            limit: 1_000_000,
            window_secs: 60,
        });

        println!("\nprocessing profile `{profile}`\n");
        println!(
            "| strategy | delay p50 (s) | delay p95 (s) | delay max (s) | API calls per image (mean) | max |"
        );
        println!("|---|---|---|---|---|---|");

        let (delays, calls) = plugin(&timings, profile);
        summary("original plugin, fixed 30 s (simulated)", delays, &calls);

        let mut strategies = vec![("qcs default (budgeted rounds, 1-10 s)", Interval::default())];
        if m.profiles.is_none() {
            strategies.push(("qcs fixed 30 s", Interval::Fixed(Duration::from_secs(30))));
        }
        for (name, interval) in strategies {
            for &batch in &m.batches {
                for &wave in &m.waves {
                    if matches!(interval, Interval::Fixed(_)) && wave > 1 {
                        continue;
                    }
                    let (delays, calls) = run_waves(&emu, &timings, wave, interval, batch).await;
                    let batch_note = if batch == qcs_qualys::wait::DEFAULT_BATCH {
                        String::new()
                    } else {
                        format!(", `batch = {batch}`")
                    };
                    summary(
                        &format!("{name}{batch_note}, {wave} image(s) at once"),
                        delays,
                        &calls,
                    );
                }
            }
        }
        emu.shutdown().await;
    }
}

/// The original plugin on the same timings: a list call at 0, 30, 60 s …; once its list
/// filter (`lastScanned` within the window) matches the image, a details call in each round
/// until the report is processed. Under `last-scanned-when-processed` the filter matches only
/// processed images, so there is one details call; under the other profiles it matches from the
/// upload. Delay (s) and calls per image.
fn plugin(timings: &[(u64, u64)], profile: ProcessingProfile) -> (Vec<f64>, Vec<f64>) {
    let mut delays = Vec::new();
    let mut calls = Vec::new();
    for &(up, proc_) in timings {
        let ready = up + proc_;
        let listed_from = match profile {
            ProcessingProfile::LastScannedWhenProcessed => ready,
            _ => up,
        };
        let mut t = 0;
        let mut n: u32 = 0;
        loop {
            n += 1;
            if t >= listed_from {
                n += 1;
            }
            if t >= ready {
                break;
            }
            t += 30;
        }
        delays.push((t - ready) as f64);
        calls.push(f64::from(n));
    }
    (delays, calls)
}

/// Waits for `timings.len()` images in waves of `wave` images tagged together; per image the
/// delay (s) and its share of the API calls (list + details calls of its wave / wave size).
async fn run_waves(
    emu: &qcs_emulator::RunningEmulator,
    timings: &[(u64, u64)],
    wave: usize,
    interval: Interval,
    batch: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut cfg = demo_config(emu);
    cfg.clock = Arc::new(EmuClock(emu.control().clone()));
    cfg.rate = qcs_qualys::RateLimit::unlimited();
    let client = QualysClient::new(cfg).unwrap();
    let opts = WaitOptions {
        timeout: Duration::from_secs(900),
        interval,
        batch,
        ..WaitOptions::default()
    };
    let api_calls = || {
        let log = emu.control().requests();
        ["images", "images/{id}"]
            .iter()
            .map(|k| log.counts.get(*k).copied().unwrap_or(0))
            .sum::<u64>()
    };
    let mut delays = Vec::new();
    let mut calls = Vec::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(wave as u64);
    for (w, chunk) in timings.chunks(wave).enumerate() {
        let mut reqs = Vec::new();
        let mut ready_ms = Vec::new();
        // Each image tagged at a random point of the second before the wait starts (latest
        // last), so that results land at random points between the rounds.
        let mut early: Vec<u64> = chunk.iter().map(|_| rng.random_range(0..1000)).collect();
        early.sort_unstable_by(|a, b| b.cmp(a));
        let mut previous = 1000;
        for (i, (&(up, proc_), &e)) in chunk.iter().zip(&early).enumerate() {
            emu.control().advance(Duration::from_millis(previous - e));
            previous = e;
            let sha = seed(emu, (w * wave + i) as u64 + 1, up, proc_);
            ready_ms.push(emu.control().now_ms() + (up + proc_) * 1000);
            reqs.push(WaitRequest {
                sha,
                tagged_at: EmuClock(emu.control().clone()).now(),
            });
        }
        let before = api_calls();
        let start_ms = emu.control().now_ms();
        let results = client
            .wait_for_scans(reqs, &opts, Arc::new(|_: &qcs_qualys::WaitEvent| {}))
            .await;
        let share = (api_calls() - before) as f64 / chunk.len() as f64;
        for ((_, r), ready) in results.iter().zip(ready_ms) {
            let r = r.as_ref().unwrap();
            let got = start_ms as f64 + r.waited.as_secs_f64() * 1000.0;
            delays.push((got - ready as f64) / 1000.0);
            calls.push(share);
        }
    }
    (delays, calls)
}

/// The client settings for the emulator's `qcs-demo` user.
fn demo_config(emu: &qcs_emulator::RunningEmulator) -> ClientConfig {
    ClientConfig::new(
        Gateway::explicit(&emu.base_url()).unwrap(),
        Credentials::Basic {
            username: "qcs-demo".into(),
            password: secret("qcs-demo"),
        },
    )
}

/// Seeds a small generated image, uploaded `up` s from now and processed `processing` s later.
fn seed(emu: &qcs_emulator::RunningEmulator, seed: u64, up: u64, processing: u64) -> String {
    let (sha, _) = emu
        .control()
        .seed_image(SeedRequest {
            generate: Some(ReportSpec {
                seed,
                vulnerabilities: 3,
                packages: 5,
                ..ReportSpec::default()
            }),
            timing: LifecycleRequest {
                upload_in_secs: up,
                processing_secs: processing,
                ..LifecycleRequest::default()
            },
            ..SeedRequest::default()
        })
        .unwrap();
    sha
}

/// All images at once, in real time, under `profile`.
async fn real_time(images: usize, profile: ProcessingProfile) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let timings: Vec<(u64, u64)> = (0..images)
        .map(|_| (rng.random_range(10..=120), rng.random_range(5..=60)))
        .collect();
    println!(
        "\n{images} images at once, real time, upload 10-120 s after tagging, processing 5-60 s, \
         processing profile `{profile}`\n"
    );
    println!(
        "| strategy | delay p50 (s) | delay p95 (s) | delay max (s) | API calls per image (mean) | max (own calls) |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, batch) in [
        ("qcs, one image per list call (`batch` 1)", 1),
        ("qcs default (up to 50 images per list call)", 50),
    ] {
        let emu = qcs_emulator::start(EmulatorConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            processing_profile: profile,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let mut reqs = Vec::new();
        for (i, &(up, proc_)) in timings.iter().enumerate() {
            let sha = seed(&emu, i as u64 + 1, up, proc_);
            reqs.push(WaitRequest {
                sha,
                tagged_at: jiff::Timestamp::now(),
            });
        }
        let client = QualysClient::new(demo_config(&emu)).unwrap();
        let opts = WaitOptions {
            timeout: Duration::from_secs(900),
            batch,
            ..WaitOptions::default()
        };
        let results = client
            .wait_for_scans(reqs, &opts, Arc::new(|_: &qcs_qualys::WaitEvent| {}))
            .await;
        let mut delays = Vec::new();
        let mut own = Vec::new();
        for ((_, r), &(up, proc_)) in results.iter().zip(&timings) {
            let r = r.as_ref().unwrap();
            delays.push(r.waited.as_secs_f64() - (up + proc_) as f64);
            own.push(r.calls);
        }
        let log = emu.control().requests();
        let csapi: u64 = log
            .counts
            .iter()
            .filter(|(k, _)| k.starts_with("images"))
            .map(|(_, v)| *v)
            .sum();
        delays.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.1} | {} |",
            percentile(&delays, 0.5),
            percentile(&delays, 0.95),
            delays.last().copied().unwrap_or(0.0),
            csapi as f64 / images as f64,
            own.iter().max().copied().unwrap_or(0),
        );
        emu.shutdown().await;
    }
}
