// getImageVulnsFromQualys: the Qualys Container Scanning plugin's pipeline step, as a step of the
// qcs shared library, so a Jenkinsfile written for the plugin runs unchanged with @Library('qcs').
//
// It takes exactly the plugin's 43 parameters (its @DataBoundConstructor; the Snippet Generator
// writes all of them, false, 0 and '' included) with the plugin's meaning and defaults, turns them
// into a qcsScan call (vars/qcsScan.groovy: the qcs command line, credentials kept out of it,
// JUnit results, archived reports, the build result from qcs's exit code) and, like the plugin's
// step, returns nothing and fails the build when an image fails or anything goes wrong.
//
// Which settings count, as in the plugin:
//   useLocalConfig: true (and useGlobalConfig not true): the job's own settings.
//   otherwise: the Jenkins-wide configuration (see qcsScan's jenkinsWide: QCS_JENKINS_CONFIG, else
//     QCS_CONFIG, else qcs.toml in the workspace, made by `qcs migrate jenkins` from the plugin's
//     global configuration; credentials named by QCS_JENKINS_CREDENTIALS_ID and
//     QCS_JENKINS_PROXY_CREDENTIALS_ID); only imageIds, webhookUrl, dockerUrl and dockerCert come
//     from the job.
// An empty webhookUrl falls back to the Jenkins-wide webhook (QCS_JENKINS_WEBHOOK_CREDENTIALS_ID)
// in both cases, as the plugin's does.
//
// Where the plugin is wrong (plugin-behaviour.md section 7), qcs's behaviour wins: a scan result
// that never arrives fails the build (the plugin passed silently), a tool error reads differently
// from a policy failure, secrets never reach the log. See vars/getImageVulnsFromQualys.txt.

import com.cloudbees.groovy.cps.NonCPS

// The plugin's parameters, in the order of its @DataBoundConstructor.
@groovy.transform.Field
static final List<String> KNOWN_KEYS = [
    'useGlobalConfig', 'useLocalConfig', 'apiServer', 'apiUser', 'apiPass', 'credentialsId',
    'pollingInterval', 'vulnsTimeout', 'isFailOnSevereVulns',
    'severity1Limit', 'severity2Limit', 'severity3Limit', 'severity4Limit', 'severity5Limit',
    'isSev1Vulns', 'isSev2Vulns', 'isSev3Vulns', 'isSev4Vulns', 'isSev5Vulns',
    'proxyServer', 'proxyPort', 'proxyUsername', 'proxyPassword', 'useProxy', 'proxyCredentialsId',
    'isFailOnQidFound', 'qidList', 'isFailOnCVEs', 'cveList', 'isFailOnSoftware', 'softwareList',
    'isPotentialVulnsToBeChecked', 'imageIds', 'webhookUrl', 'isExcludeConditions', 'excludeBy',
    'excludeList', 'failByCvss', 'cvssVersion', 'cvssThreshold', 'platform', 'dockerUrl', 'dockerCert',
]

// What the job gives whichever configuration is used (the plugin's constructor keeps these
// without useLocalConfig).
@groovy.transform.Field
static final List<String> ALWAYS_FROM_JOB = ['imageIds', 'webhookUrl', 'dockerUrl', 'dockerCert']

// Secrets in clear: passed on so that qcsScan refuses them when they hold anything.
@groovy.transform.Field
static final List<String> CLEAR_SECRETS = ['apiUser', 'apiPass', 'proxyUsername', 'proxyPassword']

// The proxy parameters, which the plugin keeps only with useProxy: true.
@groovy.transform.Field
static final List<String> PROXY_KEYS = ['proxyServer', 'proxyPort', 'proxyCredentialsId']

// The reports: summary.json, junit.xml (published), report.html (the plugin's report page) and
// the plugin's own files (qualys_images_summary.json, qualys_<image id>.json), all archived from
// qcs-reports/.
@groovy.transform.Field
static final List<String> FORMATS = ['json', 'junit', 'html', 'plugin']

