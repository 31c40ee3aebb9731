//! qcs output formats.
