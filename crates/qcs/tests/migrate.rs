//! `qcs migrate jenkins` (issue 13): a sample of what a Jenkins holds, written for these tests
//! from the documented field list (`plugin-behaviour.md` §3: every field of the global
//! configuration, an encrypted `Secret` for `proxyPassword`, a freestyle job's step, a pipeline
//! job's script, a Jenkinsfile), is turned into `qcs.toml` and `qcs-policy.toml` by the real
//! binary; `qcs policy check` and `qcs scan --print-config` accept the files with the expected
//! values; every setting says where it came from; the table lists what needs a look; no secret
//! appears anywhere.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::qcs;

/// The encrypted `Secret`s and the webhook URLs of the samples: none may appear in any output.
const SECRETS: &[&str] = &[
    "AQAAABAAAAAQq7Mh3c0XGpZ3bT4l0x9PXnd0b3JkLXNlY3JldA",
    "AQAAABAAAAAQapipassapipassapipass0000",
    "AQAAABAAAAAQ1234567890abcdefghijklmnop",
    "hooks.example.com",
    "SECRETTOKEN",
    "svc-proxy",
];

const GLOBAL: &str = r"<?xml version='1.1' encoding='UTF-8'?>
<com.qualys.plugins.containerSecurity.config.QualysGlobalConfig plugin='qualys-cs@1.8.0.5'>
  <apiServer>https://qualysapi.qg3.apps.qualys.com</apiServer>
  <platform>US_PLATFORM_2</platform>
  <credentialsId>qualys-api</credentialsId>
  <pollingInterval>20</pollingInterval>
  <vulnsTimeout>15*60</vulnsTimeout>
  <isFailOnSevereVulns>true</isFailOnSevereVulns>
  <severity1Limit>0</severity1Limit>
  <severity2Limit>0</severity2Limit>
  <severity3Limit>10</severity3Limit>
  <severity4Limit>2</severity4Limit>
  <severity5Limit>0</severity5Limit>
  <isSev1Vulns>false</isSev1Vulns>
  <isSev2Vulns>false</isSev2Vulns>
  <isSev3Vulns>false</isSev3Vulns>
  <isSev4Vulns>true</isSev4Vulns>
  <isSev5Vulns>true</isSev5Vulns>
  <proxyServer>proxy.corp.example</proxyServer>
  <proxyPort>3128</proxyPort>
  <proxyCredentialsId>corp-proxy</proxyCredentialsId>
  <proxyUsername>svc-proxy</proxyUsername>
  <proxyPassword>{AQAAABAAAAAQq7Mh3c0XGpZ3bT4l0x9PXnd0b3JkLXNlY3JldA==}</proxyPassword>
  <useProxy>true</useProxy>
  <excludeBy>qid</excludeBy>
  <isExcludeConditions>true</isExcludeConditions>
  <excludeList>179203,100-200</excludeList>
  <isFailOnQidFound>true</isFailOnQidFound>
  <qidList>376209,370000-370100</qidList>
  <isFailOnCVEs>true</isFailOnCVEs>
  <cveList>CVE-2021-44228,CVE-2022-22965</cveList>
  <isFailOnSoftware>true</isFailOnSoftware>
  <softwareList>openssl=1\.1\..*, .*:log4j-core&lt;2.17.1</softwareList>
  <isPotentialVulnsToBeChecked>false</isPotentialVulnsToBeChecked>
  <webhookUrl>https://hooks.example.com/services/T000/B000/SECRETTOKEN</webhookUrl>
  <dockerUrl>unix:///var/run/docker.sock</dockerUrl>
  <dockerCert>/etc/docker/certs</dockerCert>
  <cvssVersion>maxOfv2andv3</cvssVersion>
  <cvssThreshold>9.0</cvssThreshold>
  <failByCvss>true</failByCvss>
</com.qualys.plugins.containerSecurity.config.QualysGlobalConfig>
";

