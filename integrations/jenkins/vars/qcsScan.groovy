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
// The original plugin's parameter names (getImageVulnsFromQualys) are accepted with the plugin's
// meaning; vars/getImageVulnsFromQualys.groovy, the drop-in for the plugin's step, runs through
// scan() below. See README.md beside vars/ and docs/migration.md.
//
// Returns [exitCode: n, outcome: 'passed'|'failed'|'error', reportDir: '...'] when the step does
// not fail the build.

import com.cloudbees.groovy.cps.NonCPS
import com.cloudbees.plugins.credentials.CredentialsProvider
import com.cloudbees.plugins.credentials.common.StandardCredentials
import hudson.FilePath
import jenkins.model.Jenkins

// Keys the step knows. Anything else is an error, so a typo never silently drops a setting.
@groovy.transform.Field
static final List<String> KNOWN_KEYS = [
    // qcs names
    'images', 'policy', 'criteriaJson', 'config', 'noConfig', 'platform', 'apiUrl', 'gatewayUrl', 'auth',
    'caBundle', 'credentialsId', 'proxy', 'proxyCredentialsId', 'engine', 'certDir', 'namespace',
    'skipSensorCheck', 'timeout', 'interval', 'concurrency', 'outputDir', 'formats', 'reportOnly',
    'unstableOnPolicyFailure', 'publishJunit', 'archive', 'qcs', 'args', 'verbose', 'quiet',
    'failSeverity', 'failQids', 'failCves', 'failSoftware', 'failCvss', 'potential', 'fixableOnly',
    'excludeQids', 'excludeCves', 'webhookCredentialsId',
    // the plugin's names
    'imageIds', 'apiServer', 'useGlobalConfig', 'useLocalConfig', 'apiUser', 'apiPass',
    'useProxy', 'proxyServer', 'proxyPort', 'proxyUsername', 'proxyPassword', 'dockerUrl',
    'dockerCert', 'pollingInterval', 'vulnsTimeout', 'isFailOnSevereVulns',
    'isSev1Vulns', 'isSev2Vulns', 'isSev3Vulns', 'isSev4Vulns', 'isSev5Vulns',
    'severity1Limit', 'severity2Limit', 'severity3Limit', 'severity4Limit', 'severity5Limit',
    'isFailOnQidFound', 'qidList', 'isFailOnCVEs', 'cveList', 'isFailOnSoftware', 'softwareList',
    'failByCvss', 'cvssVersion', 'cvssThreshold', 'isPotentialVulnsToBeChecked',
    'isExcludeConditions', 'excludeBy', 'excludeList', 'webhookUrl',
]

// The plugin's parameters that hold a secret in clear text: refused when they hold anything.
@groovy.transform.Field
static final List<String> CLEAR_SECRETS = ['apiUser', 'apiPass', 'proxyUsername', 'proxyPassword']

@groovy.transform.Field
static final Map<Integer, String> REASONS = [
    1: 'policy violated',
    2: 'usage or configuration error',
    3: 'container engine or sensor error',
    4: 'Qualys API error',
    5: 'no complete scan result (timed out waiting for the scan, or not processed yet)',
]

// Where the Jenkins-wide configuration comes from (useGlobalConfig: true), and how to make it.
@groovy.transform.Field
static final String MIGRATE_HINT =
    'turn the plugin\'s global configuration into one with `qcs migrate jenkins --global ' +
    '$JENKINS_HOME/com.qualys.plugins.containerSecurity.config.QualysGlobalConfig.xml --out DIR`, ' +
    'put the qcs.toml and qcs-policy.toml it writes on the agents and set QCS_JENKINS_CONFIG to the ' +
    'qcs.toml path (Manage Jenkins > System > Global properties > Environment variables), or ' +
    'commit them to the repository (qcs.toml in the workspace is found); see the qcs library\'s README.md'

def call(Map params = [:]) {
    scan(params ?: [:], 'qcsScan')
}

