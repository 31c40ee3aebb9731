// qcsScan: the Jenkins pipeline step of the qcs shared library.
//
// Runs `qcs scan` on the agent with `sh`, with the Qualys credentials from a Jenkins credential
// (never written into the command line), publishes the JUnit results, archives the reports, and
// sets the build result from the exit code:
//
//   0    SUCCESS
//   1    FAILURE "policy violated" (UNSTABLE with unstableOnPolicyFailure: true)
//   2-5  FAILURE with the reason (configuration, engine/sensor, Qualys API, no scan result)
//
// With reportOnly: true, qcs exits 0 whatever the verdict (except 2: a run that could not start).
//
// The original plugin's parameter names (getImageVulnsFromQualys) are accepted where they mean
// something here, so a step can be migrated by renaming it; see README.md beside vars/ and
// docs/migration.md.
//
// Returns [exitCode: n, outcome: 'passed'|'failed'|'error', reportDir: '...'] when the step does
// not fail the build.

import com.cloudbees.groovy.cps.NonCPS

// Keys the step knows. Anything else is an error, so a typo never silently drops a setting.
@groovy.transform.Field
static final List<String> KNOWN_KEYS = [
    // qcs names
    'images', 'policy', 'criteriaJson', 'config', 'platform', 'apiUrl', 'gatewayUrl', 'auth',
    'caBundle', 'credentialsId', 'proxy', 'proxyCredentialsId', 'engine', 'certDir', 'namespace',
    'skipSensorCheck', 'timeout', 'interval', 'concurrency', 'outputDir', 'formats', 'reportOnly',
    'unstableOnPolicyFailure', 'publishJunit', 'archive', 'qcs', 'args', 'verbose', 'quiet',
    'failSeverity', 'failQids', 'failCves', 'failSoftware', 'failCvss', 'potential', 'fixableOnly',
    'excludeQids', 'excludeCves', 'webhookCredentialsId',
    // the plugin's names
    'imageIds', 'apiServer', 'useGlobalConfig', 'useLocalConfig', 'apiUser', 'apiPass',
    'useProxy', 'proxyServer', 'proxyPort', 'proxyUsername', 'proxyPassword', 'dockerUrl',
    'dockerCert', 'pollingInterval', 'vulnsTimeout',
    'isSev1Vulns', 'isSev2Vulns', 'isSev3Vulns', 'isSev4Vulns', 'isSev5Vulns',
    'severity1Limit', 'severity2Limit', 'severity3Limit', 'severity4Limit', 'severity5Limit',
    'isFailOnQidFound', 'qidList', 'isFailOnCVEs', 'cveList', 'isFailOnSoftware', 'softwareList',
    'failByCvss', 'cvssVersion', 'cvssThreshold', 'isPotentialVulnsToBeChecked',
    'isExcludeConditions', 'excludeBy', 'excludeList', 'webhookUrl',
]

@groovy.transform.Field
static final Map<Integer, String> REASONS = [
    1: 'policy violated',
    2: 'usage or configuration error',
    3: 'container engine or sensor error',
    4: 'Qualys API error',
    5: 'no complete scan result (timed out waiting for the scan, or not processed yet)',
]

