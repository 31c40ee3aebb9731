// Stand-in for the Credentials plugin's StandardUsernamePasswordCredentials.
package com.cloudbees.plugins.credentials.common

interface StandardUsernamePasswordCredentials extends StandardCredentials {
    String getUsername()
    String getPassword()
}