const CREDENTIALS: &str = r"<?xml version='1.1' encoding='UTF-8'?>
<com.cloudbees.plugins.credentials.SystemCredentialsProvider plugin='credentials@1311'>
  <domainCredentialsMap class='hudson.util.CopyOnWriteMap$Hash'>
    <entry>
      <com.cloudbees.plugins.credentials.domains.Domain><specifications/></com.cloudbees.plugins.credentials.domains.Domain>
      <java.util.concurrent.CopyOnWriteArrayList>
        <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
          <scope>GLOBAL</scope>
          <id>qualys-api</id>
          <username>qualys-user</username>
          <password>{AQAAABAAAAAQ1234567890abcdefghijklmnop==}</password>
        </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
        <com.qualys.plugins.containerSecurity.util.OAuthCredential plugin='qualys-cs@1.8.0.5'>
          <scope>GLOBAL</scope>
          <id>qualys-oauth</id>
          <clientId>client-1</clientId>
          <clientSecret>{AQAAABAAAAAQ1234567890abcdefghijklmnop==}</clientSecret>
        </com.qualys.plugins.containerSecurity.util.OAuthCredential>
      </java.util.concurrent.CopyOnWriteArrayList>
    </entry>
  </domainCredentialsMap>
</com.cloudbees.plugins.credentials.SystemCredentialsProvider>
";

/// A freestyle job with the step's own settings (`useLocalConfig`), as the form saves them.
const FREESTYLE: &str = r"<?xml version='1.1' encoding='UTF-8'?>
<project>
  <builders>
    <hudson.tasks.Shell><command>docker build -t acme/app:1.0 .</command></hudson.tasks.Shell>
  </builders>
  <publishers>
    <com.qualys.plugins.containerSecurity.GetImageVulnsNotifier plugin='qualys-cs@1.8.0.5'>
      <platform>PCP</platform>
      <apiServer>https://qualysapi.private.example.com</apiServer>
      <apiUser>scanner</apiUser>
      <apiPass>{AQAAABAAAAAQapipassapipassapipass0000==}</apiPass>
      <imageIds>acme/app:1.0, acme/worker:1.0</imageIds>
      <pollingInterval>60</pollingInterval>
      <vulnsTimeout>1200</vulnsTimeout>
      <isFailOnSevereVulns>true</isFailOnSevereVulns>
      <severity1Limit>0</severity1Limit>
      <severity2Limit>0</severity2Limit>
      <severity3Limit>0</severity3Limit>
      <severity4Limit>0</severity4Limit>
      <severity5Limit>0</severity5Limit>
      <isSev1Vulns>false</isSev1Vulns>
      <isSev2Vulns>false</isSev2Vulns>
      <isSev3Vulns>false</isSev3Vulns>
      <isSev4Vulns>false</isSev4Vulns>
      <isSev5Vulns>true</isSev5Vulns>
      <proxyPort>0</proxyPort>
      <useProxy>false</useProxy>
      <excludeList>CVE-2018-2771</excludeList>
      <excludeBy>cve</excludeBy>
      <isExcludeConditions>true</isExcludeConditions>
      <isFailOnQidFound>false</isFailOnQidFound>
      <qidList>12345</qidList>
      <isFailOnCVEs>false</isFailOnCVEs>
      <isFailOnSoftware>false</isFailOnSoftware>
      <isPotentialVulnsToBeChecked>true</isPotentialVulnsToBeChecked>
      <useLocalConfig>true</useLocalConfig>
      <useGlobalConfig>false</useGlobalConfig>
      <failByCvss>true</failByCvss>
      <cvssVersion>2</cvssVersion>
      <cvssThreshold>0.0</cvssThreshold>
      <dockerUrl>/usr/local/bin/nerdctl</dockerUrl>
    </com.qualys.plugins.containerSecurity.GetImageVulnsNotifier>
  </publishers>
</project>
";

/// A pipeline job whose script (XML-escaped, as Jenkins saves it) uses the global settings.
const PIPELINE: &str = r"<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin='workflow-job@1400'>
  <definition class='org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition' plugin='workflow-cps@3894'>
    <script>pipeline {
  agent any
  stages {
    stage(&apos;Scan&apos;) {
      steps {
        getImageVulnsFromQualys useGlobalConfig: true, imageIds: &apos;acme/api:2.0&apos;, isSev5Vulns: true, severity5Limit: 3
      }
    }
  }
}</script>
    <sandbox>true</sandbox>
  </definition>
</flow-definition>
";

