// Runs vars/getImageVulnsFromQualys.groovy (the drop-in for the Qualys plugin's step), with
// vars/qcsScan.groovy bound beside it as Jenkins binds a library's steps, against the stub
// pipeline context of harness/ and the Jenkins API stand-ins of stubs/. Calls are written the way
// the plugin's Snippet Generator writes them: every one of the 43 parameters present, false, 0
// and '' included. Checks the parameters the step knows, the qcs command line, environment and
// secret files each call produces, the build result, and that no secret reaches the log, the
// command line or a step's arguments. Prints "N passed, M failed"; exits 1 when any check fails.
//
// Usage: groovy -cp stubs:harness GetImageVulnsTest.groovy <path to vars/>
// With QCS_COMMANDS_OUT set, writes every command line the step ran to that file (as
// QcsScanTest.groovy does). With QCS_E2E_BIN, QCS_E2E_GATEWAY and QCS_E2E_ENGINE set (the Rust
// test crates/qcs/tests/integrations.rs sets them), also runs the real qcs against the emulator.

if (args.length != 1) {
    System.err.println('usage: groovy -cp stubs:harness GetImageVulnsTest.groovy vars/')
    System.exit(2)
}
def loader = new GroovyClassLoader(this.class.classLoader)
File vars = new File(args[0])
Class stepClass = loader.parseClass(new File(vars, 'getImageVulnsFromQualys.groovy'))
Runner r = new Runner(stepClass: stepClass, library: [qcsScan: loader.parseClass(new File(vars, 'qcsScan.groovy'))])

// The step's parameters as plugin-behaviour.md section 3 lists them (the plugin's
// @DataBoundConstructor), with their types.
final Map<String, Class> SPEC = [
    useGlobalConfig: Boolean, useLocalConfig: Boolean, apiServer: String, apiUser: String, apiPass: String,
    credentialsId: String, pollingInterval: String, vulnsTimeout: String, isFailOnSevereVulns: Boolean,
    severity1Limit: Integer, severity2Limit: Integer, severity3Limit: Integer, severity4Limit: Integer,
    severity5Limit: Integer, isSev1Vulns: Boolean, isSev2Vulns: Boolean, isSev3Vulns: Boolean,
    isSev4Vulns: Boolean, isSev5Vulns: Boolean, proxyServer: String, proxyPort: Integer,
    proxyUsername: String, proxyPassword: String, useProxy: Boolean, proxyCredentialsId: String,
    isFailOnQidFound: Boolean, qidList: String, isFailOnCVEs: Boolean, cveList: String,
    isFailOnSoftware: Boolean, softwareList: String, isPotentialVulnsToBeChecked: Boolean, imageIds: String,
    webhookUrl: String, isExcludeConditions: Boolean, excludeBy: String, excludeList: String,
    failByCvss: Boolean, cvssVersion: String, cvssThreshold: String, platform: String, dockerUrl: String,
    dockerCert: String,
]

// A call as the Snippet Generator writes it for an untouched form: every primitive present
// (false, 0, ''), the form's defaults (useGlobalConfig checked, CVSS version 2 and exclusion by
// CVE first in their lists, threshold 0.0).
Map snippet(Map<String, Class> spec, Map overrides) {
    Map call = [:]
    spec.each { name, type -> call[name] = type == Boolean ? false : (type == Integer ? 0 : '') }
    call.putAll([useGlobalConfig: true, cvssVersion: '2', excludeBy: 'cve', cvssThreshold: '0.0'])
    call.putAll(overrides)
    assert call.keySet() == spec.keySet(): "not a snippet: ${call.keySet() - spec.keySet()}"
    call
}

final Map LOCAL = [useGlobalConfig: false, useLocalConfig: true]
final String OUT = '--output-dir qcs-reports --format json --format junit --format html --format plugin'

// --- the parameters ------------------------------------------------------------------------------

r.test('the step knows exactly the plugin\'s 43 parameters, in the constructor\'s order') {
    List<String> known = stepClass.KNOWN_KEYS
    assert known.size() == 43 && SPEC.size() == 43
    assert known as Set == SPEC.keySet()
    assert known == SPEC.keySet() as List
    assert known.unique(false).size() == 43
}

