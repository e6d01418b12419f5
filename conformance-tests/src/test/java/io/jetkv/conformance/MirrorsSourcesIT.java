package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.Mirror;
import io.nats.client.api.Source;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.SubjectTransform;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stream mirrors and sources within one server (nats.docs "Source and Mirror Streams"), through jnats. */
class MirrorsSourcesIT {
    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    /** Polls {@code read} until {@code done} holds, to a deadline: copying is asynchronous by design. */
    static <T> T await(Callable<T> read, Predicate<T> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        T v;
        do {
            v = read.call();
            if (v != null && done.test(v)) {
                return v;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        throw new AssertionError("condition not reached before the deadline, last value: " + v);
    }

    private static StreamInfo awaitMessages(JetStreamManagement jsm, String stream, long n) throws Exception {
        return await(() -> jsm.getStreamInfo(stream), si -> si.getStreamState().getMsgCount() == n);
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void mirrorCopiesSequencesAndOutlivesItsOrigin() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            JetStream js = nc.jetStream();
            jsm.addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>")
                    .storageType(StorageType.File).build());
            for (int i = 1; i <= 5; i++) {
                js.publish("orders." + i, ("o" + i).getBytes(StandardCharsets.UTF_8));
            }
            jsm.deleteMessage("ORDERS", 2);

            StreamInfo created = jsm.addStream(StreamConfiguration.builder().name("ORDERS_M")
                    .mirror(Mirror.builder().sourceName("ORDERS").build()).build());
            assertEquals("ORDERS", created.getConfiguration().getMirror().getName());
            assertTrue(created.getConfiguration().getSubjects().isEmpty());

            StreamInfo si = awaitMessages(jsm, "ORDERS_M", 4);
            assertEquals(5, si.getStreamState().getLastSequence());
            assertEquals("ORDERS", si.getMirrorInfo().getName());
            assertEquals(0, si.getMirrorInfo().getLag());
            assertEquals("orders.3", jsm.getMessage("ORDERS_M", 3).getSubject());

            js.publish("orders.6", "o6".getBytes(StandardCharsets.UTF_8));
            await(() -> jsm.getStreamInfo("ORDERS_M"), s -> s.getStreamState().getLastSequence() == 6);

            jsm.deleteStream("ORDERS");
            assertEquals(5, jsm.getStreamInfo("ORDERS_M").getStreamState().getMsgCount());
            assertEquals("o6", str(jsm.getMessage("ORDERS_M", 6).getData()));
        }
    }

    @Test
    void streamSourcesTwoStreamsWithFilters() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            JetStream js = nc.jetStream();
            jsm.addStream(StreamConfiguration.builder().name("EU").subjects("eu.>").build());
            jsm.addStream(StreamConfiguration.builder().name("US").subjects("us.>").build());
            js.publish("eu.orders", "e1".getBytes(StandardCharsets.UTF_8));
            js.publish("eu.audit", "x".getBytes(StandardCharsets.UTF_8));
            js.publish("us.orders", "u1".getBytes(StandardCharsets.UTF_8));

            jsm.addStream(StreamConfiguration.builder().name("ALL_ORDERS").subjects("all.orders")
                    .sources(Source.builder().sourceName("EU").filterSubject("eu.orders").build(),
                            Source.builder().sourceName("US").filterSubject("us.orders").build())
                    .build());
            StreamInfo si = awaitMessages(jsm, "ALL_ORDERS", 2);
            assertEquals(2, si.getSourceInfos().size());

