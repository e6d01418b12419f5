package io.jetkv.jetstream.api;

/**
 * A JetStream API failure carrying the {@link JsError} to send back. Thrown inside request handling and
 * turned into {@code {"error":{...}}} once, at the API boundary. Its text is client-facing, so it never
 * wraps a Java exception message.
 */
public final class JsApiException extends RuntimeException {
    private final JsError error;
    private final String description;

    public JsApiException(JsError error) {
        this(error, null);
    }

    /** @param arg fills the description's placeholder (a sequence, a reason text, ...) */
    public JsApiException(JsError error, Object arg) {
        super(error.description(arg), null, false, false);
        this.error = error;
        this.description = error.description(arg);
    }

    public JsError error() {
        return error;
    }

    public String description() {
        return description;
    }
}