def call(Map params = [:]) {
    Map p = params ?: [:]
    List<String> unknown = unknownKeys(p)
    if (unknown) {
        error("qcsScan: unknown parameter(s) ${unknown.join(', ')}; see the library's README.md")
    }
    for (String key : ['apiUser', 'apiPass', 'proxyUsername', 'proxyPassword']) {
        if (p.containsKey(key)) {
            error("qcsScan: ${key} is not supported: keep secrets in a Jenkins credential and pass " +
                  "its id (credentialsId for Qualys, proxyCredentialsId for the proxy)")
        }
    }
    if (p.containsKey('useGlobalConfig') || p.containsKey('useLocalConfig')) {
        echo('qcsScan: warning: useGlobalConfig/useLocalConfig are ignored: qcs has no Jenkins-wide ' +
             'configuration; give the settings to the step, or in a qcs.toml (config:)')
    }
    if (p.webhookUrl) {
        echo('qcsScan: warning: webhookUrl puts a secret (the URL often embeds a token) in the ' +
             'Jenkinsfile; keep it in a Secret text credential and pass webhookCredentialsId')
    }

    Map plan = buildPlan(p)
    for (String w : plan.warnings) {
        echo("qcsScan: warning: ${w}")
    }

    int code = runWithSecrets(p, plan)

    publish(p, plan)

    String outcome = code == 0 ? 'passed' : (code == 1 ? 'failed' : 'error')
    if (code == 0 && plan.reportOnly && plan.jsonPath && fileExists(plan.jsonPath)) {
        // With --report-only the exit code is 0 whatever the verdict: summary.json has it.
        outcome = summaryOutcome(readFile(plan.jsonPath)) ?: outcome
    }
    Map result = [exitCode: code, outcome: outcome, reportDir: plan.outputDir]
    if (code == 0) {
        echo(plan.reportOnly ? "qcs: outcome ${outcome}; report only, so the verdict does not fail the build (reports in ${plan.outputDir}/)"
                             : 'qcs: every image passed')
        return result
    }
    String reason = REASONS[code] ?: "qcs did not run to the end (exit code ${code}; is qcs installed on this agent?)"
    String detail = "qcs: ${reason} (exit code ${code}); reports in ${plan.outputDir}/"
    if (code == 1 && truthy(p.unstableOnPolicyFailure)) {
        unstable(detail)
        return result
    }
    error(detail)
}

// Runs the command inside the credential and environment wrappers the parameters ask for.
int runWithSecrets(Map p, Map plan) {
    List creds = []
    if (p.credentialsId) {
        boolean oauth = plan.auth == 'oauth'
        creds << usernamePassword(credentialsId: p.credentialsId as String,
                                  usernameVariable: oauth ? 'QUALYS_CLIENT_ID' : 'QUALYS_USERNAME',
                                  passwordVariable: oauth ? 'QUALYS_CLIENT_SECRET' : 'QUALYS_PASSWORD')
    }
    if (p.webhookCredentialsId) {
        creds << string(credentialsId: p.webhookCredentialsId as String, variable: 'QCS_WEBHOOK_URL')
    }
    if (p.proxyCredentialsId) {
        creds << usernamePassword(credentialsId: p.proxyCredentialsId as String,
                                  usernameVariable: 'QCS_PROXY_USERNAME',
                                  passwordVariable: 'QCS_PROXY_PASSWORD')
    }
    int code = 0
    if (creds) {
        withCredentials(creds) {
            code = runCommand(plan)
        }
    } else {
        code = runCommand(plan)
    }
    return code
}

int runCommand(Map plan) {
    if (plan.env) {
        int code = 0
        withEnv(plan.env) {
            code = sh(script: plan.command, returnStatus: true, label: 'qcs scan') as int
        }
        return code
    }
    return sh(script: plan.command, returnStatus: true, label: 'qcs scan') as int
}

// Publishes the JUnit results (the result is set from the exit code, not by the junit step)
// and archives the output directory.
void publish(Map p, Map plan) {
    if (plan.junitPath && p.publishJunit != false) {
        junit(testResults: plan.junitPath, allowEmptyResults: true, skipMarkingBuildUnstable: true)
    }
    if (p.archive != false) {
        archiveArtifacts(artifacts: "${plan.outputDir}/**", allowEmptyArchive: true)
    }
}

// Everything below is pure data: turning the parameters into the command line.

@NonCPS
static List<String> unknownKeys(Map p) {
    p.keySet().collect { it as String }.findAll { !KNOWN_KEYS.contains(it) }.sort()
}