const JENKINSFILE: &str = r#"pipeline {
  agent { label 'docker' }
  stages {
    stage('Qualys scan') {
      steps {
        getImageVulnsFromQualys(
          useLocalConfig: true,
          platform: 'EU_PLATFORM_1',
          credentialsId: 'qualys-oauth',
          imageIds: "${env.IMAGE}",
          pollingInterval: '30',
          vulnsTimeout: '10*60',
          isSev5Vulns: true, severity5Limit: 0,
          isFailOnSoftware: true, softwareList: 'busybox',
          failByCvss: true, cvssThreshold: '7.5',
          isExcludeConditions: true, excludeList: '179203',
          webhookUrl: 'https://hooks.example.com/T0/SECRETTOKEN2')
      }
    }
  }
}
"#;

/// A Jenkins home with the global configuration, `credentials.xml` and two jobs, and a
/// Jenkinsfile beside it.
struct Jenkins {
    dir: tempfile::TempDir,
}

impl Jenkins {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        for (rel, text) in [
            (
                "com.qualys.plugins.containerSecurity.config.QualysGlobalConfig.xml",
                GLOBAL,
            ),
            ("credentials.xml", CREDENTIALS),
            ("jobs/app/config.xml", FREESTYLE),
            ("jobs/api/config.xml", PIPELINE),
        ] {
            let p = home.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::write(dir.path().join("Jenkinsfile"), JENKINSFILE).unwrap();
        Jenkins { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn job(&self, name: &str) -> PathBuf {
        self.home().join("jobs").join(name).join("config.xml")
    }

    fn jenkinsfile(&self) -> PathBuf {
        self.dir.path().join("Jenkinsfile")
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Runs `qcs migrate jenkins ARGS` with `JENKINS_HOME` set: exit code, stdout, stderr.
fn migrate(j: &Jenkins, args: &[&str]) -> (Option<i32>, String, String) {
    let o = qcs()
        .env("JENKINS_HOME", j.home())
        .args(["migrate", "jenkins"])
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows the secret {s}:\n{text}");
    }
}

/// `qcs policy check FILE`: exit 0 and stdout.
fn policy_check(file: &Path) -> String {
    let o = qcs().args(["policy", "check"]).arg(file).output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{}: {out}{err}", file.display());
    assert!(out.contains("valid (0 warnings)"), "{out}{err}");
    out
}

/// `qcs scan --print-config` in `dir` (where `qcs.toml` is), with basic credentials set.
fn print_config(dir: &Path) -> String {
    let o = qcs()
        .current_dir(dir)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CERT_PATH")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env("QUALYS_USERNAME", "ci-user")
        .env("QUALYS_PASSWORD", "Pw-Migrate-3b1")
        .args(["scan", "--print-config"])
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    out
}

/// The line of `text` that starts (after spaces) with `key`.
fn line<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("no `{key}` line in:\n{text}"))
}

#[test]
fn the_global_configuration_becomes_files_qcs_accepts() {
    let j = Jenkins::new();
    let out = j.out("global");
    // --global defaults to the file in $JENKINS_HOME
    let (code, stdout, stderr) = migrate(&j, &["--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    no_secret("stdout", &stdout);
    no_secret("stderr", &stderr);
    let config = read(&out.join("qcs.toml"));
    let policy = read(&out.join("qcs-policy.toml"));
    no_secret("qcs.toml", &config);
    no_secret("qcs-policy.toml", &policy);

    // a comment per setting says where it came from
    for (comment, setting) in [
        (
            "# from QualysGlobalConfig.xml <platform> (US_PLATFORM_2)",
            "platform = \"US2\"",
        ),
        ("# from credentialsId", ""),
        (
            "# from QualysGlobalConfig.xml <proxyPort>",
            "url = \"http://proxy.corp.example:3128\"",
        ),
        (
            "# from QualysGlobalConfig.xml <dockerCert>",
            "cert-dir = \"/etc/docker/certs\"",
        ),
        (
            "# from QualysGlobalConfig.xml <vulnsTimeout> (15*60 s)",
            "timeout = \"15m\"",
        ),
        ("# from QualysGlobalConfig.xml <webhookUrl>", ""),
    ] {
        if comment == "# from credentialsId" {
            assert!(
                config.contains("# from QualysGlobalConfig.xml <credentialsId>: a username/password credential (credentials.xml)\nauth = \"basic\""),
                "{config}"
            );
            continue;
        }
        let pos = config
            .find(comment)
            .unwrap_or_else(|| panic!("{comment}:\n{config}"));
        assert!(config[pos..].contains(setting), "{setting}:\n{config}");
    }
    assert!(config.contains("url-env = \"QCS_WEBHOOK_URL\""), "{config}");
    assert!(!config.contains("api-url"), "the platform wins:\n{config}");
    for comment in [
        "# from QualysGlobalConfig.xml <isSev5Vulns> and <severity5Limit>",
        "# from QualysGlobalConfig.xml <qidList> with <isFailOnQidFound>",
        "# from QualysGlobalConfig.xml <cvssThreshold>",
        "# from QualysGlobalConfig.xml <excludeList>, excludeBy qid",
    ] {
        assert!(policy.contains(comment), "{comment}:\n{policy}");
    }

    // the table: setting | value | becomes | note, for what needs a look
    let header = line(&stdout, "setting ");
    assert!(
        header.contains("| value") && header.contains("| becomes") && header.contains("| note"),
        "{stdout}"
    );
    for (setting, value) in [
        (
            "QualysGlobalConfig.xml <apiServer>",
            "https://qualysapi.qg3.apps.qualys.com",
        ),
        ("QualysGlobalConfig.xml <pollingInterval>", "20"),
        (
            "QualysGlobalConfig.xml <softwareList>",
            ".*:log4j-core<2.17.1",
        ),
    ] {
        let l = line(&stdout, setting);
        assert!(l.contains(value), "{l}");
    }
    // the secrets, as instructions
    for (setting, shown, var) in [
        ("<credentialsId>", "qualys-api", "QUALYS_USERNAME"),
        ("<proxyCredentialsId>", "corp-proxy", "QCS_PROXY_USERNAME"),
        ("<proxyPassword>", "(encrypted)", "QCS_PROXY_PASSWORD"),
        ("<webhookUrl>", "(set)", "QCS_WEBHOOK_URL"),
    ] {
        let l = line(&stdout, &format!("- QualysGlobalConfig.xml {setting}"));
        assert!(l.contains(&format!("= {shown}:")) && l.contains(var), "{l}");
    }

    let checked = policy_check(&out.join("qcs-policy.toml"));
    for expected in [
        "more than 0 of severity 5, more than 2 of severity 4",
        "QIDs 376209, 370000-370100",
        "CVEs CVE-2021-44228, CVE-2022-22965",
        "installed software matching openssl=1\\.1\\..*",
        "installed software matching .*:log4j-core<2.17.1",
        "CVSS vmax base score >= 9.0",
        "judges: confirmed vulnerabilities",
        "excludes: QID 179203",
        "excludes: QID 100-200",
    ] {
        assert!(checked.contains(expected), "{expected}:\n{checked}");
    }
    policy_check(&out.join("qcs.toml"));

    let resolved = print_config(&out);
    for (key, value) in [
        ("config file", "qcs.toml"),
        (
            "gateway",
            "https://gateway.qg2.apps.qualys.com (from the platform code, platform US2) (from config [qualys] platform)",
        ),
        ("auth", "basic (from config [qualys] auth)"),
        (
            "url ",
            "http://proxy.corp.example:3128 (from config [proxy] url)",
        ),
        (
            "host",
            "unix:///var/run/docker.sock (from config [engine] host)",
        ),
        (
            "cert-dir",
            "/etc/docker/certs (from config [engine] cert-dir)",
        ),
        ("timeout ", "15m (from config [wait] timeout)"),
        ("interval", "30s (from config [wait] interval)"),
        ("url-env", "QCS_WEBHOOK_URL (from config [webhook] url-env)"),
        ("from ", "qcs-policy.toml (config qcs.toml policy)"),
        ("CVSS", "CVSS vmax base score >= 9.0"),
    ] {
        let l = line(&resolved, key);
        assert!(l.contains(value), "{key}: {l}\n{resolved}");
    }
    no_secret("--print-config", &resolved);
}

#[test]
fn a_freestyle_job_uses_its_own_settings_and_prints_its_steps() {
    let j = Jenkins::new();
    let out = j.out("app");
    let job = j.job("app");
    let (code, stdout, stderr) = migrate(
        &j,
        &[
            "--job",
            job.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    no_secret("stdout", &stdout);
    let config = read(&out.join("qcs.toml"));
    let policy = read(&out.join("qcs-policy.toml"));
    no_secret("qcs.toml", &config);
    // PCP: the job's apiServer; its nerdctl path; no cert directory (the job has its own URL)
    assert!(
        config.contains("# from job config.xml <apiServer>\n"),
        "{config}"
    );
    assert!(config.contains("api-url = \"https://qualysapi.private.example.com\""));
    assert!(
        config.contains("host = \"nerdctl:///usr/local/bin/nerdctl\""),
        "{config}"
    );
    assert!(!config.contains("cert-dir"), "{config}");
    assert!(!config.contains("[proxy]"), "useProxy is false:\n{config}");
    // the webhook falls back to the global one
    assert!(
        config.contains("# from QualysGlobalConfig.xml <webhookUrl>"),
        "{config}"
    );
    assert!(policy.contains("severity = { 5 = 0 }"), "{policy}");
    assert!(
        policy.contains("cvss = { version = \"2\", score = 0.0 }"),
        "{policy}"
    );
    assert!(policy.contains("potential = true"), "{policy}");
    assert!(policy.contains("cve = \"CVE-2018-2771\""), "{policy}");
    assert!(
        !policy.contains("qids"),
        "isFailOnQidFound is false:\n{policy}"
    );
    assert!(line(&stdout, "job config.xml <qidList>").contains("isFailOnQidFound is not true"));
    assert!(
        line(&stdout, "- job config.xml <apiUser/apiPass>").contains("(encrypted)"),
        "{stdout}"
    );

    // the freestyle equivalent: Execute shell, JUnit and HTML Publisher
    for expected in [
        "Freestyle job `app`",
        "Build > Add build step > Execute shell",
        "qcs scan --format json --format junit --format html acme/app:1.0 acme/worker:1.0",
        "Publish JUnit test result report",
        "Test report XMLs: qcs-reports/junit.xml",
        "Publish HTML reports",
        "HTML directory to archive: qcs-reports; Index page[s]: report.html",
        "Secret text: credential <Secret text credential holding the webhook URL>, variable QCS_WEBHOOK_URL",
    ] {
        assert!(stdout.contains(expected), "{expected}:\n{stdout}");
    }

    policy_check(&out.join("qcs-policy.toml"));
    let resolved = print_config(&out);
    for (key, value) in [
        (
            "gateway",
            "https://qualysgateway.private.example.com (mapped from the API URL) (from config [qualys] api-url)",
        ),
        (
            "host",
            "nerdctl:///usr/local/bin/nerdctl (from config [engine] host)",
        ),
        ("timeout ", "20m (from config [wait] timeout)"),
        ("interval", "1m (from config [wait] interval)"),
        ("judges", "confirmed and potential vulnerabilities"),
        ("excludes", "CVE-2018-2771"),
    ] {
        assert!(line(&resolved, key).contains(value), "{key}:\n{resolved}");
    }
}

#[test]
fn a_pipeline_job_and_a_jenkinsfile_each_get_their_files() {
    let j = Jenkins::new();
    let out = j.out("many");
    let (api, file) = (j.job("api"), j.jenkinsfile());
    let (code, stdout, stderr) = migrate(
        &j,
        &[
            "--job",
            api.to_str().unwrap(),
            "--job",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    no_secret("stdout", &stdout);

    // the pipeline job uses the global settings: only its images come from the job
    let config = read(&out.join("api/qcs.toml"));
    let policy = read(&out.join("api/qcs-policy.toml"));
    assert!(config.contains("platform = \"US2\""), "{config}");
    assert!(policy.contains("severity = { 5 = 0, 4 = 2 }"), "{policy}");
    let row = line(&stdout, "pipeline job `api` useLocalConfig");
    assert!(
        row.contains("isSev5Vulns, severity5Limit are ignored"),
        "{row}"
    );
    assert!(stdout.contains("Pipeline `api`"), "{stdout}");
    assert!(
        stdout.contains("sh 'qcs scan --format json --format junit --format html acme/api:2.0'")
    );
    policy_check(&out.join("api/qcs-policy.toml"));
    print_config(&out.join("api"));

    // the Jenkinsfile: its own settings, an OAuth credential, comments with its lines
    let config = read(&out.join("Jenkinsfile/qcs.toml"));
    let policy = read(&out.join("Jenkinsfile/qcs-policy.toml"));
    no_secret("qcs.toml", &config);
    no_secret("qcs-policy.toml", &policy);
    assert!(
        config.contains("# from Jenkinsfile:8 platform (EU_PLATFORM_1)\nplatform = \"EU1\""),
        "{config}"
    );
    assert!(config.contains("auth = \"oauth\""), "{config}");
    assert!(
        config.contains("# from Jenkinsfile:12 vulnsTimeout (10*60 s)\ntimeout = \"10m\""),
        "{config}"
    );
    assert!(
        policy.contains("# from Jenkinsfile:13 isSev5Vulns and line 13 severity5Limit"),
        "{policy}"
    );
    assert!(policy.contains("software = [\"busybox\"]"), "{policy}");
    assert!(
        policy.contains("cvss = { version = \"2\", score = 7.5 }"),
        "{policy}"
    );
    assert!(
        !policy.contains("[[exclude]]"),
        "no excludeBy: nothing excluded\n{policy}"
    );
    for (setting, needle) in [
        ("Jenkinsfile:10 imageIds", "cannot be read"),
        ("Jenkinsfile:15 cvssVersion", "the form's first choice, 2"),
        ("Jenkinsfile:16 excludeBy", "excludes nothing"),
    ] {
        assert!(
            line(&stdout, setting).contains(needle),
            "{setting}:\n{stdout}"
        );
    }
    assert!(line(&stdout, "- Jenkinsfile:9 credentialsId").contains("QUALYS_CLIENT_ID"));
    policy_check(&out.join("Jenkinsfile/qcs-policy.toml"));
    let o = qcs()
        .current_dir(out.join("Jenkinsfile"))
        .env("QUALYS_CLIENT_ID", "client-1")
        .env("QUALYS_CLIENT_SECRET", "Cs-Migrate-9c2")
        .args(["scan", "--print-config"])
        .output()
        .unwrap();
    let resolved = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{resolved}");
    assert!(
        line(&resolved, "gateway").contains("platform EU1"),
        "{resolved}"
    );
    assert!(
        line(&resolved, "auth").contains("oauth (from config [qualys] auth)"),
        "{resolved}"
    );
}

#[test]
fn existing_files_are_kept_unless_forced() {
    let j = Jenkins::new();
    let out = j.out("kept");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("qcs.toml"), "# mine\n").unwrap();
    let (code, stdout, stderr) = migrate(&j, &["--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("qcs.toml already exists"), "{stderr}");
    assert!(stderr.contains("hint: give --force"), "{stderr}");
    assert_eq!(read(&out.join("qcs.toml")), "# mine\n");
    assert!(!out.join("qcs-policy.toml").exists(), "nothing written");
    let (code, _, stderr) = migrate(&j, &["--out", out.to_str().unwrap(), "--force"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(read(&out.join("qcs.toml")).contains("platform = \"US2\""));
}

#[test]
fn inputs_that_cannot_be_migrated_say_where_and_what_to_do() {
    let j = Jenkins::new();
    let bad = |name: &str, text: &str| {
        let p = j.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let out = j.out("bad");
    for (path, message) in [
        (
            bad(
                "Unclosed",
                "node {\n  getImageVulnsFromQualys(imageIds: 'a)\n}\n",
            ),
            "Unclosed:2:37: this string is never closed",
        ),
        (
            bad("NoStep", "node { sh 'make' }\n"),
            "no getImageVulnsFromQualys(…) call",
        ),
        (
            bad("broken.xml", "<project>\n  <publishers>\n</project>\n"),
            "broken.xml:3:",
        ),
        (
            bad("other.xml", "<project><builders/></project>"),
            "no Qualys step in this job",
        ),
    ] {
        let (code, stdout, stderr) = migrate(
            &j,
            &[
                "--job",
                path.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(2), "{}: {stdout}{stderr}", path.display());
        assert!(stderr.contains(message), "{message}:\n{stderr}");
        assert!(stderr.contains("hint:"), "{stderr}");
        assert!(!out.exists(), "nothing written for {}", path.display());
    }
    // a job relying on the global settings, without them
    let o = qcs()
        .env_remove("JENKINS_HOME")
        .args(["migrate", "jenkins", "--job"])
        .arg(j.job("api"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("useLocalConfig is not true"), "{stderr}");
    assert!(stderr.contains("--global"), "{stderr}");
    // nothing to migrate at all
    let o = qcs()
        .env_remove("JENKINS_HOME")
        .args(["migrate", "jenkins"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to migrate"));
}
