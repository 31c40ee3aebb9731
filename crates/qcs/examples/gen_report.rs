//! Writes a generated Qualys image-details document to stdout, for benchmarks and trials:
//! `cargo run --release -p qcs --example gen_report -- VULNS PACKAGES [SEED] [BASE]`.
//! The same arguments always give the same bytes.

use std::io::Write as _;
use std::process::ExitCode;

use qcs_emulator::generate::{Base, ReportSpec, generate};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: usize| args.get(i).map_or(Ok(default), |a| a.parse::<usize>());
    let (Ok(vulnerabilities), Ok(packages), Ok(seed)) = (num(0, 20_000), num(1, 3_000), num(2, 1))
    else {
        eprintln!("usage: gen_report [VULNS] [PACKAGES] [SEED] [BASE]  (whole numbers)");
        return ExitCode::from(2);
    };
    let base = match args.get(3).map(|b| b.parse::<Base>()) {
        None => Base::Debian,
        Some(Ok(b)) => b,
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let spec = ReportSpec {
        seed: seed as u64,
        base,
        vulnerabilities,
        packages,
        ..ReportSpec::default()
    };
    let doc = generate(&spec);
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &doc)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"));
    if written.is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
