//! What a test takes from this machine: a path in the repository, a temp dir with a short path,
//! a free port on loopback.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// `rel` in the repository (the workspace root).
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Every file under `root` (the repository's root, as the caller spells it) for which `keep` is
/// true, sorted. Build output,
/// version control, dependencies and reports (`target`, `.git`, `node_modules`, `qcs-reports`)
/// are never entered, nor the directories named in `skip`.
///
/// # Panics
/// When a directory cannot be read: the test cannot do its job then.
pub fn repo_files(root: &Path, skip: &[&str], keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, skip: &[&str], keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
                .path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                let ours = !matches!(&*name, "target" | ".git" | "node_modules" | "qcs-reports");
                if ours && !skip.contains(&&*name) {
                    walk(&path, skip, keep, out);
                }
            } else if keep(&path) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, skip, &keep, &mut out);
    out.sort();
    out
}

/// A temp dir named `<prefix>XXXXXX` under `/tmp` (elsewhere than unix, the usual temp dir): a
/// short path, for the unix sockets made in it (their paths are limited to 108 bytes), whatever
/// `TMPDIR` says. Removed when dropped.
///
/// # Panics
/// When the temp dir cannot be made.
pub fn short_tempdir(prefix: &str) -> tempfile::TempDir {
    let base = if cfg!(unix) {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .unwrap_or_else(|e| panic!("a temp dir in {}: {e}", base.display()))
}

/// A free TCP port on 127.0.0.1, for a tool that needs its port given (taken from the kernel
/// and released at once).
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("a free port on 127.0.0.1: {e}"))
        .port()
}
