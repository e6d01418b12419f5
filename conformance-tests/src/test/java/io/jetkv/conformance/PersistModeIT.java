package io.jetkv.conformance;

import static io.jetkv.conformance.ApiLevelIT.request;
import static io.jetkv.conformance.ApiLevelIT.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.PersistMode;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code persist_mode} (nats-server 2.12) through jnats' {@code PersistMode}: {@code async} is accepted on a
 * single-server file stream and echoed (JetKV treats it as a hint: acks still follow the group commit), fixed at
 * creation, and refused with nats-server's texts on memory storage, with atomic batches and on replicated streams.
 */
class PersistModeIT {
    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    static String refusal(JetStreamManagement jsm, StreamConfiguration sc) {
        JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(sc));
        assertEquals(10052, e.getApiErrorCode(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void asyncIsAFileStreamSettingFixedAtCreation() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamConfiguration async = StreamConfiguration.builder().name("A").subjects("a")
                    .storageType(StorageType.File).persistMode(PersistMode.Async).build();
            StreamConfiguration cfg = jsm.addStream(async).getConfiguration();
            assertEquals(PersistMode.Async, cfg.getPersistMode());
            assertEquals("2", cfg.getMetadata().get("_nats.req.level"));
            assertEquals(1, nc.jetStream().publish("a", new byte[] {1}).getSeqno());

            JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> jsm.updateStream(
                    StreamConfiguration.builder(async).persistMode(PersistMode.Default).build()));
            assertTrue(e.getMessage().contains("stream configuration update can not change persist mode"),
                    e.getMessage());

            assertTrue(refusal(jsm, StreamConfiguration.builder().name("M").subjects("m")
                    .storageType(StorageType.Memory).persistMode(PersistMode.Async).build())
                    .contains("async persist mode is only supported on file storage"));
            assertTrue(refusal(jsm, StreamConfiguration.builder().name("B").subjects("b")
                    .persistMode(PersistMode.Async).allowAtomicPublish().build())
                    .contains("async persist mode is not supported with atomic batch publish"));

            // "default" is the same as leaving it out, and not echoed; an unknown mode is invalid JSON
            String r = text(request(nc, "$JS.API.STREAM.CREATE.D", null,
                    "{\"name\":\"D\",\"subjects\":[\"d\"],\"persist_mode\":\"default\"}"));
            assertTrue(!r.contains("persist_mode") && !r.contains("\"error\""), r);
            r = text(request(nc, "$JS.API.STREAM.CREATE.X", null,
                    "{\"name\":\"X\",\"subjects\":[\"x\"],\"persist_mode\":\"sometimes\"}"));
            assertTrue(r.contains("\"err_code\":10025"), r);
        }
    }
}
