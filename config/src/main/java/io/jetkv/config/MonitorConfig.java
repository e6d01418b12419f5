package io.jetkv.config;

/**
 * What the monitoring port keeps and allows beyond nats-server's endpoints. Immutable.
 *
 * @param maxClosedClients how many closed client connections {@code /connz?state=closed} remembers
 *                         ({@code max_closed_clients}, nats-server's default 10000; 0 keeps none)
 * @param consoleWrites    the KV console may put and delete keys ({@code console { writes: true }}); each write
 *                         needs one of the server's users through HTTP basic authentication
 */
public record MonitorConfig(int maxClosedClients, boolean consoleWrites) {
    public static final int DEFAULT_MAX_CLOSED_CLIENTS = 10_000;
    public static final MonitorConfig DEFAULT = new MonitorConfig(DEFAULT_MAX_CLOSED_CLIENTS, false);

    public MonitorConfig {
        if (maxClosedClients < 0) {
            throw new IllegalArgumentException("max_closed_clients must not be negative: " + maxClosedClients);
        }
    }

    public MonitorConfig withMaxClosedClients(int v) {
        return new MonitorConfig(v, consoleWrites);
    }

    public MonitorConfig withConsoleWrites(boolean v) {
        return new MonitorConfig(maxClosedClients, v);
    }
}
