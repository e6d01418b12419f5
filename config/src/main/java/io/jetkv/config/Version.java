package io.jetkv.config;

/**
 * The nats-server version JetKV speaks for: advertised in INFO and printed by {@code --version}, so
 * clients that branch on the server version see the feature level they expect.
 */
public final class Version {

    /** The nats-server release whose protocol and JetStream API JetKV follows. */
    public static final String NATS_VERSION = "2.14.5";

    /** What {@code --version} prints, in nats-server's shape. */
    public static final String VERSION_LINE = "nats-server: v" + NATS_VERSION;

    private Version() {}
}
