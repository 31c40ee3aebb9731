//! Every environment variable `qcs` reads, in one place (documented in the README).

/// A tracing filter for log output, e.g. `qcs=trace`.
pub(crate) const QCS_LOG: &str = "QCS_LOG";
/// The config file to read when `--config` is not given.
pub(crate) const QCS_CONFIG: &str = "QCS_CONFIG";
/// Set (to anything) to turn colours off.
pub(crate) const NO_COLOR: &str = "NO_COLOR";
/// Images per list call while waiting (`[wait] batch`; 1 = one image per call).
pub(crate) const QCS_WAIT_BATCH: &str = "QCS_WAIT_BATCH";

/// Qualys platform code (US1…KSA1, or the plugin's `US_PLATFORM_2` style).
pub(crate) const QUALYS_PLATFORM: &str = "QUALYS_PLATFORM";
/// Qualys API or portal URL, mapped to the gateway.
pub(crate) const QUALYS_API_URL: &str = "QUALYS_API_URL";
/// Qualys gateway URL, used as is.
pub(crate) const QUALYS_GATEWAY_URL: &str = "QUALYS_GATEWAY_URL";
/// `basic` or `oauth`.
pub(crate) const QUALYS_AUTH: &str = "QUALYS_AUTH";
/// Extra trust anchors (PEM) for the Qualys API.
pub(crate) const QUALYS_CA_BUNDLE: &str = "QUALYS_CA_BUNDLE";
/// Qualys user (basic auth).
pub(crate) const QUALYS_USERNAME: &str = "QUALYS_USERNAME";
/// A file holding the Qualys user.
pub(crate) const QUALYS_USERNAME_FILE: &str = "QUALYS_USERNAME_FILE";
/// Qualys password (basic auth).
pub(crate) const QUALYS_PASSWORD: &str = "QUALYS_PASSWORD";
/// A file holding the Qualys password.
pub(crate) const QUALYS_PASSWORD_FILE: &str = "QUALYS_PASSWORD_FILE";
/// OAuth client id.
pub(crate) const QUALYS_CLIENT_ID: &str = "QUALYS_CLIENT_ID";
/// A file holding the OAuth client id.
pub(crate) const QUALYS_CLIENT_ID_FILE: &str = "QUALYS_CLIENT_ID_FILE";
/// OAuth client secret.
pub(crate) const QUALYS_CLIENT_SECRET: &str = "QUALYS_CLIENT_SECRET";
/// A file holding the OAuth client secret.
pub(crate) const QUALYS_CLIENT_SECRET_FILE: &str = "QUALYS_CLIENT_SECRET_FILE";
/// Proxy user.
pub(crate) const QCS_PROXY_USERNAME: &str = "QCS_PROXY_USERNAME";
/// A file holding the proxy user.
pub(crate) const QCS_PROXY_USERNAME_FILE: &str = "QCS_PROXY_USERNAME_FILE";
/// Proxy password.
pub(crate) const QCS_PROXY_PASSWORD: &str = "QCS_PROXY_PASSWORD";
/// A file holding the proxy password.
pub(crate) const QCS_PROXY_PASSWORD_FILE: &str = "QCS_PROXY_PASSWORD_FILE";
/// Proxy for https:// gateways (may carry `user:password@`).
pub(crate) const HTTPS_PROXY: &str = "HTTPS_PROXY";
/// Lower-case form of [`HTTPS_PROXY`].
pub(crate) const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// Proxy for http:// gateways.
pub(crate) const HTTP_PROXY: &str = "HTTP_PROXY";
/// Lower-case form of [`HTTP_PROXY`].
pub(crate) const HTTP_PROXY_LOWER: &str = "http_proxy";
/// Proxy for any scheme, when the scheme's own is unset.
pub(crate) const ALL_PROXY: &str = "ALL_PROXY";
/// Lower-case form of [`ALL_PROXY`].
pub(crate) const ALL_PROXY_LOWER: &str = "all_proxy";
/// Hosts that bypass the proxy.
pub(crate) const NO_PROXY: &str = "NO_PROXY";
/// Lower-case form of [`NO_PROXY`].
pub(crate) const NO_PROXY_LOWER: &str = "no_proxy";

