//! The `[output]` settings: the report directory, the formats and the Dockerfile SARIF results
//! point at, from `--output-dir`, `--format` and `--dockerfile`, then `[output] dir`, `formats`
//! and `dockerfile` in the config file, then `qcs-reports`, `json` and `Dockerfile`.

use std::fmt::Write as _;
use std::path::PathBuf;

use qcs_report::{Format, FormatSpec, sarif};

use super::{Source, config_error, config_str, relative_to_config, table};
use crate::cli::OutputArgs;
use crate::config::ConfigFile;
use crate::error::CliError;

/// The report directory used when nothing else is set.
pub(crate) const DEFAULT_DIR: &str = "qcs-reports";

/// Where reports go and which ones.
#[derive(Debug, Clone)]
pub(crate) struct OutputSettings {
    /// The output directory.
    pub(crate) dir: PathBuf,
    /// Where the directory setting came from.
    pub(crate) dir_source: Source,
    /// The formats to write (never empty).
    pub(crate) formats: Vec<FormatSpec>,
    /// Where the formats came from.
    pub(crate) formats_source: Source,
    /// Exit 0 whatever the verdict (except for configuration errors).
    pub(crate) report_only: bool,
    /// How SARIF is written (the Dockerfile its results point at).
    pub(crate) sarif: sarif::Options,
    /// Where the Dockerfile setting came from.
    pub(crate) sarif_source: Source,
    /// `--history DIR`: earlier builds' summaries for the trend.
    pub(crate) history: Option<PathBuf>,
}

impl OutputSettings {
    /// Whether a requested format shows every finding of an image (HTML, SARIF, GitLab,
    /// Markdown): then each report is read in full, not only for the verdict.
    pub(crate) fn needs_every_finding(&self) -> bool {
        self.formats.iter().any(|f| f.format.needs_every_finding())
    }

    /// `summary.json` and `report.html` in `dir`, nothing else (`qcs demo`).
    pub(crate) fn demo_in(dir: PathBuf, dir_source: Source) -> Self {
        OutputSettings {
            dir,
            dir_source,
            formats: [Format::Json, Format::Html]
                .into_iter()
                .map(|format| FormatSpec { format, path: None })
                .collect(),
            formats_source: Source::Default,
            report_only: false,
            history: None,
            sarif: sarif::Options::default(),
            sarif_source: Source::Default,
        }
    }
}

/// Resolves the output settings: flags, then `[output]` in the config file, then defaults.
pub(crate) fn resolve(
    args: &OutputArgs,
    file: Option<&ConfigFile>,
) -> Result<OutputSettings, CliError> {
    let t = table(file, "output", crate::config::OUTPUT_KEYS)?;
    let (dir, dir_source) = match (&args.output_dir, config_str(file, &t, "output", "dir")?) {
        (Some(d), _) => (d.clone(), Source::Flag("--output-dir")),
        (None, Some(d)) => {
            let src = Source::Config("[output] dir".into());
            (relative_to_config(&src, file, &d), src)
        }
        (None, None) => (PathBuf::from(DEFAULT_DIR), Source::Default),
    };
    let (formats, formats_source) = if args.formats.is_empty() {
        match t.get("formats") {
            None => (
                vec![FormatSpec {
                    format: Format::Json,
                    path: None,
                }],
                Source::Default,
            ),
            Some(toml::Value::Array(items)) => {
                let mut specs = Vec::with_capacity(items.len());
                for item in items {
                    let spec = item
                        .as_str()
                        .ok_or_else(|| format!("an entry is a {}, not a string", item.type_str()))
                        .and_then(|v| v.parse::<FormatSpec>().map_err(|e| e.to_string()))
                        .map_err(|e| {
                            config_error(
                                file,
                                &format!("[output] formats: {e}"),
                                "write e.g. formats = [\"json\", \"table=verdict.txt\"]",
                            )
                        })?;
                    specs.push(spec);
                }
                if specs.is_empty() {
                    return Err(config_error(
                        file,
                        "[output] formats is empty",
                        "name at least one format, e.g. formats = [\"json\"], or remove the key",
                    ));
                }
                (specs, Source::Config("[output] formats".into()))
            }
            Some(other) => {
                return Err(config_error(
                    file,
                    &format!("[output] formats is a {}, not a list", other.type_str()),
                    "write e.g. formats = [\"json\"]",
                ));
            }
        }
    } else {
        (args.formats.clone(), Source::Flag("--format"))
    };
    let (dockerfile, sarif_source) = match &args.dockerfile {
        Some(d) => (Some(d.clone()), Source::Flag("--dockerfile")),
        None => match config_str(file, &t, "output", "dockerfile")? {
            Some(d) => (Some(d), Source::Config("[output] dockerfile".into())),
            None => (None, Source::Default),
        },
    };
    let sarif = match dockerfile {
        None => sarif::Options::default(),
        Some(d) => sarif::Options {
            artifact_uri: repository_path(&d).ok_or_else(|| {
                config_error(
                    file,
                    &format!("the Dockerfile `{d}` is not a path inside the repository"),
                    "give it relative to the repository root, e.g. --dockerfile docker/app.Dockerfile",
                )
            })?,
        },
    };
    Ok(OutputSettings {
        dir,
        dir_source,
        formats,
        formats_source,
        report_only: args.report_only,
        history: args.history.clone(),
        sarif,
        sarif_source,
    })
}

