//! A Qualys image-details document as the API (or a saved `images/<id>.json`) gives it: parsing
//! never panics, a report that parses is judged without panicking by a policy with every kind of
//! condition, and the streaming reader (`qcs evaluate`'s fast path), fed the bytes whole or in
//! pieces, judges only what the full model reads, and judges it the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcs_core::evaluate::evaluate;
use qcs_core::policy::file;
use qcs_core::report::ImageReport;
use qcs_core::report::stream::{ReportStream, evaluate_bytes};

const POLICY: &str = r#"
[fail]
severity = { 5 = 0, 4 = 2, 3 = 10 }
qids = ["179203", "1-100000"]
cves = ["CVE-2021-44228"]
software = [".*:log4j-core<2.17.1", "openssl<3.0.7", "bash"]
cvss = { version = "3", score = 7.0 }
potential = true

[[exclude]]
qid = "38170"
reason = "fuzz"

[[exclude]]
cve = "CVE-2023-0465"
reason = "fuzz"
"#;

fuzz_target!(|data: &[u8]| {
    let (policy, issues) = file::from_toml("fuzz.toml", POLICY, None).validate();
    let policy = policy.unwrap_or_else(|| panic!("the fuzz policy is invalid: {issues:?}"));
    let now = jiff::Timestamp::from_second(1_790_000_000).expect("a valid time");
    let full = ImageReport::from_json(data)
        .ok()
        .map(|report| evaluate(&policy, &report, now));
    let whole = evaluate_bytes(&policy, data, now).ok();
    if let Some(streamed) = &whole {
        assert_eq!(
            Some(streamed),
            full.as_ref(),
            "the streaming reader judged a document the full model refuses or judges otherwise"
        );
    }
    // the same in pieces (of a size taken from the input)
    let piece = 1 + data.first().map_or(0, |b| usize::from(*b) % 61);
    let mut stream = ReportStream::new(&policy, now);
    let pieces = data
        .chunks(piece)
        .try_for_each(|p| stream.push(p))
        .and_then(|()| stream.finish())
        .and_then(|done| {
            let parts: Vec<&[u8]> = done
                .wanted()
                .iter()
                .map(|&(offset, len)| {
                    let o = usize::try_from(offset).unwrap_or(usize::MAX);
                    data.get(o..o.saturating_add(len)).unwrap_or_default()
                })
                .collect();
            done.complete(&parts)
        })
        .ok();
    assert_eq!(pieces, whole, "pieces of {piece} bytes are judged otherwise");
});
