//! Runs the emulator stand-alone until Ctrl-C (the `qcs emulator` command wires the same API).
//!
//! ```text
//! cargo run -p qcs-emulator --example emulator -- [--listen ADDR] [--tls] [--tls-dir DIR]
//!     [--scenario FILE] [--image-dir DIR] [--docker-socket PATH|tcp://IP:PORT] [--watch-engine URL]
//!     [--generate N] [--rate-limit N]
//! ```
//! `--generate N` seeds N generated, processed images (seeds 1..=N) and prints their shas.

use qcs_emulator::{DockerListen, EmulatorConfig, RateLimitConfig, ReportSpec, start};
use std::path::PathBuf;
use std::process::ExitCode;

fn usage(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    eprintln!(
        "usage: emulator [--listen ADDR] [--tls] [--tls-dir DIR] [--scenario FILE] [--image-dir DIR] [--docker-socket PATH|tcp://IP:PORT] [--watch-engine URL] [--generate N] [--rate-limit N]"
    );
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut config = EmulatorConfig::default();
    let mut generate = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let r: Result<(), String> = (|| {
            match a.as_str() {
                "--listen" => {
                    let v = value("--listen")?;
                    config.listen = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
                }
                "--tls" => config.tls = true,
                "--tls-dir" => config.tls_dir = Some(PathBuf::from(value("--tls-dir")?)),
                "--scenario" => config.scenario = Some(PathBuf::from(value("--scenario")?)),
                "--image-dir" => config.image_dir = Some(PathBuf::from(value("--image-dir")?)),
                "--docker-socket" => {
                    let v = value("--docker-socket")?;
                    config.docker_socket =
                        Some(DockerListen::parse(&v).map_err(|e| e.to_string())?);
                }
                "--watch-engine" => config.watch_engine = Some(value("--watch-engine")?),
                "--generate" => {
                    let v = value("--generate")?;
                    generate = v.parse().map_err(|e| format!("--generate {v}: {e}"))?;
                }
                "--rate-limit" => {
                    let v = value("--rate-limit")?;
                    let limit = v.parse().map_err(|e| format!("--rate-limit {v}: {e}"))?;
                    config.rate_limit = RateLimitConfig {
                        limit,
                        window_secs: 60,
                    };
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
            Ok(())
        })();
        if let Err(e) = r {
            return usage(&e);
        }
    }
    let emu = match start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", emu.describe());
    for seed in 1..=generate {
        match emu.control().seed_generated(ReportSpec {
            seed,
            ..ReportSpec::default()
        }) {
            Ok(sha) => println!("  seeded image:   {sha}"),
            Err(e) => eprintln!("error: {e}"),
        }
    }
    emu.wait().await;
    ExitCode::SUCCESS
}
