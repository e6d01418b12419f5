package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.ConsumerContext;
import io.nats.client.Dispatcher;
import io.nats.client.IterableConsumer;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.MessageConsumer;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.Subscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.PublishAck;
import io.nats.client.api.ReplayPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JetStream consumers through jnats (nats.docs "Consumers"): push, pull, acks, redelivery, heartbeats. */
class ConsumersIT {
    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static void stream(Connection nc, String name, String subjects) throws Exception {
        nc.jetStreamManagement().addStream(StreamConfiguration.builder().name(name).subjects(subjects)
                .storageType(StorageType.File).build());
    }

    private static void publish(Connection nc, String subject, int n) throws Exception {
        JetStream js = nc.jetStream();
        for (int i = 1; i <= n; i++) {
            js.publish(subject, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void await(BooleanSupplier cond, long millis, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20); // polling an eventual state, not synchronising
        }
    }

    /** Publishes messages 1 to {@code n} asynchronously, at most 1,000 unacknowledged, and waits for every ack. */
    private static void publishAcked(JetStream js, int n, IntFunction<String> subject, byte[] body) throws Exception {
        List<CompletableFuture<PublishAck>> window = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            window.add(js.publishAsync(subject.apply(i), body));
            if (window.size() == 1000 || i == n) {
                for (CompletableFuture<PublishAck> f : window) {
                    f.get(10, TimeUnit.SECONDS);
                }
                window.clear();
            }
        }
    }

    /** Reads {@code n} messages from {@code sub}, expecting stream sequences 1 to n in order. */
    private static void expectSequences(JetStreamSubscription sub, int n) throws InterruptedException {
        for (int i = 1; i <= n; i++) {
            Message m = sub.nextMessage(Duration.ofSeconds(5));
            assertNotNull(m, "message " + i);
            assertEquals(i, m.metaData().streamSequence());
        }
    }

