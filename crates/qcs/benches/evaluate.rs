//! In-process cost of judging a large report: a generated 20,000-vulnerability, 3,000-package
//! image (deterministic) against a policy with every condition configured. Parsing, evaluation
//! and `summary.json` rendering are measured apart and together.
//!
//! Run: `cargo bench -p qcs --bench evaluate`. `scripts/bench.sh` measures the whole process.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use qcs_core::policy::flags::PolicyFlags;
use qcs_core::summary::{ImageResult, Summary};
use qcs_core::{ImageReport, Policy, evaluate};
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
    let spec = ReportSpec {
        vulnerabilities: 20_000,
        packages: 3_000,
        ..ReportSpec::default()
    };
    let bytes = serde_json::to_vec(&generate(&spec)).expect("generated report serialises");
    let policy = policy();
    let report = ImageReport::from_json(&bytes).expect("generated report parses");
    let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid time");

    let mut g = c.benchmark_group("20k-vulns-3k-packages");
    g.sample_size(20);
    g.bench_function("parse", |b| {
        b.iter(|| ImageReport::from_json(&bytes).expect("parses"));
    });
    g.bench_function("evaluate", |b| b.iter(|| evaluate(&policy, &report, now)));
    g.bench_function("parse+evaluate+summary.json", |b| {
        b.iter(|| {
            let r = ImageReport::from_json(&bytes).expect("parses");
            let evaluation = evaluate(&policy, &r, now);
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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
