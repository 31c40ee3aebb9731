// Stand-in for the Credentials plugin's StandardCredentials.
package com.cloudbees.plugins.credentials.common

interface StandardCredentials {
    String getId()
}
