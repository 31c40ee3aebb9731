// Runs vars/qcsScan.groovy against a stub pipeline context (harness/Ctx.groovy): sh,
// withCredentials, usernamePassword, withEnv, junit, archiveArtifacts, error, unstable, echo, env
// and currentBuild record what the step does, and sh answers with a chosen exit code. Checks the command line (also by running it
// through bash against a stub qcs), that secrets never reach it, and the build result per exit
// code. Prints "N passed, M failed"; exits 1 when any check fails.
//
// Usage: groovy -cp stubs:harness QcsScanTest.groovy <path to vars/qcsScan.groovy>
// With QCS_COMMANDS_OUT set, writes every command line the step ran to that file, one a line,
// after the test's name and a tab (the Rust test checks them against the real qcs).

// The stub pipeline context (Ctx), the runner and the secret checks are in harness/.

if (args.length != 1) {
    System.err.println('usage: groovy -cp stubs:harness QcsScanTest.groovy vars/qcsScan.groovy')
    System.exit(2)
}
def loader = new GroovyClassLoader(this.class.classLoader)
Runner r = new Runner(stepClass: loader.parseClass(new File(args[0])))

final Map BRIEF = [images: ['myapp:1.4', 'worker:1.4'], policy: 'qcs-policy.toml', platform: 'US2',
                   credentialsId: 'qualys', formats: ['junit', 'sarif', 'html'], timeout: '10m',
                   reportOnly: false]

// --- the command line ----------------------------------------------------------------------

r.test('builds the qcs scan command line from the step parameters') {
    Ctx c = r.run(BRIEF)
    assert c.script() == 'qcs scan --platform US2 --timeout 10m --policy qcs-policy.toml ' +
        '--output-dir qcs-reports --format junit --format sarif --format html myapp:1.4 worker:1.4'
    assert c.shCalls[0][0].returnStatus == true
}

r.test('noConfig: true: qcs reads no config file; with config (or useGlobalConfig) the step fails before qcs runs') {
    Ctx c = r.run([images: ['myapp:1.4'], noConfig: true])
    assert c.script() == 'qcs scan --no-config --output-dir qcs-reports --format json --format junit myapp:1.4'
    c = r.run([images: ['myapp:1.4'], noConfig: true, config: 'ci/qcs.toml'])
    assert c.result() == 'FAILURE'
    assert c.failure.contains('noConfig') && c.failure.contains('config')
    assert !c.names().contains('sh')
    assert !r.run([images: ['myapp:1.4'], noConfig: false]).script().contains('--no-config')
}

r.test('credentials come through withCredentials into the environment, never the script') {
    Ctx c = r.run(BRIEF)
    List creds = c.callsOf('withCredentials')
    assert creds.size() == 1
    assert creds[0] == [[kind: 'usernamePassword', credentialsId: 'qualys',
                         usernameVariable: 'QUALYS_USERNAME', passwordVariable: 'QUALYS_PASSWORD']]
    Map envAtSh = c.shCalls[0][1]
    assert envAtSh.QUALYS_USERNAME == Ctx.USER
    assert envAtSh.QUALYS_PASSWORD == Ctx.SECRET
    assert !c.script().contains('QUALYS_PASSWORD')
    assert !c.env.containsKey('QUALYS_PASSWORD'): 'the secret outlived withCredentials'
}

r.test('OAuth credentials go to the client id and secret variables') {
    Ctx c = r.run(BRIEF + [auth: 'oauth'])
    Map cred = c.callsOf('withCredentials')[0][0]
    assert cred.usernameVariable == 'QUALYS_CLIENT_ID'
    assert cred.passwordVariable == 'QUALYS_CLIENT_SECRET'
    assert c.script().contains(' --auth oauth ')
}

r.test('without credentialsId the step runs qcs with the agent environment as it is') {
    Ctx c = r.run([images: 'myapp:1.4'])
    assert !c.names().contains('withCredentials')
    assert c.script() == 'qcs scan --output-dir qcs-reports --format json --format junit myapp:1.4'
}

r.test('no images: qcs reads IMAGE_ID itself, as the plugin did') {
    Ctx c = r.run([platform: 'US1'])
    assert c.script().endsWith('--format junit')
}

