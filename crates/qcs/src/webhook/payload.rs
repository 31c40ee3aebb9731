//! The webhook's JSON body, built from the scan's [`Summary`] without any I/O: the Jenkins
//! plugin's fields (`plugin-behaviour.md` §6: `buildNumber`, `jobName`, `jobUrl`,
//! `buildStatus`, `failReason`, `images`) so that existing receivers keep working, plus a `qcs`
//! object holding the `summary.json` document without each image's `finding_keys` (the identity
//! of every finding, read only by a later run's `--baseline`; it would make the body of a
//! 20,000-finding image a third larger).
//!
//! The plugin's value shapes are kept: lists in `failReason` are comma-joined strings, severity
//! counts are `{"1": n, …, "5": n}` maps, `patchable` is `{"yes": n, "no": n}`.

use std::collections::{BTreeMap, HashMap};

use qcs_core::summary::{
    Conditions, Counts, ImageError, ImageResult, LevelCounts, Outcome, Summary,
};
use serde::{Deserialize, Serialize};

use crate::env;
use crate::settings::EnvLookup;

/// The CI run the scan belongs to, read from the CI system's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CiContext {
    /// `jenkins`, `github`, `gitlab` or `azure`; `None` outside a known CI system.
    pub(crate) system: Option<&'static str>,
    /// The build's number (`buildNumber`).
    pub(crate) build_number: Option<String>,
    /// The job's or workflow's name (`jobName`).
    pub(crate) job_name: Option<String>,
    /// A link to the job or run (`jobUrl`).
    pub(crate) job_url: Option<String>,
}

impl CiContext {
    /// Detects the CI system from its marker variable (`GITHUB_ACTIONS`, `GITLAB_CI`,
    /// `TF_BUILD`, else Jenkins' `JENKINS_URL`/`BUILD_NUMBER`/`JOB_NAME`) and reads its build
    /// number, job name and URL.
    pub(crate) fn detect(env: EnvLookup<'_>) -> Self {
        if env(env::GITHUB_ACTIONS).is_some() {
            let job_url = match (
                env(env::GITHUB_SERVER_URL),
                env(env::GITHUB_REPOSITORY),
                env(env::GITHUB_RUN_ID),
            ) {
                (Some(server), Some(repo), Some(run)) => Some(format!(
                    "{}/{repo}/actions/runs/{run}",
                    server.trim_end_matches('/')
                )),
                _ => None,
            };
            return CiContext {
                system: Some("github"),
                build_number: env(env::GITHUB_RUN_NUMBER),
                job_name: env(env::GITHUB_WORKFLOW),
                job_url,
            };
        }
        if env(env::GITLAB_CI).is_some() {
            return CiContext {
                system: Some("gitlab"),
                build_number: env(env::CI_PIPELINE_IID),
                job_name: env(env::CI_JOB_NAME),
                job_url: env(env::CI_JOB_URL),
            };
        }
        if env(env::TF_BUILD).is_some() {
            let job_url = match (
                env(env::SYSTEM_COLLECTIONURI),
                env(env::SYSTEM_TEAMPROJECT),
                env(env::BUILD_BUILDID),
            ) {
                (Some(org), Some(project), Some(id)) => Some(format!(
                    "{}/{}/_build/results?buildId={id}",
                    org.trim_end_matches('/'),
                    project.replace(' ', "%20")
                )),
                _ => None,
            };
            return CiContext {
                system: Some("azure"),
                build_number: env(env::BUILD_BUILDNUMBER),
                job_name: env(env::BUILD_DEFINITIONNAME),
                job_url,
            };
        }
        let jenkins = env(env::JENKINS_URL).is_some()
            || env(env::BUILD_NUMBER).is_some()
            || env(env::JOB_NAME).is_some();
        if jenkins {
            return CiContext {
                system: Some("jenkins"),
                build_number: env(env::BUILD_NUMBER),
                job_name: env(env::JOB_NAME),
                // The plugin sends JOB_URL; BUILD_URL when a runner sets only that.
                job_url: env(env::JOB_URL).or_else(|| env(env::BUILD_URL)),
            };
        }
        CiContext::default()
    }
}

