package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Core NATS messaging (nats.docs "Core NATS") through the jnats client. */
class CoreMessagingIT {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private NatsServer server;

    @BeforeEach
    void start() throws Exception {
        server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void wildcardSubscriptionsReceiveMatchingSubjects() throws Exception {
        try (Connection nc = Clients.connect(server.clientUrl())) {
            Subscription star = nc.subscribe("orders.*");
            Subscription gt = nc.subscribe("orders.>");
            nc.publish("orders.new", bytes("1"));
            nc.publish("orders.eu.new", bytes("2"));
            nc.publish("other", bytes("3"));
            nc.flush(WAIT);
            assertEquals("orders.new", star.nextMessage(WAIT).getSubject());
            assertNull(star.nextMessage(Duration.ofMillis(50)));
            assertEquals("orders.new", gt.nextMessage(WAIT).getSubject());
            assertEquals("orders.eu.new", gt.nextMessage(WAIT).getSubject());
            assertNull(gt.nextMessage(Duration.ofMillis(50)));
        }
    }

    @Test
    void queueGroupDeliversEachMessageToExactlyOneMember() throws Exception {
        int n = 1000;
        try (Connection a = Clients.connect(server.clientUrl());
                Connection b = Clients.connect(server.clientUrl());
                Connection pub = Clients.connect(server.clientUrl())) {
            AtomicInteger toA = new AtomicInteger();
            AtomicInteger toB = new AtomicInteger();
            CountDownLatch all = new CountDownLatch(n);
            a.createDispatcher(m -> {
                toA.incrementAndGet();
                all.countDown();
            }).subscribe("work", "workers");
            b.createDispatcher(m -> {
                toB.incrementAndGet();
                all.countDown();
            }).subscribe("work", "workers");
            a.flush(WAIT);
            b.flush(WAIT);
            for (int i = 0; i < n; i++) {
                pub.publish("work", bytes("job" + i));
            }
            pub.flush(WAIT);
            assertTrue(all.await(5, TimeUnit.SECONDS));
            a.flush(WAIT);
            b.flush(WAIT);
            assertEquals(n, toA.get() + toB.get(), "each message exactly once");
            assertTrue(toA.get() > 0 && toB.get() > 0, "random member choice reaches both: " + toA + "/" + toB);
        }
    }

    @Test
    void requestReply() throws Exception {
        try (Connection responder = Clients.connect(server.clientUrl());
                Connection requester = Clients.connect(server.clientUrl())) {
            Dispatcher d = responder.createDispatcher(m -> responder.publish(m.getReplyTo(), bytes("pong:" + new String(m.getData(), StandardCharsets.UTF_8))));
            d.subscribe("svc.echo");
            responder.flush(WAIT);
            for (int i = 0; i < 20; i++) {
                Message reply = requester.request("svc.echo", bytes("p" + i), WAIT);
                assertNotNull(reply);
                assertEquals("pong:p" + i, new String(reply.getData(), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void headersRoundTripVerbatim() throws Exception {
        try (Connection nc = Clients.connect(server.clientUrl())) {
            Subscription sub = nc.subscribe("h");
            Headers h = new Headers().add("Trace-Id", "abc").add("Multi", "1", "2");
            nc.publish(NatsMessage.builder().subject("h").headers(h).data(bytes("body")).build());
            Message m = sub.nextMessage(WAIT);
            assertEquals("abc", m.getHeaders().getFirst("Trace-Id"));
            assertEquals(java.util.List.of("1", "2"), m.getHeaders().get("Multi"));
            assertEquals("body", new String(m.getData(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void requestWithoutRespondersFailsFast() throws Exception {
        try (Connection nc = Clients.connect(server.clientUrl())) {
            CompletableFuture<Message> f = nc.request("nobody.home", bytes("?"));
            // jnats cancels the request when the 503 arrives; a missing 503 would end in a TimeoutException
            assertThrows(CancellationException.class, () -> f.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void unsubscribeAfterMax() throws Exception {
        try (Connection nc = Clients.connect(server.clientUrl())) {
            Subscription sub = nc.subscribe("limited");
            sub.unsubscribe(2);
            for (int i = 0; i < 5; i++) {
                nc.publish("limited", bytes("m" + i));
            }
            nc.flush(WAIT);
            assertEquals("m0", new String(sub.nextMessage(WAIT).getData(), StandardCharsets.UTF_8));
            assertEquals("m1", new String(sub.nextMessage(WAIT).getData(), StandardCharsets.UTF_8));
            assertTrue(!sub.isActive() || sub.nextMessage(Duration.ofMillis(100)) == null);
        }
    }

    @Test
    void largestAllowedPayloadIsDelivered() throws Exception {
        try (Connection nc = Clients.connect(server.clientUrl())) {
            assertEquals(1024 * 1024, nc.getServerInfo().getMaxPayload());
            Subscription sub = nc.subscribe("big");
            byte[] payload = new byte[1024 * 1024];
            payload[payload.length - 1] = 7;
            nc.publish("big", payload);
            Message m = sub.nextMessage(WAIT);
            assertEquals(payload.length, m.getData().length);
            assertEquals(7, m.getData()[payload.length - 1]);
            assertThrows(IllegalArgumentException.class, () -> nc.publish("big", new byte[1024 * 1024 + 1]));
        }
    }

    @Test
    void clientReconnectsAfterServerRestart() throws Exception {
        int port = server.port();
        CountDownLatch reconnected = new CountDownLatch(1);
        Options options = new Options.Builder()
                .server(server.clientUrl())
                .reconnectWait(Duration.ofMillis(50))
                .maxReconnects(-1)
                .connectionListener((conn, type) -> {
                    if (type == ConnectionListener.Events.RECONNECTED) {
                        reconnected.countDown();
                    }
                })
                .build();
        try (Connection nc = Nats.connect(options)) {
            Subscription sub = nc.subscribe("after.restart");
            nc.flush(WAIT);
            server.close();
            server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(port));
            assertTrue(reconnected.await(10, TimeUnit.SECONDS), "reconnected");
            nc.publish("after.restart", bytes("back"));
            assertEquals("back", new String(sub.nextMessage(WAIT).getData(), StandardCharsets.UTF_8));
        }
    }
}
