package io.jetkv.server.cli;

/**
 * A failure to report to the user as {@code nats: error: <message>}, exit status 1. The message is the exact
 * text after that prefix, e.g. {@code nats: key not found} for a client error, or
 * {@code required argument 'bucket' not provided} for a usage error, as natscli prints them.
 */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }
}
