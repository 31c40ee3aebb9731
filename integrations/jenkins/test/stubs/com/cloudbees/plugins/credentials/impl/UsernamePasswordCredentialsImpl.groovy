// Stand-in for a "Username with password" credential.
package com.cloudbees.plugins.credentials.impl

import com.cloudbees.plugins.credentials.common.StandardUsernamePasswordCredentials

class UsernamePasswordCredentialsImpl implements StandardUsernamePasswordCredentials {
    String id
    String username
    String password

    String toString() { "UsernamePasswordCredentialsImpl(${id})" }
}