r.test('values are single-quoted so the shell expands nothing in them') {
    String nasty = "my app'; touch /tmp/pwned #"
    Ctx c = r.run([images: [nasty, '$(id)', 'ok:1'], policy: 'dir with space/p.toml', qcs: '/opt/qcs/bin/qcs'])
    assert c.script() == "/opt/qcs/bin/qcs scan --policy 'dir with space/p.toml' --output-dir qcs-reports " +
        "--format json --format junit 'my app'\"'\"'; touch /tmp/pwned #' '\$(id)' ok:1"
}

r.test('the command line, run by bash, gives qcs exactly the values given') {
    File dir = File.createTempDir()
    try {
        File out = new File(dir, 'args')
        File stub = new File(dir, 'qcs')
        stub.text = '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "' + out.path + '"\nexit 3\n'
        stub.setExecutable(true)
        List images = ["a'b", '$(id)', '`id`', 'x y', 'c\\d', '*']
        Ctx c = r.run([images: images, qcs: stub.path, args: ['--verbose'], timeout: '1h30m'])
        Process proc = ['bash', '-c', c.script()].execute(null, dir)
        proc.waitFor()
        assert proc.exitValue() == 3
        assert out.readLines() == ['scan', '--timeout', '1h30m', '--output-dir', 'qcs-reports', '--format', 'json',
                                   '--format', 'junit', '--verbose'] + images
    } finally {
        dir.deleteDir()
    }
}

// --- results per exit code ---------------------------------------------------------------------

r.test('exit 0: SUCCESS, junit published, reports archived, a result returned') {
    Ctx c = r.run(BRIEF, 0)
    assert c.result() == 'SUCCESS'
    assert c.callsOf('junit') == [[testResults: 'qcs-reports/junit.xml', allowEmptyResults: true,
                                   skipMarkingBuildUnstable: true]]
    assert c.callsOf('archiveArtifacts') == [[artifacts: 'qcs-reports/**', allowEmptyArchive: true]]
    assert c.returned == [exitCode: 0, outcome: 'passed', reportDir: 'qcs-reports']
}

r.test('exit 1: FAILURE "policy violated", after publishing the reports') {
    Ctx c = r.run(BRIEF, 1)
    assert c.result() == 'FAILURE'
    assert c.failure.contains('policy violated') && c.failure.contains('exit code 1')
    List names = c.names()
    assert names.indexOf('junit') < names.indexOf('error')
    assert names.indexOf('archiveArtifacts') < names.indexOf('error')
}

r.test('exit 1 with unstableOnPolicyFailure: UNSTABLE, and the step returns') {
    Ctx c = r.run(BRIEF + [unstableOnPolicyFailure: true], 1)
    assert c.result() == 'UNSTABLE'
    assert c.callsOf('unstable').size() == 1 && c.callsOf('unstable')[0].contains('policy violated')
    assert c.returned == [exitCode: 1, outcome: 'failed', reportDir: 'qcs-reports']
}

[2: 'configuration error', 3: 'container engine or sensor error', 4: 'Qualys API error',
 5: 'no complete scan result'].each { int code, String reason ->
    r.test("exit ${code}: FAILURE \"${reason}\", also with unstableOnPolicyFailure") {
        [BRIEF, BRIEF + [unstableOnPolicyFailure: true]].each { Map params ->
            Ctx c = r.run(params, code)
            assert c.result() == 'FAILURE'
            assert c.failure.contains(reason) && c.failure.contains("exit code ${code}")
            assert !c.names().contains('unstable')
            assert c.names().containsAll(['junit', 'archiveArtifacts'])
        }
    }
}

r.test('exit 127 (qcs missing on the agent): FAILURE that says so') {
    Ctx c = r.run(BRIEF, 127)
    assert c.result() == 'FAILURE'
    assert c.failure.contains('exit code 127') && c.failure.contains('installed')
}

r.test('reportOnly: --report-only is passed and exit 0 is SUCCESS with a note') {
    Ctx c = r.run(BRIEF + [reportOnly: true], 0)
    assert c.script().contains(' --report-only ')
    assert c.result() == 'SUCCESS'
    assert c.echoes.any { it.contains('report only') }
    assert !r.run(BRIEF).script().contains('--report-only')
}

