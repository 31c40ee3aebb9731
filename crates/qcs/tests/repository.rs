//! One place names the repository the releases come from: `repository` in the workspace's
//! `Cargo.toml`. Every document, integration, script and workflow that names a GitHub repository
//! or container image of qcs names that one, and no placeholder (`<org>`, `OWNER`) is left.

// A failed read in the walk is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `owner/name` from `[workspace.package] repository` (`https://github.com/owner/name`).
fn repository() -> String {
    let manifest: toml::Table = fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let url = manifest["workspace"]["package"]["repository"]
        .as_str()
        .unwrap()
        .to_owned();
    let repo = url
        .strip_prefix("https://github.com/")
        .unwrap_or_else(|| panic!("repository {url} is not a https://github.com/ URL"));
    assert_eq!(
        repo.split('/').filter(|p| !p.is_empty()).count(),
        2,
        "repository {url} is not https://github.com/<owner>/<name>"
    );
    repo.trim_end_matches('/').to_owned()
}

/// The files people read or run: docs, integrations, scripts, workflows, sources and manifests.
/// Build output, dependencies and containerd's vendored protos (their `github.com/containerd`
/// import paths are containerd's) are not ours.
fn files() -> Vec<PathBuf> {
    qcs_test_support::local::repo_files(&root(), &["dist", "proto"], |path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "yml" | "yaml" | "sh" | "bash" | "groovy" | "toml" | "rs" | "json")
        ) || matches!(&*name, "Containerfile" | "Dockerfile" | "run")
    })
}

#[test]
fn every_file_names_the_one_repository_and_no_placeholder_is_left() {
    let repo = repository();
    let all = files();
    assert!(
        all.iter().any(|p| p.ends_with("README.md")),
        "the walk found no README.md under {}",
        root().display()
    );
    // Where a repository of qcs is named: a GitHub URL, an Action reference, a container image.
    let named = Regex::new(
        r"(?:github\.com/|ghcr\.io/|uses:\s*)([A-Za-z0-9_.<>-]+/qcs)\b|(<org>|<owner>|OWNER/qcs)",
    )
    .unwrap();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for path in &all {
        // This file spells out the placeholders it looks for.
        if path.ends_with("crates/qcs/tests/repository.rs") {
            continue;
        }
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            for c in named.captures_iter(line) {
                match c.get(1) {
                    Some(m) if m.as_str() == repo => seen += 1,
                    Some(m) => wrong.push(format!(
                        "{}:{}: names {} instead of {repo}",
                        path.display(),
                        n + 1,
                        m.as_str()
                    )),
                    None => wrong.push(format!(
                        "{}:{}: placeholder {}",
                        path.display(),
                        n + 1,
                        &c[2]
                    )),
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the repository is {repo} (Cargo.toml [workspace.package] repository):\n{}",
        wrong.join("\n")
    );
    // The README and the integrations do name it (a link nobody can follow is no way in).
    assert!(seen > 0, "no file names {repo}");
}

#[test]
fn the_readme_names_the_repository_for_installing() {
    let repo = repository();
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    for needle in [
        format!("https://github.com/{repo}/releases"),
        format!("ghcr.io/{repo}"),
        format!("cargo install --locked --git https://github.com/{repo}"),
    ] {
        assert!(readme.contains(&needle), "README.md does not say {needle}");
    }
}
