//! Shared by the library and binary vector tests: where the vectors are, and how an
//! evaluation is compared with the original's `expected.json` (`vectors/README.md`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use qcs_core::summary::{Conditions, Counts, Outcome};
use serde_json::Value;

/// The vectors directory: `QCS_VECTORS_DIR`, else `../shared/vectors` beside the repository.
pub(crate) fn vectors_dir() -> PathBuf {
    std::env::var_os("QCS_VECTORS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    )
}

/// The ids (`0000`...) of every vector, sorted.
pub(crate) fn vector_ids() -> Vec<String> {
    let dir = vectors_dir();
    let mut ids: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read vectors at {}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".criteria.json").map(str::to_owned)
        })
        .collect();
    ids.sort();
    ids
}

/// The original writes found lists as comma-separated text (possibly repeating entries).
fn set_of(v: &Value) -> BTreeSet<String> {
    v.as_str()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Every point where our result disagrees with the original's, as readable lines.
pub(crate) fn compare(
    id: &str,
    expected: &Value,
    outcome: Outcome,
    c: &Conditions,
    counts: &Counts,
) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |what: &str, ok: bool, detail: String| {
        if !ok {
            bad.push(format!("{id}: {what}: {detail}"));
        }
    };
    let pass = expected["pass"].as_bool().expect("pass is a boolean");
    check(
        "pass",
        pass == (outcome == Outcome::Passed),
        format!("expected {pass}, got {outcome:?}"),
    );

    for (key, ours) in [
        ("qids", c.qids.passed),
        ("cveIds", c.cves.passed),
        ("cvss", c.cvss.passed),
        ("software", c.software.passed),
    ] {
        let want = expected[key]["result"]
            .as_bool()
            .expect("result is a boolean");
        check(
            &format!("{key}.result"),
            want == ours,
            format!("expected {want}, got {ours}"),
        );
    }
    for level in ["1", "2", "3", "4", "5"] {
        let e = &expected["severities"][level];
        let ours = c.severity.levels[level];
        let want = e["result"].as_bool().expect("severity result");
        check(
            &format!("severities.{level}.result"),
            want == ours.passed,
            format!("expected {want}"),
        );
        let found = count(&e["found"]);
        check(
            &format!("severities.{level}.found"),
            found == u64::from(ours.found),
            format!("expected {found}, got {}", ours.found),
        );
    }
    let qids: BTreeSet<String> = c.qids.found.iter().map(ToString::to_string).collect();
    let want = set_of(&expected["qids"]["found"]);
    check(
        "qids.found",
        want == qids,
        format!("expected {want:?}, got {qids:?}"),
    );
    let cves: BTreeSet<String> = c.cves.found.iter().cloned().collect();
    let want = set_of(&expected["cveIds"]["found"]);
    check(
        "cveIds.found",
        want == cves,
        format!("expected {want:?}, got {cves:?}"),
    );
    let sw: BTreeSet<String> = c.software.found.iter().cloned().collect();
    let want = set_of(&expected["software"]["found"]);
    check(
        "software.found",
        want == sw,
        format!("expected {want:?}, got {sw:?}"),
    );
    let want = count(&expected["cvss"]["found"]);
    check(
        "cvss.found",
        want == u64::from(c.cvss.found),
        format!("expected {want}, got {}", c.cvss.found),
    );

    for level in 0..5 {
        let key = (level + 1).to_string();
        let want = count(&expected["confirmedVulnsBySev"][&key]);
        check(
            "confirmedVulnsBySev",
            want == u64::from(counts.confirmed.0[level]),
            key.clone(),
        );
        let want = count(&expected["potentialVulnsBySev"][&key]);
        check(
            "potentialVulnsBySev",
            want == u64::from(counts.potential.0[level]),
            key,
        );
    }
    check(
        "patchability.yes",
        count(&expected["patchability"]["yes"]) == u64::from(counts.patchable),
        String::new(),
    );
    check(
        "patchability.no",
        count(&expected["patchability"]["no"]) == u64::from(counts.not_patchable),
        String::new(),
    );
    check(
        "totalVulnerabilities",
        count(&expected["totalVulnerabilities"]) == u64::from(counts.total),
        String::new(),
    );
    bad
}
