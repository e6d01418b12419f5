package io.jetkv.conformance;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.time.Duration;

/** jnats connections for the tests. */
final class Clients {
    /**
     * jnats gives up on a server that has not finished the connect handshake within 2 s; the first connection to
     * a freshly started in-process server runs its code cold, which took longer than that on a loaded machine.
     */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private Clients() {}

    /** A connection to {@code url} with jnats' defaults except the connect timeout. */
    static Connection connect(String url) throws IOException, InterruptedException {
        return Nats.connect(new Options.Builder().server(url).connectionTimeout(CONNECT_TIMEOUT).build());
    }
}
