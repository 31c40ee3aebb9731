//! A policy file (`qcs-policy.toml`): reading and validating it never panics, and every issue it
//! reports points inside the text (the file:line:col users see).
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcs_core::policy::file;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = file::from_toml("qcs-policy.toml", text, None).validate();
    // Every offset the diagnostics can name maps to a line and column.
    for offset in [0, text.len() / 2, text.len()] {
        let (line, col) = file::line_col(text, offset);
        assert!(line >= 1 && col >= 1, "line_col({offset}) = ({line}, {col})");
    }
});