r.test('reportOnly: the returned outcome is the verdict in summary.json') {
    String summary = '{"schema_version":1,"outcome":"failed","exit_code":1,"images":[{"outcome":"passed"}]}'
    Ctx c = r.run([images: 'a:1', reportOnly: true], 0, null, ['qcs-reports/summary.json': summary])
    assert c.result() == 'SUCCESS'
    assert c.returned == [exitCode: 0, outcome: 'failed', reportDir: 'qcs-reports']
    assert c.echoes.any { it.contains('outcome failed') }
    c = r.run([images: 'a:1', reportOnly: true, formats: ['json=out/s.json']], 0, null, ['out/s.json': summary])
    assert c.returned.outcome == 'failed'
    assert r.run([images: 'a:1', reportOnly: true], 0).returned.outcome == 'passed': 'no summary.json: from the exit code'
}

r.test('reportOnly still fails on a configuration error (exit 2)') {
    Ctx c = r.run(BRIEF + [reportOnly: true], 2)
    assert c.result() == 'FAILURE'
}

// --- reports -----------------------------------------------------------------------------------

r.test('no junit format, or publishJunit: false: no junit step; archive: false: no archive') {
    assert !r.run(BRIEF + [formats: ['json', 'sarif']]).names().contains('junit')
    assert !r.run(BRIEF + [publishJunit: false]).names().contains('junit')
    Ctx c = r.run(BRIEF + [archive: false])
    assert !c.names().contains('archiveArtifacts')
}

r.test('junit=PATH and outputDir: the published and archived paths follow') {
    Ctx c = r.run(BRIEF + [formats: ['json', 'junit=out/tests.xml'], outputDir: 'scan-out'])
    assert c.script().contains('--output-dir scan-out --format json --format junit=out/tests.xml ')
    assert c.callsOf('junit')[0].testResults == 'out/tests.xml'
    assert c.callsOf('archiveArtifacts')[0].artifacts == 'scan-out/**'
}

// --- the plugin's parameter names --------------------------------------------------------------

r.test('plugin names: imageIds, dockerUrl, dockerCert, vulnsTimeout and pollingInterval products') {
    Ctx c = r.run([imageIds: ' myapp:1.4 , 0123456789ab ', dockerUrl: '/usr/local/bin/nerdctl',
                   dockerCert: '/certs', vulnsTimeout: '2*60', pollingInterval: '45',
                   platform: 'US_PLATFORM_2', credentialsId: 'qualys'])
    assert c.script() == 'qcs scan --platform US_PLATFORM_2 --engine /usr/local/bin/nerdctl --cert-dir /certs ' +
        '--timeout 120s --interval 45s --output-dir qcs-reports --format json --format junit ' +
        'myapp:1.4 0123456789ab'
    assert c.echoes.any { it.contains('warning') && it.contains('pollingInterval') }
}

r.test('plugin names: useGlobalConfig: true reads the Jenkins-wide configuration, the parameters apply on top') {
    Ctx c = r.run([images: ['myapp:1.4'], useGlobalConfig: true, useLocalConfig: false, timeout: '5m'],
                  [env: [QCS_JENKINS_CONFIG: '/etc/qcs/qcs.toml', QCS_JENKINS_CREDENTIALS_ID: 'qualys'],
                   files: ['/etc/qcs/qcs.toml': '[qualys]\nplatform = "US2"\n']])
    assert c.script() == 'qcs scan --config /etc/qcs/qcs.toml --timeout 5m --output-dir qcs-reports ' +
        '--format json --format junit myapp:1.4'
    // Both pairs: the configuration's [qualys] auth says which one qcs reads (basic unless it says oauth).
    assert c.callsOf('withCredentials')[0] == [
        [kind: 'usernamePassword', credentialsId: 'qualys', usernameVariable: 'QUALYS_USERNAME', passwordVariable: 'QUALYS_PASSWORD'],
        [kind: 'usernamePassword', credentialsId: 'qualys', usernameVariable: 'QUALYS_CLIENT_ID', passwordVariable: 'QUALYS_CLIENT_SECRET']]
    assert c.shEnv().QUALYS_PASSWORD == Ctx.SECRET && c.shEnv().QUALYS_CLIENT_SECRET == Ctx.SECRET
    assert r.run([images: ['a:1'], config: 'qcs.toml', credentialsId: 'qualys', auth: 'basic']).callsOf('withCredentials')[0]*.usernameVariable ==
        ['QUALYS_USERNAME']: 'an explicit auth binds one pair'
    assert r.run([images: ['a:1'], credentialsId: 'qualys']).callsOf('withCredentials')[0]*.usernameVariable ==
        ['QUALYS_USERNAME']: 'no config file: the user and password only'
    assert c.echoes.any { it.contains('Jenkins-wide configuration /etc/qcs/qcs.toml') }
    assert !c.echoes.any { it.contains('useLocalConfig') }: 'useLocalConfig: false with useGlobalConfig needs no note'
    assert c.result() == 'SUCCESS'
}

