// Made by `qcs snippet --ci jenkins`: runs qcs scan with this configuration (docs/ci.md).
// Secrets from the CI's secret store, by name only: QUALYS_CLIENT_ID, QUALYS_CLIENT_SECRET, QCS_PROXY_USERNAME, QCS_PROXY_PASSWORD.
// Exit codes: 0 passed, 1 policy violated, 2 configuration, 3 engine/sensor, 4 Qualys API, 5 no result.
stage('Qualys container scan') {
    steps {
        withCredentials([
            usernamePassword(credentialsId: 'qualys-oauth-client', usernameVariable: 'QUALYS_CLIENT_ID', passwordVariable: 'QUALYS_CLIENT_SECRET'),
            usernamePassword(credentialsId: 'qcs-proxy', usernameVariable: 'QCS_PROXY_USERNAME', passwordVariable: 'QCS_PROXY_PASSWORD')
        ]) {
            withEnv(['HTTPS_PROXY=http://proxy.corp:3128', 'NO_PROXY=localhost,.corp']) {
                sh 'qcs scan --platform EU1 --auth oauth --engine tcp://docker:2376 --skip-sensor-check --fail-software \'.*:log4j-core<2.17.1\' --format \'sarif=out/it\'\\\'\'s.sarif\' --format json --format junit --dockerfile docker/app.Dockerfile acme/app:1.0 acme/worker:1.0'
            }
        }
    }
    post {
        always {
            junit allowEmptyResults: true, testResults: 'qcs-reports/junit.xml'
            archiveArtifacts allowEmptyArchive: true, artifacts: 'qcs-reports/**'
        }
    }
}