// The whole step, with messages under the name of the step that called it (qcsScan, or
// getImageVulnsFromQualys, which translates the plugin's parameters and calls this).
def scan(Map params, String step) {
    Map p = params
    List<String> unknown = unknownKeys(p)
    if (unknown) {
        error("${step}: unknown parameter(s) ${unknown.join(', ')}; see the library's README.md")
    }
    List<String> clear = clearSecrets(p)
    if (clear) {
        error("${step}: ${clear.join(', ')} ${clear.size() == 1 ? 'holds' : 'hold'} a secret in clear text in the " +
              'Jenkinsfile, which qcs does not accept: keep it in a Jenkins credential and pass its id ' +
              '(credentialsId for Qualys, proxyCredentialsId for the proxy); empty values are fine')
    }
    if (truthy(p.useGlobalConfig)) {
        p = jenkinsWide(p, step)
    } else if (p.containsKey('useLocalConfig') && !truthy(p.useLocalConfig)) {
        echo("${step}: note: useLocalConfig: false has no effect here: ${step} always uses its own " +
             'parameters (useGlobalConfig: true adds the Jenkins-wide configuration); ' +
             'getImageVulnsFromQualys follows the plugin\'s rule')
    }
    if (p.webhookUrl) {
        echo("${step}: warning: webhookUrl puts a secret (the URL often embeds a token) in the Jenkinsfile; " +
             (step == 'qcsScan' ? 'keep it in a Secret text credential and pass webhookCredentialsId'
                                : 'keep it in a Secret text credential named by QCS_JENKINS_WEBHOOK_CREDENTIALS_ID ' +
                                  'and leave webhookUrl empty'))
    }

    Map plan = buildPlan(p)
    if (plan.errors) {
        error("${step}: ${plan.errors.join('; ')}")
    }
    for (String w : plan.warnings) {
        echo("${step}: warning: ${w}")
    }
    for (String n : plan.notes) {
        echo("${step}: note: ${n}")
    }

    int code = runWithSecrets(p, plan, step)

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

// useGlobalConfig: true. The Jenkins-wide configuration is a qcs config file (what
// `qcs migrate jenkins` makes of the plugin's QualysGlobalConfig.xml): the file named by the
// environment variable QCS_JENKINS_CONFIG (a Jenkins global property), else by QCS_CONFIG (qcs's
// own variable, e.g. set on the agent), else qcs.toml in the workspace. Its credentials are
// Jenkins credentials named by QCS_JENKINS_CREDENTIALS_ID, QCS_JENKINS_PROXY_CREDENTIALS_ID and
// QCS_JENKINS_WEBHOOK_CREDENTIALS_ID (a config file never holds a secret). The step's own
// parameters still apply on top.
Map jenkinsWide(Map p, String step) {
    Map q = new LinkedHashMap(p)
    q.remove('useGlobalConfig')
    if (!q.config) {
        String from = env.QCS_JENKINS_CONFIG ? 'QCS_JENKINS_CONFIG' : (env.QCS_CONFIG ? 'QCS_CONFIG' : null)
        if (from) {
            String named = (from == 'QCS_JENKINS_CONFIG' ? env.QCS_JENKINS_CONFIG : env.QCS_CONFIG) as String
            if (!fileExists(named)) {
                error("${step}: the Jenkins-wide configuration ${named} (named by ${from}) is not on this agent; ${MIGRATE_HINT}")
            }
            q.config = named
        } else if (fileExists('qcs.toml')) {
            q.config = 'qcs.toml'
        } else {
            error("${step}: no Jenkins-wide configuration: QCS_JENKINS_CONFIG is not set and the workspace has " +
                  "no qcs.toml; ${MIGRATE_HINT}")
        }
    }
    if (!q.credentialsId && env.QCS_JENKINS_CREDENTIALS_ID) {
        q.credentialsId = env.QCS_JENKINS_CREDENTIALS_ID as String
    }
    if (!q.proxyCredentialsId && env.QCS_JENKINS_PROXY_CREDENTIALS_ID) {
        q.proxyCredentialsId = env.QCS_JENKINS_PROXY_CREDENTIALS_ID as String
    }
    if (!q.webhookUrl && !q.webhookCredentialsId && env.QCS_JENKINS_WEBHOOK_CREDENTIALS_ID) {
        q.webhookCredentialsId = env.QCS_JENKINS_WEBHOOK_CREDENTIALS_ID as String
    }
    echo("${step}: using the Jenkins-wide configuration ${q.config}" +
         (q.credentialsId ? " with the credential ${q.credentialsId}" : ''))
    if (!q.credentialsId) {
        echo("${step}: note: QCS_JENKINS_CREDENTIALS_ID is not set, so qcs takes the Qualys credentials from " +
             'the agent\'s environment (QUALYS_USERNAME/QUALYS_PASSWORD, QUALYS_CLIENT_ID/QUALYS_CLIENT_SECRET, ' +
             'or their *_FILE forms)')
    }
    q
}

// Runs the command inside the credential and environment wrappers the parameters ask for.
//
// credentialsId may name a Username with password credential (bound with withCredentials, so
// Jenkins masks it) or the Qualys plugin's own OAuth credential (qualysOAuthCredential: client id
// and secret), which no withCredentials binding can bind. The OAuth client id and secret are
// written, by plain Jenkins API calls in @NonCPS methods, to files only the agent's user can read,
// in a fresh directory under the workspace's @tmp directory (outside the workspace, so never
// archived), and qcs reads them through QUALYS_CLIENT_ID_FILE and QUALYS_CLIENT_SECRET_FILE; the
// directory is deleted when qcs ends. So the secret never passes through a pipeline step's
// arguments (writeFile's and withEnv's arguments are kept in the build's flow graph, and withEnv
// values are not masked in the log), a CPS variable (saved with the build's program state) or the
// command line. A webhook URL given in clear (webhookUrl) goes the same way, as
// QCS_WEBHOOK_URL_FILE.
int runWithSecrets(Map p, Map plan, String step) {
    List creds = []
    List<String> fileEnv = []
    String node = env.NODE_NAME as String
    def run = null
    String kind = null
    boolean oauth = false
    if (p.credentialsId) {
        try {
            run = currentBuild.rawBuild
        } catch (Exception ignored) {
            // A library that is not trusted may not read it; the lookup then says 'unknown'.
        }
        kind = credentialKind(p.credentialsId as String, run)
        oauth = kind == 'oauth'
        if (oauth && plan.auth == 'basic') {
            error("${step}: the credential ${p.credentialsId} is a Qualys OAuth credential (client id and secret); " +
                  "auth: 'basic' cannot use it")
        }
        if (!oauth) {
            boolean clientVars = plan.auth == 'oauth'
            creds << usernamePassword(credentialsId: p.credentialsId as String,
                                      usernameVariable: clientVars ? 'QUALYS_CLIENT_ID' : 'QUALYS_USERNAME',
                                      passwordVariable: clientVars ? 'QUALYS_CLIENT_SECRET' : 'QUALYS_PASSWORD')
            if (!plan.auth && p.config) {
                // A config file may say auth = "oauth" (qcs migrate jenkins writes it for an OAuth
                // client kept in a username/password credential): qcs then reads the client pair.
                // Without it qcs uses the user and password, as before.
                creds << usernamePassword(credentialsId: p.credentialsId as String,
                                          usernameVariable: 'QUALYS_CLIENT_ID', passwordVariable: 'QUALYS_CLIENT_SECRET')
            }
        }
    }
    if (p.webhookCredentialsId) {
        creds << string(credentialsId: p.webhookCredentialsId as String, variable: 'QCS_WEBHOOK_URL')
    }
    if (p.proxyCredentialsId) {
        creds << usernamePassword(credentialsId: p.proxyCredentialsId as String,
                                  usernameVariable: 'QCS_PROXY_USERNAME',
                                  passwordVariable: 'QCS_PROXY_PASSWORD')
    }
    String secretDir = null
    int code = 0
    try {
        if (oauth || plan.webhookUrl) {
            String dir = "${pwd(tmp: true)}/qcs-secrets-${uniqueName()}".toString()
            if (makeSecretDir(node, dir)) {
                secretDir = dir
            } else if (oauth) {
                error("${step}: could not write the OAuth credential ${p.credentialsId} for qcs on ${node}")
            }
        }
        if (oauth) {
            writeOAuthFiles(p.credentialsId as String, run, node, secretDir)
            fileEnv << 'QUALYS_AUTH=oauth' << "QUALYS_CLIENT_ID_FILE=${secretDir}/client-id".toString() <<
                "QUALYS_CLIENT_SECRET_FILE=${secretDir}/client-secret".toString()
        }
        if (plan.webhookUrl && secretDir) {
            writeSecretFile(node, secretDir, 'webhook-url', plan.webhookUrl as String)
            fileEnv << "QCS_WEBHOOK_URL_FILE=${secretDir}/webhook-url".toString()
        } else if (plan.webhookUrl) {
            // A library in the script sandbox cannot write the file: the environment, as before.
            echo("${step}: warning: the library is not trusted, so webhookUrl reaches qcs through withEnv, " +
                 'whose arguments the build keeps')
            fileEnv << "QCS_WEBHOOK_URL=${plan.webhookUrl}".toString()
        }
        List<String> envs = plan.env + fileEnv
        if (creds) {
            try {
                withCredentials(creds) {
                    code = runCommand(plan.command as String, envs)
                }
            } catch (Exception e) {
                if (kind == 'unknown' && String.valueOf(e.message).contains('was expected')) {
                    error("${step}: ${e.message}; a Qualys OAuth credential (qualysOAuthCredential) can only be " +
                          'read by a trusted library: add qcs under Manage Jenkins > System > Global Trusted ' +
                          'Pipeline Libraries')
                }
                throw e
            }
        } else {
            code = runCommand(plan.command as String, envs)
        }
    } finally {
        if (secretDir && !deleteSecretDir(node, secretDir)) {
            echo("${step}: warning: could not delete ${secretDir}; delete it on the agent")
        }
    }
    return code
}

int runCommand(String command, List<String> envs) {
    if (envs) {
        int code = 0
        withEnv(envs) {
            code = sh(script: command, returnStatus: true, label: 'qcs scan') as int
        }
        return code
    }
    return sh(script: command, returnStatus: true, label: 'qcs scan') as int
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

// --- credentials (plain Jenkins API; @NonCPS so no secret is kept in the program state) ---------

// 'oauth' for a credential with a client id and secret (the Qualys plugin's qualysOAuthCredential,
// whatever its class), 'other' for any other credential, 'missing' or 'unknown' (the lookup is not
// allowed: a library that is not trusted runs in the script sandbox). Only 'oauth' changes how
// the credential is passed; withCredentials reports the other cases itself.
@NonCPS
static String credentialKind(String id, run) {
    try {
        def c = CredentialsProvider.findCredentialById(id, StandardCredentials, run)
        if (c == null) {
            return 'missing'
        }
        return c.metaClass.respondsTo(c, 'getClientSecret') && c.metaClass.respondsTo(c, 'getClientId') ? 'oauth' : 'other'
    } catch (Throwable ignored) {
        return 'unknown'
    }
}

// A fresh directory only the agent's user can enter, on the build's node; false when it cannot
// be made (a library in the script sandbox may not call Jenkins' API, an agent went away).
@NonCPS
static boolean makeSecretDir(String nodeName, String dir) {
    try {
        FilePath d = nodePath(nodeName, dir)
        d.mkdirs()
        d.chmod(0700)
        return true
    } catch (Throwable ignored) {
        return false
    }
}

// Writes the OAuth client id and secret into dir. Messages never include a value.
@NonCPS
static void writeOAuthFiles(String id, run, String nodeName, String dir) {
    def c = CredentialsProvider.findCredentialById(id, StandardCredentials, run)
    if (c == null) {
        throw new IllegalStateException("the credential ${id} is no longer available".toString())
    }
    writeSecretFile(nodeName, dir, 'client-id', plain(c.clientId))
    writeSecretFile(nodeName, dir, 'client-secret', plain(c.clientSecret))
}

// One file (mode 0600) in the secret directory.
@NonCPS
static void writeSecretFile(String nodeName, String dir, String name, String value) {
    FilePath f = nodePath(nodeName, dir).child(name)
    f.write(value, 'UTF-8')
    f.chmod(0600)
}

@NonCPS
static boolean deleteSecretDir(String nodeName, String dir) {
    try {
        nodePath(nodeName, dir).deleteRecursive()
        return true
    } catch (Exception ignored) {
        return false
    }
}

@NonCPS
static FilePath nodePath(String nodeName, String path) {
    def jenkins = Jenkins.get()
    def node = (!nodeName || nodeName == 'built-in' || nodeName == 'master') ? jenkins : jenkins.getNode(nodeName)
    FilePath fp = node?.createPath(path)
    if (fp == null) {
        throw new IllegalStateException("the agent ${nodeName} is not connected".toString())
    }
    fp
}

// A hudson.util.Secret (getPlainText) or a plain string.
@NonCPS
static String plain(value) {
    if (value != null && value.metaClass.respondsTo(value, 'getPlainText')) {
        return value.getPlainText() as String
    }
    value == null ? '' : value as String
}

@NonCPS
static String uniqueName() {
    try {
        return UUID.randomUUID().toString()
    } catch (Throwable ignored) {
        return 'sandboxed'   // the script sandbox: makeSecretDir fails anyway
    }
}

// Everything below is pure data: turning the parameters into the command line.

@NonCPS
static List<String> unknownKeys(Map p) {
    p.keySet().collect { it as String }.findAll { !KNOWN_KEYS.contains(it) }.sort()
}

@NonCPS
static List<String> clearSecrets(Map p) {
    CLEAR_SECRETS.findAll { p[it] != null && (p[it] as String) != '' }
}

@NonCPS
static Map buildPlan(Map p) {
    // command: the shell line; env: extra environment (proxy); warnings, notes, errors;
    // outputDir; junitPath; auth; reportOnly
    Map plan = [env: [], warnings: [], notes: [], errors: [], junitPath: null, jsonPath: null, reportOnly: false]
    List<String> a = [(p.qcs ?: 'qcs') as String, 'scan']

    opt(a, '--config', p.config)
    if (truthy(p.noConfig)) {
        if (p.config) {
            plan.errors << 'noConfig: true reads no config file, but config (or useGlobalConfig: true) names one: give one or the other'
        } else {
            a << '--no-config'
        }
    }
    serverArgs(a, p, plan)
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
    } else if (text(p.vulnsTimeout)) {
        opt(a, '--timeout', pluginSeconds('vulnsTimeout', p.vulnsTimeout, 0, plan))
    }
    if (p.interval) {
        opt(a, '--interval', duration(p.interval))
    } else if (text(p.pollingInterval)) {
        opt(a, '--interval', pluginSeconds('pollingInterval', p.pollingInterval, 30, plan))
        plan.warnings << ('pollingInterval fixes the poll interval; without it qcs adapts the interval ' +
                          'and gives its verdict sooner, with no more API calls')
    }
    opt(a, '--concurrency', p.concurrency)

    policyArgs(a, p, plan)

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
    if (!proxy && truthy(p.useProxy) && text(p.proxyServer)) {
        String server = (p.proxyServer as String).trim()
        String portText = text(p.proxyPort) ?: '0'
        int port = portText ==~ /\d{1,5}/ ? (portText as int) : -1
        if (port < 0) {
            plan.errors << "proxyPort must be a port number, not ${p.proxyPort}".toString()
        }
        proxy = (server.contains('://') ? server : "http://${server}") + (port > 0 ? ":${port}" : '')
    } else if (!proxy && truthy(p.useProxy)) {
        plan.warnings << 'useProxy is true but proxyServer is empty: no proxy is used'
    }
    if (proxy) {
        plan.env << "HTTPS_PROXY=${proxy}".toString()
    }
    if (p.webhookUrl && !p.webhookCredentialsId) {
        // Never on the command line or in a step's arguments: runWithSecrets writes it to a file
        // that qcs reads through QCS_WEBHOOK_URL_FILE.
        plan.webhookUrl = p.webhookUrl as String
    }
    plan
}

// The Qualys server. The plugin's rule for its names: a known platform code other than PCP wins
// and apiServer is ignored; with PCP (or no platform) apiServer is used. qcs's own apiUrl is
// passed as given (qcs prefers an API URL over a platform).
@NonCPS
static void serverArgs(List<String> a, Map p, Map plan) {
    String platform = text(p.platform)
    String server = text(p.apiServer)
    boolean pcp = platform.equalsIgnoreCase('PCP')
    boolean known = platform && !pcp && knownPlatform(platform)
    if (known) {
        a << '--platform' << platform
        if (server) {
            plan.notes << "apiServer is ignored: the platform ${platform} gives the server (as in the plugin)".toString()
        }
    } else if (platform && !pcp) {
        if (server) {
            plan.warnings << ("platform ${platform} is not a known Qualys platform code, so apiServer is used " +
                              '(as in the plugin)').toString()
        } else {
            a << '--platform' << platform   // qcs names the problem
        }
    }
    String apiUrl = p.apiUrl ? (p.apiUrl as String) : (known ? '' : server)
    if (!p.apiUrl && apiUrl && !(apiUrl ==~ URL_REGEX)) {
        plan.errors << "apiServer must be an http(s) URL such as https://qualysapi.qg2.apps.qualys.com, not ${apiUrl}".toString()
    }
    opt(a, '--api-url', apiUrl)
}

// The plugin's check of a server URL (its form validation).
@groovy.transform.Field
static final String URL_REGEX = /^(https?):\/\/[-a-zA-Z0-9+&#\/%?=~_|!:,.;]*[-a-zA-Z0-9+&#\/%=~_|]/

// Whether qcs knows the platform code: US1..KSA1, the plugin's US_PLATFORM_2 style and its long
// region names (INDIA_PLATFORM, CANADA_PLATFORM, AE_Platform, ...), case-insensitively, as
// qcs-qualys' platform::find reads them.
@NonCPS
static boolean knownPlatform(String code) {
    String upper = code.trim().toUpperCase().replaceAll(/[- ]/, '_')
    String shortCode = upper
    int at = upper.indexOf('_PLATFORM')
    if (at >= 0) {
        String region = upper.substring(0, at)
        String n = upper.substring(at + '_PLATFORM'.length()).replaceAll(/^_+/, '')
        region = [INDIA: 'IN', CANADA: 'CA', UAE: 'AE', AUSTRALIA: 'AU', SAUDI: 'KSA', SAUDI_ARABIA: 'KSA'][region] ?: region
        shortCode = region + (n ?: '1')
    }
    shortCode in ['US1', 'US2', 'US3', 'US4', 'EU1', 'EU2', 'EU3', 'IN1', 'CA1', 'AE1', 'UK1', 'AU1', 'KSA1']
}

// The plugin's fail conditions, and the qcs flags of the same meaning.
@NonCPS
static void policyArgs(List<String> a, Map p, Map plan) {
    List<String> warnings = plan.warnings
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
            String limit = text(p["severity${s}Limit"]) ?: '0'
            if (!(limit ==~ /-?\d+/)) {
                plan.errors << "severity${s}Limit must be a whole number, not ${limit}".toString()
                continue
            }
            // As the plugin: a limit below 0 counts as 0.
            severities << "${s}=${Math.max(limit as long, 0L)}".toString()
        }
    }
    if (severities) {
        a << '--fail-severity' << severities.join(',')
    }

    listOpt(a, '--fail-qids', p.failQids, truthy(p.isFailOnQidFound) ? p.qidList : null)
    List<String> cves = truthy(p.isFailOnCVEs) ? list(p.cveList) : []
    List<String> badCves = cves.findAll { !(it ==~ /CVE-\d{4}-\d{4,7}/) }
    if (badCves) {
        plan.errors << "cveList: ${badCves.join(', ')} ${badCves.size() == 1 ? 'is not a CVE id' : 'are not CVE ids'} (CVE-yyyy-nnnn)".toString()
    }
    listOpt(a, '--fail-cves', p.failCves, cves)
    listOpt(a, '--fail-software', p.failSoftware, truthy(p.isFailOnSoftware) ? p.softwareList : null)

    if (p.failCvss) {
        opt(a, '--fail-cvss', p.failCvss)
    } else if (truthy(p.failByCvss)) {
        // The form lists version 2 first, so a job saved from it holds '2' unless changed.
        String version = text(p.cvssVersion) ?: '2'
        String threshold = text(p.cvssThreshold)
        if (!(version in ['2', '3', 'maxOfv2andv3'])) {
            plan.errors << "cvssVersion must be 2, 3 or maxOfv2andv3, not ${version}".toString()
        }
        if (!(threshold ==~ /\d+(\.\d+)?|\.\d+/) || (threshold as BigDecimal) > 10) {
            plan.errors << "cvssThreshold must be a number from 0.0 to 10.0, not ${threshold ?: 'empty'}".toString()
        }
        a << '--fail-cvss' << "${version == 'maxOfv2andv3' ? 'max' : version}:${threshold}".toString()
    }
    if (truthy(p.potential) || truthy(p.isPotentialVulnsToBeChecked)) {
        a << '--potential'
    }
    if (truthy(p.fixableOnly)) {
        a << '--fixable-only'
    }

    listOpt(a, '--exclude-qids', p.excludeQids, null)
    listOpt(a, '--exclude-cves', p.excludeCves, null)
    if (truthy(p.isExcludeConditions) && text(p.excludeList)) {
        // As the plugin: excludeBy picks the list; without it nothing is excluded.
        String by = text(p.excludeBy)
        if (by == 'cve') {
            listOpt(a, '--exclude-cves', p.excludeList, null)
        } else if (by == 'qid') {
            listOpt(a, '--exclude-qids', p.excludeList, null)
        } else if (by) {
            plan.errors << "excludeBy must be qid or cve, not ${by}".toString()
        } else {
            warnings << "excludeList is ignored because excludeBy is not set (the plugin excludes nothing then); set excludeBy: 'qid' or 'cve'"
        }
    }

    for (String k : ['qidList', 'cveList', 'softwareList', 'excludeList']) {
        String sw = [qidList: 'isFailOnQidFound', cveList: 'isFailOnCVEs', softwareList: 'isFailOnSoftware',
                     excludeList: 'isExcludeConditions'][k]
        if (text(p[k]) && !truthy(p[sw])) {
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

// A parameter as trimmed text ('' for null).
@NonCPS
static String text(value) {
    value == null ? '' : (value as String).trim()
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

// The plugin's pollingInterval and vulnsTimeout: seconds, or a product such as 2*60 (a qcs
// duration such as 10m is taken too). Below the minimum, the minimum is used, as the plugin does.
@NonCPS
static String pluginSeconds(String name, value, long minimum, Map plan) {
    String d = duration(value)
    if (!(d ==~ /(\d+[hms])+/)) {
        plan.errors << "${name} must be a number of seconds (or a product such as 2*60), not ${value}".toString()
        return d
    }
    if (minimum > 0 && d ==~ /\d+s/ && (d[0..-2] as long) < minimum) {
        plan.notes << "${name} ${value} is below ${minimum} seconds, so ${minimum} is used (as in the plugin)".toString()
        return "${minimum}s"
    }
    d
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
