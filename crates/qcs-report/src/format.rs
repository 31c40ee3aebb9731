//! The output formats a user can ask for (`--format FORMAT[=PATH]`) and where each is written.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `summary.json`: the machine-readable contract.
    Json,
    /// The verdict table as plain text (stdout unless a path is given).
    Table,
    /// `results.sarif`: SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// `junit.xml`: a test suite per image, a test case per condition (Jenkins, GitLab).
    Junit,
    /// `gl-container-scanning-report.json`: GitLab's container-scanning report (schema 15.2.1).
    Gitlab,
    /// `summary.md`: the verdict in Markdown (GitHub step summary, merge-request comments).
    Markdown,
    /// `report.html`: one self-contained page for every image (no network).
    Html,
    /// The Jenkins plugin's artifacts: `qualys_images_summary.json` and `qualys_<id>.json` per
    /// image, in the output directory or the directory given as the path.
    Plugin,
}

impl Format {
    /// Every format, in the order they are documented.
    pub const ALL: [Format; 8] = [
        Format::Json,
        Format::Table,
        Format::Sarif,
        Format::Junit,
        Format::Gitlab,
        Format::Markdown,
        Format::Html,
        Format::Plugin,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Table => "table",
            Self::Sarif => "sarif",
            Self::Junit => "junit",
            Self::Gitlab => "gitlab",
            Self::Markdown => "markdown",
            Self::Html => "html",
            Self::Plugin => "plugin",
        }
    }

    /// Whether the format shows every finding of an image with its details (and the installed
    /// software), which `summary.json` does not hold: the raw report is read for it. `plugin`
    /// is one (its excluded QIDs come from every finding, its tables from the raw report). The
    /// others (`json`, `table`, `junit`) need only the verdict and the policy's view of every
    /// finding, which the evaluator keeps anyway.
    pub fn needs_every_finding(self) -> bool {
        matches!(
            self,
            Self::Sarif | Self::Gitlab | Self::Markdown | Self::Html | Self::Plugin
        )
    }

    /// Where the format goes when no path is given: a file name in the output directory, or
    /// `None` for standard output. For [`Format::Plugin`] the summary file; the per-image files
    /// go beside it.
    pub fn default_file(self) -> Option<&'static str> {
        match self {
            Self::Json => Some("summary.json"),
            Self::Table => None,
            Self::Sarif => Some("results.sarif"),
            Self::Junit => Some("junit.xml"),
            Self::Gitlab => Some("gl-container-scanning-report.json"),
            Self::Markdown => Some("summary.md"),
            Self::Html => Some("report.html"),
            Self::Plugin => Some(crate::plugin::SUMMARY_FILE),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A requested output: a format and, optionally, where to write it (`-` is standard output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpec {
    /// The format.
    pub format: Format,
    /// Explicit destination; `None` means the format's default.
    pub path: Option<PathBuf>,
}

/// A `--format` value that names no known format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{given}` (known: {known})")]
pub struct FormatSpecError {
    /// The value given.
    pub given: String,
    /// The known names, comma-separated.
    pub known: String,
}

impl FromStr for FormatSpec {
    type Err = FormatSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, path) = match s.split_once('=') {
            Some((n, p)) => (n, Some(PathBuf::from(p))),
            None => (s, None),
        };
        let format = Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| FormatSpecError {
                given: name.to_owned(),
                known: Format::ALL.map(Format::name).join(", "),
            })?;
        Ok(Self { format, path })
    }
}

/// Where an output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file.
    File(PathBuf),
}

impl FormatSpec {
    /// Resolves the destination against the output directory. The plugin format's path is a
    /// directory: its destination is the summary file in it.
    pub fn destination(&self, output_dir: &Path) -> Destination {
        match (&self.path, self.format.default_file()) {
            (Some(p), _) if p.as_os_str() == "-" => Destination::Stdout,
            (Some(p), Some(name)) if self.format == Format::Plugin => {
                Destination::File(p.join(name))
            }
            (Some(p), _) => Destination::File(p.clone()),
            (None, Some(name)) => Destination::File(output_dir.join(name)),
            (None, None) => Destination::Stdout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_and_without_paths() {
        let s: FormatSpec = "json".parse().unwrap();
        assert_eq!(
            s.destination(Path::new("out")),
            Destination::File("out/summary.json".into())
        );
        let s: FormatSpec = "JSON=-".parse().unwrap();
        assert_eq!(s.destination(Path::new("out")), Destination::Stdout);
        let s: FormatSpec = "table=v.txt".parse().unwrap();
        assert_eq!(
            s.destination(Path::new("out")),
            Destination::File("v.txt".into())
        );
        let e = "sarif2".parse::<FormatSpec>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown format `sarif2` (known: json, table, sarif, junit, gitlab, markdown, html, plugin)"
        );
        for (name, file) in [
            ("sarif", "results.sarif"),
            ("junit", "junit.xml"),
            ("gitlab", "gl-container-scanning-report.json"),
            ("markdown", "summary.md"),
            ("html", "report.html"),
            ("plugin", "qualys_images_summary.json"),
        ] {
            let s: FormatSpec = name.parse().unwrap();
            assert_eq!(s.format.name(), name);
            assert_eq!(
                s.destination(Path::new("out")),
                Destination::File(Path::new("out").join(file))
            );
        }
        // the plugin format's path is the directory its files go into
        let s: FormatSpec = "plugin=artifacts".parse().unwrap();
        assert_eq!(
            s.destination(Path::new("out")),
            Destination::File(Path::new("artifacts").join("qualys_images_summary.json"))
        );
    }
}