r.test('plugin names: useGlobalConfig: true without a Jenkins-wide configuration fails, naming qcs migrate jenkins') {
    Ctx c = r.run([images: ['myapp:1.4'], useGlobalConfig: true])
    assert c.result() == 'FAILURE'
    assert c.failure.contains('qcs migrate jenkins') && c.failure.contains('QCS_JENKINS_CONFIG')
    assert !c.names().contains('sh')
}

r.test('plugin names: useLocalConfig: false alone has no effect in qcsScan, with a note') {
    Ctx c = r.run([images: ['myapp:1.4'], useLocalConfig: false])
    assert c.script() == 'qcs scan --output-dir qcs-reports --format json --format junit myapp:1.4'
    assert c.echoes.any { it.contains('note') && it.contains('useLocalConfig') && it.contains('getImageVulnsFromQualys') }
}

r.test('plugin names: isFailOnSevereVulns and empty apiUser/apiPass/proxyUsername/proxyPassword are accepted') {
    Ctx c = r.run([imageIds: 'a:1', isFailOnSevereVulns: true, apiUser: '', apiPass: '', proxyUsername: '',
                   proxyPassword: '', isSev5Vulns: true, severity5Limit: 0])
    assert c.result() == 'SUCCESS'
    assert c.script() == 'qcs scan --fail-severity 5=0 --output-dir qcs-reports --format json --format junit a:1'
}

r.test('plugin names: a known platform wins over apiServer; PCP, none or an unknown one uses apiServer') {
    Ctx c = r.run([imageIds: 'a:1', platform: 'US_PLATFORM_3', apiServer: 'https://qualysapi.qualys.com'])
    assert c.script().startsWith('qcs scan --platform US_PLATFORM_3 --output-dir')
    assert c.echoes.any { it.contains('apiServer is ignored') }
    c = r.run([imageIds: 'a:1', platform: 'MOON_PLATFORM_1', apiServer: 'https://qualysapi.qualys.com'])
    assert c.script().startsWith('qcs scan --api-url https://qualysapi.qualys.com --output-dir')
    assert c.echoes.any { it.contains('warning') && it.contains('MOON_PLATFORM_1') }
    assert r.run([imageIds: 'a:1', platform: 'MOON_PLATFORM_1']).script().startsWith('qcs scan --platform MOON_PLATFORM_1 ')
    assert r.run([imageIds: 'a:1', apiServer: ' https://qualysapi.qualys.eu ']).script()
        .startsWith('qcs scan --api-url https://qualysapi.qualys.eu --output-dir')
    assert r.run([imageIds: 'a:1', apiUrl: 'https://x.example', platform: 'US2']).script()
        .startsWith('qcs scan --platform US2 --api-url https://x.example '): 'qcs names keep qcs precedence'
}

r.test('plugin names: a private platform (PCP) uses apiServer as the API URL') {
    Ctx c = r.run([images: 'a:1', platform: 'PCP', apiServer: 'https://qualysapi.corp.example'])
    assert c.script().startsWith('qcs scan --api-url https://qualysapi.corp.example --output-dir')
}

r.test('plugin names: the fail conditions become the qcs policy flags') { // name read by integrations.rs
    Ctx c = r.run([imageIds: 'a:1', isSev5Vulns: true, severity5Limit: 0, isSev4Vulns: true, severity4Limit: '2',
                   isSev3Vulns: false, severity3Limit: 9,
                   isFailOnQidFound: true, qidList: '179203, 170560-170590',
                   isFailOnCVEs: true, cveList: 'CVE-2021-44228,CVE-2017-1000116',
                   isFailOnSoftware: true, softwareList: 'openssl.*,rpm-libs=4.8.0-55.el6',
                   failByCvss: true, cvssVersion: 'maxOfv2andv3', cvssThreshold: '7.0',
                   isPotentialVulnsToBeChecked: true,
                   isExcludeConditions: true, excludeBy: 'cve', excludeList: 'CVE-2018-2771',
                   formats: ['json']])
    assert c.script() == 'qcs scan --fail-severity 5=0,4=2 --fail-qids 179203,170560-170590 ' +
        "--fail-cves CVE-2021-44228,CVE-2017-1000116 --fail-software 'openssl.*,rpm-libs=4.8.0-55.el6' " +
        '--fail-cvss max:7.0 --potential --exclude-cves CVE-2018-2771 --output-dir qcs-reports ' +
        '--format json a:1'
}