r.test('a call with all 43 parameters runs; any other parameter fails before anything runs') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1']))
    assert c.result() == 'SUCCESS': c.failure
    c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1']) + [images: ['a:1'], policy: 'p.toml'])
    assert c.result() == 'FAILURE'
    assert c.failure.contains('unknown parameter(s) images, policy')
    assert !c.names().contains('sh')
}

r.test('every parameter qcsScan does not take under the same name is still one it knows') {
    List<String> qcsKnown = r.library.qcsScan.KNOWN_KEYS
    assert qcsKnown.containsAll(SPEC.keySet())
}

// --- the four Snippet-Generator calls -------------------------------------------------------------

r.test('snippet, local settings: the job\'s server, credential, wait and criteria') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [
        platform: 'US_PLATFORM_2', credentialsId: 'qualys-api', imageIds: 'registry.example.com/shop/api:42, worker:42',
        vulnsTimeout: '15*60', pollingInterval: '60', dockerUrl: 'unix:///var/run/docker.sock',
        isSev5Vulns: true, severity5Limit: 0, isSev4Vulns: true, severity4Limit: 2,
        isFailOnQidFound: true, qidList: '179203,170560-170590',
        isFailOnCVEs: true, cveList: 'CVE-2021-44228,CVE-2022-22965',
        isFailOnSoftware: true, softwareList: '.*:log4j-core=2\\.1[0-6]\\..*',
        failByCvss: true, cvssVersion: 'maxOfv2andv3', cvssThreshold: '9.0', isPotentialVulnsToBeChecked: true,
        isExcludeConditions: true, excludeBy: 'qid', excludeList: '179203']))
    assert c.result() == 'SUCCESS': c.failure
    assert c.script() == 'qcs scan --no-config --platform US_PLATFORM_2 --engine unix:///var/run/docker.sock --timeout 900s ' +
        '--interval 60s --fail-severity 5=0,4=2 --fail-qids 179203,170560-170590 ' +
        "--fail-cves CVE-2021-44228,CVE-2022-22965 --fail-software '.*:log4j-core=2\\.1[0-6]\\..*' " +
        "--fail-cvss max:9.0 --potential --exclude-qids 179203 ${OUT} registry.example.com/shop/api:42 worker:42"
    assert c.callsOf('withCredentials') == [[[kind: 'usernamePassword', credentialsId: 'qualys-api',
                                              usernameVariable: 'QUALYS_USERNAME', passwordVariable: 'QUALYS_PASSWORD']]]
    assert c.shEnv().QUALYS_USERNAME == Ctx.USER && c.shEnv().QUALYS_PASSWORD == Ctx.SECRET
    assert !c.names().contains('withEnv')
    assert c.callsOf('junit') == [[testResults: 'qcs-reports/junit.xml', allowEmptyResults: true, skipMarkingBuildUnstable: true]]
    assert c.callsOf('archiveArtifacts') == [[artifacts: 'qcs-reports/**', allowEmptyArchive: true]]
    assert c.returned == null: 'the plugin\'s step returns nothing'
    assert !c.echoes.any { it.contains('Jenkins-wide') }
}

