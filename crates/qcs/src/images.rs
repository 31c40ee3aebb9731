//! The images a scan is about: command-line arguments and `--images a,b` (comma lists, each
//! entry trimmed), else the `IMAGE_ID` environment variable (same format, the plugin's
//! fallback). Each must be a 12- or 64-hex image id or an image reference; all bad entries are
//! reported at once, before any engine or network I/O.

use qcs_engine::resolve::ImageInput;

use crate::env::IMAGE_ID;
use crate::error::CliError;
use crate::settings::{EnvLookup, Source};

/// The image inputs, in the order given, each once, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inputs {
    /// Trimmed inputs; an input repeated verbatim is kept once.
    pub(crate) list: Vec<String>,
    /// Arguments/`--images`, or `IMAGE_ID`.
    pub(crate) source: Source,
}

/// Splits comma lists, trims entries and drops empty ones and verbatim repeats.
fn split<'a>(values: impl IntoIterator<Item = &'a str>, into: &mut Vec<String>) {
    for v in values {
        for entry in v.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if !into.iter().any(|seen| seen == entry) {
                into.push(entry.to_owned());
            }
        }
    }
}

/// Collects the inputs; none at all is `Ok` with an empty list (the caller decides).
pub(crate) fn collect(
    args: &[String],
    list: &[String],
    env: EnvLookup<'_>,
) -> Result<Inputs, CliError> {
    let mut out = Vec::new();
    split(args.iter().chain(list).map(String::as_str), &mut out);
    let source = if out.is_empty() {
        if let Some(v) = env(IMAGE_ID) {
            split([v.as_str()], &mut out);
        }
        Source::Env(IMAGE_ID)
    } else if list.is_empty() {
        Source::Arguments
    } else {
        Source::Flag("--images")
    };
    let bad: Vec<String> = out
        .iter()
        .filter_map(|i| ImageInput::parse(i).err().map(|e| e.to_string()))
        .collect();
    if !bad.is_empty() {
        return Err(CliError::BadInputs(
            bad,
            "give 12- or 64-hex image ids or names such as app:1.0, registry/app:1.0 or app@sha256:<digest>",
        ));
    }
    Ok(Inputs { list: out, source })
}

/// The error for a scan without images.
pub(crate) fn none_given() -> CliError {
    CliError::BadInputs(
        vec!["no image to scan".into()],
        "name the images as arguments (qcs scan app:1.0), as --images app:1.0,worker:1.0, or in the IMAGE_ID environment variable",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn arguments_and_comma_lists_trimmed_and_once() {
        let got = collect(
            &["app:1.0".into()],
            &[" worker:2 , app:1.0,,8153d67096bb ".into()],
            &no_env,
        )
        .unwrap();
        assert_eq!(got.list, ["app:1.0", "worker:2", "8153d67096bb"]);
        assert_eq!(got.source, Source::Flag("--images"));
    }

    #[test]
    fn image_id_only_when_nothing_else() {
        let env = |k: &str| (k == IMAGE_ID).then(|| "a:1, b:2".to_owned());
        assert_eq!(collect(&[], &[], &env).unwrap().list, ["a:1", "b:2"]);
        assert_eq!(collect(&["c:3".into()], &[], &env).unwrap().list, ["c:3"]);
        assert!(collect(&[], &[], &no_env).unwrap().list.is_empty());
    }

    #[test]
    fn bad_inputs_are_all_reported() {
        let e = collect(
            &["sha256:xyz".into(), "ok:1".into(), "sha256:12".into()],
            &[],
            &no_env,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("sha256:xyz") && msg.contains("sha256:12"),
            "{msg}"
        );
        assert_eq!(e.exit_code(), qcs_core::exit::ExitCode::Config);
    }
}
