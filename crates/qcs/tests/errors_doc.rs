//! `docs/errors.md` documents every `error.kind` of `summary.json`: each `ErrorKind` variant's
//! serialized name appears there (as `` `name` ``), with the exit code the kind leads to.
//!
//! `ErrorKind` has no iterator, so the variants are listed here; the exhaustive `match` below
//! makes a new variant fail to compile until it is added to the list (and to the document).

use qcs_core::exit::ExitCode;
use qcs_core::summary::ErrorKind;

/// Every variant, once. Keep in step with `covered` below.
const ALL: [ErrorKind; 10] = [
    ErrorKind::Timeout,
    ErrorKind::NotProcessed,
    ErrorKind::ScanFailed,
    ErrorKind::InvalidFinding,
    ErrorKind::Api,
    ErrorKind::Engine,
    ErrorKind::Sensor,
    ErrorKind::Config,
    ErrorKind::Cancelled,
    ErrorKind::Conflict,
];

/// Fails to compile when `ErrorKind` gains a variant: add it to `ALL` and to docs/errors.md.
fn covered(kind: ErrorKind) -> bool {
    match kind {
        ErrorKind::Timeout
        | ErrorKind::NotProcessed
        | ErrorKind::ScanFailed
        | ErrorKind::InvalidFinding
        | ErrorKind::Api
        | ErrorKind::Engine
        | ErrorKind::Sensor
        | ErrorKind::Config
        | ErrorKind::Cancelled
        | ErrorKind::Conflict => ALL.contains(&kind),
    }
}

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The name `summary.json` writes for a kind (`"not_processed"` → `not_processed`).
fn serialized(kind: ErrorKind) -> String {
    let json = serde_json::to_string(&kind).expect("an ErrorKind serializes");
    serde_json::from_str::<String>(&json).expect("an ErrorKind serializes as a string")
}

#[test]
fn every_error_kind_is_documented() {
    let doc = doc();
    let mut names: Vec<String> = Vec::new();
    for kind in ALL {
        assert!(covered(kind));
        let name = serialized(kind);
        assert!(!names.contains(&name), "`{name}` listed twice in ALL");
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/errors.md does not mention the summary.json error kind `{name}`"
        );
        names.push(name);
    }
}

#[test]
fn the_kinds_table_gives_each_kind_its_exit_code() {
    // The summary table of docs/errors.md has one row per kind: `| `name` | <code> | … |`.
    let doc = doc();
    for kind in ALL {
        let name = serialized(kind);
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("docs/errors.md has no table row for `{name}`"));
        let code = row.split('|').nth(2).unwrap_or_default().trim().to_owned();
        let want = match kind.exit_code() {
            ExitCode::NoResult if kind == ErrorKind::Cancelled => "5 (run: 130 / 143)".to_owned(),
            c => c.code().to_string(),
        };
        assert_eq!(code, want, "exit code of `{name}` in docs/errors.md");
    }
}
