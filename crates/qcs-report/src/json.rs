//! `summary.json`: the machine-readable contract of `product.md` §5, written as pretty JSON with
//! each list of plain values on one line.

use std::io::{self, Write};

use qcs_core::summary::Summary;
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// Writes the summary (pretty-printed, with a trailing newline) straight into `out`: a large
/// report's findings are streamed, not built up in memory first.
pub fn write(summary: &Summary, mut out: impl Write) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Layout::default());
    summary.serialize(&mut ser)?;
    out.write_all(b"\n")
}

/// The summary as bytes (for tests and small outputs).
pub fn render(summary: &Summary) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing plain data to a Vec cannot fail.
    let _ = write(summary, &mut out);
    out
}

/// `serde_json`'s pretty layout (two spaces per level, a member per line), except that an array
/// of plain values (numbers, strings, booleans, null) is written on one line:
/// `"qids": [376209, 6000123]` instead of a line per QID. A summary's long lists are such arrays
/// (`finding_keys`, the QIDs, CVEs and packages a condition found), so this keeps a
/// 20,000-finding summary a third smaller and still a file one can read and diff.
///
/// Written by hand: `serde_json`'s `PrettyFormatter` has no such option, and the crates that add
/// one (`serde_json_pretty` 0.1, `json-pretty-compact` 0.1) are single early releases with little
/// use that buffer values to decide their layout. Here the layout of an array is decided at its
/// first element, the first thing written after the `[` (the separator before each element
/// waits until the element starts), so the summary is still streamed.
#[derive(Debug, Default)]
struct Layout {
    /// The open arrays (innermost last) and how each is laid out.
    arrays: Vec<ArrayLayout>,
    /// An array element is about to start; `true` when it is the array's first.
    pending: Option<bool>,
    /// The nesting depth, for the indentation.
    depth: usize,
    /// Whether the innermost open array or object has a value yet.
    has_value: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayLayout {
    /// No element yet.
    Undecided,
    /// Plain values, on the array's line.
    Inline,
    /// Objects or arrays, one per line.
    Block,
}

impl Layout {
    fn newline_indent<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Before a plain value: the separator an array element waits for, inline.
    fn plain<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        match self.arrays.last_mut() {
            Some(layout @ ArrayLayout::Undecided) => {
                *layout = ArrayLayout::Inline;
                Ok(())
            }
            Some(ArrayLayout::Block) => {
                if !first {
                    w.write_all(b",")?;
                }
                self.newline_indent(w)
            }
            _ if first => Ok(()),
            _ => w.write_all(b", "),
        }
    }

    /// Before an object or array: the separator an array element waits for, on a new line
    /// (or inline after a plain value, in an array mixing both).
    fn nested<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let Some(first) = self.pending.take() else {
            return Ok(());
        };
        match self.arrays.last_mut() {
            Some(ArrayLayout::Inline) => w.write_all(b", "),
            Some(layout) => {
                *layout = ArrayLayout::Block;
                if !first {
                    w.write_all(b",")?;
                }
                self.newline_indent(w)
            }
            None => Ok(()),
        }
    }
}

/// A plain value: the waiting separator, then the value as the compact formatter writes it.
macro_rules! plain {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            self.plain(w)?;
            CompactFormatter.$method(w $(, $arg)*)
        }
    )*};
}

impl Formatter for Layout {
    plain! {
        write_null();
        write_bool(v: bool);
        write_i8(v: i8);
        write_i16(v: i16);
        write_i32(v: i32);
        write_i64(v: i64);
        write_i128(v: i128);
        write_u8(v: u8);
        write_u16(v: u16);
        write_u32(v: u32);
        write_u64(v: u64);
        write_u128(v: u128);
        write_f32(v: f32);
        write_f64(v: f64);
        write_number_str(v: &str);
        begin_string();
        write_byte_array(v: &[u8]);
        write_raw_fragment(v: &str);
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.nested(w)?;
        self.arrays.push(ArrayLayout::Undecided);
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.arrays.pop() == Some(ArrayLayout::Block) {
            self.newline_indent(w)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, _: &mut W, first: bool) -> io::Result<()> {
        self.pending = Some(first);
        Ok(())
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.nested(w)?;
        // an object's members are never array elements: no separator waits inside it
        self.arrays.push(ArrayLayout::Block);
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        self.arrays.pop();
        if self.has_value {
            self.newline_indent(w)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline_indent(w)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use qcs_core::summary::Summary;
    use serde::Serialize;
    use serde_json::{Value, json};

    use super::Layout;

    fn layout(v: &Value) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Layout::default());
        v.serialize(&mut ser).unwrap();
        String::from_utf8(out).unwrap()
    }

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

    #[test]
    fn lists_of_plain_values_are_on_one_line_and_the_rest_is_pretty() {
        let v = json!({
            "keys": {"libssl3": [3, 9, 11], "": [5]},
            "cves": ["CVE-2021-44228", "CVE-2023-0286"],
            "empty": [],
            "none": {},
            "findings": [{"qid": 1, "packages": [{"name": "a\"b", "version": null}]}, {"qid": 2}],
            "nested": [[1, 2], [], [true, null, 2.5]],
            "mixed": [1, {"a": 1}]
        });
        let text = layout(&v);
        let expected = r#"{
  "cves": ["CVE-2021-44228", "CVE-2023-0286"],
  "empty": [],
  "findings": [
    {
      "packages": [
        {
          "name": "a\"b",
          "version": null
        }
      ],
      "qid": 1
    },
    {
      "qid": 2
    }
  ],
  "keys": {
    "": [5],
    "libssl3": [3, 9, 11]
  },
  "mixed": [1, {
      "a": 1
    }],
  "nested": [
    [1, 2],
    [],
    [true, null, 2.5]
  ],
  "none": {}
}"#;
        assert_eq!(text, expected);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }

    #[test]
    fn any_document_reads_back_the_same() {
        let docs = [
            json!(null),
            json!(1),
            json!("x"),
            json!([]),
            json!([[]]),
            json!([{}]),
            json!({"a": [[[1]]], "b": [{"c": []}], "d": [-1, 1e300, "\u{1}"]}),
        ];
        for v in docs {
            let text = layout(&v);
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v, "{text}");
        }
    }
}
