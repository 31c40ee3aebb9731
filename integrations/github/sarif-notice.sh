#!/usr/bin/env bash
# The step after the SARIF upload of the qcs GitHub Action (action.yml here and at the repository
# root), run when the upload did not succeed: it never fails the job (the verdict is the scan
# step's), and says in the job summary and as a warning why code scanning has no results.
#
#   QCS_UPLOAD_OUTCOME   the upload step's outcome: `skipped` (a pull request from a fork, whose
#                        token cannot write security events) or `failure`
#   QCS_SARIF_PATH       the SARIF file that was not uploaded
set -euo pipefail

outcome="${QCS_UPLOAD_OUTCOME:-failure}"
sarif="${QCS_SARIF_PATH:-results.sarif}"

case "$outcome" in
  success) exit 0 ;;
  skipped)
    title="SARIF not uploaded: pull request from a fork"
    body="This pull request comes from a fork: its token cannot write to code scanning, so \`$sarif\` was not uploaded. The verdict above and the reports are unaffected; the findings reach code scanning when the change is merged and scanned on the branch."
    ;;
  *)
    title="SARIF upload to code scanning failed"
    body="Uploading \`$sarif\` to code scanning failed (see the upload step's log); the verdict above and the reports are unaffected. The usual causes:

- code scanning is not available: private and internal repositories need GitHub Advanced Security (GitHub Code Security);
- the job lacks the permissions: \`security-events: write\`, and in private repositories also \`actions: read\` and \`contents: read\`;
- the token is read-only: pull requests from forks, and Dependabot's pull requests.

Set the action's \`sarif-upload: false\` where code scanning is not used."
    ;;
esac

echo "::warning title=qcs::${title}: $(printf '%s' "$body" | head -n 1)"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '\n### qcs: %s\n\n%s\n' "$title" "$body" >>"$GITHUB_STEP_SUMMARY"
fi
exit 0
