// One run of a step against a stub pipeline context: sh, withCredentials, usernamePassword,
// string, withEnv, pwd, fileExists, readFile, junit, archiveArtifacts, error, unstable, echo,
// env and currentBuild record what the step does, and sh answers with a chosen exit code (or,
// with realDir, really runs the script with bash there). The credential store is what the stub
// CredentialsProvider and withCredentials read; jenkins.model.Jenkins and hudson.FilePath write
// to the local disk.

import com.cloudbees.plugins.credentials.CredentialsProvider
import com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl
import com.qualys.plugins.containerSecurity.util.OAuthCredential
import hudson.model.Node
import org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl

import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions

class Ctx {
    static final String USER = 'ci-bot'
    static final String SECRET = 's3cr3t-P@ss\'$(id)'
    static final String PROXY_SECRET = 'pr0xy-s3cret'
    static final String WEBHOOK = 'https://hooks.example/T0KEN-s3cret'
    static final String CLIENT_ID = 'oauth-client-7'
    static final String CLIENT_SECRET = 'cl1ent-s3cret"$(id)\'`x`'
    /** Every secret above, and the parts a test greps for. */
    static final List<String> SECRETS = [SECRET, PROXY_SECRET, CLIENT_SECRET, 's3cr3t', 'T0KEN']

    int exitCode = 0
    File realDir                // when set, sh really runs the script with bash in this directory
    Map<String, String> files = [:]  // the workspace's files for fileExists and readFile
    List calls = []             // [name, args] in order
    Map env = [BUILD_NUMBER: '42', WORKSPACE: '/ws', NODE_NAME: 'agent-1']
    Map currentBuild = [result: null, rawBuild: 'run #42']
    List<String> echoes = []
    List shCalls = []           // [args map, env snapshot, {variable: [text, permissions]} of every *_FILE]
    String failure              // message of error(), if called
    def returned
    boolean trusted = true      // false: the library runs in the script sandbox
    File tmpDir                 // pwd(tmp: true), made on first use
    Map<String, Object> credentials = [
        'qualys'        : new UsernamePasswordCredentialsImpl(id: 'qualys', username: USER, password: SECRET),
        'qualys-api'    : new UsernamePasswordCredentialsImpl(id: 'qualys-api', username: USER, password: SECRET),
        'proxy'         : new UsernamePasswordCredentialsImpl(id: 'proxy', username: 'proxy-user', password: PROXY_SECRET),
        'qcs-demo'      : new UsernamePasswordCredentialsImpl(id: 'qcs-demo', username: 'qcs-demo', password: 'qcs-demo'),
        'qualys-oauth'  : new OAuthCredential(id: 'qualys-oauth', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET),
        'qcs-demo-oauth': new OAuthCredential(id: 'qcs-demo-oauth', clientId: 'qcs-demo', clientSecret: 'qcs-demo'),
        'hook'          : new StringCredentialsImpl(id: 'hook', secret: WEBHOOK),
    ]