/// What the raw image details add to the summary (the plugin's `imageSummary` fields); read
/// from `images/<id>.json`, every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageFacts {
    /// Qualys' id of the image.
    #[serde(default)]
    pub(crate) uuid: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub(crate) size: Option<i64>,
    /// Registries, repositories and tags.
    #[serde(default)]
    pub(crate) repo: Option<Vec<RepoTag>>,
    /// The operating system as Qualys names it.
    #[serde(default)]
    pub(crate) operating_system: Option<String>,
    /// Number of layers.
    #[serde(default)]
    pub(crate) layers_count: Option<i64>,
    /// The Docker version that built it.
    #[serde(default)]
    pub(crate) docker_version: Option<String>,
    /// CPU architecture.
    #[serde(default)]
    pub(crate) architecture: Option<String>,
}

/// One `repo` entry, as in the image details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RepoTag {
    /// Registry host.
    pub(crate) registry: Option<String>,
    /// Repository.
    pub(crate) repository: Option<String>,
    /// Tag.
    pub(crate) tag: Option<String>,
}

/// `buildStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum BuildStatus {
    /// Every image passed.
    Success,
    /// An image failed its policy or has no verdict.
    Failed,
}

/// The whole body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payload<'a> {
    /// The CI build number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) build_number: Option<&'a str>,
    /// The CI job name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) job_name: Option<&'a str>,
    /// A link to the CI job or run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) job_url: Option<&'a str>,
    /// `Success` or `Failed`.
    pub(crate) build_status: BuildStatus,
    /// When failed: per image, the failing conditions (configured vs found) or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fail_reason: Option<Vec<FailReason<'a>>>,
    /// Per image: its facts and counts.
    pub(crate) images: Vec<Image<'a>>,
    /// The `summary.json` document, as written, without `finding_keys`.
    pub(crate) qcs: WithoutKeys<'a>,
}

/// A [`Summary`] serialised without each image's `finding_keys`.
#[derive(Debug)]
pub(crate) struct WithoutKeys<'a>(&'a Summary);

impl Serialize for WithoutKeys<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        if let Some(images) = v.get_mut("images").and_then(|i| i.as_array_mut()) {
            for image in images.iter_mut().filter_map(|i| i.as_object_mut()) {
                image.remove("finding_keys");
            }
        }
        v.serialize(s)
    }
}

/// An image in `images`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Image<'a> {
    /// 12-hex image id (null when the image was never resolved).
    #[serde(rename = "imageId")]
    pub(crate) id: Option<&'a str>,
    /// The input as given (not in the plugin's payload).
    pub(crate) input: &'a str,
    /// `passed`, `failed` or `error` (not in the plugin's payload).
    pub(crate) outcome: Outcome,
    /// Qualys' id of the image.
    pub(crate) uuid: Option<&'a str>,
    /// Full sha.
    pub(crate) sha: Option<&'a str>,
    /// Size in bytes.
    pub(crate) size: Option<i64>,
    /// Registries, repositories and tags.
    pub(crate) repo: Option<&'a [RepoTag]>,
    /// Operating system.
    pub(crate) operating_system: Option<&'a str>,
    /// Number of layers.
    pub(crate) layers_count: Option<i64>,
    /// Docker version.
    pub(crate) docker_version: Option<&'a str>,
    /// CPU architecture.
    pub(crate) architecture: Option<&'a str>,
    /// Counts (null without a processed report).
    pub(crate) vulnerabilities: Option<Vulnerabilities>,
}

/// `images[].vulnerabilities`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Vulnerabilities {
    /// All vulnerabilities.
    #[serde(rename = "totalVulnerabilities")]
    pub(crate) total: u32,
    /// Totals by detection type.
    pub(crate) type_detected: TypeDetected,
    /// Counts by level, by detection type.
    pub(crate) severity: BySeverity,
    /// With and without a patch.
    pub(crate) patchable: Patchability,
}

/// `typeDetected`.
#[derive(Debug, Serialize)]
pub(crate) struct TypeDetected {
    /// CONFIRMED vulnerabilities.
    #[serde(rename = "Confirmed")]
    pub(crate) confirmed: u32,
    /// POTENTIAL vulnerabilities.
    #[serde(rename = "Potential")]
    pub(crate) potential: u32,
}

