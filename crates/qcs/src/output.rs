//! Writing the requested outputs, the raw image details of each scanned image, and the verdict
//! table on stderr.
//!
//! Outputs are never stale and never half-written:
//!
//! - [`prepare`] runs before any engine or network I/O: it refuses two formats writing the same
//!   file (or both writing to standard output), checks that every destination can be written (a
//!   path under a file, a path that is a directory, a read-only directory: exit 2 at once; a
//!   directory still to be created is checked at its nearest existing parent, and created only
//!   when something is written), and removes what `qcs` owns there from an earlier run: the
//!   default file of every format, the requested format paths, `images/<12-hex id>.json` (for
//!   `qcs scan`) and temporary files a killed run left behind. Nothing else is touched.
//! - Every file is written to a temporary name in its own directory (created new, so never
//!   through a link) and renamed into place. A symbolic link at a destination is replaced by
//!   the file: the link itself, never its target.
//! - The files of one run are committed together: when one cannot be written, none is, and the
//!   run exits 2 with no report rather than a partial or contradicting set.
//! - A destination that is a device, a pipe or a socket (`--format table=/dev/null`,
//!   `json=/dev/stderr`, a named pipe), followed through links, is a stream, not a file: it is
//!   never removed or replaced, and is written into directly after the files are in place.

use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use qcs_core::summary::Summary;
use qcs_report::format::Destination;
use qcs_report::{Format, gitlab, html, json, junit, markdown, plugin, sarif, table};

use crate::error::CliError;
use crate::settings::output::OutputSettings;

/// The marker in the name of a temporary file (`.<name>.qcs-tmp-<pid>-<n>`).
const TMP_MARK: &str = ".qcs-tmp-";

/// What `--format plugin` needs beyond the summary: where each image's raw image details are
/// (parallel to `summary.images`; `None` for an image without a report), and whether the policy
/// judged POTENTIAL vulnerabilities (`potentialVulnsChecked`).
#[derive(Debug, Clone, Default)]
pub(crate) struct PluginSources {
    /// Per image of the summary, in order: the raw report's path.
    pub(crate) reports: Vec<Option<PathBuf>>,
    /// The plugin format's options.
    pub(crate) options: plugin::Options,
}

impl PluginSources {
    /// `qcs scan`: the raw reports it saved in `<dir>/images/<12-hex id>.json`.
    pub(crate) fn saved_in(summary: &Summary, dir: &Path, potential_checked: bool) -> Self {
        let reports = summary
            .images
            .iter()
            .map(|img| {
                let short = img.evaluation.sha.as_deref()?.get(..12)?;
                Some(dir.join("images").join(format!("{short}.json")))
            })
            .collect();
        PluginSources {
            reports,
            options: plugin::Options { potential_checked },
        }
    }
}

/// Whether `path` is, through any links, something other than a regular file or a directory: a
/// character or block device, a named pipe or a socket. Such a destination is written into
/// directly; removing or renaming over it (as root, `/dev/null`) would destroy it.
fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| {
        let t = m.file_type();
        !t.is_file() && !t.is_dir()
    })
}

/// Checks the destinations and clears what an earlier run left (see the module documentation).
/// `raw_images`: `qcs scan`, which saves `images/<id>.json` (checked and cleared too). `keep`:
/// paths never removed (the reports `qcs evaluate` reads).
pub(crate) fn prepare(
    settings: &OutputSettings,
    raw_images: bool,
    keep: &[PathBuf],
) -> Result<(), CliError> {
    let dir = &settings.dir;
    let write_err = |what: &str, path: &Path, source| CliError::Write {
        what: what.to_owned(),
        path: path.to_owned(),
        source,
    };
    let files: Vec<(String, PathBuf)> = settings
        .formats
        .iter()
        .filter_map(|spec| match spec.destination(dir) {
            Destination::File(path) if !is_stream(&path) => Some((spec.format.to_string(), path)),
            Destination::File(_) | Destination::Stdout => None,
        })
        .collect();

    // First what an earlier run left goes, so that no stale verdict survives a check below
    // failing: every format's default file, the requested paths, the raw reports, and
    // temporary files of a run that was killed while writing.
    let mut owned = owned_in(dir, raw_images);
    owned.extend(files.iter().map(|(_, p)| p.clone()));
    for spec in settings
        .formats
        .iter()
        .filter(|s| s.format == Format::Plugin)
    {
        if let Destination::File(summary) = spec.destination(dir) {
            owned.extend(leftovers(&parent_of(&summary), owned_name));
        }
    }
    remove_owned(owned, keep)?;

    check_destinations(settings)?;
    // Each directory written in is checked; none is created here (a run that ends before
    // writing leaves no empty directory behind).
    let mut checked: Vec<PathBuf> = Vec::new();
    for (what, path) in &files {
        let parent = parent_of(path);
        if !checked.contains(&parent) {
            check_dir(&parent).map_err(|e| write_err(what, path, e))?;
            checked.push(parent);
        }
    }
    if raw_images {
        let images = dir.join("images");
        check_dir(&images).map_err(|e| write_err("the image details", &images, e))?;
    }
    for (what, path) in &files {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(write_err(
                what,
                path,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory"),
            ));
        }
    }
    Ok(())
}

