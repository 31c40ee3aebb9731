// Stand-in for the Credentials plugin's CredentialsProvider: findCredentialById over the test's
// credential store. With trusted false it refuses, as the script sandbox refuses a library that
// is not trusted.
package com.cloudbees.plugins.credentials

import org.jenkinsci.plugins.scriptsecurity.sandbox.RejectedAccessException

class CredentialsProvider {
    static Map<String, Object> store = [:]
    static boolean trusted = true
    static List lookups = []   // [id, run] per lookup

    static <C> C findCredentialById(String id, Class<C> type, Object run, Object... requirements) {
        if (!trusted) {
            throw new RejectedAccessException('Scripts not permitted to use staticMethod ' +
                'com.cloudbees.plugins.credentials.CredentialsProvider findCredentialById')
        }
        lookups << [id, run]
        def c = store[id]
        (c != null && type.isInstance(c)) ? (C) c : null
    }
}