/// A path relative to the repository root as a URI path GitHub accepts (`/` separators, no
/// leading `./`), or `None` for an absolute path, a URL or one that leaves the repository.
fn repository_path(p: &str) -> Option<String> {
    let p = p.trim().replace('\\', "/");
    let p = p.trim_start_matches("./");
    let absolute = p.starts_with('/') || p.contains(':');
    if p.is_empty() || absolute || p.split('/').any(|part| part == "..") {
        return None;
    }
    Some(
        p.split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .map(percent_encode)
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Spaces and the few characters a URI path cannot hold, percent-encoded.
fn percent_encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        match c {
            ' ' | '%' | '#' | '?' | '[' | ']' => {
                let _ = write!(out, "%{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::cfg;

    fn args() -> OutputArgs {
        OutputArgs {
            output_dir: None,
            formats: Vec::new(),
            report_only: false,
            dockerfile: None,
            history: None,
        }
    }

    #[test]
    fn flags_then_config_then_defaults() {
        let d = resolve(&args(), None).unwrap();
        assert_eq!(d.dir, PathBuf::from("qcs-reports"));
        assert_eq!(d.dir_source, Source::Default);
        assert_eq!(d.formats[0].format, Format::Json);
        let c = cfg("[output]\ndir = \"out\"\nformats = [\"json\", \"table=v.txt\"]\n");
        let s = resolve(&args(), Some(&c)).unwrap();
        assert_eq!(s.dir, PathBuf::from("/etc/qcs/out"));
        assert_eq!(s.formats.len(), 2);
        assert_eq!(s.formats_source, Source::Config("[output] formats".into()));
        let a = OutputArgs {
            output_dir: Some("here".into()),
            formats: vec!["table".parse().unwrap()],
            report_only: true,
            dockerfile: None,
            history: None,
        };
        let s = resolve(&a, Some(&c)).unwrap();
        assert_eq!(
            (s.dir, s.formats.len(), s.report_only),
            (PathBuf::from("here"), 1, true)
        );
    }

    #[test]
    fn mistakes_name_the_file_and_key() {
        for text in [
            "[output]\nfolder = \"x\"\n",
            "[output]\nformats = [\"pdf\"]\n",
            "[output]\nformats = \"json\"\n",
            "[output]\nformats = []\n",
            "[output]\ndir = 3\n",
            "[output]\ndockerfile = \"/abs/Dockerfile\"\n",
            "[output]\ndockerfile = \"../Dockerfile\"\n",
        ] {
            let e = resolve(&args(), Some(&cfg(text))).unwrap_err();
            assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::Config, "{text}");
            assert!(e.to_string().contains("/etc/qcs/qcs.toml"), "{text}: {e}");
        }
    }

    #[test]
    fn the_dockerfile_is_a_repository_path_from_the_flag_or_the_config() {
        let s = resolve(&args(), None).unwrap();
        assert_eq!(s.sarif.artifact_uri, "Dockerfile");
        assert_eq!(s.sarif_source, Source::Default);
        let c = cfg("[output]\ndockerfile = \"./docker/app.Dockerfile\"\n");
        let s = resolve(&args(), Some(&c)).unwrap();
        assert_eq!(s.sarif.artifact_uri, "docker/app.Dockerfile");
        assert_eq!(s.sarif_source, Source::Config("[output] dockerfile".into()));
        let a = OutputArgs {
            dockerfile: Some("build\\my app\\Dockerfile".into()),
            ..args()
        };
        let s = resolve(&a, Some(&c)).unwrap();
        assert_eq!(s.sarif.artifact_uri, "build/my%20app/Dockerfile");
        assert_eq!(s.sarif_source, Source::Flag("--dockerfile"));
        for bad in [
            "/abs/Dockerfile",
            "C:\\x\\Dockerfile",
            "https://x/Dockerfile",
            "../x",
            "",
        ] {
            assert_eq!(repository_path(bad), None, "{bad}");
        }
    }
}