/// For a run that fails before its output settings are known (a broken config file, a bad
/// policy flag): what an earlier run left in the output directory known without them (the
/// `--output-dir` flag, else the default) is removed before the error is returned, so that the
/// failed run leaves no stale verdict behind. A failure to remove is logged, never hides `err`.
pub(crate) fn clear_before_error(
    flag_dir: Option<&Path>,
    raw_images: bool,
    keep: &[PathBuf],
    err: CliError,
) -> CliError {
    let dir = flag_dir.map_or_else(
        || PathBuf::from(crate::settings::output::DEFAULT_DIR),
        Path::to_path_buf,
    );
    if let Err(e) = remove_owned(owned_in(&dir, raw_images), keep) {
        tracing::debug!("leaving an earlier run's output: {e}");
    }
    err
}

/// What `qcs` owns in `dir`: every format's default file, temporary files of a run that was
/// killed while writing, and (for `qcs scan`) the raw reports in `images/`.
fn owned_in(dir: &Path, raw_images: bool) -> Vec<PathBuf> {
    let mut owned: Vec<PathBuf> = Format::ALL
        .iter()
        .filter_map(|f| f.default_file())
        .map(|name| dir.join(name))
        .collect();
    owned.extend(leftovers(dir, owned_name));
    if raw_images {
        owned.extend(leftovers(&dir.join("images"), |name| {
            name.contains(TMP_MARK) || is_raw_report_name(name)
        }));
    }
    owned
}