def call(Map params = [:]) {
    Map p = params ?: [:]
    List<String> unknown = unknownKeys(p)
    if (unknown) {
        error("getImageVulnsFromQualys: unknown parameter(s) ${unknown.join(', ')}: the step takes the Qualys " +
              "plugin's parameters (qcsScan takes qcs's own); see the library's README.md")
    }
    Map t = translate(p, env.QCS_JENKINS_WEBHOOK_CREDENTIALS_ID as String)
    for (String n : t.notes) {
        echo("getImageVulnsFromQualys: ${n}")
    }
    qcsScan.scan(t.params, 'getImageVulnsFromQualys')
    // The plugin's step returns nothing.
    return null
}

@NonCPS
static List<String> unknownKeys(Map p) {
    p.keySet().collect { it as String }.findAll { !KNOWN_KEYS.contains(it) }.sort()
}

// Whether the job's own settings count: useLocalConfig: true without useGlobalConfig: true (the
// plugin reads the Jenkins-wide configuration whenever useGlobalConfig is true).
@NonCPS
static boolean local(Map p) {
    truthy(p.useLocalConfig) && !truthy(p.useGlobalConfig)
}

// The plugin's parameters as qcsScan's: [params: Map, notes: List<String>].
@NonCPS
static Map translate(Map p, String globalWebhookCredentialsId) {
    Map params = [formats: FORMATS]
    List<String> notes = []
    for (String k : CLEAR_SECRETS) {
        if (p.containsKey(k)) {
            params[k] = p[k]
        }
    }
    if (local(p)) {
        // the job's settings only, as in the plugin: no qcs.toml of the workspace or agent
        params.noConfig = true
        for (String k : KNOWN_KEYS) {
            if (p.containsKey(k) && !(k in ['useGlobalConfig', 'useLocalConfig', 'isFailOnSevereVulns']) &&
                    !(k in PROXY_KEYS && !truthy(p.useProxy))) {
                params[k] = p[k]
            }
        }
        if (!text(p.webhookUrl) && globalWebhookCredentialsId) {
            params.webhookCredentialsId = globalWebhookCredentialsId
        }
        return [params: params, notes: notes]
    }

    for (String k : ALWAYS_FROM_JOB) {
        if (p.containsKey(k)) {
            params[k] = p[k]
        }
    }
    params.useGlobalConfig = true
    notes << ('using the Jenkins-wide configuration, as the plugin does ' +
              (truthy(p.useGlobalConfig) ? 'with useGlobalConfig: true' : 'when useLocalConfig is not true'))
    List<String> ignored = KNOWN_KEYS.findAll { k ->
        !(k in ALWAYS_FROM_JOB || k in CLEAR_SECRETS || k in ['useGlobalConfig', 'useLocalConfig', 'isFailOnSevereVulns']) &&
            meaningful(k, p[k])
    }
    if (ignored) {
        notes << ("the job's own ${ignored.join(', ')} ${ignored.size() == 1 ? 'is' : 'are'} ignored " +
                  '(only imageIds, webhookUrl, dockerUrl and dockerCert come from the job); ' +
                  'set useLocalConfig: true and useGlobalConfig: false to use them').toString()
    }
    [params: params, notes: notes]
}

// Whether a value differs from what an untouched form (or the Snippet Generator) leaves there.
@NonCPS
static boolean meaningful(String key, value) {
    if (value == null || value == false || value == '' || (value instanceof Number && value == 0)) {
        return false
    }
    String s = text(value)
    Map formDefaults = [cvssVersion: '2', excludeBy: 'cve', cvssThreshold: '0.0']
    !(s == '' || s == 'false' || formDefaults[key] == s || (key.endsWith('Limit') || key == 'proxyPort') && s == '0')
}

@NonCPS
static String text(value) {
    value == null ? '' : (value as String).trim()
}

@NonCPS
static boolean truthy(value) {
    value == true || (value instanceof String && value.trim().toLowerCase() == 'true')
}