r.test('snippet, global configuration: only imageIds (and the runtime) from the job') {
    Ctx c = r.run(snippet(SPEC, [useGlobalConfig: true, useLocalConfig: false, imageIds: 'myapp:7',
                                 dockerUrl: 'tcp://docker:2376', dockerCert: '/certs',
                                 // left in the job from an earlier local configuration: ignored
                                 apiServer: 'https://qualysapi.qualys.com', credentialsId: 'qualys-api',
                                 isSev5Vulns: true, useProxy: true, proxyServer: 'old-proxy', proxyPort: 8080]),
                  [env: [QCS_JENKINS_CONFIG: '/var/lib/qcs/qcs.toml', QCS_JENKINS_CREDENTIALS_ID: 'qualys',
                         QCS_JENKINS_PROXY_CREDENTIALS_ID: 'proxy', QCS_JENKINS_WEBHOOK_CREDENTIALS_ID: 'hook'],
                   files: ['/var/lib/qcs/qcs.toml': '[qualys]\nplatform = "EU2"\n']])
    assert c.result() == 'SUCCESS': c.failure
    assert c.script() == "qcs scan --config /var/lib/qcs/qcs.toml --engine tcp://docker:2376 --cert-dir /certs ${OUT} myapp:7"
    List creds = c.callsOf('withCredentials')[0]
    assert creds == [[kind: 'usernamePassword', credentialsId: 'qualys', usernameVariable: 'QUALYS_USERNAME',
                      passwordVariable: 'QUALYS_PASSWORD'],
                     // the configuration's [qualys] auth decides which pair qcs reads
                     [kind: 'usernamePassword', credentialsId: 'qualys', usernameVariable: 'QUALYS_CLIENT_ID',
                      passwordVariable: 'QUALYS_CLIENT_SECRET'],
                     [kind: 'string', credentialsId: 'hook', variable: 'QCS_WEBHOOK_URL'],
                     [kind: 'usernamePassword', credentialsId: 'proxy', usernameVariable: 'QCS_PROXY_USERNAME',
                      passwordVariable: 'QCS_PROXY_PASSWORD']]
    Map e = c.shEnv()
    assert e.QUALYS_PASSWORD == Ctx.SECRET && e.QCS_WEBHOOK_URL == Ctx.WEBHOOK && e.QCS_PROXY_PASSWORD == Ctx.PROXY_SECRET
    assert !c.names().contains('withEnv'): 'the proxy comes from the configuration file'
    assert c.echoes.any { it.contains('Jenkins-wide configuration') && it.contains('useGlobalConfig: true') }
    assert c.echoes.contains('getImageVulnsFromQualys: the job\'s own apiServer, credentialsId, isSev5Vulns, proxyServer, ' +
                             'proxyPort, useProxy are ignored (only imageIds, webhookUrl, dockerUrl and dockerCert come from ' +
                             'the job); set useLocalConfig: true and useGlobalConfig: false to use them'): c.echoes
    assert c.returned == null
}

r.test('snippet, OAuth credential (qualysOAuthCredential): client id and secret in files only qcs reads') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [platform: 'EU_PLATFORM_1', credentialsId: 'qualys-oauth', imageIds: 'a:1',
                                         isSev5Vulns: true]))
    assert c.result() == 'SUCCESS': c.failure
    assert c.script() == "qcs scan --no-config --platform EU_PLATFORM_1 --fail-severity 5=0 ${OUT} a:1"
    assert !c.names().contains('withCredentials')
    Map e = c.shEnv()
    String dir = new File(e.QUALYS_CLIENT_SECRET_FILE as String).parent
    assert dir.startsWith(c.tmpDir.path + '/qcs-secrets-')
    assert c.callsOf('withEnv') == [['QUALYS_AUTH=oauth', "QUALYS_CLIENT_ID_FILE=${dir}/client-id".toString(),
                                     "QUALYS_CLIENT_SECRET_FILE=${dir}/client-secret".toString()]]
    assert c.shCalls[0][2] == [QUALYS_CLIENT_ID_FILE    : [Ctx.CLIENT_ID, 'rw-------', 'rwx------'],
                               QUALYS_CLIENT_SECRET_FILE: [Ctx.CLIENT_SECRET, 'rw-------', 'rwx------']]
    assert !new File(dir).exists(): 'the secret files outlived the step'
    assert hudson.model.Node.used.every { it == 'agent-1' }: "written on ${hudson.model.Node.used}, not the build's node"
    assert com.cloudbees.plugins.credentials.CredentialsProvider.lookups.every { it == ['qualys-oauth', 'run #42'] }
}

r.test('snippet, proxy with credentials: HTTPS_PROXY from host and port, credentials bound') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [apiServer: 'https://qualysapi.qg3.apps.qualys.com', platform: 'PCP',
                                         credentialsId: 'qualys', imageIds: 'a:1', useProxy: true,
                                         proxyServer: 'proxy.corp', proxyPort: 3128, proxyCredentialsId: 'proxy']))
    assert c.result() == 'SUCCESS': c.failure
    assert c.script() == "qcs scan --no-config --api-url https://qualysapi.qg3.apps.qualys.com ${OUT} a:1"
    assert c.callsOf('withEnv') == [['HTTPS_PROXY=http://proxy.corp:3128']]
    assert c.callsOf('withCredentials')[0]*.credentialsId == ['qualys', 'proxy']
    Map e = c.shEnv()
    assert e.HTTPS_PROXY == 'http://proxy.corp:3128'
    assert e.QCS_PROXY_USERNAME == 'proxy-user' && e.QCS_PROXY_PASSWORD == Ctx.PROXY_SECRET
    assert !c.script().contains('proxy')
}