/// `severity`: `{"Potential": {"1": n, …}, "Confirmed": {…}}`.
#[derive(Debug, Serialize)]
pub(crate) struct BySeverity {
    /// POTENTIAL by level.
    #[serde(rename = "Potential")]
    pub(crate) potential: LevelCounts,
    /// CONFIRMED by level.
    #[serde(rename = "Confirmed")]
    pub(crate) confirmed: LevelCounts,
}

/// `patchable`: `{"yes": n, "no": n}`.
#[derive(Debug, Serialize)]
pub(crate) struct Patchability {
    /// With a patch available.
    pub(crate) yes: u32,
    /// Without one.
    pub(crate) no: u32,
}

/// A `failReason` entry: only the conditions that failed, or the error.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FailReason<'a> {
    /// 12-hex image id, else the input as given.
    pub(crate) image_id: &'a str,
    /// Levels over their limit: level → configured limit and count found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) severity: Option<BTreeMap<&'a str, LevelFailure>>,
    /// QIDs found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) qid: Option<ListFailure>,
    /// CVEs found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cve: Option<ListFailure>,
    /// Vulnerabilities at or over the CVSS threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cvss: Option<CvssFailure>,
    /// Packages matching a software filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) software: Option<ListFailure>,
    /// Why the image has no verdict (not in the plugin's payload, which had no such case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<&'a ImageError>,
}

/// A severity level over its limit.
#[derive(Debug, Serialize)]
pub(crate) struct LevelFailure {
    /// The limit.
    pub(crate) configured: Option<u32>,
    /// The count.
    pub(crate) found: u32,
}

/// A list condition that failed, as the plugin wrote it: comma-joined strings.
#[derive(Debug, Serialize)]
pub(crate) struct ListFailure {
    /// The entries configured.
    pub(crate) configured: String,
    /// The entries found.
    pub(crate) found: String,
}

/// The CVSS condition that failed.
#[derive(Debug, Serialize)]
pub(crate) struct CvssFailure {
    /// The threshold.
    pub(crate) configured: Option<f64>,
    /// How many reach it.
    pub(crate) found: u32,
    /// `3`, or `2` for any other version (as the plugin).
    pub(crate) version: u8,
}

/// Builds the body for `summary`; `facts` holds the raw report's fields by full sha.
pub(crate) fn build<'a>(
    summary: &'a Summary,
    facts: &'a HashMap<String, ImageFacts>,
    ci: &'a CiContext,
) -> Payload<'a> {
    let build_status = if summary.outcome == Outcome::Passed {
        BuildStatus::Success
    } else {
        BuildStatus::Failed
    };
    let fail_reason = (build_status == BuildStatus::Failed)
        .then(|| summary.images.iter().map(fail_reason).collect());
    Payload {
        build_number: ci.build_number.as_deref(),
        job_name: ci.job_name.as_deref(),
        job_url: ci.job_url.as_deref(),
        build_status,
        fail_reason,
        images: summary
            .images
            .iter()
            .map(|i| image(i, i.evaluation.sha.as_ref().and_then(|s| facts.get(s))))
            .collect(),
        qcs: WithoutKeys(summary),
    }
}

fn image<'a>(result: &'a ImageResult, facts: Option<&'a ImageFacts>) -> Image<'a> {
    let e = &result.evaluation;
    Image {
        id: e.image_id.as_deref(),
        input: &result.input,
        outcome: e.outcome,
        uuid: facts.and_then(|f| f.uuid.as_deref()),
        sha: e.sha.as_deref(),
        size: facts.and_then(|f| f.size),
        repo: facts.and_then(|f| f.repo.as_deref()),
        operating_system: facts
            .and_then(|f| f.operating_system.as_deref())
            .or(e.operating_system.as_deref()),
        layers_count: facts.and_then(|f| f.layers_count),
        docker_version: facts.and_then(|f| f.docker_version.as_deref()),
        architecture: facts.and_then(|f| f.architecture.as_deref()),
        vulnerabilities: e.counts.as_ref().map(vulnerabilities),
    }
}

fn vulnerabilities(c: &Counts) -> Vulnerabilities {
    Vulnerabilities {
        total: c.total,
        type_detected: TypeDetected {
            confirmed: c.confirmed.0.iter().sum(),
            potential: c.potential.0.iter().sum(),
        },
        severity: BySeverity {
            potential: c.potential,
            confirmed: c.confirmed,
        },
        patchable: Patchability {
            yes: c.patchable,
            no: c.not_patchable,
        },
    }
}