    Binding binding() {
        CredentialsProvider.store = credentials
        CredentialsProvider.trusted = trusted
        jenkins.model.Jenkins.trusted = trusted
        CredentialsProvider.lookups = []
        Node.used = []
        Binding b = new Binding()
        b.setVariable('env', env)
        b.setVariable('currentBuild', currentBuild)
        b.setVariable('sh', { Map args ->
            calls << ['sh', args]
            shCalls << [args, new LinkedHashMap(env), secretFiles()]
            int code = realDir ? runForReal(args.script as String) : exitCode
            return args.returnStatus ? code : ''
        })
        b.setVariable('usernamePassword', { Map args -> [kind: 'usernamePassword'] + args })
        b.setVariable('string', { Map args -> [kind: 'string'] + args })
        b.setVariable('withCredentials', { List creds, Closure body ->
            calls << ['withCredentials', creds]
            Map bound = [:]
            creds.each { c ->
                def cred = credentials[c.credentialsId]
                if (cred == null) {
                    throw new StepError("Could not find credentials entry with ID '${c.credentialsId}'")
                }
                if (c.kind == 'string') {
                    if (!(cred instanceof StringCredentialsImpl)) {
                        throw new StepError("Credentials '${c.credentialsId}' is of type '${cred.class.simpleName}' where 'StringCredentials' was expected")
                    }
                    bound[c.variable] = cred.secret
                    return
                }
                if (!(cred instanceof UsernamePasswordCredentialsImpl)) {
                    throw new StepError("Credentials '${c.credentialsId}' is of type '${cred.class.simpleName}' where " +
                                        "'StandardUsernamePasswordCredentials' was expected")
                }
                bound[c.usernameVariable] = cred.username
                bound[c.passwordVariable] = cred.password
            }
            env.putAll(bound)
            try {
                return body()
            } finally {
                bound.keySet().each { env.remove(it) }
            }
        })
        b.setVariable('withEnv', { List vars, Closure body ->
            calls << ['withEnv', vars]
            Map saved = new LinkedHashMap(env)
            vars.each { String v -> int i = v.indexOf('='); env[v.substring(0, i)] = v.substring(i + 1) }
            try {
                return body()
            } finally {
                env.clear(); env.putAll(saved)
            }
        })
        b.setVariable('pwd', { Map args = [:] ->
            calls << ['pwd', args]
            if (args?.tmp) {
                if (tmpDir == null) {
                    tmpDir = File.createTempDir()
                }
                return tmpDir.path
            }
            return realDir ? realDir.path : env.WORKSPACE
        })
        b.setVariable('junit', { Map args -> calls << ['junit', args] })
        b.setVariable('fileExists', { String path ->
            calls << ['fileExists', path]
            if (files.containsKey(path)) {
                return true
            }
            File f = new File(path)
            if (!f.isAbsolute()) {
                if (realDir == null) {
                    return false
                }
                f = new File(realDir, path)
            }
            return f.isFile()
        })
        b.setVariable('readFile', { String path -> files[path] ?: new File(realDir, path).text })
        b.setVariable('archiveArtifacts', { Map args -> calls << ['archiveArtifacts', args] })
        b.setVariable('echo', { String msg -> calls << ['echo', msg]; echoes << msg })
        b.setVariable('unstable', { String msg ->
            calls << ['unstable', msg]
            currentBuild.result = 'UNSTABLE'
        })
        b.setVariable('error', { String msg ->
            calls << ['error', msg]
            throw new StepError(msg)
        })
        b
    }

    // What every *_FILE variable names at the time of sh: its text and permissions.
    Map secretFiles() {
        Map out = [:]
        env.each { k, v ->
            if ((k as String).endsWith('_FILE') && v) {
                File f = new File(v as String)
                out[k] = f.isFile() ? [f.text, PosixFilePermissions.toString(Files.getPosixFilePermissions(f.toPath())),
                                       PosixFilePermissions.toString(Files.getPosixFilePermissions(f.parentFile.toPath()))]
                                    : null
            }
        }
        out
    }

    // Runs the script as the agent would: bash, the step's environment over the process's.
    int runForReal(String script) {
        ProcessBuilder pb = new ProcessBuilder('bash', '-c', script).directory(realDir).redirectErrorStream(true)
        env.each { k, v -> pb.environment().put(k as String, v as String) }
        Process proc = pb.start()
        String output = proc.inputStream.text
        int code = proc.waitFor()
        new File(realDir, 'sh.log').text = output
        code
    }

    String result() { failure != null ? 'FAILURE' : (currentBuild.result ?: 'SUCCESS') }
    List names() { calls.collect { it[0] } }
    List callsOf(String name) { calls.findAll { it[0] == name }.collect { it[1] } }
    String script() {
        assert shCalls.size() == 1: "sh called ${shCalls.size()} times"
        shCalls[0][0].script
    }
    Map shEnv() {
        assert shCalls.size() == 1: "sh called ${shCalls.size()} times"
        shCalls[0][1]
    }
}
