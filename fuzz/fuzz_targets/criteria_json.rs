//! The Jenkins plugin's criteria JSON (`--criteria-json`): parsing it the way `qcs` does (a key
//! given twice is refused), reading and validating it never panics, whatever the document holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcs_core::policy::criteria;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = criteria::parse_json(text) else {
        return;
    };
    let _ = criteria::from_json("criteria.json", &doc).validate();
});
