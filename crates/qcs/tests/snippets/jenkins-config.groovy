// Made by `qcs snippet --ci jenkins`: runs qcs scan with this configuration (docs/ci.md).
// Secrets from the CI's secret store, by name only: QUALYS_USERNAME, QUALYS_PASSWORD, TEAM_HOOK, QCS_WEBHOOK_SECRET.
// Exit codes: 0 passed, 1 policy violated, 2 configuration, 3 engine/sensor, 4 Qualys API, 5 no result.
// Commit qcs.toml with the pipeline: the step reads it.
// No image given: the step scans the images in IMAGE_ID (comma-separated), which an earlier step sets; or add them to the qcs scan line.
stage('Qualys container scan') {
    steps {
        withCredentials([
            usernamePassword(credentialsId: 'qualys-api', usernameVariable: 'QUALYS_USERNAME', passwordVariable: 'QUALYS_PASSWORD'),
            string(credentialsId: 'qcs-webhook-url', variable: 'TEAM_HOOK'),
            string(credentialsId: 'qcs-webhook-secret', variable: 'QCS_WEBHOOK_SECRET')
        ]) {
            sh 'qcs scan --config qcs.toml --timeout 15m --fail-severity 5=0,4=2 --fail-cves CVE-2021-44228 --format json --format table=verdict.txt --format junit'
        }
    }
    post {
        always {
            junit allowEmptyResults: true, testResults: 'reports/junit.xml'
            archiveArtifacts allowEmptyArchive: true, artifacts: 'reports/**'
        }
    }
}