/// The webhook URL `qcs scan` posts the outcome to (a secret: it often embeds a token); the
/// default of `[webhook] url-env`.
pub(crate) const QCS_WEBHOOK_URL: &str = "QCS_WEBHOOK_URL";
/// A file holding the webhook URL (the `_FILE` form of whichever variable `url-env` names).
pub(crate) const QCS_WEBHOOK_URL_FILE: &str = "QCS_WEBHOOK_URL_FILE";
/// The key that signs the webhook body (HMAC-SHA256, header `X-Qcs-Signature-256`).
pub(crate) const QCS_WEBHOOK_SECRET: &str = "QCS_WEBHOOK_SECRET";
/// A file holding the webhook signing key.
pub(crate) const QCS_WEBHOOK_SECRET_FILE: &str = "QCS_WEBHOOK_SECRET_FILE";

/// Jenkins' home directory: where `qcs migrate jenkins` finds the plugin's global configuration
/// (and `credentials.xml`) when `--global` is not given.
pub(crate) const JENKINS_HOME: &str = "JENKINS_HOME";
/// Jenkins: set on every build (detects Jenkins).
pub(crate) const JENKINS_URL: &str = "JENKINS_URL";
/// Jenkins: the build number (webhook `buildNumber`).
pub(crate) const BUILD_NUMBER: &str = "BUILD_NUMBER";
/// Jenkins: the job name (webhook `jobName`).
pub(crate) const JOB_NAME: &str = "JOB_NAME";
/// Jenkins: the job's URL (webhook `jobUrl`, as the plugin).
pub(crate) const JOB_URL: &str = "JOB_URL";
/// Jenkins: the build's URL (webhook `jobUrl` when `JOB_URL` is unset).
pub(crate) const BUILD_URL: &str = "BUILD_URL";
/// GitHub Actions: `true` in a workflow run.
pub(crate) const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// GitHub Actions: the run number (webhook `buildNumber`).
pub(crate) const GITHUB_RUN_NUMBER: &str = "GITHUB_RUN_NUMBER";
/// GitHub Actions: the workflow's name (webhook `jobName`).
pub(crate) const GITHUB_WORKFLOW: &str = "GITHUB_WORKFLOW";
/// GitHub Actions: e.g. `https://github.com` (part of webhook `jobUrl`).
pub(crate) const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
/// GitHub Actions: `owner/repo` (part of webhook `jobUrl`).
pub(crate) const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
/// GitHub Actions: the run id (part of webhook `jobUrl`).
pub(crate) const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
/// GitLab CI: `true` in a job.
pub(crate) const GITLAB_CI: &str = "GITLAB_CI";
/// GitLab CI: the pipeline's number in the project (webhook `buildNumber`).
pub(crate) const CI_PIPELINE_IID: &str = "CI_PIPELINE_IID";
/// GitLab CI: the job's name (webhook `jobName`).
pub(crate) const CI_JOB_NAME: &str = "CI_JOB_NAME";
/// GitLab CI: the job's URL (webhook `jobUrl`).
pub(crate) const CI_JOB_URL: &str = "CI_JOB_URL";
/// Azure Pipelines: `True` in a run.
pub(crate) const TF_BUILD: &str = "TF_BUILD";
/// Azure Pipelines: the run's number (webhook `buildNumber`).
pub(crate) const BUILD_BUILDNUMBER: &str = "BUILD_BUILDNUMBER";
/// Azure Pipelines: the pipeline's name (webhook `jobName`).
pub(crate) const BUILD_DEFINITIONNAME: &str = "BUILD_DEFINITIONNAME";
/// Azure Pipelines: the run's id (part of webhook `jobUrl`).
pub(crate) const BUILD_BUILDID: &str = "BUILD_BUILDID";
/// Azure Pipelines: the organisation's URL (part of webhook `jobUrl`).
pub(crate) const SYSTEM_COLLECTIONURI: &str = "SYSTEM_COLLECTIONURI";
/// Azure Pipelines: the project's name (part of webhook `jobUrl`).
pub(crate) const SYSTEM_TEAMPROJECT: &str = "SYSTEM_TEAMPROJECT";

