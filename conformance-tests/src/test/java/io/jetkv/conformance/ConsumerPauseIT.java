package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.nats.client.PushSubscribeOptions;
import io.nats.client.Subscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.ConsumerPauseResponse;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer pause and resume (nats-server 2.11): {@code $JS.API.CONSUMER.PAUSE}, {@code pause_until} on create,
 * info's {@code paused}/{@code pause_remaining}, the advisory, no deliveries while paused (pull and push), resume at
 * the deadline, and the pause kept across a restart; through jnats' {@code pauseConsumer}/{@code resumeConsumer}.
 */
class ConsumerPauseIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static void setUp(Connection nc, int messages) throws Exception {
        nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>")
                .storageType(StorageType.File).build());
        JetStream js = nc.jetStream();
        for (int i = 1; i <= messages; i++) {
            js.publish("s." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static JsonNode json(Message m) throws Exception {
        return JSON.readTree(m.getData());
    }

    @Test
    void pullConsumerCreatedPausedDeliversNothingUntilResumed() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc, 3);
            JetStreamManagement jsm = nc.jetStreamManagement();
            Subscription advisories = nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.S.C");
            nc.flush(Duration.ofSeconds(5));
            ZonedDateTime until = ZonedDateTime.now(ZoneOffset.UTC).plusHours(1);
            ConsumerInfo created = jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C")
                    .ackPolicy(AckPolicy.Explicit).pauseUntil(until).build());
            assertTrue(created.getPaused());
            assertTrue(created.getPauseRemaining().compareTo(Duration.ofMinutes(59)) > 0);
            assertEquals(until.toInstant(), created.getConsumerConfiguration().getPauseUntil().toInstant());

            JsonNode adv = json(advisories.nextMessage(Duration.ofSeconds(5)));
            assertEquals("io.nats.jetstream.advisory.v1.consumer_pause", adv.get("type").asText());
            assertEquals("S", adv.get("stream").asText());
            assertEquals("C", adv.get("consumer").asText());
            assertTrue(adv.get("paused").asBoolean());

            JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind("S", "C"));
            // the pull waits, expires and ends empty: nothing is delivered while paused
            assertTrue(sub.fetch(3, Duration.ofMillis(500)).isEmpty());
            assertEquals(0, jsm.getConsumerInfo("S", "C").getDelivered().getConsumerSequence());

            assertTrue(jsm.resumeConsumer("S", "C"));
            JsonNode resumed = json(advisories.nextMessage(Duration.ofSeconds(5)));
            assertFalse(resumed.get("paused").asBoolean());
            ConsumerInfo info = jsm.getConsumerInfo("S", "C");
            assertFalse(info.getPaused());
            assertNull(info.getConsumerConfiguration().getPauseUntil());

            List<Message> got = sub.fetch(3, Duration.ofSeconds(10));
            assertEquals(3, got.size());
            assertEquals("m1", new String(got.get(0).getData(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void waitingPullIsServedWhenThePauseRunsOut() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc, 2);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C").ackPolicy(AckPolicy.Explicit)
                    .build());
            Subscription advisories = nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.S.C");
            nc.flush(Duration.ofSeconds(5));
            ZonedDateTime until = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(2);
            ConsumerPauseResponse r = jsm.pauseConsumer("S", "C", until);
            assertTrue(r.isPaused());
            assertEquals(until.toInstant(), r.getPauseUntil().toInstant());
            assertTrue(r.getPauseRemaining().compareTo(Duration.ZERO) > 0);
            assertTrue(json(advisories.nextMessage(Duration.ofSeconds(5))).get("paused").asBoolean());

            JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind("S", "C"));
            // a long pull: it waits through the pause and gets the messages once the deadline passed
            List<Message> got = sub.fetch(2, Duration.ofSeconds(30));
            assertEquals(2, got.size());
            assertFalse(ZonedDateTime.now(ZoneOffset.UTC).isBefore(until), "delivered before the deadline");
            // the deadline is announced as a resume
            assertFalse(json(advisories.nextMessage(Duration.ofSeconds(5))).get("paused").asBoolean());
            assertFalse(jsm.getConsumerInfo("S", "C").getPaused());
        }
    }

    @Test
    void pushConsumerHoldsDeliveriesWhilePaused() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc, 0);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("P").deliverSubject("deliver.p")
                    .ackPolicy(AckPolicy.Explicit).build());
            JetStreamSubscription sub = nc.jetStream().subscribe(null, PushSubscribeOptions.bind("S", "P"));
            nc.jetStream().publish("s.1", "before".getBytes(StandardCharsets.UTF_8));
            Message first = sub.nextMessage(Duration.ofSeconds(5));
            assertNotNull(first);
            first.ack();

            jsm.pauseConsumer("S", "P", ZonedDateTime.now(ZoneOffset.UTC).plusHours(1));
            nc.jetStream().publish("s.2", "while paused".getBytes(StandardCharsets.UTF_8));
            nc.flush(Duration.ofSeconds(5));
            assertNull(sub.nextMessage(Duration.ofMillis(500)));
            assertEquals(1, jsm.getConsumerInfo("S", "P").getNumPending());

            assertTrue(jsm.resumeConsumer("S", "P"));
            Message second = sub.nextMessage(Duration.ofSeconds(10));
            assertNotNull(second);
            assertEquals("while paused", new String(second.getData(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void pauseSurvivesRestartAndUpdatesKeepIt() throws Exception {
        ZonedDateTime until = ZonedDateTime.now(ZoneOffset.UTC).plusHours(2).withNano(0);
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc, 1);
            JetStreamManagement jsm = nc.jetStreamManagement();
            ConsumerConfiguration cc = ConsumerConfiguration.builder().durable("C").ackPolicy(AckPolicy.Explicit)
                    .build();
            jsm.addOrUpdateConsumer("S", cc);
            jsm.pauseConsumer("S", "C", until);
            // an update may not change pause_until: the stored value stays
            ConsumerInfo updated = jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder(cc)
                    .description("changed").pauseUntil(until.plusDays(1)).build());
            assertEquals("changed", updated.getConsumerConfiguration().getDescription());
            assertEquals(until.toInstant(), updated.getConsumerConfiguration().getPauseUntil().toInstant());
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            ConsumerInfo info = jsm.getConsumerInfo("S", "C");
            assertTrue(info.getPaused());
            assertEquals(until.toInstant(), info.getConsumerConfiguration().getPauseUntil().toInstant());
            JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind("S", "C"));
            assertTrue(sub.fetch(1, Duration.ofMillis(300)).isEmpty());
            assertTrue(jsm.resumeConsumer("S", "C"));
            assertEquals(1, sub.fetch(1, Duration.ofSeconds(10)).size());
        }
    }

    @Test
    void pauseRequestErrors() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc, 0);
            JetStreamManagement jsm = nc.jetStreamManagement();
            ZonedDateTime until = ZonedDateTime.now(ZoneOffset.UTC).plusHours(1);
            JetStreamApiException noConsumer = assertThrows(JetStreamApiException.class,
                    () -> jsm.pauseConsumer("S", "nope", until));
            assertEquals(10014, noConsumer.getApiErrorCode());
            JetStreamApiException noStream = assertThrows(JetStreamApiException.class,
                    () -> jsm.pauseConsumer("nope", "C", until));
            assertEquals(10059, noStream.getApiErrorCode());

            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C").build());
            // raw: a wrong-typed field is 10025; a past time is kept but does not pause
            JsonNode bad = JSON.readTree(nc.request("$JS.API.CONSUMER.PAUSE.S.C",
                    "{\"pause_until\":5}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertEquals(10025, bad.path("error").path("err_code").asInt());
            JsonNode past = JSON.readTree(nc.request("$JS.API.CONSUMER.PAUSE.S.C",
                    "{\"pause_until\":\"2020-01-01T00:00:00Z\"}".getBytes(StandardCharsets.UTF_8),
                    Duration.ofSeconds(5)).getData());
            assertEquals("io.nats.jetstream.api.v1.consumer_pause_response", past.get("type").asText());
            assertFalse(past.get("paused").asBoolean());
            assertEquals("2020-01-01T00:00:00Z", past.get("pause_until").asText());
            assertFalse(past.has("pause_remaining"));
            JsonNode resumed = JSON.readTree(nc.request("$JS.API.CONSUMER.PAUSE.S.C", new byte[0],
                    Duration.ofSeconds(5)).getData());
            assertEquals("0001-01-01T00:00:00Z", resumed.get("pause_until").asText());
        }
    }
}