@NonCPS
static Map buildPlan(Map p) {
    // command: the shell line; env: extra environment (proxy); warnings; outputDir; junitPath;
    // auth; reportOnly
    Map plan = [env: [], warnings: [], junitPath: null, jsonPath: null, reportOnly: false]
    List<String> a = [(p.qcs ?: 'qcs') as String, 'scan']

    opt(a, '--config', p.config)
    if (p.platform && p.platform != 'PCP') {
        opt(a, '--platform', p.platform)
    }
    opt(a, '--api-url', p.apiUrl ?: p.apiServer)
    opt(a, '--gateway-url', p.gatewayUrl)
    plan.auth = p.auth ? (p.auth as String) : null
    opt(a, '--auth', plan.auth)
    opt(a, '--ca-bundle', p.caBundle)

    opt(a, '--engine', p.engine ?: p.dockerUrl)
    opt(a, '--cert-dir', p.certDir ?: p.dockerCert)
    opt(a, '--namespace', p.namespace)
    if (truthy(p.skipSensorCheck)) {
        a << '--skip-sensor-check'
    }

    if (p.timeout) {
        opt(a, '--timeout', duration(p.timeout))
    } else if (p.vulnsTimeout) {
        opt(a, '--timeout', duration(p.vulnsTimeout))
    }
    if (p.interval) {
        opt(a, '--interval', duration(p.interval))
    } else if (p.pollingInterval) {
        opt(a, '--interval', duration(p.pollingInterval))
        plan.warnings << ('pollingInterval fixes the poll interval; without it qcs adapts the interval ' +
                          'and gives its verdict sooner')
    }
    opt(a, '--concurrency', p.concurrency)

    policyArgs(a, p, plan.warnings)

    plan.outputDir = (p.outputDir ?: 'qcs-reports') as String
    a << '--output-dir' << plan.outputDir
    List<String> formats = p.containsKey('formats') ? list(p.formats) : ['json', 'junit']
    for (String f : formats) {
        a << '--format' << f
        int eq = f.indexOf('=')
        String name = eq < 0 ? f : f.substring(0, eq)
        if (name == 'junit') {
            plan.junitPath = eq < 0 ? "${plan.outputDir}/junit.xml".toString() : f.substring(eq + 1)
        }
        if (name == 'json' && f != 'json=-') {
            plan.jsonPath = eq < 0 ? "${plan.outputDir}/summary.json".toString() : f.substring(eq + 1)
        }
    }
    plan.reportOnly = truthy(p.reportOnly)
    if (plan.reportOnly) {
        a << '--report-only'
    }
    if (truthy(p.verbose)) {
        a << '--verbose'
    }
    if (truthy(p.quiet)) {
        a << '--quiet'
    }
    a.addAll(list(p.args))

    // Images last, as arguments; none given: qcs reads IMAGE_ID from the environment, as the
    // plugin did.
    a.addAll(list(p.images != null ? p.images : p.imageIds))

    plan.command = a.collect { shellQuote(it) }.join(' ')

    String proxy = p.proxy ? (p.proxy as String) : null
    if (!proxy && truthy(p.useProxy) && p.proxyServer) {
        String server = p.proxyServer as String
        proxy = (server.contains('://') ? server : "http://${server}") + (p.proxyPort ? ":${p.proxyPort}" : '')
    }
    if (proxy) {
        plan.env << "HTTPS_PROXY=${proxy}".toString()
    }
    if (p.webhookUrl && !p.webhookCredentialsId) {
        // In the environment, never on the command line: qcs reads QCS_WEBHOOK_URL.
        plan.env << "QCS_WEBHOOK_URL=${p.webhookUrl}".toString()
    }
    plan
}