fn join<T: ToString>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

fn fail_reason(result: &ImageResult) -> FailReason<'_> {
    let e = &result.evaluation;
    let mut reason = FailReason {
        image_id: e.image_id.as_deref().unwrap_or(&result.input),
        severity: None,
        qid: None,
        cve: None,
        cvss: None,
        software: None,
        error: e.error.as_ref(),
    };
    let Some(c) = &e.conditions else {
        return reason;
    };
    fill_failures(&mut reason, c);
    reason
}

fn fill_failures<'a>(reason: &mut FailReason<'a>, c: &'a Conditions) {
    if !c.severity.passed {
        let levels: BTreeMap<&str, LevelFailure> = c
            .severity
            .levels
            .iter()
            .filter(|(_, l)| !l.passed)
            .map(|(k, l)| {
                (
                    k.as_str(),
                    LevelFailure {
                        configured: l.limit,
                        found: l.found,
                    },
                )
            })
            .collect();
        reason.severity = (!levels.is_empty()).then_some(levels);
    }
    if !c.qids.passed {
        reason.qid = Some(ListFailure {
            configured: join(&c.qids.list, ","),
            found: join(&c.qids.found, ","),
        });
    }
    if !c.cves.passed {
        reason.cve = Some(ListFailure {
            configured: join(&c.cves.list, ","),
            found: join(&c.cves.found, ","),
        });
    }
    if !c.cvss.passed {
        reason.cvss = Some(CvssFailure {
            configured: c.cvss.score,
            found: c.cvss.found,
            version: if c.cvss.version.as_deref() == Some("3") {
                3
            } else {
                2
            },
        });
    }
    if !c.software.passed {
        reason.software = Some(ListFailure {
            configured: join(&c.software.list, ", "),
            found: join(&c.software.found, ", "),
        });
    }
}

#[cfg(test)]
mod tests {
    use qcs_core::summary::{ErrorKind, Evaluation, SeverityLevel};
    use serde_json::{Value, json};

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// Issue 15: the body carries `summary.json`, which lists a bounded number of findings per
    /// image: for the benchmark's image of 20,000 findings and 3,000 packages judged with every
    /// condition (nearly every finding decides the verdict), `summary.json` stays under 2 MB
    /// and the webhook body under half a MiB.
    #[test]
    fn the_body_for_a_20000_finding_image_stays_well_under_1_mib() {
        use qcs_core::policy::flags::PolicyFlags;
        use qcs_emulator::generate::{ReportSpec, generate};
        let spec = ReportSpec {
            vulnerabilities: 20_000,
            packages: 3_000,
            ..ReportSpec::default()
        };
        let bytes = serde_json::to_vec(&generate(&spec)).expect("serialises");
        let flags = PolicyFlags {
            fail_severity: vec!["5=0,4=10,3=100,2=1000,1=5000".into()],
            fail_qids: vec!["376209,100000-199999,6000000-6099999".into()],
            fail_cves: vec!["CVE-2021-44228,CVE-2022-22965".into()],
            fail_software: vec![".*:log4j-core<2.17.1".into(), "lib.*>=1.0".into()],
            fail_cvss: Some("max:9.0".into()),
            potential: Some(true),
            exclude_qids: vec!["6000123,370000-370100".into()],
            ..PolicyFlags::default()
        };
        let policy = flags.to_raw().validate().0.expect("valid policy");
        let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid time");
        let evaluation = qcs_core::report::stream::evaluate_bytes(&policy, &bytes, now)
            .expect("the generated report is judged");
        assert!(evaluation.findings_deciding > 15_000);
        let sha = evaluation.sha.clone().expect("sha");
        let summary = Summary::new(
            "0.1.0",
            vec![ImageResult {
                input: "acme/payments-api:1.4.2".into(),
                evaluation,
            }],
        );
        let written = qcs_report::json::render(&summary);
        assert!(
            written.len() < 2_000_000,
            "summary.json: {} bytes",
            written.len()
        );
        let facts: ImageFacts = serde_json::from_slice(&bytes).expect("facts");
        let facts = HashMap::from([(sha, facts)]);
        let ci = CiContext {
            system: Some("jenkins"),
            build_number: Some("42".into()),
            job_name: Some("app".into()),
            job_url: None,
        };
        let doc: Value = serde_json::from_slice(&written).expect("JSON");
        assert!(
            doc["images"][0]["finding_keys"].is_object(),
            "summary.json keys every finding"
        );
        let body = serde_json::to_vec(&build(&summary, &facts, &ci)).expect("serialises");
        let v: Value = serde_json::from_slice(&body).expect("JSON");
        assert!(v["qcs"]["images"][0].get("finding_keys").is_none());
        assert_eq!(
            v["qcs"]["images"][0]["findings"].as_array().map(Vec::len),
            Some(500)
        );
        // the figures BENCHMARKS.md quotes (`cargo test -p qcs --bin qcs 20000 -- --nocapture`)
        eprintln!(
            "summary.json: {} bytes; webhook body: {} bytes",
            written.len(),
            body.len()
        );
        assert!(
            body.len() < 512 * 1024,
            "webhook body: {} bytes",
            body.len()
        );
    }

