// Stand-in for a "Secret text" credential.
package org.jenkinsci.plugins.plaincredentials.impl

import com.cloudbees.plugins.credentials.common.StandardCredentials

class StringCredentialsImpl implements StandardCredentials {
    String id
    String secret

    String toString() { "StringCredentialsImpl(${id})" }
}
