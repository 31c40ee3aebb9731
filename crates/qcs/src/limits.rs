//! Size limits on what `qcs` reads: report files given to `qcs evaluate --report` (a pipe
//! included) and answers of the Qualys API. Each is read up to the limit and refused beyond it,
//! so that a runaway input (`/dev/zero`, a misrouted download) ends at once with a clear error
//! instead of growing memory.
//!
//! | limit | default | flag | environment |
//! |---|---|---|---|
//! | report file (`qcs evaluate`) | 256 MiB | `--max-report-size` | `QCS_MAX_REPORT_SIZE` |
//! | API answer (`qcs scan`) | 256 MiB | | `QCS_MAX_ANSWER_SIZE` |

use std::io::Read as _;
use std::path::Path;

use crate::error::CliError;

/// The largest report file read by default.
pub(crate) const DEFAULT_MAX_REPORT: u64 = 256 * 1024 * 1024;

/// The environment variable of the report limit.
pub(crate) const QCS_MAX_REPORT_SIZE: &str = "QCS_MAX_REPORT_SIZE";

/// The environment variable of the API answer limit.
pub(crate) const QCS_MAX_ANSWER_SIZE: &str = "QCS_MAX_ANSWER_SIZE";

/// `256MiB`, `1GiB`, `500KB`, `1000` (bytes).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 256MiB, 1GiB, 1000000)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit (use B, KiB, MiB, GiB, KB, MB, GB)"
            ));
        }
    };
    let size = n.saturating_mul(mult);
    if size == 0 {
        return Err(format!("`{text}`: the limit must be more than 0"));
    }
    Ok(size)
}

/// A size for people: `256 MiB`, or bytes.
pub(crate) fn fmt_size(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

fn resolve(
    flag: Option<&str>,
    flag_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
    var: &str,
    default: u64,
) -> Result<u64, CliError> {
    let (given, from) = match (flag, env(var)) {
        (Some(f), _) => (f.to_owned(), flag_name.to_owned()),
        (None, Some(v)) => (v, var.to_owned()),
        (None, None) => return Ok(default),
    };
    parse_size(&given).map_err(|e| {
        CliError::Usage(
            format!("{from}: {e}"),
            "give a size such as 256MiB or 1GiB".into(),
        )
    })
}

/// The report limit: `--max-report-size`, then `QCS_MAX_REPORT_SIZE`, then 256 MiB.
pub(crate) fn max_report(
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<u64, CliError> {
    resolve(
        flag,
        "--max-report-size",
        env,
        QCS_MAX_REPORT_SIZE,
        DEFAULT_MAX_REPORT,
    )
}

/// The API answer limit: `QCS_MAX_ANSWER_SIZE`, then 256 MiB.
pub(crate) fn max_answer(env: &dyn Fn(&str) -> Option<String>) -> Result<u64, CliError> {
    resolve(
        None,
        "",
        env,
        QCS_MAX_ANSWER_SIZE,
        qcs_qualys::client::DEFAULT_MAX_ANSWER,
    )
}

/// Why a report file could not be read.
pub(crate) enum ReadError {
    /// Larger than the limit.
    TooLarge(u64),
    /// An I/O error.
    Io(std::io::Error),
}

/// Reads a file (or a pipe) of at most `limit` bytes; stops reading as soon as it is larger.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    if let Ok(m) = file.metadata()
        && m.is_file()
        && m.len() > limit
    {
        return Err(ReadError::TooLarge(limit));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2kb"), Ok(2000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert_eq!(fmt_size(256 << 20), "256 MiB");
        assert_eq!(fmt_size(1000), "1000 bytes");
    }
}
