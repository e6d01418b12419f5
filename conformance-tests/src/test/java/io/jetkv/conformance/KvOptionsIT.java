package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueStatus;
import io.nats.client.api.Republish;
import io.nats.client.api.StorageType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bucket options of the KV store (nats.docs "Key/Value Store", ADR-8) through jnats. */
class KvOptionsIT {
    @TempDir
    Path store;

    private NatsServer server;
    private Connection nc;
    private KeyValueManagement kvm;

    @BeforeEach
    void start() throws Exception {
        server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
        nc = Clients.connect(server.clientUrl());
        kvm = nc.keyValueManagement();
    }

    @AfterEach
    void stop() throws Exception {
        nc.close();
        server.close();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Polls to a deadline: for state that changes in the background (TTL expiry), not as a pause. */
    private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void historyKeepsTheLastRevisionsPerKey() throws Exception {
        kvm.create(KeyValueConfiguration.builder().name("h").maxHistoryPerKey(3).build());
        KeyValue kv = nc.keyValue("h");
        for (int i = 1; i <= 10; i++) {
            kv.put("k", "v" + i);
        }
        List<KeyValueEntry> history = kv.history("k");
        assertEquals(List.of("v8", "v9", "v10"), history.stream().map(KeyValueEntry::getValueAsString).toList());
        assertEquals(3, kv.getStatus().getEntryCount());
    }

    @Test
    void historyBoundsAreOneToSixtyFour() throws Exception {
        // the 64 bound is the KV clients' rule (a stream's max_msgs_per_subject has no such bound)
        assertThrows(IllegalArgumentException.class,
                () -> kvm.create(KeyValueConfiguration.builder().name("big").maxHistoryPerKey(65).build()));
        assertEquals(64, kvm.create(KeyValueConfiguration.builder().name("max").maxHistoryPerKey(64).build())
                .getMaxHistoryPerKey());
        assertEquals(1, kvm.create(KeyValueConfiguration.builder().name("one").build()).getMaxHistoryPerKey());
    }

    @Test
    void bucketTtlExpiresValues() throws Exception {
        kvm.create(KeyValueConfiguration.builder().name("ttl").ttl(Duration.ofMillis(500)).build());
        KeyValue kv = nc.keyValue("ttl");
        kv.put("session", "abc");
        assertNotNull(kv.get("session"));
        assertEquals(Duration.ofMillis(500), kv.getStatus().getTtl());
        eventually(() -> {
            try {
                return kv.get("session") == null;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "value expired");
    }

    @Test
    void maxValueSizeAndMaxBucketSize() throws Exception {
        kvm.create(KeyValueConfiguration.builder().name("lim").maxValueSize(16).maxBucketSize(1024).build());
        KeyValue kv = nc.keyValue("lim");
        kv.put("ok", "small");
        JetStreamApiException tooBig = assertThrows(JetStreamApiException.class, () -> kv.put("big", "x".repeat(17)));
        assertEquals(10054, tooBig.getApiErrorCode(), tooBig.getMessage());
        // the bucket discards new values once full (KV buckets use discard new)
        JetStreamApiException full = null;
        for (int i = 0; i < 100 && full == null; i++) {
            try {
                kv.put("k" + i, "0123456789");
            } catch (JetStreamApiException e) {
                full = e;
            }
        }
        assertNotNull(full, "a full bucket refuses puts");
        assertTrue(kv.getStatus().getByteCount() <= 1024);
    }

    @Test
    void memoryStorageBucket() throws Exception {
        KeyValueStatus st = kvm.create(KeyValueConfiguration.builder().name("mem").storageType(StorageType.Memory).build());
        assertEquals(StorageType.Memory, st.getStorageType());
        KeyValue kv = nc.keyValue("mem");
        kv.put("a", "1");
        assertEquals("1", kv.get("a").getValueAsString());
    }

    @Test
    void republishCopiesPutsToAnotherSubject() throws Exception {
        kvm.create(KeyValueConfiguration.builder().name("rp")
                .republish(Republish.builder().source("$KV.rp.>").destination("repub.>").build()).build());
        Subscription sub = nc.subscribe("repub.>");
        nc.flush(Duration.ofSeconds(5));
        nc.keyValue("rp").put("key1", "value1");
        Message m = sub.nextMessage(Duration.ofSeconds(5));
        assertNotNull(m);
        assertEquals("repub.key1", m.getSubject());
        assertEquals("value1", new String(m.getData(), StandardCharsets.UTF_8));
        assertEquals("KV_rp", m.getHeaders().getFirst("Nats-Stream"));
    }

    @Test
    void metadataDescriptionAndCompressionAreKept() throws Exception {
        kvm.create(KeyValueConfiguration.builder().name("meta").description("settings")
                .metadata(Map.of("owner", "team-a")).compression(true).build());
        KeyValueStatus st = nc.keyValue("meta").getStatus();
        assertEquals("settings", st.getDescription());
        assertEquals("team-a", st.getConfiguration().getMetadata().get("owner"));
        assertTrue(st.isCompressed());
    }

    @Test
    void deleteAndPurgeMarkersThenPurgeDeletes() throws Exception {
        kvm.create(KeyValueConfiguration.builder().name("pd").maxHistoryPerKey(5).build());
        KeyValue kv = nc.keyValue("pd");
        kv.put("a", "1");
        kv.put("b", "1");
        kv.delete("a");
        kv.purge("b");
        assertNull(kv.get("a"));
        assertNull(kv.get("b"));
        kv.purgeDeletes(io.nats.client.api.KeyValuePurgeOptions.builder().deleteMarkersNoThreshold().build());
        assertEquals(0, kv.getStatus().getEntryCount());
        assertTrue(kv.keys().isEmpty());
    }
}
