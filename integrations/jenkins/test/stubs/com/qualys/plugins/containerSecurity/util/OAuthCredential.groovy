// Stand-in for the Qualys plugin's OAuth credential (symbol qualysOAuthCredential): a
// BaseStandardCredentials with getClientId() and getClientSecret() (the plain secret), which no
// withCredentials binding accepts.
package com.qualys.plugins.containerSecurity.util

import com.cloudbees.plugins.credentials.common.StandardCredentials

class OAuthCredential implements StandardCredentials {
    String id
    String clientId
    String clientSecret

    String toString() { "OAuthCredential(${id})" }
}
