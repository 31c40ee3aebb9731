//! Image inputs and what they resolve to: classifying an input (id or reference), normalising the
//! names engines report (`localhost/`, `docker.io/library/`), the scan tag, and de-duplicating
//! inputs that resolve to the same image.

use crate::error::EngineError;

/// The repository the Qualys CI/CD sensor watches: images tagged `qualys_scan_target:<sha>` are scanned.
pub const SCAN_REPO: &str = "qualys_scan_target";

/// An image as the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The input as the user gave it (trimmed).
    pub input: String,
    /// The image id: 64 lowercase hex digits, without `sha256:`.
    pub sha: String,
    /// The image's names (`repo:tag`) as the engine reports them.
    pub repo_tags: Vec<String>,
}

impl ResolvedImage {
    /// The first 12 hex digits of the id (the short id the reports use).
    pub fn short_id(&self) -> &str {
        self.sha.get(..12).unwrap_or(&self.sha)
    }

    /// The reference this image is tagged with for the sensor: `qualys_scan_target:<sha>`.
    pub fn scan_tag(&self) -> String {
        scan_tag(&self.sha)
    }
}

/// `qualys_scan_target:<sha>`.
pub fn scan_tag(sha: &str) -> String {
    format!("{SCAN_REPO}:{sha}")
}

/// What kind of image input this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageInput {
    /// A 12- to 64-hex image id (lowercase), with any `sha256:` prefix removed.
    Id(String),
    /// A name: `name`, `name:tag`, `registry/name:tag` or `name@sha256:<digest>`.
    Reference(String),
}

impl ImageInput {
    /// Classifies an input. Hex strings of 12 to 64 digits (optionally `sha256:`-prefixed) are ids;
    /// anything else without whitespace is a reference.
    pub fn parse(input: &str) -> Result<Self, EngineError> {
        let invalid = |reason: &str| EngineError::InvalidImage {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(invalid("it is empty"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it contains whitespace"));
        }
        let bare = s.strip_prefix("sha256:").unwrap_or(s);
        if (12..=64).contains(&bare.len()) && bare.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(Self::Id(bare.to_ascii_lowercase()));
        }
        if s.starts_with("sha256:") {
            return Err(invalid("an id after sha256: must be 12 to 64 hex digits"));
        }
        Ok(Self::Reference(s.to_owned()))
    }
}

/// Whether `s` is a full image id: 64 hex digits.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Strips `sha256:` from an engine's id and checks it is 64 hex digits (lowercased).
pub fn sha_from_id(id: &str) -> Option<String> {
    let bare = id.strip_prefix("sha256:").unwrap_or(id);
    is_full_id(bare).then(|| bare.to_ascii_lowercase())
}

/// A name as Docker would write it: without `docker.io/library/`, `docker.io/`,
/// `index.docker.io/library/` or Podman's `localhost/`.
pub fn normalize_name(name: &str) -> &str {
    for prefix in [
        "docker.io/library/",
        "index.docker.io/library/",
        "docker.io/",
        "index.docker.io/",
        "localhost/",
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest;
        }
    }
    name
}

/// Whether `names` (as an engine reports them) contain `wanted`, ignoring registry prefixes that
/// engines add (`localhost/`, `docker.io/library/`).
pub fn names_contain(names: &[String], wanted: &str) -> bool {
    let wanted = normalize_name(wanted);
    names.iter().any(|n| normalize_name(n) == wanted)
}

/// Images after de-duplication: one entry per image id, with every input that resolved to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueImage {
    /// The image id (64 hex).
    pub sha: String,
    /// Every input that resolved to this image, in the order given.
    pub inputs: Vec<String>,
    /// The image's names, from the first resolution.
    pub repo_tags: Vec<String>,
}

impl UniqueImage {
    /// The image as resolved from its first input, for [`Engine::tag`](crate::Engine::tag).
    pub fn first(&self) -> ResolvedImage {
        ResolvedImage {
            input: self.inputs.first().cloned().unwrap_or_default(),
            sha: self.sha.clone(),
            repo_tags: self.repo_tags.clone(),
        }
    }
}

/// Groups resolved images by id, keeping first-seen order; inputs that resolve to an image seen
/// before are added to its `inputs` (the original's "has same image Id … processing it only once").
pub fn dedupe(images: impl IntoIterator<Item = ResolvedImage>) -> Vec<UniqueImage> {
    let mut out: Vec<UniqueImage> = Vec::new();
    for image in images {
        if let Some(seen) = out.iter_mut().find(|u| u.sha == image.sha) {
            seen.inputs.push(image.input);
        } else {
            out.push(UniqueImage {
                sha: image.sha,
                inputs: vec![image.input],
                repo_tags: image.repo_tags,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "8153d67096bbe83ed5c4f8c793b4f44bfd80ec99ac2098e6af455d12c50911c4";

    #[test]
    fn inputs_are_classified() {
        assert_eq!(
            ImageInput::parse("8153D67096BB").unwrap(),
            ImageInput::Id("8153d67096bb".into())
        );
        assert_eq!(
            ImageInput::parse(&format!("sha256:{SHA}")).unwrap(),
            ImageInput::Id(SHA.into())
        );
        for r in [
            "app:1.0",
            "registry.example.com:5000/team/app:2",
            "app@sha256:d0e42c3693ee6a8f8d9fc93477c3d1a55a7d35294ea908562c0ab13e3889d63d",
            "deadbeef",
        ] {
            assert_eq!(
                ImageInput::parse(&format!(" {r} ")).unwrap(),
                ImageInput::Reference(r.into())
            );
        }
        for bad in ["", "  ", "a b", "sha256:xyz"] {
            let e = ImageInput::parse(bad).unwrap_err();
            assert!(matches!(e, EngineError::InvalidImage { .. }));
            assert_eq!(e.exit_code().code(), 2);
        }
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(
            normalize_name("localhost/qualys_scan_target:x"),
            "qualys_scan_target:x"
        );
        assert_eq!(normalize_name("docker.io/library/alpine:3"), "alpine:3");
        assert_eq!(normalize_name("docker.io/team/app:3"), "team/app:3");
        assert_eq!(normalize_name("quay.io/team/app:3"), "quay.io/team/app:3");
        let names = vec!["docker.io/library/qualys_scan_target:abc".to_owned()];
        assert!(names_contain(&names, "qualys_scan_target:abc"));
        assert!(names_contain(&names, "localhost/qualys_scan_target:abc"));
        assert!(!names_contain(&names, "qualys_scan_target:abd"));
    }

    #[test]
    fn ids_are_checked() {
        assert_eq!(sha_from_id(&format!("sha256:{SHA}")).as_deref(), Some(SHA));
        assert_eq!(sha_from_id("sha256:1234"), None);
        assert_eq!(scan_tag(SHA), format!("qualys_scan_target:{SHA}"));
    }

    #[test]
    fn same_image_is_processed_once_and_all_inputs_are_kept() {
        let r = |input: &str, sha: &str| ResolvedImage {
            input: input.into(),
            sha: sha.into(),
            repo_tags: vec![],
        };
        let other = "0".repeat(64);
        let u = dedupe([r("app:1", SHA), r("other", &other), r("8153d67096bb", SHA)]);
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].inputs, vec!["app:1", "8153d67096bb"]);
        assert_eq!(u[1].inputs, vec!["other"]);
        assert_eq!(u[0].first().input, "app:1");
        assert_eq!(u[0].first().short_id(), "8153d67096bb");
    }
}