    fn failed_image() -> ImageResult {
        let mut e = Evaluation::error(
            Some(SHA.into()),
            ImageError {
                kind: ErrorKind::Api,
                message: "x".into(),
            },
        );
        e.outcome = Outcome::Failed;
        e.error = None;
        e.counts = Some(Counts {
            confirmed: LevelCounts([1, 2, 3, 4, 5]),
            potential: LevelCounts([0, 0, 1, 0, 0]),
            total: 16,
            patchable: 10,
            not_patchable: 6,
        });
        let mut c = Conditions::default();
        for (k, limit, found) in [("5", Some(0), 5), ("4", Some(9), 4), ("3", None, 3)] {
            c.severity.levels.insert(
                k.into(),
                SeverityLevel {
                    limit,
                    found,
                    passed: limit.is_none_or(|l| found <= l),
                },
            );
        }
        c.severity.configured = true;
        c.severity.passed = false;
        c.qids.passed = true;
        c.cves = qcs_core::summary::CveCondition {
            configured: true,
            passed: false,
            list: vec!["CVE-2021-44228".into(), "CVE-2014-0160".into()],
            found: vec!["CVE-2021-44228".into()],
            excluded: vec![],
        };
        c.cvss.passed = true;
        c.software.passed = true;
        e.conditions = Some(c);
        ImageResult {
            input: "acme/app:1".into(),
            evaluation: e,
        }
    }

    fn ghost() -> ImageResult {
        ImageResult {
            input: "acme/ghost:1".into(),
            evaluation: Evaluation::error(
                None,
                ImageError {
                    kind: ErrorKind::Timeout,
                    message: "no result within 10m".into(),
                },
            ),
        }
    }

    #[test]
    fn the_plugin_fields_and_the_summary() {
        let summary = Summary::new("0.1.0", vec![failed_image(), ghost()]);
        let mut facts = HashMap::new();
        let raw = r#"{"sha":"x","uuid":"u-1","size":1234,"repo":[{"registry":"r.io","repository":"acme/app","tag":"1"}],
            "operatingSystem":"Debian 12","layersCount":7,"dockerVersion":"24.0","architecture":"amd64","vulnerabilities":[]}"#;
        facts.insert(SHA.to_owned(), serde_json::from_str(raw).unwrap());
        let ci = CiContext {
            system: Some("jenkins"),
            build_number: Some("42".into()),
            job_name: Some("app".into()),
            job_url: Some("https://ci/job/app/".into()),
        };
        let v = serde_json::to_value(build(&summary, &facts, &ci)).unwrap();
        assert_eq!(v["buildNumber"], "42");
        assert_eq!(v["jobName"], "app");
        assert_eq!(v["jobUrl"], "https://ci/job/app/");
        assert_eq!(v["buildStatus"], "Failed");
        let img = &v["images"][0];
        assert_eq!(img["imageId"], &SHA[..12]);
        assert_eq!(img["sha"], SHA);
        assert_eq!(img["uuid"], "u-1");
        assert_eq!(img["size"], 1234);
        assert_eq!(img["repo"][0]["repository"], "acme/app");
        assert_eq!(img["operatingSystem"], "Debian 12");
        assert_eq!(img["layersCount"], 7);
        assert_eq!(img["dockerVersion"], "24.0");
        assert_eq!(img["architecture"], "amd64");
        let vulns = &img["vulnerabilities"];
        assert_eq!(vulns["totalVulnerabilities"], 16);
        assert_eq!(
            vulns["typeDetected"],
            json!({"Confirmed": 15, "Potential": 1})
        );
        assert_eq!(vulns["severity"]["Confirmed"]["5"], 5);
        assert_eq!(vulns["severity"]["Potential"]["3"], 1);
        assert_eq!(vulns["patchable"], json!({"yes": 10, "no": 6}));
        assert_eq!(v["images"][1]["imageId"], Value::Null);
        assert_eq!(v["images"][1]["vulnerabilities"], Value::Null);