// The plugin's fail conditions, and the qcs flags of the same meaning.
@NonCPS
static void policyArgs(List<String> a, Map p, List<String> warnings) {
    opt(a, '--policy', p.policy)
    opt(a, '--criteria-json', p.criteriaJson)

    List<String> severities = []
    if (p.failSeverity instanceof Map) {
        severities.addAll(p.failSeverity.collect { k, v -> "${k}=${v}".toString() })
    } else if (p.failSeverity) {
        severities.addAll(list(p.failSeverity))
    }
    for (int s = 5; s >= 1; s--) {
        if (truthy(p["isSev${s}Vulns"])) {
            def limit = p["severity${s}Limit"]
            severities << "${s}=${limit == null || limit == '' ? 0 : limit}".toString()
        }
    }
    if (severities) {
        a << '--fail-severity' << severities.join(',')
    }

    listOpt(a, '--fail-qids', p.failQids, truthy(p.isFailOnQidFound) ? p.qidList : null)
    listOpt(a, '--fail-cves', p.failCves, truthy(p.isFailOnCVEs) ? p.cveList : null)
    listOpt(a, '--fail-software', p.failSoftware, truthy(p.isFailOnSoftware) ? p.softwareList : null)

    if (p.failCvss) {
        opt(a, '--fail-cvss', p.failCvss)
    } else if (truthy(p.failByCvss)) {
        String version = (p.cvssVersion ?: '3') as String
        if (version == 'maxOfv2andv3') {
            version = 'max'
        }
        a << '--fail-cvss' << "${version}:${p.cvssThreshold}".toString()
    }
    if (truthy(p.potential) || truthy(p.isPotentialVulnsToBeChecked)) {
        a << '--potential'
    }
    if (truthy(p.fixableOnly)) {
        a << '--fixable-only'
    }

    listOpt(a, '--exclude-qids', p.excludeQids, null)
    listOpt(a, '--exclude-cves', p.excludeCves, null)
    if (truthy(p.isExcludeConditions) && p.excludeList) {
        String by = (p.excludeBy ?: 'qid') as String
        if (by == 'cve') {
            listOpt(a, '--exclude-cves', p.excludeList, null)
        } else {
            listOpt(a, '--exclude-qids', p.excludeList, null)
        }
    }

    for (String k : ['qidList', 'cveList', 'softwareList', 'excludeList']) {
        String sw = [qidList: 'isFailOnQidFound', cveList: 'isFailOnCVEs', softwareList: 'isFailOnSoftware',
                     excludeList: 'isExcludeConditions'][k]
        if (p[k] && !truthy(p[sw])) {
            warnings << "${k} is ignored because ${sw} is not true (as in the plugin)".toString()
        }
    }
}

@NonCPS
static void opt(List<String> a, String flag, value) {
    if (value != null && value != '') {
        a << flag << (value as String)
    }
}

@NonCPS
static void listOpt(List<String> a, String flag, value, pluginValue) {
    List<String> items = list(value) + list(pluginValue)
    if (items) {
        a << flag << items.join(',')
    }
}

// A list parameter: a List, or a string separated by commas and/or newlines (the plugin's form).
@NonCPS
static List<String> list(value) {
    if (value == null) {
        return []
    }
    Collection raw = value instanceof Collection ? value : (value as String).split(/[,\n]/) as List
    raw.collect { (it as String).trim() }.findAll { it }
}

// A duration for qcs: '10m', '90s', '1h30m' as they are; a number of seconds, or the plugin's
// product form ('2*60'), as seconds.
@NonCPS
static String duration(value) {
    String s = (value as String).trim()
    if (s ==~ /\d+(\s*\*\s*\d+)*/) {
        long seconds = s.split(/\*/).collect { it.trim() as long }.inject(1L) { acc, n -> acc * n }
        return "${seconds}s"
    }
    s
}

// The top-level outcome of summary.json (it comes before the images' own).
@NonCPS
static String summaryOutcome(String json) {
    def m = json =~ /"outcome"\s*:\s*"([a-z_]+)"/
    m.find() ? m.group(1) : null
}

@NonCPS
static boolean truthy(value) {
    value == true || (value instanceof String && value.trim().toLowerCase() == 'true')
}

// One shell word: single-quoted, so nothing in it is expanded by the shell.
@NonCPS
static String shellQuote(value) {
    String s = value as String
    if (s ==~ /[A-Za-z0-9_@%+=:,.\/-]+/) {
        return s
    }
    "'" + s.replace("'", "'\"'\"'") + "'"
}