/// Images to scan when none are given on the command line (comma-separated, as the plugin).
pub(crate) const IMAGE_ID: &str = "IMAGE_ID";
/// The container engine URL (Docker's variable).
pub(crate) const DOCKER_HOST: &str = qcs_engine::config::ENV_DOCKER_HOST;
/// The engine's TLS directory: `ca.pem`, `cert.pem`, `key.pem` (Docker's variable).
pub(crate) const DOCKER_CERT_PATH: &str = qcs_engine::config::ENV_DOCKER_CERT_PATH;
/// Use TLS with `$HOME/.docker` when `DOCKER_CERT_PATH` is unset (Docker's variable).
pub(crate) const DOCKER_TLS_VERIFY: &str = qcs_engine::config::ENV_DOCKER_TLS_VERIFY;

/// Every variable above, for documentation tests.
#[cfg(test)]
pub(crate) const ALL: &[&str] = &[
    QCS_LOG,
    QCS_CONFIG,
    NO_COLOR,
    QCS_WAIT_BATCH,
    QUALYS_PLATFORM,
    QUALYS_API_URL,
    QUALYS_GATEWAY_URL,
    QUALYS_AUTH,
    QUALYS_CA_BUNDLE,
    QUALYS_USERNAME,
    QUALYS_USERNAME_FILE,
    QUALYS_PASSWORD,
    QUALYS_PASSWORD_FILE,
    QUALYS_CLIENT_ID,
    QUALYS_CLIENT_ID_FILE,
    QUALYS_CLIENT_SECRET,
    QUALYS_CLIENT_SECRET_FILE,
    QCS_PROXY_USERNAME,
    QCS_PROXY_USERNAME_FILE,
    QCS_PROXY_PASSWORD,
    QCS_PROXY_PASSWORD_FILE,
    HTTPS_PROXY,
    HTTPS_PROXY_LOWER,
    HTTP_PROXY,
    HTTP_PROXY_LOWER,
    ALL_PROXY,
    ALL_PROXY_LOWER,
    NO_PROXY,
    NO_PROXY_LOWER,
    QCS_WEBHOOK_URL,
    QCS_WEBHOOK_URL_FILE,
    QCS_WEBHOOK_SECRET,
    QCS_WEBHOOK_SECRET_FILE,
    JENKINS_URL,
    JENKINS_HOME,
    BUILD_NUMBER,
    JOB_NAME,
    JOB_URL,
    BUILD_URL,
    GITHUB_ACTIONS,
    GITHUB_RUN_NUMBER,
    GITHUB_WORKFLOW,
    GITHUB_SERVER_URL,
    GITHUB_REPOSITORY,
    GITHUB_RUN_ID,
    GITLAB_CI,
    CI_PIPELINE_IID,
    CI_JOB_NAME,
    CI_JOB_URL,
    TF_BUILD,
    BUILD_BUILDNUMBER,
    BUILD_DEFINITIONNAME,
    BUILD_BUILDID,
    SYSTEM_COLLECTIONURI,
    SYSTEM_TEAMPROJECT,
    IMAGE_ID,
    DOCKER_HOST,
    DOCKER_CERT_PATH,
    DOCKER_TLS_VERIFY,
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_variable_is_documented_in_the_readme() {
        let readme = include_str!("../../../README.md");
        for v in super::ALL {
            assert!(readme.contains(v), "README.md does not mention {v}");
        }
    }
}
