//! In-process cost of judging a report of 1,000, 20,000 and 100,000 vulnerabilities (generated,
//! deterministic, with 150, 3,000 and 15,000 packages) against a policy with every condition
//! configured:
//!
//! - `verdict`: the fast path of `qcs evaluate --format json`: the document judged while it is
//!   read (`report::stream`), from memory, and `summary.json` rendered;
//! - `parse`: the full model of the document (what the HTML, SARIF, GitLab and Markdown formats
//!   need), and `evaluate+details`: judging it with every finding's details.
//!
//! Throughput is per byte of report, so the figures of the three sizes compare directly (time
//! linear in the size shows as the same throughput).
//!
//! Run: `cargo bench -p qcs --bench evaluate`. `scripts/bench.sh` measures the whole process.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use qcs_core::evaluate::evaluate_with_details;
use qcs_core::policy::flags::PolicyFlags;
use qcs_core::report::stream::evaluate_bytes;
use qcs_core::summary::{ImageResult, Summary};
use qcs_core::{ImageReport, Policy};
use qcs_emulator::generate::{ReportSpec, generate};

/// Every condition configured (the same policy `scripts/bench.sh` gives as flags).
fn policy() -> Policy {
    let flags = PolicyFlags {
        fail_severity: vec!["5=0,4=10,3=100,2=1000,1=5000".into()],
        fail_qids: vec!["376209,100000-199999,6000000-6099999".into()],
        fail_cves: vec!["CVE-2021-44228,CVE-2022-22965,CVE-2023-4863,CVE-2024-3094".into()],
        fail_software: vec![
            "openssl=1\\.1\\..*".into(),
            ".*:log4j-core<2.17.1".into(),
            "lib.*>=1.0".into(),
            "python3\\..*".into(),
        ],
        fail_cvss: Some("max:9.0".into()),
        potential: Some(true),
        fixable_only: None,
        exclude_qids: vec!["6000123,370000-370100".into()],
        exclude_cves: vec!["CVE-2023-1234".into()],
        ..PolicyFlags::default()
    };
    let (p, issues) = flags.to_raw().validate();
    p.unwrap_or_else(|| panic!("benchmark policy is invalid: {issues:?}"))
}

fn bench(c: &mut Criterion) {
    let policy = policy();
    let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid time");
    for (vulns, packages) in [(1_000, 150), (20_000, 3_000), (100_000, 15_000)] {
        let spec = ReportSpec {
            vulnerabilities: vulns,
            packages,
            ..ReportSpec::default()
        };
        let bytes = serde_json::to_vec(&generate(&spec)).expect("generated report serialises");
        let mut g = c.benchmark_group(format!("{}k-vulns", vulns / 1000));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.sample_size(if vulns > 20_000 { 10 } else { 20 });
        g.bench_function("verdict", |b| {
            b.iter(|| {
                let evaluation = evaluate_bytes(&policy, &bytes, now).expect("streams");
                let s = Summary::new(
                    "bench",
                    vec![ImageResult {
                        input: "bench".into(),
                        evaluation,
                    }],
                );
                qcs_report::json::render(&s)
            });
        });
        g.bench_function("parse", |b| {
            b.iter(|| ImageReport::from_json(&bytes).expect("parses"));
        });
        let report = ImageReport::from_json(&bytes).expect("parses");
        g.bench_function("evaluate+details", |b| {
            b.iter(|| evaluate_with_details(&policy, &report, now));
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