r.test('proxy settings count only with useProxy: true, as in the plugin') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', useProxy: false, proxyServer: 'proxy.corp', proxyPort: 3128,
                                         proxyCredentialsId: 'no-such-credential']))
    assert c.result() == 'SUCCESS': c.failure
    assert !c.names().contains('withEnv') && !c.names().contains('withCredentials')
}

// --- build results, as the plugin's step (and qcs's exit codes) ---------------------------------

r.test('a policy failure fails the build ("policy violated"), after publishing the reports') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', isSev5Vulns: true]), 1)
    assert c.result() == 'FAILURE'
    assert c.failure.contains('policy violated') && c.failure.contains('exit code 1')
    assert c.names().indexOf('archiveArtifacts') < c.names().indexOf('error')
}

[2: 'configuration error', 3: 'container engine or sensor error', 4: 'Qualys API error',
 5: 'no complete scan result'].each { int code, String reason ->
    r.test("exit ${code}: FAILURE \"${reason}\" (the plugin failed the same way for any error)") {
        Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1']), code)
        assert c.result() == 'FAILURE' && c.failure.contains(reason)
    }
}

// --- secrets in clear ---------------------------------------------------------------------------

r.test('apiUser, apiPass, proxyUsername, proxyPassword are refused when they hold anything') {
    ['apiUser', 'apiPass', 'proxyUsername', 'proxyPassword'].each { key ->
        [LOCAL, [useGlobalConfig: true]].each { mode ->
            Ctx c = r.run(snippet(SPEC, mode + [imageIds: 'a:1', (key): 'plain']),
                          [env: [QCS_JENKINS_CONFIG: '/q.toml'], files: ['/q.toml': '']])
            assert c.result() == 'FAILURE': key
            assert c.failure.contains(key) && c.failure.contains('credential') && c.failure.contains('clear text')
            assert !c.failure.contains('plain')
            assert !c.names().contains('sh')
        }
    }
}

r.test('empty apiUser, apiPass, proxyUsername, proxyPassword are accepted') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', apiUser: '', apiPass: '', proxyUsername: '', proxyPassword: '']))
    assert c.result() == 'SUCCESS': c.failure
}

// --- the plugin's precedence and defaults -------------------------------------------------------

r.test('a known platform wins over apiServer; with PCP, none or an unknown platform apiServer is used') {
    Map base = LOCAL + [imageIds: 'a:1', apiServer: 'https://qualysapi.qualys.eu']
    Ctx c = r.run(snippet(SPEC, base + [platform: 'US_PLATFORM_1']))
    assert c.script() == "qcs scan --no-config --platform US_PLATFORM_1 ${OUT} a:1"
    assert c.echoes.any { it.contains('apiServer is ignored') }
    assert r.run(snippet(SPEC, base + [platform: 'INDIA_PLATFORM'])).script() == "qcs scan --no-config --platform INDIA_PLATFORM ${OUT} a:1"
    assert r.run(snippet(SPEC, base + [platform: 'AE_Platform'])).script() == "qcs scan --no-config --platform AE_Platform ${OUT} a:1"
    assert r.run(snippet(SPEC, base + [platform: 'PCP'])).script() == "qcs scan --no-config --api-url https://qualysapi.qualys.eu ${OUT} a:1"
    assert r.run(snippet(SPEC, base + [platform: ''])).script() == "qcs scan --no-config --api-url https://qualysapi.qualys.eu ${OUT} a:1"
    c = r.run(snippet(SPEC, base + [platform: 'XX_PLATFORM_9']))
    assert c.script() == "qcs scan --no-config --api-url https://qualysapi.qualys.eu ${OUT} a:1"
    assert c.echoes.any { it.contains('warning') && it.contains('XX_PLATFORM_9') }
}

