// What the stub `error` step throws: the build fails with this message.
class StepError extends RuntimeException {
    StepError(String message) { super(message) }
}
