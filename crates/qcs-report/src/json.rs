//! `summary.json`: the machine-readable contract of `product.md` §5, written as pretty JSON.

use qcs_core::summary::Summary;

/// Serialises the summary (pretty-printed, with a trailing newline).
pub fn render(summary: &Summary) -> Vec<u8> {
    // Serialising plain data structures to a Vec cannot fail; fall back to an empty object
    // rather than panic should a future field ever refuse.
    let mut out = serde_json::to_vec_pretty(summary).unwrap_or_else(|_| b"{}".to_vec());
    out.push(b'\n');
    out
}
