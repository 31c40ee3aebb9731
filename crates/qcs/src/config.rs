//! Finding the config file (`--config PATH`, else `QCS_CONFIG`, else `./qcs.toml` if present)
//! and the policy it holds: a `[policy]` table, or `policy = "path"` naming a policy file
//! (relative to the config file's directory).

use std::path::{Path, PathBuf};

use crate::env::QCS_CONFIG;
use crate::error::CliError;

/// A config file as read.
#[derive(Debug)]
pub(crate) struct ConfigFile {
    /// Where it was found.
    pub(crate) path: PathBuf,
    /// Its text.
    pub(crate) text: String,
}

/// Where the config's policy is.
#[derive(Debug)]
pub(crate) enum ConfigPolicy {
    /// No policy in the config.
    None,
    /// A `[policy]` table in the config itself.
    Table,
    /// `policy = "path"`: a separate policy file.
    File(PathBuf),
}

/// Reads the config file, if any: an explicitly named one must exist; `./qcs.toml` is optional.
pub(crate) fn locate(explicit: Option<&Path>) -> Result<Option<ConfigFile>, CliError> {
    let named = explicit.map(Path::to_path_buf).or_else(|| {
        std::env::var_os(QCS_CONFIG)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let path = match named {
        Some(p) => p,
        None => {
            let p = PathBuf::from("qcs.toml");
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let text = read_text(&path, "config file")?;
    Ok(Some(ConfigFile { path, text }))
}

/// Reads a UTF-8 text file, naming it in the error.
pub(crate) fn read_text(path: &Path, what: &'static str) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

impl ConfigFile {
    /// Where this config keeps its policy. A config that is not valid TOML is reported when the
    /// policy table is read (with its position), so it counts as having a table here.
    pub(crate) fn policy(&self) -> Result<ConfigPolicy, CliError> {
        let Ok(doc) = toml::from_str::<toml::Table>(&self.text) else {
            return Ok(ConfigPolicy::Table);
        };
        match doc.get("policy") {
            None => Ok(ConfigPolicy::None),
            Some(toml::Value::Table(_)) => Ok(ConfigPolicy::Table),
            Some(toml::Value::String(p)) => {
                let base = self.path.parent().unwrap_or_else(|| Path::new(""));
                Ok(ConfigPolicy::File(base.join(p)))
            }
            Some(other) => Err(CliError::BadInputs(
                vec![format!(
                    "config `{}`: `policy` is a {}, neither a table nor a file name",
                    self.path.display(),
                    other.type_str()
                )],
                "write policy = \"qcs-policy.toml\", or a [policy] table with [policy.fail]",
            )),
        }
    }
}