            js.publish("us.orders", "u2".getBytes(StandardCharsets.UTF_8));
            js.publish("us.audit", "y".getBytes(StandardCharsets.UTF_8));
            js.publish("eu.orders", "e2".getBytes(StandardCharsets.UTF_8));
            si = awaitMessages(jsm, "ALL_ORDERS", 4);
            for (var info : si.getSourceInfos()) {
                assertEquals(0, info.getLag(), info.getName());
            }
            assertEquals("u2", str(jsm.getLastMessage("ALL_ORDERS", "us.orders").getData()));
            assertEquals("e2", str(jsm.getLastMessage("ALL_ORDERS", "eu.orders").getData()));
        }
    }

    @Test
    void kvMirrorBucketServesReads() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            KeyValueManagement kvm = nc.keyValueManagement();
            kvm.create(KeyValueConfiguration.builder().name("config").maxHistoryPerKey(3).build());
            KeyValue origin = nc.keyValue("config");
            origin.put("a", "1");
            origin.put("b", "2");
            origin.delete("b");

            kvm.create(KeyValueConfiguration.builder().name("config_ro")
                    .mirror(Mirror.builder().name("config").build()).build());
            // the mirror bucket keeps one revision per key (its own history), under the origin's sequences
            StreamInfo si = await(() -> nc.jetStreamManagement().getStreamInfo("KV_config_ro"),
                    s -> s.getStreamState().getLastSequence() == 3);
            assertEquals(2, si.getStreamState().getMsgCount());
            assertTrue(si.getConfiguration().getMirrorDirect());
            assertEquals("KV_config", si.getConfiguration().getMirror().getName());

            KeyValue mirror = nc.keyValue("config_ro");
            assertEquals("1", str(mirror.get("a").getValue()));
            assertNull(mirror.get("b"));
            // writes through a mirror bucket go to the origin and come back through the copy
            mirror.put("c", "3");
            assertEquals("3", str(origin.get("c").getValue()));
            KeyValueEntry c = await(() -> mirror.get("c"), e -> true);
            assertEquals("3", str(c.getValue()));
            assertEquals(4, c.getRevision());
        }
    }

    @Test
    void kvBucketSourcesTwoBuckets() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            KeyValueManagement kvm = nc.keyValueManagement();
            kvm.create(KeyValueConfiguration.builder().name("east").build());
            kvm.create(KeyValueConfiguration.builder().name("west").build());
            nc.keyValue("east").put("e", "1");
            nc.keyValue("west").put("w", "2");

            kvm.create(KeyValueConfiguration.builder().name("both")
                    .sources(Source.builder().name("east").subjectTransforms(SubjectTransform.builder()
                                    .source("$KV.east.>").destination("$KV.both.>").build()).build(),
                            Source.builder().name("west").subjectTransforms(SubjectTransform.builder()
                                    .source("$KV.west.>").destination("$KV.both.>").build()).build())
                    .build());
            KeyValue both = nc.keyValue("both");
            assertEquals("1", str(await(() -> both.get("e"), e -> true).getValue()));
            assertEquals("2", str(await(() -> both.get("w"), e -> true).getValue()));

            nc.keyValue("west").put("w", "3");
            assertEquals("3", str(await(() -> both.get("w"), e -> "3".equals(str(e.getValue()))).getValue()));
            assertEquals(2, both.getStatus().getEntryCount()); // history 1: the sourced update replaced the old
            nc.keyValue("east").delete("e");
            await(() -> both.get("e") == null ? Boolean.TRUE : null, b -> b);
        }
    }

    @Test
    void restartInTheMiddleResumesWithoutDuplicatesOrGaps() throws Exception {
        int n = 3000;
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("SRC").subjects("src.*").build());
            jsm.addStream(StreamConfiguration.builder().name("SRC_M")
                    .mirror(Mirror.builder().sourceName("SRC").build()).build());
            jsm.addStream(StreamConfiguration.builder().name("SRC_S").subjects("agg")
                    .sources(Source.builder().sourceName("SRC").build()).build());
            JetStream js = nc.jetStream();
            var acks = new java.util.ArrayList<java.util.concurrent.CompletableFuture<?>>();
            for (int i = 0; i < n; i++) {
                acks.add(js.publishAsync("src." + (i % 10), Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
            }
            for (var a : acks) {
                assertNotNull(a.get(10, java.util.concurrent.TimeUnit.SECONDS));
            }
            // stop right away: the copies are typically part way
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            nc.jetStream().publish("src.x", "last".getBytes(StandardCharsets.UTF_8));
            StreamInfo m = awaitMessages(jsm, "SRC_M", n + 1);
            assertEquals(n + 1, m.getStreamState().getLastSequence());
            StreamInfo s = awaitMessages(jsm, "SRC_S", n + 1);
            // a duplicate would show as an extra message, a gap as a missing one: sequences stay dense
            assertEquals(n + 1, s.getStreamState().getLastSequence());
            assertEquals("last", str(jsm.getMessage("SRC_S", n + 1).getData()));
            assertEquals(Integer.toString(n - 1), str(jsm.getMessage("SRC_S", n).getData()));
            assertEquals("0", str(jsm.getMessage("SRC_M", 1).getData()));
        }
    }
}
