//! The emulator's QQL parser (the `filter` of `GET /csapi/v1.3/images`): any filter either
//! parses or gives an error message, never a panic, and a parsed filter can be matched against
//! an image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qcs_emulator::qql::{self, Field, QqlTarget};

/// An image with every field set.
struct Image;

impl QqlTarget for Image {
    fn text(&self, _field: Field) -> Vec<&str> {
        vec![
            "8e1a8c2f4f1b0c3d9a7e6f5d4c3b2a1908f7e6d5c4b3a29180706f5e4d3c2b1a",
            "docker.io/library/app:1.0",
        ]
    }
    fn time(&self, _field: Field) -> Option<u64> {
        Some(1_790_000_000_000)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(filter) = std::str::from_utf8(data) else {
        return;
    };
    match qql::parse(filter) {
        Ok(expr) => {
            let _ = expr.matches(&Image, 1_790_000_100_000);
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an empty error message"),
    }
});
