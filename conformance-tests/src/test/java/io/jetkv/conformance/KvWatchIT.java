package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatchOption;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KV watch, keys and history (nats.docs "Key/Value Store": watch), riding on ordered push consumers. */
class KvWatchIT {
    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Collects watch entries; counts down once per entry and once at end of initial data. */
    private static final class Collector implements KeyValueWatcher {
        final Map<String, KeyValueEntry> latest = new ConcurrentHashMap<>();
        final AtomicInteger count = new AtomicInteger();
        final CountDownLatch endOfData = new CountDownLatch(1);
        volatile CountDownLatch target = new CountDownLatch(0);
        volatile int countAtEnd = -1;

        @Override
        public void watch(KeyValueEntry e) {
            latest.put(e.getKey(), e);
            count.incrementAndGet();
            target.countDown();
        }

        @Override
        public void endOfData() {
            countAtEnd = count.get();
            endOfData.countDown();
        }
    }

    @Test
    void watchAllDeliversEveryLatestValueThenUpdates() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("big").maxHistoryPerKey(3)
                    .storageType(StorageType.File).build());
            KeyValue kv = nc.keyValue("big");
            int keys = 3000;
            for (int i = 0; i < keys; i++) {
                kv.put("k" + i, b("v" + i));
            }
            for (int i = 0; i < keys; i += 10) {
                kv.put("k" + i, b("w" + i)); // older revisions must not be delivered
            }
            kv.delete("k1");

            Collector c = new Collector();
            NatsKeyValueWatchSubscription sub = kv.watchAll(c);
            assertTrue(c.endOfData.await(20, TimeUnit.SECONDS), "end of initial data");
            assertEquals(keys, c.countAtEnd, "one entry per key, deletes included");
            assertEquals("w0", new String(c.latest.get("k0").getValue(), StandardCharsets.UTF_8));
            assertEquals(KeyValueOperation.DELETE, c.latest.get("k1").getOperation());

            c.target = new CountDownLatch(50);
            for (int i = 0; i < 50; i++) {
                kv.put("new" + i, b("n" + i));
            }
            assertTrue(c.target.await(10, TimeUnit.SECONDS), "live updates");
            assertEquals("n49", new String(c.latest.get("new49").getValue(), StandardCharsets.UTF_8));
            sub.unsubscribe();
        }
    }

    @Test
    void watchKeyIncludeHistoryAndUpdatesOnly() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("h").maxHistoryPerKey(10)
                    .storageType(StorageType.Memory).build());
            KeyValue kv = nc.keyValue("h");
            kv.put("a", b("1"));
            kv.put("a", b("2"));
            kv.put("b", b("x"));

            Collector hist = new Collector();
            NatsKeyValueWatchSubscription s1 = kv.watch("a", hist, KeyValueWatchOption.INCLUDE_HISTORY);
            assertTrue(hist.endOfData.await(10, TimeUnit.SECONDS));
            assertEquals(2, hist.countAtEnd);

            Collector updates = new Collector();
            updates.target = new CountDownLatch(1);
            NatsKeyValueWatchSubscription s2 = kv.watch("a", updates, KeyValueWatchOption.UPDATES_ONLY);
            assertTrue(updates.endOfData.await(10, TimeUnit.SECONDS));
            assertEquals(0, updates.countAtEnd);
            kv.put("a", b("3"));
            assertTrue(updates.target.await(10, TimeUnit.SECONDS));
            assertEquals(3, updates.latest.get("a").getRevision() - 1);
            s1.unsubscribe();
            s2.unsubscribe();
        }
    }

    @Test
    void emptyBucketWatchSignalsEndAtOnce() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("e").build());
            KeyValue kv = nc.keyValue("e");
            Collector c = new Collector();
            c.target = new CountDownLatch(1);
            NatsKeyValueWatchSubscription sub = kv.watchAll(c);
            assertTrue(c.endOfData.await(10, TimeUnit.SECONDS));
            assertEquals(0, c.countAtEnd);
            kv.put("x", b("1"));
            assertTrue(c.target.await(10, TimeUnit.SECONDS));
            assertTrue(kv.keys().contains("x"));
            sub.unsubscribe();
        }
    }

    @Test
    void keysAndHistory() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("kh").maxHistoryPerKey(5)
                    .storageType(StorageType.File).build());
            KeyValue kv = nc.keyValue("kh");
            Set<String> expected = new HashSet<>();
            for (int i = 0; i < 2000; i++) {
                kv.put("key." + i, b("v"));
                expected.add("key." + i);
            }
            kv.put("gone", b("x"));
            kv.delete("gone");
            List<String> keys = kv.keys();
            assertEquals(expected, new HashSet<>(keys), "deleted keys are dropped by the client");
            assertEquals(2000, keys.size());
            assertEquals(List.of("key.7"), kv.keys("key.7"));

            kv.put("hk", b("1"));
            kv.put("hk", b("2"));
            kv.delete("hk");
            List<KeyValueEntry> history = kv.history("hk");
            assertEquals(3, history.size());
            assertEquals("1", new String(history.get(0).getValue(), StandardCharsets.UTF_8));
            assertEquals(KeyValueOperation.DELETE, history.get(2).getOperation());
            assertTrue(history.get(0).getRevision() < history.get(1).getRevision());
        }
    }
}
