package io.jetkv.protocol.codec;

/**
 * The {@code -ERR} texts of the reference server, with whether the connection is closed after sending it.
 * A null {@link #text()} means the reference closes without sending any {@code -ERR}.
 */
public enum ProtocolError {
    UNKNOWN_OPERATION("Unknown Protocol Operation", true),
    AUTHORIZATION_VIOLATION("Authorization Violation", true),
    AUTHENTICATION_TIMEOUT("Authentication Timeout", true),
    MAX_PAYLOAD("Maximum Payload Violation", true),
    MAX_CONTROL_LINE("maximum control line exceeded", true),
    STALE_CONNECTION("Stale Connection", true),
    NO_RESPONDERS_REQUIRES_HEADERS("no responders requires headers support", true),
    INVALID_CLIENT_PROTOCOL("invalid client protocol", true),
    MAX_CONNECTIONS("maximum connections exceeded", true),
    INVALID_SUBJECT("Invalid Subject", false),
    INVALID_PUBLISH_SUBJECT("Invalid Publish Subject", false),
    MAX_SUBSCRIPTIONS("maximum subscriptions exceeded", false),
    /**
     * Input the reference refuses by closing without an -ERR: wrong arguments after PUB/HPUB/SUB/UNSUB and a
     * blank, bad sizes, HPUB without negotiated headers, an -ERR from the client, CONNECT or INFO JSON it
     * cannot unmarshal.
     */
    MALFORMED(null, true);

    private final String text;
    private final boolean closes;

    ProtocolError(String text, boolean closes) {
        this.text = text;
        this.closes = closes;
    }

    /** The text between the quotes of {@code -ERR '...'}, or null for a silent close. */
    public String text() {
        return text;
    }

    public boolean closes() {
        return closes;
    }
}