r.test('apiServer must be an http(s) URL (the plugin\'s form check)') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', apiServer: 'qualysapi.qualys.com']))
    assert c.result() == 'FAILURE' && c.failure.contains('apiServer must be an http(s) URL')
    assert !c.names().contains('sh')
}

r.test('CVSS: version 2 when the call leaves it empty (the form\'s first entry); maxOfv2andv3 is max') {
    Map base = LOCAL + [imageIds: 'a:1', failByCvss: true, cvssThreshold: '7.0']
    assert r.run(snippet(SPEC, base + [cvssVersion: ''])).script().contains(' --fail-cvss 2:7.0 ')
    Map omitted = snippet(SPEC, base)
    omitted.remove('cvssVersion')
    assert r.run(omitted).script().contains(' --fail-cvss 2:7.0 ')
    assert r.run(snippet(SPEC, base)).script().contains(' --fail-cvss 2:7.0 '): 'the form\'s 2'
    assert r.run(snippet(SPEC, base + [cvssVersion: '3'])).script().contains(' --fail-cvss 3:7.0 ')
    assert r.run(snippet(SPEC, base + [cvssVersion: 'maxOfv2andv3'])).script().contains(' --fail-cvss max:7.0 ')
    assert r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', failByCvss: true])).script().contains(' --fail-cvss 2:0.0 '): 'the form\'s 0.0'
}

r.test('exclusions: excludeBy picks the list (cve, the form\'s first entry, or qid); omitted, nothing is excluded') {
    Map base = LOCAL + [imageIds: 'a:1', isExcludeConditions: true]
    Ctx c = r.run(snippet(SPEC, base + [excludeList: 'CVE-2018-2771']))
    assert c.script().contains(' --exclude-cves CVE-2018-2771 '): 'the form\'s cve'
    assert r.run(snippet(SPEC, base + [excludeBy: 'qid', excludeList: '179203,100-200'])).script()
        .contains(' --exclude-qids 179203,100-200 ')
    Map handWritten = [useLocalConfig: true, imageIds: 'a:1', isExcludeConditions: true, excludeList: '179203']
    c = r.run(handWritten)
    assert c.script() == "qcs scan --no-config ${OUT} a:1"
    assert c.echoes.any { it.contains('excludeBy is not set') }
    c = r.run(snippet(SPEC, base + [excludeBy: '', excludeList: '179203']))
    assert !c.script().contains('--exclude')
    assert !r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', excludeBy: 'qid', excludeList: '179203'])).script()
        .contains('--exclude'): 'isExcludeConditions is false'
}

r.test('severity limits: 0 by default, below 0 counts as 0 (as the plugin\'s constructor)') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', isSev3Vulns: true, severity3Limit: -4, isSev1Vulns: true,
                                         severity1Limit: 12, severity2Limit: 7]))
    assert c.script().contains(' --fail-severity 3=0,1=12 ')
}

r.test('the plugin\'s form checks: CVE ids, CVSS threshold 0.0-10.0, cvssVersion, excludeBy; all reported at once') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', isFailOnCVEs: true, cveList: 'CVE-2021-44228,log4shell,CVE-21-1',
                                         failByCvss: true, cvssThreshold: '11', cvssVersion: '4',
                                         isExcludeConditions: true, excludeBy: 'name', excludeList: 'x']))
    assert c.result() == 'FAILURE'
    ['log4shell, CVE-21-1 are not CVE ids', 'cvssThreshold must be a number from 0.0 to 10.0, not 11',
     'cvssVersion must be 2, 3 or maxOfv2andv3, not 4', 'excludeBy must be qid or cve, not name'].each {
        assert c.failure.contains(it): c.failure
    }
    assert !c.names().contains('sh')
    assert r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', failByCvss: true, cvssThreshold: 'high'])).failure
        .contains('cvssThreshold must be a number')
    assert r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', isFailOnCVEs: false, cveList: 'not-a-cve'])).result() == 'SUCCESS':
        'a list whose switch is off is not checked'
}

