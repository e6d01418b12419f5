package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.BaseConsumerContext;
import io.nats.client.Connection;
import io.nats.client.FetchConsumeOptions;
import io.nats.client.FetchConsumer;
import io.nats.client.JetStream;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.StreamContext;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.OrderedConsumerConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jnats' simplified API (ADR-37): a fetch whose messages are already in the stream returns them as they arrive,
 * without waiting for the request to expire, for ephemeral and ordered consumers. A fetch that waited for its
 * expiry would take the whole {@link #EXPIRES}, far longer than any delivery.
 */
class SimplifiedFetchIT {
    private static final Duration EXPIRES = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void fetchOfStoredMessagesReturnsBeforeItsExpiry() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(dir)))) {
            check("nats://127.0.0.1:" + server.port());
        }
    }

    /** The same client code against nats-server, where installed: the expectation is the reference's. */
    @Test
    void referenceBehavesTheSame() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        try (ReferenceServer ref = ReferenceServer.start("-js", "-sd", dir.resolve("ref").toString())) {
            check("nats://127.0.0.1:" + ref.port());
        }
    }

    private static void check(String url) throws Exception {
        try (Connection nc = Nats.connect(new Options.Builder().server(url).build())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("F").subjects("f.>")
                    .storageType(StorageType.File).build());
            JetStream js = nc.jetStream();
            for (int i = 0; i < 5; i++) {
                js.publish("f." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            StreamContext sc = nc.getStreamContext("F");
            fetchAll(sc.createOrUpdateConsumer(ConsumerConfiguration.builder().build()));
            fetchAll(sc.createOrderedConsumer(new OrderedConsumerConfiguration()));
            fetchAll(sc.createOrderedConsumer(new OrderedConsumerConfiguration().filterSubjects("f.3")), 1);
            long start = System.nanoTime();
            Message m = sc.createOrderedConsumer(new OrderedConsumerConfiguration()).next(EXPIRES);
            assertEquals("m0", new String(m.getData(), StandardCharsets.UTF_8));
            assertTrue(System.nanoTime() - start < EXPIRES.toNanos() / 2, "next() waited for its expiry");
        }
    }

    private static void fetchAll(BaseConsumerContext cc) throws Exception {
        fetchAll(cc, 5);
    }

    private static void fetchAll(BaseConsumerContext cc, int n) throws Exception {
        long start = System.nanoTime();
        try (FetchConsumer fc = cc.fetch(FetchConsumeOptions.builder().maxMessages(n).expiresIn(EXPIRES.toMillis())
                .build())) {
            for (int i = 0; i < n; i++) {
                Message m = fc.nextMessage();
                assertNotNull(m, "message " + i + " of " + n);
                m.ack();
            }
            assertEquals(null, fc.nextMessage(), "nothing after the batch");
        }
        long took = System.nanoTime() - start;
        assertTrue(took < EXPIRES.toNanos() / 2, "the fetch waited for its expiry: " + took / 1_000_000 + " ms");
    }
}
