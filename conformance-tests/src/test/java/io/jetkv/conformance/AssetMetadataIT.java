package io.jetkv.conformance;

import static io.jetkv.conformance.ApiLevelIT.request;
import static io.jetkv.conformance.ApiLevelIT.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.PriorityPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code _nats.*} metadata of nats-server 2.11 (ADR-44) through jnats: {@code _nats.req.level} is stored and
 * computed by the server, {@code _nats.ver} and {@code _nats.level} are added to create, update and info replies
 * only, an identical re-create (which echoes the keys back) is not a conflict, and the keys count toward the 128 KiB
 * metadata limit. Also the advertised level itself: INFO's version and {@code $JS.API.INFO}'s {@code api.level}.
 */
class AssetMetadataIT {
    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    @Test
    void theServerAdvertisesLevelThreeAndTwoTwelveFifteenTogether() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            assertEquals("2.14.5", nc.getServerInfo().getVersion());
            // what nats.go's LimitMarkerTTL checks before creating a bucket: api.level >= 1
            assertEquals(4, nc.jetStreamManagement().getAccountStatistics().getApi().getLevel());
            String info = text(request(nc, "$JS.API.INFO", null, ""));
            assertTrue(info.contains("\"api\":{\"level\":4,"), info);
        }
    }

    @Test
    void streamsStoreTheRequiredLevelAndRepliesAddTheServers() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamConfiguration plain = StreamConfiguration.builder().name("P").subjects("p")
                    .storageType(StorageType.Memory).metadata(Map.of("team", "a")).build();
            StreamInfo si = jsm.addStream(plain);
            Map<String, String> m = si.getConfiguration().getMetadata();
            assertEquals("a", m.get("team"));
            assertEquals("0", m.get("_nats.req.level"));
            assertEquals(nc.getServerInfo().getVersion(), m.get("_nats.ver"));
            assertEquals("4", m.get("_nats.level"));

            StreamConfiguration ttl = StreamConfiguration.builder().name("T").subjects("t")
                    .storageType(StorageType.Memory).allowMessageTtl().build();
            m = jsm.addStream(ttl).getConfiguration().getMetadata();
            assertEquals("1", m.get("_nats.req.level"));
            // info adds the server's keys; a list shows the stored config only
            m = jsm.getStreamInfo("T").getConfiguration().getMetadata();
            assertEquals("1", m.get("_nats.req.level"));
            assertEquals("4", m.get("_nats.level"));
            for (StreamInfo listed : jsm.getStreams()) {
                Map<String, String> lm = listed.getConfiguration().getMetadata();
                assertTrue(lm.containsKey("_nats.req.level"), listed.getConfiguration().getName());
                assertFalse(lm.containsKey("_nats.ver") || lm.containsKey("_nats.level"), lm.toString());
            }

            // an identical re-create, also one echoing the reply's metadata back, is no conflict
            jsm.addStream(ttl);
            jsm.addStream(jsm.getStreamInfo("T").getConfiguration());
            // a client cannot set the required level: the server overwrites it
            StreamConfiguration lying = StreamConfiguration.builder(plain)
                    .metadata(Map.of("team", "a", "_nats.req.level", "7", "_nats.ver", "9.9.9")).build();
            m = jsm.updateStream(lying).getConfiguration().getMetadata();
            assertEquals("0", m.get("_nats.req.level"));
            assertEquals(nc.getServerInfo().getVersion(), m.get("_nats.ver"));
            // turning TTLs on raises the stored level
            m = jsm.updateStream(StreamConfiguration.builder(plain).allowMessageTtl().build()).getConfiguration()
                    .getMetadata();
            assertEquals("1", m.get("_nats.req.level"));
        }
    }

    @Test
    void theKeysCountTowardTheMetadataLimit() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            // keys and values of exactly 128 KiB: fits only without the server's _nats.req.level
            String big = "x".repeat(128 * 1024 - 1);
            StreamConfiguration sc = StreamConfiguration.builder().name("M").subjects("m")
                    .storageType(StorageType.Memory).metadata(Map.of("k", big)).build();
            JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(sc));
            assertEquals(10052, e.getApiErrorCode());
            assertTrue(e.getMessage().contains("stream metadata exceeds maximum size of 131072 bytes"), e.getMessage());
            jsm.addStream(StreamConfiguration.builder(sc).metadata(Map.of("k", "x".repeat(1000))).build());

            e = assertThrows(JetStreamApiException.class, () -> jsm.addOrUpdateConsumer("M",
                    ConsumerConfiguration.builder().durable("c").metadata(Map.of("k", big)).build()));
            assertEquals(10135, e.getApiErrorCode());
        }
    }

    @Test
    void consumersStoreTheRequiredLevel() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s").storageType(StorageType.Memory).build());
            ConsumerInfo ci = jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("plain").build());
            Map<String, String> m = ci.getConsumerConfiguration().getMetadata();
            assertEquals("0", m.get("_nats.req.level"));
            assertEquals("4", m.get("_nats.level"));
            assertEquals(nc.getServerInfo().getVersion(), m.get("_nats.ver"));

            ConsumerConfiguration grouped = ConsumerConfiguration.builder().durable("grouped")
                    .priorityPolicy(PriorityPolicy.Overflow).priorityGroups("g").build();
            m = jsm.addOrUpdateConsumer("S", grouped).getConsumerConfiguration().getMetadata();
            assertEquals("1", m.get("_nats.req.level"));
            // an identical re-create (action create: a difference would be 10148) keeps the consumer
            jsm.createConsumer("S", grouped);
            jsm.createConsumer("S", jsm.getConsumerInfo("S", "grouped").getConsumerConfiguration());

            // a pause, even one already over, makes a consumer need level 1 (as nats.js's resume to the epoch does)
            jsm.pauseConsumer("S", "plain", ZonedDateTime.now().minusMinutes(1));
            m = jsm.getConsumerInfo("S", "plain").getConsumerConfiguration().getMetadata();
            assertEquals("1", m.get("_nats.req.level"));

            for (ConsumerInfo listed : jsm.getConsumers("S")) {
                Map<String, String> lm = listed.getConsumerConfiguration().getMetadata();
                assertTrue(lm.containsKey("_nats.req.level"), listed.getName());
                assertNull(lm.get("_nats.ver"));
                assertNull(lm.get("_nats.level"));
            }
        }
    }

    @Test
    void theStoredLevelSurvivesARestart() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("R").subjects("r")
                    .allowMessageTtl().build());
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            Map<String, String> m = jsm.getStreamInfo("R").getConfiguration().getMetadata();
            assertEquals("1", m.get("_nats.req.level"));
            jsm.addStream(StreamConfiguration.builder().name("R").subjects("r").allowMessageTtl().build());
        }
    }
}