r.test('pollingInterval and vulnsTimeout: seconds or products; below 30 s polling uses 30 s (as the plugin)') {
    Map base = LOCAL + [imageIds: 'a:1']
    Ctx c = r.run(snippet(SPEC, base + [pollingInterval: '10', vulnsTimeout: '2*60*60']))
    assert c.script().contains(' --timeout 7200s --interval 30s ')
    assert c.echoes.any { it.contains('pollingInterval 10 is below 30 seconds, so 30 is used') }
    assert r.run(snippet(SPEC, base + [pollingInterval: '', vulnsTimeout: ''])).script() == "qcs scan --no-config ${OUT} a:1":
        'empty: qcs\'s 10 minutes and adaptive polling'
    c = r.run(snippet(SPEC, base + [vulnsTimeout: 'ten minutes']))
    assert c.result() == 'FAILURE' && c.failure.contains('vulnsTimeout must be a number of seconds')
}

r.test('isFailOnSevereVulns is accepted and recomputed from the isSevNVulns switches') {
    assert r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', isFailOnSevereVulns: true])).script() == "qcs scan --no-config ${OUT} a:1"
    assert r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', isFailOnSevereVulns: false, isSev2Vulns: true])).script()
        .contains(' --fail-severity 2=0 ')
}

r.test('no imageIds: qcs reads IMAGE_ID, as the plugin did') {
    assert r.run(snippet(SPEC, LOCAL)).script() == "qcs scan --no-config ${OUT}"
}

// --- which configuration counts ------------------------------------------------------------------

r.test('local settings read no config file: a qcs.toml in the workspace or QCS_CONFIG is not used') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1']), [env: [QCS_CONFIG: '/b.toml'], files: ['/b.toml': '', 'qcs.toml': '']])
    assert c.script() == "qcs scan --no-config ${OUT} a:1"
}

r.test('useLocalConfig not true (or useGlobalConfig true): the Jenkins-wide configuration') {
    Map env = [env: [QCS_JENKINS_CONFIG: 'ci/qcs.toml'], files: ['ci/qcs.toml': '']]
    // A hand-written call with neither switch, as in many Jenkinsfiles.
    Ctx c = r.run([imageIds: 'bf756fb1ae65'], env)
    assert c.script() == "qcs scan --config ci/qcs.toml ${OUT} bf756fb1ae65"
    assert c.echoes.any { it.contains('when useLocalConfig is not true') }
    // Both switches on: the plugin reads the global configuration.
    c = r.run(snippet(SPEC, [useGlobalConfig: true, useLocalConfig: true, imageIds: 'a:1', platform: 'US_PLATFORM_1']), env)
    assert c.script() == "qcs scan --config ci/qcs.toml ${OUT} a:1"
    assert c.echoes.any { it.contains('platform') && it.contains('ignored') }
    // The untouched form's snippet.
    assert r.run(snippet(SPEC, [imageIds: 'a:1']), env).script() == "qcs scan --config ci/qcs.toml ${OUT} a:1"
}

r.test('the Jenkins-wide configuration file: QCS_JENKINS_CONFIG, else QCS_CONFIG, else qcs.toml in the workspace') {
    Map call = snippet(SPEC, [useGlobalConfig: true, imageIds: 'a:1'])
    assert r.run(call, [env: [QCS_JENKINS_CONFIG: '/a.toml', QCS_CONFIG: '/b.toml'], files: ['/a.toml': '', '/b.toml': '', 'qcs.toml': '']])
        .script().startsWith('qcs scan --config /a.toml ')
    assert r.run(call, [env: [QCS_CONFIG: '/b.toml'], files: ['/b.toml': '', 'qcs.toml': '']]).script().startsWith('qcs scan --config /b.toml ')
    assert r.run(call, [files: ['qcs.toml': '']]).script().startsWith('qcs scan --config qcs.toml ')
    Ctx c = r.run(call, [env: [QCS_JENKINS_CONFIG: '/missing.toml']])
    assert c.result() == 'FAILURE' && c.failure.contains('/missing.toml (named by QCS_JENKINS_CONFIG) is not on this agent')
    c = r.run(call)
    assert c.result() == 'FAILURE'
    assert c.failure.contains('no Jenkins-wide configuration') && c.failure.contains('qcs migrate jenkins --global')
    assert !c.names().contains('sh')
}

