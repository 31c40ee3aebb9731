//! The Jenkins plugin's criteria JSON (`--criteria-json`): reading and validating it never
//! panics, whatever the document holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcs_core::policy::criteria;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = criteria::from_json("criteria.json", &doc).validate();
});
