package io.jetkv.config;

/** A configuration error; the message is shown to the user as is and the server does not start. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