r.test('the Jenkins-wide configuration without QCS_JENKINS_CREDENTIALS_ID: the agent\'s environment, with a note') {
    Ctx c = r.run(snippet(SPEC, [imageIds: 'a:1', credentialsId: 'qualys']), [files: ['qcs.toml': '']])
    assert !c.names().contains('withCredentials'): 'the job\'s credentialsId does not count'
    assert c.echoes.any { it.contains('QCS_JENKINS_CREDENTIALS_ID is not set') }
}

r.test('the Jenkins-wide credential may be the OAuth type too') {
    Ctx c = r.run(snippet(SPEC, [imageIds: 'a:1']),
                  [env: [QCS_JENKINS_CREDENTIALS_ID: 'qualys-oauth'], files: ['qcs.toml': '']])
    assert c.shEnv().QUALYS_AUTH == 'oauth'
    assert c.shCalls[0][2].QUALYS_CLIENT_SECRET_FILE[0] == Ctx.CLIENT_SECRET
}

r.test('webhook: the job\'s webhookUrl wins (in a file, with a warning); empty, the Jenkins-wide one') {
    Map hook = [env: [QCS_JENKINS_WEBHOOK_CREDENTIALS_ID: 'hook', QCS_JENKINS_CONFIG: '/q.toml'], files: ['/q.toml': '']]
    [LOCAL, [useGlobalConfig: true]].each { mode ->
        Ctx c = r.run(snippet(SPEC, mode + [imageIds: 'a:1', webhookUrl: Ctx.WEBHOOK]), hook)
        assert c.shCalls[0][2].QCS_WEBHOOK_URL_FILE[0] == Ctx.WEBHOOK
        assert !c.shEnv().containsKey('QCS_WEBHOOK_URL')
        assert c.echoes.any { it.contains('warning') && it.contains('QCS_JENKINS_WEBHOOK_CREDENTIALS_ID') }
        c = r.run(snippet(SPEC, mode + [imageIds: 'a:1']), hook)
        assert c.callsOf('withCredentials')[0].find { it.kind == 'string' }?.credentialsId == 'hook'
        assert c.shEnv().QCS_WEBHOOK_URL == Ctx.WEBHOOK
    }
}

// --- a library that is not trusted (script sandbox) -----------------------------------------------

r.test('untrusted library: a username/password credential is still bound') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', credentialsId: 'qualys']), [trusted: false])
    assert c.result() == 'SUCCESS': c.failure
    assert c.shEnv().QUALYS_PASSWORD == Ctx.SECRET
}

r.test('untrusted library: a plain webhookUrl still reaches qcs, through withEnv, with a warning') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', webhookUrl: 'https://hooks.example/plain']), [trusted: false])
    assert c.result() == 'SUCCESS': c.failure
    assert c.callsOf('withEnv') == [['QCS_WEBHOOK_URL=https://hooks.example/plain']]
    assert c.echoes.any { it.contains('not trusted') }
}

r.test('untrusted library: an OAuth credential fails with a message that says what to do') {
    Ctx c = r.run(snippet(SPEC, LOCAL + [imageIds: 'a:1', credentialsId: 'qualys-oauth']), [trusted: false])
    assert c.result() == 'FAILURE'
    assert c.failure.contains('Global Trusted Pipeline Libraries')
    assert !c.names().contains('sh')
}

// --- no secret anywhere ---------------------------------------------------------------------------

r.test('no secret in any echo, sh script, step argument or error, whatever the outcome') {
    Map all = snippet(SPEC, LOCAL + [imageIds: 'a:1', credentialsId: 'qualys-oauth', useProxy: true, proxyServer: 'p',
                                     proxyPort: 1, proxyCredentialsId: 'proxy', webhookUrl: Ctx.WEBHOOK,
                                     isSev5Vulns: true])
    [0, 1, 2, 4, 5].each { code ->
        Ctx c = r.run(all, code)   // Runner.run checks every run; this one has every kind of secret
        String everything = (c.calls.collect { it.toString() } + c.echoes + [c.failure]).join('\n')
        Ctx.SECRETS.each { assert !everything.contains(it) }
        assert c.shCalls[0][2].keySet() == ['QUALYS_CLIENT_ID_FILE', 'QUALYS_CLIENT_SECRET_FILE', 'QCS_WEBHOOK_URL_FILE'] as Set
    }
}

