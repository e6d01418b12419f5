package io.jetkv.conformance;

import static io.jetkv.conformance.MessageTtlIT.await;
import static io.jetkv.conformance.MessageTtlIT.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.MessageTtl;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KV per-key TTL and limit markers (ADR-48) through jnats 2.26: {@code limitMarker}, {@code create(key, value,
 * ttl)}, {@code purge(key, ttl)}, and what get, keys, history and a watcher see when a key expires (jnats maps the
 * server's {@code MaxAge} marker to PURGE). jnats does not look at the server's version or API level for any of it.
 */
class KvLimitMarkerIT {
    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    static final class Recorder implements KeyValueWatcher {
        final List<KeyValueEntry> entries = new CopyOnWriteArrayList<>();
        final CountDownLatch endOfData = new CountDownLatch(1);

        @Override
        public void watch(KeyValueEntry e) {
            entries.add(e);
        }

        @Override
        public void endOfData() {
            endOfData.countDown();
        }

        List<String> ops(String key) {
            return entries.stream().filter(e -> e.getKey().equals(key)).map(e -> e.getOperation().name()).toList();
        }
    }

    @Test
    void aKeyCreatedWithATtlExpiresAndWatchersSeeAPurge() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            var kvm = nc.keyValueManagement();
            var status = kvm.create(KeyValueConfiguration.builder().name("b").storageType(StorageType.File)
                    .limitMarker(Duration.ofSeconds(5)).build());
            assertEquals(Duration.ofSeconds(5), status.getLimitMarkerTtl());
            assertTrue(status.getConfiguration().getBackingConfig().getAllowMessageTtl());
            KeyValue kv = nc.keyValue("b");
            Recorder watcher = new Recorder();
            try (var sub = kv.watchAll(watcher)) {
                assertTrue(watcher.endOfData.await(10, TimeUnit.SECONDS));
                long rev = kv.create("k", b("v"), MessageTtl.seconds(1));
                kv.put("other", b("stays"));
                await("the watcher to see the key expire", () -> watcher.ops("k").equals(List.of("PUT", "PURGE")));
                assertNull(kv.get("k"));
                assertEquals(List.of("other"), kv.keys());
                List<KeyValueEntry> history = kv.history("k");
                assertEquals(1, history.size(), "the marker's rollup took the older revisions");
                assertEquals(KeyValueOperation.PURGE, history.get(0).getOperation());
                assertTrue(history.get(0).getRevision() > rev);
                // the marker goes after its own TTL, with no delivery
                await("the marker to expire", () -> {
                    try {
                        return kv.history("k").isEmpty();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                assertEquals(List.of("PUT", "PURGE"), watcher.ops("k"));
                // the key can be created again
                assertTrue(kv.create("k", b("again")) > rev);
                assertEquals("again", new String(kv.get("k").getValue()));
            }
        }
    }

    @Test
    void createOverAMarkerSucceeds() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("b").storageType(StorageType.Memory)
                    .limitMarker(Duration.ofMinutes(5)).build());
            KeyValue kv = nc.keyValue("b");
            kv.create("k", b("v"), MessageTtl.seconds(1));
            await("the marker", () -> {
                try {
                    var h = kv.history("k");
                    return h.size() == 1 && h.get(0).getOperation() == KeyValueOperation.PURGE;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            // jnats' create gets 10071 over the marker, reads the PURGE and retries with its revision
            kv.create("k", b("new"));
            assertEquals("new", new String(kv.get("k").getValue()));
        }
    }

    @Test
    void aPurgeWithATtlVanishesSilently() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("b").storageType(StorageType.File)
                    .maxHistoryPerKey(5).limitMarker(Duration.ofSeconds(1)).build());
            KeyValue kv = nc.keyValue("b");
            kv.put("k", b("1"));
            kv.put("k", b("2"));
            kv.purge("k", MessageTtl.seconds(1));
            List<KeyValueEntry> h = kv.history("k");
            assertTrue(h.size() <= 1, "the purge rolled up the older revisions"); // 0: it expired already
            h.forEach(e -> assertEquals(KeyValueOperation.PURGE, e.getOperation()));
            JetStreamManagement jsm = nc.jetStreamManagement();
            await("the purge tombstone to expire", () -> MessageTtlIT.msgs(jsm, "KV_b") == 0);
            assertTrue(kv.history("k").isEmpty());
        }
    }

    @Test
    void aTtlOnABucketWithoutTtlsIsRefused() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("plain").storageType(StorageType.Memory)
                    .build());
            KeyValue kv = nc.keyValue("plain");
            var e = assertThrows(JetStreamApiException.class, () -> kv.create("k", b("v"), MessageTtl.seconds(5)));
            assertEquals(10166, e.getApiErrorCode());
            assertNull(kv.get("k"));
        }
    }

    @Test
    void markersSurviveARestart() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("b").storageType(StorageType.File)
                    .limitMarker(Duration.ofMinutes(1)).build());
            // expiring after the restart, most likely; before it, the marker is what the restart must keep
            nc.keyValue("b").create("k", b("v"), MessageTtl.seconds(3));
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            KeyValue kv = nc.keyValue("b");
            assertEquals(Duration.ofMinutes(1), nc.keyValueManagement().getStatus("b").getLimitMarkerTtl());
            await("the key to expire after the restart", () -> {
                try {
                    var h = kv.history("k");
                    return h.size() == 1 && h.get(0).getOperation() == KeyValueOperation.PURGE;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertNull(kv.get("k"));
        }
    }
}
