package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.jetkv.config.ServerConfig;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CorePubSubIT {
    @Test
    void publishReachesSubscriber() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0));
                // a cold JVM on a loaded machine can take longer than jnats' default 2 s to connect
                Connection nc = Nats.connect(io.nats.client.Options.builder().server(server.clientUrl())
                        .connectionTimeout(Duration.ofSeconds(10)).build())) {
            Subscription sub = nc.subscribe("foo.*");
            nc.publish("foo.bar", "hello".getBytes(StandardCharsets.UTF_8));
            Message m = sub.nextMessage(Duration.ofSeconds(5));
            assertNotNull(m);
            assertEquals("foo.bar", m.getSubject());
            assertEquals("hello", new String(m.getData(), StandardCharsets.UTF_8));
        }
    }
}
