//! Every environment variable `qcs` reads, in one place (documented in the README).

/// A tracing filter for log output, e.g. `qcs=trace`.
pub(crate) const QCS_LOG: &str = "QCS_LOG";
/// The config file to read when `--config` is not given.
pub(crate) const QCS_CONFIG: &str = "QCS_CONFIG";
/// Set (to anything) to turn colours off.
pub(crate) const NO_COLOR: &str = "NO_COLOR";

/// Every variable above, for documentation tests.
#[cfg(test)]
pub(crate) const ALL: &[&str] = &[QCS_LOG, QCS_CONFIG, NO_COLOR];

#[cfg(test)]
mod tests {
    #[test]
    fn every_variable_is_documented_in_the_readme() {
        let readme = include_str!("../../../README.md");
        for v in super::ALL {
            assert!(readme.contains(v), "README.md does not mention {v}");
        }
    }
}
