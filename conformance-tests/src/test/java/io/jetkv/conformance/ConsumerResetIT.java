package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer reset (nats-server 2.14, {@code $JS.API.CONSUMER.RESET}): delivery starts over at the ack floor or a
 * given stream sequence with consumer sequence 1, as the deliver policy allows; through jnats' {@code resetConsumer},
 * raw for the reply's {@code reset_seq} and the silence for a missing consumer.
 */
class ConsumerResetIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static void setUp(Connection nc) throws Exception {
        nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>")
                .storageType(StorageType.File).build());
        JetStream js = nc.jetStream();
        for (int i = 1; i <= 10; i++) {
            js.publish("s." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static int resetError(JetStreamManagement jsm, String consumer, long seq) {
        JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> jsm.resetConsumer("S", consumer, seq));
        assertEquals(400, e.getErrorCode());
        return e.getApiErrorCode();
    }

    @Test
    void resetToTheAckFloorOrASequence() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C").ackPolicy(AckPolicy.Explicit)
                    .build());
            JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind("S", "C"));
            List<Message> five = sub.fetch(5, Duration.ofSeconds(10));
            assertEquals(5, five.size());
            for (int i = 0; i < 3; i++) {
                five.get(i).ackSync(Duration.ofSeconds(5));
            }

            // no sequence: the ack floor's next, consumer sequence from 1, nothing pending
            ConsumerInfo info = jsm.resetConsumer("S", "C");
            assertEquals(0, info.getDelivered().getConsumerSequence());
            assertEquals(3, info.getDelivered().getStreamSequence());
            assertEquals(0, info.getAckFloor().getConsumerSequence());
            assertEquals(3, info.getAckFloor().getStreamSequence());
            assertEquals(0, info.getNumAckPending());
            assertEquals(7, info.getNumPending());
            Message m4 = sub.fetch(1, Duration.ofSeconds(10)).get(0);
            assertEquals("m4", new String(m4.getData(), StandardCharsets.UTF_8));
            assertEquals(1, m4.metaData().consumerSequence());
            assertEquals(1, m4.metaData().deliveredCount());

            // a sequence: back to 2, raw for the reply's own fields
            JsonNode raw = JSON.readTree(nc.request("$JS.API.CONSUMER.RESET.S.C",
                    "{\"seq\":2}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertEquals("io.nats.jetstream.api.v1.consumer_reset_response", raw.get("type").asText());
            assertEquals(2, raw.get("reset_seq").asLong());
            assertEquals("C", raw.get("name").asText());
            assertEquals(1, raw.path("delivered").path("stream_seq").asLong());
            Message m2 = sub.fetch(1, Duration.ofSeconds(10)).get(0);
            assertEquals("m2", new String(m2.getData(), StandardCharsets.UTF_8));
            assertEquals(1, m2.metaData().consumerSequence());

            // a missing consumer or stream gets no reply at all (the reference serves it on the consumer)
            assertNull(nc.request("$JS.API.CONSUMER.RESET.S.nope", new byte[0], Duration.ofMillis(500)));
            assertNull(nc.request("$JS.API.CONSUMER.RESET.nope.C", new byte[0], Duration.ofMillis(500)));
            JsonNode bad = JSON.readTree(nc.request("$JS.API.CONSUMER.RESET.S.C",
                    "{\"seq\":\"x\"}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertEquals(10025, bad.path("error").path("err_code").asInt());
        }
    }

    @Test
    void deliverPolicyLimitsTheSequence() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("BySeq").ackPolicy(AckPolicy.Explicit)
                    .deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(5).build());
            assertEquals(10204, resetError(jsm, "BySeq", 3));
            JetStreamApiException below = assertThrows(JetStreamApiException.class,
                    () -> jsm.resetConsumer("S", "BySeq", 4));
            assertEquals("invalid reset: below start seq", below.getErrorDescription());
            assertEquals(5, jsm.resetConsumer("S", "BySeq", 6).getDelivered().getStreamSequence());

            var fifth = jsm.getMessage("S", 5).getTime();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("ByTime").ackPolicy(AckPolicy.Explicit)
                    .deliverPolicy(DeliverPolicy.ByStartTime).startTime(fifth).build());
            JetStreamApiException beforeTime = assertThrows(JetStreamApiException.class,
                    () -> jsm.resetConsumer("S", "ByTime", 4));
            assertEquals("invalid reset: below start time", beforeTime.getErrorDescription());
            assertEquals(4, jsm.resetConsumer("S", "ByTime", 5).getDelivered().getStreamSequence());

            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("New").ackPolicy(AckPolicy.Explicit)
                    .deliverPolicy(DeliverPolicy.New).build());
            JetStreamApiException notAllowed = assertThrows(JetStreamApiException.class,
                    () -> jsm.resetConsumer("S", "New", 2));
            assertEquals("invalid reset: not allowed", notAllowed.getErrorDescription());
            assertEquals(10204, notAllowed.getApiErrorCode());
            // without a sequence any policy may reset (to its ack floor, which for new starts at the end)
            ConsumerInfo fresh = jsm.resetConsumer("S", "New");
            assertEquals(0, fresh.getDelivered().getConsumerSequence());
            assertEquals(10, fresh.getDelivered().getStreamSequence());
            assertEquals(0, fresh.getNumPending());
        }
    }
}
