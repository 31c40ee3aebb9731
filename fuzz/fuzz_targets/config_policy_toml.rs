//! The `[policy]` table of a `qcs.toml` config file, read the way `qcs` reads it (the policy
//! rooted at `policy`): never panics, whatever else the file holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcs_core::policy::file;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = file::from_toml("qcs.toml", text, Some("policy")).validate();
});