        let reasons = v["failReason"].as_array().unwrap();
        assert_eq!(
            reasons[0],
            json!({"imageId": &SHA[..12],
                   "severity": {"5": {"configured": 0, "found": 5}},
                   "cve": {"configured": "CVE-2021-44228,CVE-2014-0160", "found": "CVE-2021-44228"}})
        );
        assert_eq!(reasons[1]["imageId"], "acme/ghost:1");
        assert_eq!(reasons[1]["error"]["kind"], "timeout");

        assert_eq!(v["qcs"]["schema_version"], 2);
        assert_eq!(
            v["qcs"]["outcome"], "failed",
            "a policy failure wins over an error"
        );
        assert_eq!(v["qcs"]["images"][0]["input"], "acme/app:1");
    }

    #[test]
    fn a_pass_has_no_fail_reason_and_unknown_ci_fields_are_left_out() {
        let mut img = failed_image();
        img.evaluation.outcome = Outcome::Passed;
        let summary = Summary::new("0.1.0", vec![img]);
        let v =
            serde_json::to_value(build(&summary, &HashMap::new(), &CiContext::default())).unwrap();
        assert_eq!(v["buildStatus"], "Success");
        let o = v.as_object().unwrap();
        for absent in ["failReason", "buildNumber", "jobName", "jobUrl"] {
            assert!(!o.contains_key(absent), "{absent}: {v}");
        }
        assert_eq!(v["images"][0]["uuid"], Value::Null);
    }

    #[test]
    fn each_ci_system_is_read() {
        let gh = CiContext::detect(&env_of(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_NUMBER", "7"),
            ("GITHUB_WORKFLOW", "ci"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_RUN_ID", "99"),
        ]));
        assert_eq!(
            gh,
            CiContext {
                system: Some("github"),
                build_number: Some("7".into()),
                job_name: Some("ci".into()),
                job_url: Some("https://github.com/acme/app/actions/runs/99".into()),
            }
        );
        let gl = CiContext::detect(&env_of(&[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_IID", "12"),
            ("CI_JOB_NAME", "scan"),
            ("CI_JOB_URL", "https://gitlab.example/acme/app/-/jobs/5"),
        ]));
        assert_eq!(gl.system, Some("gitlab"));
        assert_eq!(gl.build_number.as_deref(), Some("12"));
        assert_eq!(
            gl.job_url.as_deref(),
            Some("https://gitlab.example/acme/app/-/jobs/5")
        );
        let az = CiContext::detect(&env_of(&[
            ("TF_BUILD", "True"),
            ("BUILD_BUILDNUMBER", "20261127.3"),
            ("BUILD_DEFINITIONNAME", "app-ci"),
            ("BUILD_BUILDID", "314"),
            ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
            ("SYSTEM_TEAMPROJECT", "My Project"),
        ]));
        assert_eq!(
            az.job_url.as_deref(),
            Some("https://dev.azure.com/acme/My%20Project/_build/results?buildId=314")
        );
        let jk = CiContext::detect(&env_of(&[
            ("BUILD_NUMBER", "3"),
            ("JOB_NAME", "app/main"),
            ("BUILD_URL", "https://jenkins/job/app/3/"),
        ]));
        assert_eq!(jk.system, Some("jenkins"));
        assert_eq!(jk.job_url.as_deref(), Some("https://jenkins/job/app/3/"));
        assert_eq!(CiContext::detect(&env_of(&[])), CiContext::default());
    }
}