    @Test
    void pushSyncAndDispatcherWithExplicitAck() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "ORDERS", "orders.>");
            publish(nc, "orders.new", 10);
            JetStream js = nc.jetStream();
            JetStreamSubscription sub = js.subscribe("orders.>",
                    PushSubscribeOptions.builder().durable("d1").build());
            for (int i = 1; i <= 10; i++) {
                Message m = sub.nextMessage(Duration.ofSeconds(5));
                assertNotNull(m, "message " + i);
                assertEquals("m" + i, new String(m.getData(), StandardCharsets.UTF_8));
                assertEquals(i, m.metaData().consumerSequence());
                assertEquals(i, m.metaData().streamSequence());
                assertEquals(10 - i, m.metaData().pendingCount());
                assertEquals(1, m.metaData().deliveredCount());
                m.ackSync(Duration.ofSeconds(5));
            }
            ConsumerInfo ci = nc.jetStreamManagement().getConsumerInfo("ORDERS", "d1");
            assertEquals(10, ci.getDelivered().getConsumerSequence());
            assertEquals(10, ci.getAckFloor().getStreamSequence());
            assertEquals(0, ci.getNumAckPending());
            assertEquals(0, ci.getNumPending());
            sub.unsubscribe();

            CountDownLatch got = new CountDownLatch(20);
            Dispatcher d = nc.createDispatcher();
            js.subscribe("orders.>", d, m -> got.countDown(), true,
                    PushSubscribeOptions.builder().durable("d2").build());
            publish(nc, "orders.more", 10);
            assertTrue(got.await(10, TimeUnit.SECONDS));
        }
    }

    private static String severalFiltersSubject(int i) {
        return i % 7 == 0 ? "mf.a" : i % 3 == 0 ? "mf.b" : i == 2500 ? "mf.d" : "mf.c";
    }

    /**
     * A consumer with several filters (2.10 filter_subjects) gets exactly the messages matching any of them, in
     * stream order, across many delivery runs and read-aheads cut short by their byte budget: a dense filter, a
     * sparse one (one message) and one that matches nothing yet.
     */
    @Test
    void severalFiltersDeliverTheirMessagesInStreamOrder() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "MF", "mf.*");
            JetStream js = nc.jetStream();
            int n = 3000;
            // 2 KB each: a filter's read-ahead stops at its share of the byte budget before the run's count
            publishAcked(js, n, ConsumersIT::severalFiltersSubject, new byte[2048]);
            nc.jetStreamManagement().addOrUpdateConsumer("MF", ConsumerConfiguration.builder().durable("multi")
                    .filterSubjects("mf.a", "mf.d", "mf.b", "mf.e").ackPolicy(AckPolicy.All).maxAckPending(10_000)
                    .build());
            List<Long> expected = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                if (!severalFiltersSubject(i).equals("mf.c")) {
                    expected.add((long) i);
                }
            }
            assertEquals(expected.size(), nc.jetStreamManagement().getConsumerInfo("MF", "multi").getNumPending());

            JetStreamSubscription sub = js.subscribe(null, PullSubscribeOptions.bind("MF", "multi"));
            List<Long> got = new ArrayList<>();
            while (got.size() < expected.size()) {
                List<Message> batch = sub.fetch(Math.min(700, expected.size() - got.size()), Duration.ofSeconds(5));
                assertFalse(batch.isEmpty(), "stalled after " + got.size());
                for (Message m : batch) {
                    got.add(m.metaData().streamSequence());
                    assertEquals(expected.size() - got.size(), m.metaData().pendingCount());
                }
                batch.get(batch.size() - 1).ack();
            }
            assertEquals(expected, got);

            js.publish("mf.c", new byte[1]);
            js.publish("mf.e", new byte[1]);
            js.publish("mf.a", new byte[1]);
            List<Message> more = sub.fetch(2, Duration.ofSeconds(5));
            assertEquals(List.of(n + 2L, n + 3L), more.stream().map(m -> m.metaData().streamSequence()).toList());
            more.get(1).ack();
            await(() -> {
                try {
                    return nc.jetStreamManagement().getConsumerInfo("MF", "multi").getNumAckPending() == 0;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, 5000, "the last ack");
            assertEquals(0, nc.jetStreamManagement().getConsumerInfo("MF", "multi").getNumPending());
        }
    }

    @Test
    void pullFetchIterateAndConsume() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "P", "p.*");
            publish(nc, "p.a", 30);
            JetStream js = nc.jetStream();
            JetStreamSubscription sub = js.subscribe("p.*", PullSubscribeOptions.builder().durable("pd").build());
            List<Message> batch = sub.fetch(5, Duration.ofSeconds(2));
            assertEquals(5, batch.size());
            batch.forEach(Message::ack);
            sub.pull(3);
            for (int i = 6; i <= 8; i++) {
                Message m = sub.nextMessage(Duration.ofSeconds(2));
                assertEquals(i, m.metaData().streamSequence());
                m.ack();
            }
            sub.unsubscribe();

            nc.jetStreamManagement().addOrUpdateConsumer("P",
                    ConsumerConfiguration.builder().durable("cc").ackPolicy(AckPolicy.Explicit).build());
            ConsumerContext cc = nc.getConsumerContext("P", "cc");
            try (IterableConsumer it = cc.iterate()) {
                for (int i = 1; i <= 10; i++) {
                    Message m = it.nextMessage(Duration.ofSeconds(5));
                    assertNotNull(m);
                    assertEquals(i, m.metaData().streamSequence());
                    m.ack();
                }
            }
            ConsumerContext c2 = nc.getConsumerContext("P", "pd");
            CountDownLatch rest = new CountDownLatch(22);
            MessageConsumer mc = c2.consume(m -> {
                m.ack();
                rest.countDown();
            });
            assertTrue(rest.await(10, TimeUnit.SECONDS));
            mc.stop();
            // nothing left: a no-wait fetch ends at once
            assertNull(c2.next(Duration.ofSeconds(1)));
        }
    }

    /**
     * A consumer over a large backlog answers API requests while it delivers. jnats' {@code KeyValue.keys()}
     * creates a push consumer, then waits for the consumer's info before it reads a single message; a server
     * that sent the whole backlog first overran the client's pending limits (keys() on a 500,000-key bucket
     * came back short with a client-side slow consumer). Before the fix the info reply queued behind every
     * message, so the client held all of them when it came.
     */
    @Test
    void consumerInfoIsAnsweredWhileABacklogIsDelivered() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "BIG", "big.>");
            int n = 30_000;
            JetStream js = nc.jetStream();
            publishAcked(js, n, i -> "big." + (i % 100), new byte[16]);
            JetStreamSubscription sub = js.subscribe("big.>", PushSubscribeOptions.builder()
                    .configuration(ConsumerConfiguration.builder().ackPolicy(AckPolicy.None).build()).build());
            ConsumerInfo ci = sub.getConsumerInfo();
            long heldAtReply = sub.getPendingMessageCount();
            assertEquals(n, ci.getCalculatedPending());
            assertTrue(heldAtReply < n, "the info reply came after all " + n + " messages");
            expectSequences(sub, n);
            sub.unsubscribe();
        }
    }

    /**
     * Replay policy original: a consumer over stored messages hands them out as far apart as they were stored.
     * The gaps are made by pausing between publishes (300 ms). Without pacing the messages come within a
     * millisecond of each other; the check asks for at least half the stored gap, because the client notes an
     * arrival only when its dispatcher thread runs, which a loaded machine delays by a few milliseconds (the
     * first version, with 5 ms of slack, failed once by 7 ms on CI-like load).
     */
    @Test
    void replayOriginalKeepsTheStoredGaps() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "R", "r.>");
            JetStream js = nc.jetStream();
            for (int i = 1; i <= 3; i++) {
                js.publish("r.x", ("m" + i).getBytes(StandardCharsets.UTF_8));
                if (i < 3) {
                    Thread.sleep(300); // the data under test: messages stored 300 ms apart
                }
            }
            long[] arrived = new long[3];
            long[] stored = new long[3];
            String[] bodies = new String[3];
            java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
            CountDownLatch all = new CountDownLatch(3);
            Dispatcher d = nc.createDispatcher();
            JetStreamSubscription sub = js.subscribe("r.>", d, m -> {
                long now = System.nanoTime();
                int i = count.getAndIncrement();
                if (i < 3) {
                    arrived[i] = now;
                    bodies[i] = new String(m.getData(), StandardCharsets.UTF_8);
                    java.time.Instant ts = m.metaData().timestamp().toInstant();
                    stored[i] = ts.getEpochSecond() * 1_000_000_000L + ts.getNano();
                    all.countDown();
                }
            }, false, PushSubscribeOptions.builder().configuration(ConsumerConfiguration.builder()
                    .ackPolicy(AckPolicy.None).replayPolicy(ReplayPolicy.Original).build()).build());
            assertTrue(all.await(10, TimeUnit.SECONDS), "3 messages, got " + count.get());
            assertEquals(ReplayPolicy.Original, sub.getConsumerInfo().getConsumerConfiguration().getReplayPolicy());
            for (int i = 0; i < 3; i++) {
                assertEquals("m" + (i + 1), bodies[i]);
            }
            for (int i = 1; i < 3; i++) {
                long storedGap = stored[i] - stored[i - 1];
                long deliveredGap = arrived[i] - arrived[i - 1];
                assertTrue(storedGap >= 250_000_000L, "stored gap " + storedGap);
                assertTrue(deliveredGap >= storedGap / 2,
                        "message " + (i + 1) + " came " + deliveredGap + " ns after the one before, stored " + storedGap
                                + " ns after it");
            }
            d.unsubscribe(sub);
            nc.closeDispatcher(d);
        }
    }

    @Test
    void orderedConsumerAcrossManyMessages() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "O", "o.>");
            int n = 5000;
            JetStream js = nc.jetStream();
            publishAcked(js, n, i -> "o." + (i % 7), new byte[256]);
            JetStreamSubscription sub = js.subscribe("o.>", PushSubscribeOptions.builder().ordered(true).build());
            expectSequences(sub, n);
            sub.unsubscribe();
        }
    }

    @Test
    void redeliveryNakTermAndMaxDeliver() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "R", "r");
            publish(nc, "r", 3);
            JetStream js = nc.jetStream();
            ConsumerConfiguration cfg = ConsumerConfiguration.builder().durable("rd").ackPolicy(AckPolicy.Explicit)
                    .ackWait(Duration.ofMillis(400)).maxDeliver(3).build();
            JetStreamSubscription sub = js.subscribe("r", PullSubscribeOptions.builder().configuration(cfg).build());

            List<Message> first = sub.fetch(3, Duration.ofSeconds(2));
            assertEquals(3, first.size());
            first.get(0).term();
            long nakAt = System.nanoTime();
            first.get(1).nakWithDelay(Duration.ofMillis(300));
            // the third is not acked: redelivered after ack_wait with delivered count 2 and a new consumer seq
            List<Message> again = sub.fetch(2, Duration.ofSeconds(3));
            assertEquals(2, again.size());
            assertTrue(System.nanoTime() - nakAt >= TimeUnit.MILLISECONDS.toNanos(300), "nak delay honoured");
            for (Message m : again) {
                assertTrue(m.metaData().streamSequence() >= 2);
                assertEquals(2, m.metaData().deliveredCount());
            }
            assertEquals(4, again.get(0).metaData().consumerSequence());
            again.get(0).ack();
            // the last one reaches max_deliver 3 and is then dropped
            List<Message> third = sub.fetch(1, Duration.ofSeconds(3));
            assertEquals(1, third.size());
            assertEquals(3, third.get(0).metaData().deliveredCount());
            List<Message> none = sub.fetch(1, Duration.ofMillis(1200));
            assertTrue(none.isEmpty(), "no delivery after max_deliver");
            ConsumerInfo ci = nc.jetStreamManagement().getConsumerInfo("R", "rd");
            assertEquals(0, ci.getNumAckPending());
            assertEquals(6, ci.getDelivered().getConsumerSequence());
        }
    }

    @Test
    void idleHeartbeatsReachAnIdleSubscriber() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "H", "h");
            publish(nc, "h", 2);
            Subscription raw = nc.subscribe("dlv.h");
            nc.jetStreamManagement().addOrUpdateConsumer("H", ConsumerConfiguration.builder().durable("hb")
                    .deliverSubject("dlv.h").idleHeartbeat(Duration.ofMillis(200)).build());
            assertEquals("m1", new String(raw.nextMessage(Duration.ofSeconds(2)).getData(), StandardCharsets.UTF_8));
            assertEquals("m2", new String(raw.nextMessage(Duration.ofSeconds(2)).getData(), StandardCharsets.UTF_8));
            Message hb = raw.nextMessage(Duration.ofSeconds(2));
            assertNotNull(hb);
            assertTrue(hb.isStatusMessage());
            assertEquals(100, hb.getStatus().getCode());
            assertEquals("2", hb.getHeaders().getFirst("Nats-Last-Consumer"));
            assertEquals("2", hb.getHeaders().getFirst("Nats-Last-Stream"));
        }
    }

    @Test
    void flowControlWithASlowSubscriber() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "F", "f");
            int n = 1500;
            JetStream js = nc.jetStream();
            byte[] body = new byte[4096];
            publishAcked(js, n, i -> "f", body);
            JetStreamSubscription sub = js.subscribe("f", PushSubscribeOptions.builder().configuration(
                    ConsumerConfiguration.builder().flowControl(Duration.ofMillis(500)).build()).build());
            AtomicLong last = new AtomicLong();
            for (int i = 1; i <= n; i++) {
                Message m = sub.nextMessage(Duration.ofSeconds(5));
                assertNotNull(m, "message " + i);
                assertEquals(last.get() + 1, m.metaData().consumerSequence());
                last.set(m.metaData().consumerSequence());
                m.ack(); // jnats defaults to explicit acks: max_ack_pending (1000) would stop delivery otherwise
                if (i % 100 == 0) {
                    nc.flush(Duration.ofSeconds(2)); // slow reader
                }
            }
        }
    }

    @Test
    void ephemeralRemovedAfterInactivity() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "E", "e");
            JetStreamManagement jsm = nc.jetStreamManagement();
            ConsumerInfo ci = jsm.addOrUpdateConsumer("E", ConsumerConfiguration.builder()
                    .deliverSubject("nobody.listens").inactiveThreshold(Duration.ofMillis(300)).build());
            assertEquals(List.of(ci.getName()), jsm.getConsumerNames("E"));
            await(() -> {
                try {
                    return jsm.getConsumerNames("E").isEmpty();
                } catch (Exception e) {
                    return false;
                }
            }, 5000, "ephemeral cleanup");
        }
    }

    @Test
    void durableSurvivesRestartWithAckState() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "D", "d");
            publish(nc, "d", 10);
            JetStreamSubscription sub = nc.jetStream().subscribe("d",
                    PullSubscribeOptions.builder().durable("keep").build());
            List<Message> ms = sub.fetch(5, Duration.ofSeconds(2));
            for (int i = 0; i < 3; i++) {
                ms.get(i).ackSync(Duration.ofSeconds(2));
            }
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            ConsumerInfo ci = nc.jetStreamManagement().getConsumerInfo("D", "keep");
            assertEquals(5, ci.getDelivered().getConsumerSequence());
            assertEquals(3, ci.getAckFloor().getStreamSequence());
            assertEquals(2, ci.getNumAckPending());
            assertEquals(5, ci.getNumPending());
            ConsumerContext cc = nc.getConsumerContext("D", "keep");
            Message m = cc.next(Duration.ofSeconds(2));
            assertEquals(6, m.metaData().streamSequence());
            assertEquals(6, m.metaData().consumerSequence());
        }
    }

    @Test
    void createInfoDeleteNamesList() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "C", "c.>");
            publish(nc, "c.x", 4);
            JetStreamManagement jsm = nc.jetStreamManagement();
            ConsumerConfiguration cfg = ConsumerConfiguration.builder().durable("one")
                    .filterSubject("c.x").deliverPolicy(DeliverPolicy.Last).ackPolicy(AckPolicy.Explicit).build();
            ConsumerInfo ci = jsm.createConsumer("C", cfg);
            assertEquals("one", ci.getName());
            assertEquals(1, ci.getNumPending());
            assertEquals(0, ci.getDelivered().getConsumerSequence());
            assertEquals(3, ci.getDelivered().getStreamSequence());
            assertEquals(1, jsm.createConsumer("C", cfg).getNumPending(), "idempotent create");
            JetStreamApiException exists = assertThrows(JetStreamApiException.class, () -> jsm.createConsumer("C",
                    ConsumerConfiguration.builder(cfg).description("changed").build()));
            assertEquals(10148, exists.getApiErrorCode());
            JetStreamApiException missing = assertThrows(JetStreamApiException.class,
                    () -> jsm.updateConsumer("C", ConsumerConfiguration.builder().durable("nope").build()));
            assertEquals(10149, missing.getApiErrorCode());
            jsm.addOrUpdateConsumer("C", ConsumerConfiguration.builder().durable("two").build());
            assertEquals(List.of("one", "two"), jsm.getConsumerNames("C"));
            assertEquals(2, jsm.getConsumers("C").size());
            assertTrue(jsm.deleteConsumer("C", "one"));
            JetStreamApiException gone = assertThrows(JetStreamApiException.class,
                    () -> jsm.getConsumerInfo("C", "one"));
            assertEquals(10014, gone.getApiErrorCode());
            assertEquals(1, jsm.getStreamInfo("C").getStreamState().getConsumerCount());
        }
    }
}
