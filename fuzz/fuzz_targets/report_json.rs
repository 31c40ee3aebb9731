//! A Qualys image-details document as the API (or a saved `images/<id>.json`) gives it: parsing
//! never panics, and a report that parses is judged without panicking by a policy with every
//! kind of condition.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcs_core::evaluate::evaluate;
use qcs_core::policy::file;
use qcs_core::report::ImageReport;

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
"#;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = ImageReport::from_json(data) else {
        return;
    };
    let (policy, issues) = file::from_toml("fuzz.toml", POLICY, None).validate();
    let policy = policy.unwrap_or_else(|| panic!("the fuzz policy is invalid: {issues:?}"));
    let now = jiff::Timestamp::from_second(1_790_000_000).expect("a valid time");
    let _ = evaluate(&policy, &report, now);
});
