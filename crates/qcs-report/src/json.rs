//! `summary.json`: the machine-readable contract of `product.md` §5, written as pretty JSON.

use std::io::{self, Write};

use qcs_core::summary::Summary;

/// Writes the summary (pretty-printed, with a trailing newline) straight into `out`: a large
/// report's findings are streamed, not built up in memory first.
pub fn write(summary: &Summary, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, summary)?;
    out.write_all(b"\n")
}

/// The summary as bytes (for tests and small outputs).
pub fn render(summary: &Summary) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing plain data to a Vec cannot fail.
    let _ = write(summary, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use qcs_core::summary::Summary;

    #[test]
    fn renders_the_envelope_with_a_trailing_newline() {
        let s = Summary::new("9.9.9", Vec::new());
        let text = String::from_utf8(super::render(&s)).unwrap();
        assert!(text.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["qcs_version"], "9.9.9");
        assert_eq!(v["outcome"], "passed");
        assert_eq!(v["exit_code"], 0);
    }
}