r.test('plugin names: excludeBy qid excludes QIDs; without excludeBy nothing is excluded (as in the plugin)') {
    Ctx c = r.run([imageIds: 'a:1', isExcludeConditions: true, excludeBy: 'qid', excludeList: '179203,100-200'])
    assert c.script().contains(' --exclude-qids 179203,100-200 ')
    assert !c.script().contains('--exclude-cves')
    c = r.run([imageIds: 'a:1', isExcludeConditions: true, excludeList: '179203,100-200'])
    assert !c.script().contains('--exclude')
    assert c.echoes.any { it.contains('warning') && it.contains('excludeBy is not set') }
}

r.test('plugin names: failByCvss without cvssVersion is version 2, the form\'s default') {
    Ctx c = r.run([imageIds: 'a:1', failByCvss: true, cvssThreshold: '7.5'])
    assert c.script().contains(' --fail-cvss 2:7.5 ')
}

r.test('plugin names: a list without its switch is ignored, with a warning (as in the plugin)') {
    Ctx c = r.run([imageIds: 'a:1', qidList: '179203', isFailOnQidFound: false, cveList: 'CVE-2021-44228'])
    assert !c.script().contains('--fail-qids') && !c.script().contains('--fail-cves')
    assert c.echoes.any { it.contains('qidList is ignored') }
    assert c.echoes.any { it.contains('cveList is ignored') }
}

r.test('plugin names: proxy host, port and credentials') {
    Ctx c = r.run(BRIEF + [useProxy: true, proxyServer: 'proxy.corp', proxyPort: 3128, proxyCredentialsId: 'proxy'])
    assert c.callsOf('withEnv') == [['HTTPS_PROXY=http://proxy.corp:3128']]
    List creds = c.callsOf('withCredentials')[0]
    assert creds*.credentialsId == ['qualys', 'proxy']
    assert creds[1].usernameVariable == 'QCS_PROXY_USERNAME' && creds[1].passwordVariable == 'QCS_PROXY_PASSWORD'
    Map envAtSh = c.shCalls[0][1]
    assert envAtSh.HTTPS_PROXY == 'http://proxy.corp:3128' && envAtSh.QCS_PROXY_PASSWORD == Ctx.PROXY_SECRET
    assert !c.script().contains('proxy')
}

r.test('webhookCredentialsId binds the webhook URL to QCS_WEBHOOK_URL') {
    Ctx c = r.run(BRIEF + [webhookCredentialsId: 'hook'])
    List creds = c.callsOf('withCredentials')[0]
    assert creds[1] == [kind: 'string', credentialsId: 'hook', variable: 'QCS_WEBHOOK_URL']
    assert c.shCalls[0][1].QCS_WEBHOOK_URL == Ctx.WEBHOOK
    assert !c.names().contains('withEnv')
}

r.test('plugin names: webhookUrl reaches qcs in a file (QCS_WEBHOOK_URL_FILE), with a warning to use a credential') {
    Ctx c = r.run(BRIEF + [webhookUrl: Ctx.WEBHOOK])
    List withEnv = c.callsOf('withEnv')
    assert withEnv.size() == 1 && withEnv[0].size() == 1 && withEnv[0][0].startsWith('QCS_WEBHOOK_URL_FILE=')
    String path = c.shEnv().QCS_WEBHOOK_URL_FILE
    assert c.shCalls[0][2].QCS_WEBHOOK_URL_FILE == [Ctx.WEBHOOK, 'rw-------', 'rwx------']
    assert !new File(path).exists(): 'the file outlived the step'
    assert c.echoes.any { it.contains('warning') && it.contains('webhookCredentialsId') }
}