// --- end to end: the real qcs against the emulator (when integrations.rs runs one) -----------------

String e2eBin = System.getenv('QCS_E2E_BIN')
if (e2eBin) {
    String gateway = System.getenv('QCS_E2E_GATEWAY')
    String engine = System.getenv('QCS_E2E_ENGINE')
    Map path = [PATH: "${new File(e2eBin).parent}:${System.getenv('PATH')}".toString()]
    Map strict = [isSev1Vulns: true, isSev2Vulns: true, isSev3Vulns: true, isSev4Vulns: true, isSev5Vulns: true]
    [['acme/web:1.0', 'SUCCESS', null], ['acme/app:1.0', 'FAILURE', 'policy violated']].each { image, result, reason ->
        r.test("end to end, local settings and an OAuth credential: ${image} is ${result}") {
            File dir = File.createTempDir()
            try {
                Ctx c = r.run(snippet(SPEC, LOCAL + strict + [apiServer: gateway, credentialsId: 'qcs-demo-oauth',
                                                              dockerUrl: engine, vulnsTimeout: '60', imageIds: image]),
                              [realDir: dir, env: path])
                String log = new File(dir, 'sh.log').text
                assert c.result() == result: log
                assert reason == null || c.failure.contains(reason)
                assert new File(dir, 'qcs-reports/junit.xml').text.contains('<testsuite'): log
                assert new File(dir, 'qcs-reports/report.html').isFile(): log
                String plugin = new File(dir, 'qcs-reports/qualys_images_summary.json').text
                assert plugin.contains('"scanResult"') && plugin.contains('"trendingData"'): log
            } finally {
                dir.deleteDir()
            }
        }
        r.test("end to end, the Jenkins-wide configuration (qcs.toml + qcs-policy.toml): ${image} is ${result}") {
            File dir = File.createTempDir()
            try {
                File conf = new File(dir, 'jenkins')
                conf.mkdirs()
                new File(conf, 'qcs.toml').text = "policy = \"qcs-policy.toml\"\n[qualys]\ngateway-url = \"${gateway}\"\n" +
                    "[engine]\nhost = \"${engine}\"\n[wait]\ntimeout = \"60s\"\n"
                new File(conf, 'qcs-policy.toml').text = '[fail]\nseverity = { 5 = 0, 4 = 0, 3 = 0, 2 = 0, 1 = 0 }\n'
                Ctx c = r.run(snippet(SPEC, [useGlobalConfig: true, imageIds: image]),
                              [realDir: dir, env: path + [QCS_JENKINS_CONFIG: new File(conf, 'qcs.toml').path,
                                                          QCS_JENKINS_CREDENTIALS_ID: 'qcs-demo']])
                String log = new File(dir, 'sh.log').text
                assert c.result() == result: log
                assert reason == null || c.failure.contains(reason)
                assert new File(dir, 'qcs-reports/summary.json').isFile(): log
            } finally {
                dir.deleteDir()
            }
        }
    }
}

if (e2eBin) {
    r.test('end to end: a wrong OAuth client secret is refused by the Qualys API (the file is what qcs reads)') {
        File dir = File.createTempDir()
        try {
            Map path = [PATH: "${new File(e2eBin).parent}:${System.getenv('PATH')}".toString()]
            Ctx c = r.run(snippet(SPEC, LOCAL + [apiServer: System.getenv('QCS_E2E_GATEWAY'), credentialsId: 'wrong-oauth',
                                                 dockerUrl: System.getenv('QCS_E2E_ENGINE'), vulnsTimeout: '60',
                                                 imageIds: 'acme/web:1.0']),
                          [realDir: dir, env: path,
                           credentials: ['wrong-oauth': new com.qualys.plugins.containerSecurity.util.OAuthCredential(
                               id: 'wrong-oauth', clientId: 'qcs-demo', clientSecret: 'not-the-secret')]])
            String log = new File(dir, 'sh.log').text
            assert c.result() == 'FAILURE' && c.failure.contains('Qualys API error'): log
            assert log.toLowerCase().contains('oauth') || log.contains('client'): log
            assert !log.contains('not-the-secret')
        } finally {
            dir.deleteDir()
        }
    }
}

r.finish()
