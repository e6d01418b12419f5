package io.jetkv.conformance;

import static io.jetkv.conformance.ApiLevelIT.request;
import static io.jetkv.conformance.ApiLevelIT.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strict request decoding (nats-server 2.12's default, ADR-44): a {@code $JS.API} request with a field the reference
 * does not know gets 10025 {@code invalid JSON: json: unknown field "<f>"}, nested objects included, so a client and
 * server that disagree on a feature find out; {@code jetstream { strict: false }} ignores such fields as 2.10 did.
 * What jnats sends for everything it can set is known.
 */
class StrictJsonIT {
    @TempDir
    Path store;

    NatsServer start(boolean strict) throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store).withStrict(strict)));
    }

    @Test
    void unknownFieldsAreRefusedByDefault() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
                Connection nc = Clients.connect(server.clientUrl())) {
            String r = text(request(nc, "$JS.API.STREAM.CREATE.S", null,
                    "{\"name\":\"S\",\"subjects\":[\"s\"],\"bogus_field\":1,\"max_msgs\":5}"));
            assertTrue(r.contains("{\"code\":400,\"err_code\":10025,"
                    + "\"description\":\"invalid JSON: json: unknown field \\\"bogus_field\\\"\"}"), r);
            assertFalse(nc.jetStreamManagement().getStreamNames().contains("S"));
            // nested: a source's fields, the first unknown in document order
            r = text(request(nc, "$JS.API.STREAM.CREATE.S", null,
                    "{\"name\":\"S\",\"sources\":[{\"name\":\"O\",\"nope\":1}],\"later\":2}"));
            assertTrue(r.contains("unknown field \\\"nope\\\""), r);
            // metadata is a map: any key
            r = text(request(nc, "$JS.API.STREAM.CREATE.S", null,
                    "{\"name\":\"S\",\"subjects\":[\"s\"],\"metadata\":{\"anything\":\"goes\"}}"));
            assertFalse(r.contains("\"error\""), r);
            r = text(request(nc, "$JS.API.CONSUMER.CREATE.S.c", null,
                    "{\"stream_name\":\"S\",\"config\":{\"name\":\"c\",\"ack_policy\":\"explicit\",\"wat\":true}}"));
            assertTrue(r.contains("invalid JSON: json: unknown field \\\"wat\\\""), r);
            r = text(request(nc, "$JS.API.STREAM.INFO.S", null, "{\"deleted_details\":true,\"x\":1}"));
            assertTrue(r.contains("unknown field \\\"x\\\""), r);
            r = text(request(nc, "$JS.API.STREAM.MSG.GET.S", null, "{\"seq\":1,\"y\":1}"));
            assertTrue(r.contains("unknown field \\\"y\\\""), r);
            r = text(request(nc, "$JS.API.STREAM.PURGE.S", null, "{\"z\":1}"));
            assertTrue(r.contains("unknown field \\\"z\\\""), r);
            // Go matches field names ignoring case
            r = text(request(nc, "$JS.API.STREAM.NAMES", null, "{\"Offset\":0}"));
            assertFalse(r.contains("\"error\""), r);
        }
    }

    @Test
    void everythingJnatsSendsIsKnown() throws Exception {
        try (NatsServer server = start(true); Connection nc = Clients.connect(server.clientUrl())) {
            var jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("A").subjects("a.>").storageType(StorageType.File)
                    .description("d").maxMessages(100).maxBytes(1 << 20).maxAge(Duration.ofHours(1))
                    .maxMessagesPerSubject(5).maxMsgSize(1000).duplicateWindow(Duration.ofMinutes(1)).allowDirect(true)
                    .allowRollup(true).denyDelete(true).allowMessageTtl().subjectDeleteMarkerTtl(Duration.ofSeconds(5))
                    .allowAtomicPublish().metadata(Map.of("k", "v")).firstSequence(1).build());
            jsm.updateStream(jsm.getStreamInfo("A").getConfiguration());
            jsm.addOrUpdateConsumer("A", ConsumerConfiguration.builder().durable("c").description("d")
                    .ackWait(Duration.ofSeconds(5)).maxDeliver(3).filterSubjects("a.1", "a.2").maxAckPending(10)
                    .maxBatch(5).maxExpires(Duration.ofSeconds(10)).inactiveThreshold(Duration.ofMinutes(5))
                    .metadata(Map.of("k", "v")).build());
            jsm.addOrUpdateConsumer("A", jsm.getConsumerInfo("A", "c").getConsumerConfiguration());
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("kv").maxHistoryPerKey(3)
                    .storageType(StorageType.Memory).limitMarker(Duration.ofSeconds(2)).build());
            nc.keyValue("kv").put("k", new byte[] {1});
            assertEquals(1, nc.keyValue("kv").get("k").getRevision());
            jsm.getStreams();
            jsm.getConsumers("A");
            jsm.purgeStream("A");
        }
    }

    @Test
    void strictFalseIgnoresUnknownFields() throws Exception {
        try (NatsServer server = start(false); Connection nc = Clients.connect(server.clientUrl())) {
            String r = text(request(nc, "$JS.API.STREAM.CREATE.S", null,
                    "{\"name\":\"S\",\"subjects\":[\"s\"],\"bogus_field\":1}"));
            assertFalse(r.contains("\"error\""), r);
            assertTrue(nc.jetStreamManagement().getStreamNames().contains("S"));
        }
    }
}