r.test('credentialsId naming the plugin\'s OAuth credential: client id and secret in files, QUALYS_AUTH=oauth') {
    Ctx c = r.run(BRIEF + [credentialsId: 'qualys-oauth'])
    assert !c.names().contains('withCredentials'): 'no binding can bind the OAuth type'
    Map e = c.shEnv()
    assert e.QUALYS_AUTH == 'oauth'
    assert c.shCalls[0][2].QUALYS_CLIENT_ID_FILE == [Ctx.CLIENT_ID, 'rw-------', 'rwx------']
    assert c.shCalls[0][2].QUALYS_CLIENT_SECRET_FILE == [Ctx.CLIENT_SECRET, 'rw-------', 'rwx------']
    assert c.callsOf('pwd') == [[tmp: true]]
    assert e.QUALYS_CLIENT_SECRET_FILE.startsWith(c.tmpDir.path + '/qcs-secrets-'): 'under the workspace\'s @tmp'
    assert !new File(e.QUALYS_CLIENT_SECRET_FILE as String).exists(): 'the secret outlived the step'
    assert !e.containsKey('QUALYS_CLIENT_SECRET') && !e.containsKey('QUALYS_PASSWORD')
    assert c.script().startsWith('qcs scan --platform US2 ')
    assert r.run(BRIEF + [credentialsId: 'qualys-oauth', auth: 'basic']).failure.contains('OAuth credential')
}

r.test('qcs names take precedence over the plugin names') {
    Ctx c = r.run([images: ['new:1'], imageIds: 'old:1', timeout: '15m', vulnsTimeout: '600',
                   engine: 'unix:///run/podman/podman.sock', dockerUrl: 'unix:///var/run/docker.sock'])
    assert c.script() == 'qcs scan --engine unix:///run/podman/podman.sock --timeout 15m --output-dir qcs-reports ' +
        '--format json --format junit new:1'
}

r.test('the qcs policy flags by their own names') {
    Ctx c = r.run([images: 'a:1', failSeverity: [5: 0, 4: 2], failQids: ['179203'], failCves: 'CVE-2021-44228',
                   failSoftware: ['.*:log4j-core<2.17.1'], failCvss: '3:9.0', fixableOnly: true,
                   excludeQids: ['1-5'], excludeCves: ['CVE-2023-1234'], criteriaJson: 'criteria.json'])
    assert c.script() == "qcs scan --criteria-json criteria.json --fail-severity 5=0,4=2 --fail-qids 179203 " +
        "--fail-cves CVE-2021-44228 --fail-software '.*:log4j-core<2.17.1' --fail-cvss 3:9.0 --fixable-only " +
        "--exclude-qids 1-5 --exclude-cves CVE-2023-1234 --output-dir qcs-reports --format json --format junit " +
        "a:1"
}

// --- mistakes ------------------------------------------------------------------------------------

r.test('a misspelt parameter fails the step before anything runs') {
    Ctx c = r.run([imagess: ['a:1'], polcy: 'p.toml'])
    assert c.result() == 'FAILURE'
    assert c.failure.contains('imagess') && c.failure.contains('polcy')
    assert !c.names().contains('sh')
}

r.test('a plain password parameter (apiPass, proxyPassword) is refused') {
    ['apiPass', 'proxyPassword'].each { key ->
        Ctx c = r.run([images: 'a:1', apiUser: 'u', (key): 'plain'])
        assert c.result() == 'FAILURE'
        assert c.failure.contains('credential')
        assert !c.names().contains('sh')
    }
}

// --- end to end: the real qcs against the emulator (when integrations.rs runs one) ---------------

String e2eBin = System.getenv('QCS_E2E_BIN')
if (e2eBin) {
    Map e2e = [qcs: e2eBin, gatewayUrl: System.getenv('QCS_E2E_GATEWAY'), engine: System.getenv('QCS_E2E_ENGINE'),
               credentialsId: 'qcs-demo', timeout: '60s',   // the step's default formats
               failSeverity: [5: 0, 4: 0, 3: 0, 2: 0, 1: 0]]
    [['acme/web:1.0', 'SUCCESS', null], ['acme/app:1.0', 'FAILURE', 'policy violated']].each { image, result, reason ->
        r.test("end to end: ${image} with the real qcs is ${result}, its JUnit report published") {
            File dir = File.createTempDir()
            try {
                Ctx c = r.run(e2e + [images: [image]], 0, dir)
                String log = new File(dir, 'sh.log').text
                assert c.result() == result: log
                assert reason == null || c.failure.contains(reason)
                assert c.callsOf('junit')[0].testResults == 'qcs-reports/junit.xml'
                assert new File(dir, 'qcs-reports/junit.xml').text.contains('<testsuite'): log
                assert new File(dir, 'qcs-reports/summary.json').isFile()
            } finally {
                dir.deleteDir()
            }
        }
    }
}

r.finish()