/// Removes each of `owned` that is a file or a link (the link itself, never its target), but
/// never one of `keep` (the reports `qcs evaluate` reads), nor a stream (a device, a pipe, a
/// socket, or a link to one: see [`is_stream`]).
fn remove_owned(owned: Vec<PathBuf>, keep: &[PathBuf]) -> Result<(), CliError> {
    let keep: Vec<PathBuf> = keep.iter().map(|p| absolute(p)).collect();
    for path in owned {
        if keep.contains(&absolute(&path)) || is_stream(&path) {
            continue;
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if !m.is_dir() => {
                tracing::debug!(path = %path.display(), "removing an earlier run's output");
                std::fs::remove_file(&path).map_err(|source| CliError::Write {
                    what: "an earlier run's output".to_owned(),
                    path: path.clone(),
                    source,
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Two formats writing the same file, or two writing to standard output: a usage error.
pub(crate) fn check_destinations(settings: &OutputSettings) -> Result<(), CliError> {
    let mut seen: Vec<(Format, Option<PathBuf>)> = Vec::new();
    for spec in &settings.formats {
        if spec.format == Format::Plugin && spec.destination(&settings.dir) == Destination::Stdout {
            return Err(CliError::Usage(
                "the plugin format writes several files (qualys_images_summary.json and \
                 qualys_<id>.json per image), so it cannot go to standard output"
                    .to_owned(),
                "leave the path out (the output directory), or give a directory: --format plugin=DIR"
                    .to_owned(),
            ));
        }
        let dest = match spec.destination(&settings.dir) {
            Destination::Stdout => None,
            Destination::File(p) => Some(absolute(&p)),
        };
        if let Some((other, _)) = seen.iter().find(|(_, d)| *d == dest) {
            let (message, hint) = match &dest {
                None if *other == spec.format => (
                    format!("the format {other} is asked for twice, both on standard output"),
                    "give --format once per format".to_owned(),
                ),
                None => (
                    format!("the formats {other} and {} both write to standard output", spec.format),
                    format!(
                        "give one of them a file, e.g. --format {}={}",
                        spec.format,
                        spec.format.default_file().unwrap_or("verdict.txt")
                    ),
                ),
                Some(p) => (
                    format!(
                        "the formats {other} and {} both write `{}`",
                        spec.format,
                        p.display()
                    ),
                    "give each format its own path (--format FORMAT=PATH), or leave the path out for the format's default file"
                        .to_owned(),
                ),
            };
            return Err(CliError::Usage(message, hint));
        }
        seen.push((spec.format, dest));
    }
    Ok(())
}

/// Writes every requested format and prints the verdict table on stderr unless quiet: the
/// files are staged under temporary names, then renamed into place together; standard output
/// comes last. `plugin` says where the raw reports are, for `--format plugin`.
pub(crate) fn write_all(
    summary: &Summary,
    settings: &OutputSettings,
    plugin: &PluginSources,
    quiet: bool,
) -> Result<(), CliError> {
    let mut staged: Vec<(PathBuf, PathBuf, String)> = Vec::new();
    let mut streams: Vec<(PathBuf, Format)> = Vec::new();
    let discard = |staged: &[(PathBuf, PathBuf, String)]| {
        for (tmp, _, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for spec in &settings.formats {
        if let Destination::File(path) = spec.destination(&settings.dir) {
            let what = spec.format.to_string();
            if spec.format != Format::Plugin && is_stream(&path) {
                streams.push((path, spec.format));
                continue;
            }
            if spec.format == Format::Plugin {
                if let Err(e) = stage_plugin(summary, &path, plugin, &mut staged) {
                    discard(&staged);
                    return Err(e);
                }
                continue;
            }
            let staging = std::fs::create_dir_all(parent_of(&path))
                .and_then(|()| stage(&path, |out| render(summary, spec.format, settings, out)));
            match staging {
                Ok(tmp) => staged.push((tmp, path, what)),
                Err(source) => {
                    discard(&staged);
                    return Err(CliError::Write { what, path, source });
                }
            }
        }
    }
    let mut committed: Vec<PathBuf> = Vec::new();
    for (n, (tmp, path, what)) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(tmp, path) {
            // None or all: what is already in place goes too.
            discard(&staged[n..]);
            for p in &committed {
                let _ = std::fs::remove_file(p);
            }
            return Err(CliError::Write {
                what: what.clone(),
                path: path.clone(),
                source,
            });
        }
        committed.push(path.clone());
    }
    for (path, format) in &streams {
        // Opened for writing as it is: never created, truncated, removed or replaced.
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|file| render(summary, *format, settings, BufWriter::new(file)))
            .map_err(|source| CliError::Write {
                what: format.to_string(),
                path: path.clone(),
                source,
            })?;
    }
    for spec in &settings.formats {
        if spec.destination(&settings.dir) == Destination::Stdout {
            let out = std::io::stdout().lock();
            render(summary, spec.format, settings, out).map_err(|source| CliError::Write {
                what: spec.format.to_string(),
                path: PathBuf::from("-"),
                source,
            })?;
        }
    }
    if !quiet {
        let text = table::render(
            summary,
            table::Style {
                color: crate::diagnostics::stderr_color(),
            },
        );
        let _ = anstream::stderr().lock().write_all(text.as_bytes());
    }
    Ok(())
}

/// Stages the plugin format: `summary_path` (`qualys_images_summary.json`) and, beside it,
/// `qualys_<12-hex id>.json` per judged image, a byte-for-byte copy of its raw report. The
/// reports are read one at a time (only one is held in memory).
fn stage_plugin(
    summary: &Summary,
    summary_path: &Path,
    sources: &PluginSources,
    staged: &mut Vec<(PathBuf, PathBuf, String)>,
) -> Result<(), CliError> {
    let dir = parent_of(summary_path);
    let what = Format::Plugin.to_string();
    let err = |path: &Path, source| CliError::Write {
        what: what.clone(),
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(|e| err(&dir, e))?;
    let mut copies: Vec<(PathBuf, PathBuf, String)> = Vec::new();
    let staging = stage(summary_path, |out| {
        let mut writer = plugin::SummaryWriter::new(out, sources.options)?;
        for (img, report) in summary.images.iter().zip(&sources.reports) {
            let (Some(report), Some(id)) = (report, plugin::image_key(img)) else {
                continue;
            };
            if !writer.wants(img) {
                continue;
            }
            let bytes = std::fs::read(report).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot read the image details `{}` it copies: {e}",
                        report.display()
                    ),
                )
            })?;
            writer.add(img, &bytes)?;
            let copy = dir.join(plugin::image_file_name(id));
            let tmp = stage(&copy, |o| o.write_all(&bytes))?;
            copies.push((tmp, copy, what.clone()));
        }
        writer.finish().map(drop)
    });
    match staging {
        Ok(tmp) => {
            staged.extend(copies);
            staged.push((tmp, summary_path.to_owned(), what.clone()));
            Ok(())
        }
        Err(source) => {
            for (tmp, _, _) in &copies {
                let _ = std::fs::remove_file(tmp);
            }
            Err(err(summary_path, source))
        }
    }
}

/// Saves an image's details as received from the API to `<dir>/images/<12-hex id>.json`
/// (written to a temporary name, then renamed); returns the path.
pub(crate) fn save_raw(dir: &Path, sha: &str, bytes: &[u8]) -> Result<PathBuf, CliError> {
    let short = sha.get(..12).unwrap_or(sha);
    let images = dir.join("images");
    let path = images.join(format!("{short}.json"));
    let err = |source| CliError::Write {
        what: format!("the image details of {short}"),
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&images).map_err(err)?;
    let tmp = stage(&path, |out| out.write_all(bytes)).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })?;
    Ok(path)
}

/// Writes a new temporary file next to `path` with `write` and returns its name. The file is
/// created new (`O_EXCL`: never through a link) and flushed to disk.
fn stage(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let tmp = parent_of(path).join(format!(
        ".{name}{TMP_MARK}{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let result = (|| {
        let mut out = BufWriter::new(&file);
        write(&mut out)?;
        out.flush()?;
        drop(out);
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Whether files can be written in `dir`: a temporary file is created and removed there, or,
/// when `dir` does not exist yet, in its nearest existing parent (which must be a directory).
fn check_dir(dir: &Path) -> std::io::Result<()> {
    let mut at = dir.to_owned();
    loop {
        match std::fs::metadata(&at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!("`{}` is not a directory", at.display()),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !at.pop() || at.as_os_str().is_empty() {
                    at = PathBuf::from(".");
                    break;
                }
            }
            Err(e) => return Err(e),
        }
    }
    let tmp = stage(&at.join("probe"), |_| Ok(()))?;
    std::fs::remove_file(tmp)
}

/// The directory a file is written in (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The entries of `dir` whose names `owned` accepts (none when it cannot be read).
fn leftovers(dir: &Path, owned: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_str().is_some_and(&owned))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// What `qcs` owns among the files of an output directory: temporary files of a killed run and
/// the plugin format's `qualys_<12 hex>.json`.
fn owned_name(name: &str) -> bool {
    name.contains(TMP_MARK) || plugin::is_image_file_name(name)
}

/// `<12 hex>.json`, the name [`save_raw`] gives.
fn is_raw_report_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The path made absolute against the working directory, `.` and `..` resolved lexically (so
/// `out/./summary.json` and `out/summary.json` are one destination).
fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// Writes one format into `out` and flushes it.
fn render(
    summary: &Summary,
    format: Format,
    settings: &OutputSettings,
    mut out: impl Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(summary, &mut out)?,
        Format::Table => {
            out.write_all(table::render(summary, table::Style { color: false }).as_bytes())?;
        }
        Format::Sarif => sarif::write(summary, &settings.sarif, &mut out)?,
        Format::Junit => junit::write(summary, &mut out)?,
        Format::Gitlab => gitlab::write(summary, &mut out)?,
        Format::Markdown => markdown::write(summary, &mut out)?,
        Format::Html => html::write(summary, &mut out)?,
        // Written by `stage_plugin` (several files, never standard output).
        Format::Plugin => {}
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_report_names_and_lexical_paths() {
        assert!(is_raw_report_name("0123456789ab.json"));
        assert!(!is_raw_report_name("notes.json"));
        assert!(!is_raw_report_name("0123456789ab.json.bak"));
        assert_eq!(
            absolute(Path::new("/a/./b/../c/summary.json")),
            PathBuf::from("/a/c/summary.json")
        );
    }
}
