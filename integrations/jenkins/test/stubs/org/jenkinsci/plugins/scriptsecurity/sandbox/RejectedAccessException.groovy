// Stand-in for script-security's RejectedAccessException (a call the sandbox refuses).
package org.jenkinsci.plugins.scriptsecurity.sandbox

class RejectedAccessException extends SecurityException {
    RejectedAccessException(String message) { super(message) }
}
