package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueStatus;
import io.nats.client.api.StorageType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KV operations that need no consumer (nats.docs "Key/Value Store"), through jnats. */
class KvBasicsIT {
    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void putGetUpdateDeletePurgeAndStatus() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            KeyValueManagement kvm = nc.keyValueManagement();
            KeyValueStatus created = kvm.create(KeyValueConfiguration.builder()
                    .name("my_kv").maxHistoryPerKey(5).storageType(StorageType.File).build());
            assertEquals("my_kv", created.getBucketName());
            KeyValue kv = nc.keyValue("my_kv");

            long r1 = kv.put("Key1", "Value1");
            assertEquals(1, r1);
            assertEquals("Value1", str(kv.get("Key1").getValue()));

            long r2 = kv.update("Key1", "Value2".getBytes(StandardCharsets.UTF_8), r1);
            assertEquals(2, r2);
            JetStreamApiException wrong = assertThrows(JetStreamApiException.class,
                    () -> kv.update("Key1", "stale".getBytes(StandardCharsets.UTF_8), r1));
            assertEquals(10071, wrong.getApiErrorCode());

            assertThrows(JetStreamApiException.class, () -> kv.create("Key1", new byte[] {1}));
            assertEquals("Value1", str(kv.get("Key1", r1).getValue()));

            kv.delete("Key1");
            assertNull(kv.get("Key1"));
            // create succeeds once the live value is gone
            long r4 = kv.create("Key1", "again".getBytes(StandardCharsets.UTF_8));
            assertEquals(4, r4);

            kv.purge("Key1");
            assertNull(kv.get("Key1"));
            KeyValueEntry none = kv.get("Missing");
            assertNull(none);

            KeyValueStatus status = kv.getStatus();
            assertEquals(5, status.getMaxHistoryPerKey());
            assertEquals(1, status.getEntryCount(), "purge keeps only the purge marker");
            assertTrue(kvm.getBucketNames().contains("my_kv"));
            kvm.delete("my_kv");
            assertTrue(kvm.getBucketNames().isEmpty());
        }
    }

    @Test
    void valuesSurviveRestart() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("cfg").build());
            KeyValue kv = nc.keyValue("cfg");
            for (int i = 0; i < 100; i++) {
                kv.put("k" + (i % 10), "v" + i);
            }
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            KeyValue kv = nc.keyValue("cfg");
            KeyValueEntry e = kv.get("k3");
            assertEquals("v93", str(e.getValue()));
            assertEquals(94, e.getRevision());
            assertEquals(KeyValueOperation.PUT, e.getOperation());
        }
    }
}
