// Runs a step of the library (vars/<name>.groovy) against a fresh Ctx per call, with the other
// steps of the library bound by name as Jenkins binds them (so `qcsScan.scan(...)` works), and
// counts the named tests. After every run: no secret in what the step logged, ran or passed to
// any step, and no secret file left behind.

import org.codehaus.groovy.runtime.InvokerHelper

class Runner {
    Class stepClass
    Map<String, Class> library = [:]   // the library's other steps, by name
    int passed = 0
    int failed = 0
    List<String> commands = []   // "<test name>\t<command line>"
    String current

    Ctx run(Map params, int exitCode = 0, File realDir = null, Map<String, String> files = [:]) {
        run(params, [exitCode: exitCode, realDir: realDir, files: files])
    }

    // opts: exitCode, realDir, files, env (added to the default), trusted, credentials (added).
    Ctx run(Map params, Map opts) {
        Ctx ctx = new Ctx(exitCode: (opts.exitCode ?: 0) as int, realDir: opts.realDir as File,
                          files: (opts.files ?: [:]) as Map)
        if (opts.env) {
            ctx.env.putAll(opts.env as Map)
        }
        if (opts.containsKey('trusted')) {
            ctx.trusted = opts.trusted as boolean
        }
        if (opts.credentials) {
            ctx.credentials.putAll(opts.credentials as Map)
        }
        Binding binding = ctx.binding()
        library.each { name, cls -> binding.setVariable(name, InvokerHelper.createScript(cls, binding)) }
        Script step = InvokerHelper.createScript(stepClass, binding)
        try {
            ctx.returned = step.invokeMethod('call', [params] as Object[])
        } catch (StepError e) {
            ctx.failure = e.message
        }
        ctx.shCalls.each { sh -> commands << "${current}\t${sh[0].script}".toString() }
        // Whatever happened, no secret may be in what the step wrote, ran or gave another step.
        String seen = (ctx.shCalls.collect { it[0].script } + ctx.echoes + [ctx.failure] +
                       ctx.calls.collect { it.toString() }).join('\n')
        Ctx.SECRETS.each { s ->
            assert !seen.contains(s): "a secret reached the log, the command line or a step's arguments: ${seen}"
        }
        if (ctx.tmpDir != null) {
            List left = []
            ctx.tmpDir.eachFileRecurse { left << it.path }
            ctx.tmpDir.deleteDir()
            assert left.isEmpty(): "secret files left behind: ${left}"
        }
        ctx
    }

    void test(String name, Closure body) {
        current = name
        try {
            body()
            passed++
            println "ok      ${name}"
        } catch (Throwable t) {
            failed++
            println "FAILED  ${name}\n${t.message}"
        }
    }

    // Ends the test file: writes the command lines to QCS_COMMANDS_OUT when it is set (the Rust
    // test checks each flag against `qcs scan --help`), prints the counts, exits 1 on a failure.
    void finish() {
        String out = System.getenv('QCS_COMMANDS_OUT')
        if (out) {
            new File(out).text = commands.join('\n') + '\n'
        }
        println "${passed} passed, ${failed} failed"
        System.exit(failed == 0 ? 0 : 1)
    }
}
