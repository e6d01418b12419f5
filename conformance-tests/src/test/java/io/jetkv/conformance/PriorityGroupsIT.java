package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import io.nats.client.PullRequestOptions;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.Subscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.PriorityGroupState;
import io.nats.client.api.PriorityPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Priority groups (nats-server 2.11/2.12, ADR-42): the consumer configuration and its errors, pull requests with
 * {@code group}, the {@code overflow}, {@code pinned_client} and {@code prioritized} policies, {@code Nats-Pin-Id},
 * the 423 for a stale pin, UNPIN, {@code priority_timeout} and info's {@code priority_groups}; through jnats'
 * {@code ConsumerConfiguration.priorityGroups} and {@code PullRequestOptions.group}, raw pulls where the order of
 * waiting requests matters.
 */
class PriorityGroupsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static void stream(Connection nc) throws Exception {
        nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>")
                .storageType(StorageType.File).build());
    }

    private static void publish(Connection nc, int from, int to) throws Exception {
        JetStream js = nc.jetStream();
        for (int i = from; i <= to; i++) {
            js.publish("s." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String text(Message m) {
        return new String(m.getData(), StandardCharsets.UTF_8);
    }

    private static int apiError(ThrowingRunnable r) {
        return assertThrows(JetStreamApiException.class, r::run).getApiErrorCode();
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Sends a raw pull request and returns the subscription its replies arrive on. */
    private static Subscription pull(Connection nc, String consumer, String body) throws Exception {
        String inbox = nc.createInbox();
        Subscription sub = nc.subscribe(inbox);
        nc.publish("$JS.API.CONSUMER.MSG.NEXT.S." + consumer, inbox, body.getBytes(StandardCharsets.UTF_8));
        nc.flush(Duration.ofSeconds(5));
        return sub;
    }

    private static String status(Message m) {
        assertNotNull(m, "no reply");
        assertTrue(m.isStatusMessage(), "not a status: " + text(m));
        return m.getStatus().getCode() + " " + m.getStatus().getMessage();
    }

    private static String read(Subscription s, int n) throws Exception {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Message m = s.nextMessage(Duration.ofSeconds(5));
            assertNotNull(m);
            out.add(m.isStatusMessage() ? status(m) : text(m));
        }
        return String.join(" ", out);
    }

    @Test
    void configurationRulesAndDefaults() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc);
            JetStreamManagement jsm = nc.jetStreamManagement();
            assertEquals(10159, apiError(() -> jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder()
                    .durable("a").priorityPolicy(PriorityPolicy.Overflow).build())));
            assertEquals(10178, apiError(() -> jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder()
                    .durable("b").deliverSubject("d.b").priorityPolicy(PriorityPolicy.Overflow).priorityGroups("g")
                    .build())));
            assertEquals(10162, apiError(() -> jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder()
                    .durable("c").priorityPolicy(PriorityPolicy.PinnedClient).priorityGroups("this-name-is-too-long")
                    .build())));
            assertEquals(10196, apiError(() -> jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder()
                    .durable("d").priorityGroups("g").build())));
            assertEquals(10197, apiError(() -> jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder()
                    .durable("e").priorityTimeout(Duration.ofSeconds(5)).build())));
            // raw: an empty group name, and a policy jnats cannot send
            JsonNode empty = JSON.readTree(nc.request("$JS.API.CONSUMER.CREATE.S.f",
                    ("{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"f\",\"ack_policy\":\"explicit\","
                            + "\"priority_policy\":\"overflow\",\"priority_groups\":[\"\"]}}")
                            .getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertEquals(10161, empty.path("error").path("err_code").asInt());
            JsonNode unknown = JSON.readTree(nc.request("$JS.API.CONSUMER.CREATE.S.g",
                    ("{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"g\",\"ack_policy\":\"explicit\","
                            + "\"priority_policy\":\"failover\",\"priority_groups\":[\"x\"]}}")
                            .getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertEquals(10025, unknown.path("error").path("err_code").asInt());

            ConsumerInfo pinned = jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("P")
                    .ackPolicy(AckPolicy.Explicit).priorityPolicy(PriorityPolicy.PinnedClient)
                    .priorityGroups("jobs", "other").build());
            ConsumerConfiguration cc = pinned.getConsumerConfiguration();
            assertEquals(PriorityPolicy.PinnedClient, cc.getPriorityPolicy());
            assertEquals(List.of("jobs", "other"), cc.getPriorityGroups());
            assertEquals(Duration.ofMinutes(2), cc.getPriorityTimeout()); // the reference's default
            List<PriorityGroupState> states = pinned.getPriorityGroupStates();
            assertEquals(1, states.size()); // only the first group is reported
            assertEquals("jobs", states.get(0).getGroup());
            assertNull(states.get(0).getPinnedClientId());

            // the policy and groups may be updated
            ConsumerInfo updated = jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder(cc)
                    .priorityPolicy(PriorityPolicy.Overflow).priorityGroups("jobs").priorityTimeout(0L).build());
            assertEquals(PriorityPolicy.Overflow, updated.getConsumerConfiguration().getPriorityPolicy());
        }
    }

    @Test
    void pullRequestChecks() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("P").ackPolicy(AckPolicy.Explicit)
                    .priorityPolicy(PriorityPolicy.PinnedClient).priorityGroups("jobs").build());
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("N").ackPolicy(AckPolicy.Explicit)
                    .build());
            Duration t = Duration.ofSeconds(5);
            assertEquals("400 Bad Request - Priority Group missing",
                    status(pull(nc, "P", "{\"batch\":1}").nextMessage(t)));
            assertEquals("400 Bad Request - Invalid Priority Group",
                    status(pull(nc, "P", "{\"batch\":1,\"group\":\"nope\"}").nextMessage(t)));
            assertEquals("400 Bad Request - Not a Overflow Priority consumer",
                    status(pull(nc, "P", "{\"batch\":1,\"group\":\"jobs\",\"min_pending\":2}").nextMessage(t)));
            assertEquals("400 Bad Request - Not a Pinned Client Priority consumer",
                    status(pull(nc, "N", "{\"batch\":1,\"id\":\"abc\"}").nextMessage(t)));
            assertEquals("400 Bad Request - Priority must be between 0 and 9",
                    status(pull(nc, "N", "{\"batch\":1,\"priority\":10}").nextMessage(t)));
            // a plain integer body skips the group checks
            publish(nc, 1, 1);
            Message m = pull(nc, "P", "1").nextMessage(t);
            assertEquals("m1", text(m));
            // a policy-less consumer ignores a group
            assertEquals("m1", text(pull(nc, "N", "{\"batch\":1,\"group\":\"whatever\"}").nextMessage(t)));
        }
    }

    /** A jnats {@code consume()} client of the group: what it received, and under which pins. */
    private static final class GroupClient implements AutoCloseable {
        final List<String> pins = new java.util.concurrent.CopyOnWriteArrayList<>();
        final io.nats.client.MessageConsumer consumer;

        GroupClient(Connection nc) throws Exception {
            consumer = nc.getConsumerContext("S", "C").consume(io.nats.client.ConsumeOptions.builder().group("jobs")
                    .batchSize(10).expiresIn(5000).build(), m -> {
                        pins.add(m.getHeaders() == null ? "none" : String.valueOf(m.getHeaders().getFirst("Nats-Pin-Id")));
                        m.ack();
                    });
        }

        @Override
        public void close() throws Exception {
            consumer.close();
        }
    }

    private static void await(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(20); // polling a condition to a deadline
        }
    }

    @Test
    void pinnedClientGetsEverythingUntilUnpinned() throws Exception {
        try (NatsServer server = start();
                Connection a = Clients.connect(server.clientUrl());
                Connection b = Clients.connect(server.clientUrl())) {
            stream(a);
            JetStreamManagement jsm = a.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C").ackPolicy(AckPolicy.Explicit)
                    .priorityPolicy(PriorityPolicy.PinnedClient).priorityGroups("jobs").build());
            Subscription pinnedAdv = a.subscribe("$JS.EVENT.ADVISORY.CONSUMER.PINNED.S.C");
            Subscription unpinnedAdv = a.subscribe("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.S.C");
            a.flush(Duration.ofSeconds(5));

            try (GroupClient ca = new GroupClient(a); GroupClient cb = new GroupClient(b)) {
                publish(a, 1, 20);
                await(() -> ca.pins.size() + cb.pins.size() >= 20, "the first 20 messages");
                JsonNode adv = JSON.readTree(pinnedAdv.nextMessage(Duration.ofSeconds(5)).getData());
                assertEquals("io.nats.jetstream.advisory.v1.consumer_group_pinned", adv.get("type").asText());
                assertEquals("jobs", adv.get("group").asText());
                String pin = adv.get("pinned_id").asText();
                assertEquals(22, pin.length());
                // all of them went to one client, each marked with the pin; the other stood by
                List<String> holder = ca.pins.isEmpty() ? cb.pins : ca.pins;
                assertEquals(20, holder.size(), "a: " + ca.pins.size() + ", b: " + cb.pins.size());
                assertTrue(holder.stream().allMatch(pin::equals), holder.toString());
                PriorityGroupState state = jsm.getConsumerInfo("S", "C").getPriorityGroupStates().get(0);
                assertEquals(pin, state.getPinnedClientId());
                assertNotNull(state.getPinnedTime());

                // a stale pin id is refused
                assertEquals("423 Nats-Pin-Id mismatch",
                        status(pull(b, "C", "{\"batch\":1,\"group\":\"jobs\",\"id\":\"not-the-pin\"}")
                                .nextMessage(Duration.ofSeconds(5))));

                // unpin: errors first, then the real one
                assertEquals(10160, apiError(() -> jsm.unpinConsumer("S", "C", "nope")));
                assertEquals(10014, apiError(() -> jsm.unpinConsumer("S", "nope", "jobs")));
                assertTrue(jsm.unpinConsumer("S", "C", "jobs"));
                JsonNode un = JSON.readTree(unpinnedAdv.nextMessage(Duration.ofSeconds(5)).getData());
                assertEquals("io.nats.jetstream.advisory.v1.consumer_group_unpinned", un.get("type").asText());
                assertEquals("admin", un.get("reason").asText());

                // the next messages pin anew (the old holder's waiting pulls get 423 and it pulls again without
                // the pin); everything after the unpin carries the new pin
                publish(a, 21, 40);
                await(() -> ca.pins.size() + cb.pins.size() >= 40, "the next 20 messages");
                String newPin = JSON.readTree(pinnedAdv.nextMessage(Duration.ofSeconds(5)).getData())
                        .get("pinned_id").asText();
                assertNotEquals(pin, newPin);
                List<String> after = new ArrayList<>(ca.pins);
                after.addAll(cb.pins);
                after.removeIf(pin::equals);
                assertEquals(20, after.size());
                assertTrue(after.stream().allMatch(newPin::equals), after.toString());
                assertEquals(newPin, jsm.getConsumerInfo("S", "C").getPriorityGroupStates().get(0).getPinnedClientId());
            }
        }
    }

    @Test
    void pinLapsesAfterPriorityTimeout() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C").ackPolicy(AckPolicy.Explicit)
                    .priorityPolicy(PriorityPolicy.PinnedClient).priorityGroups("jobs")
                    .priorityTimeout(Duration.ofSeconds(1)).build());
            Subscription unpinnedAdv = nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.S.C");
            nc.flush(Duration.ofSeconds(5));
            publish(nc, 1, 1);
            Message m = pull(nc, "C", "{\"batch\":1,\"group\":\"jobs\"}").nextMessage(Duration.ofSeconds(5));
            assertNotNull(m.getHeaders().getFirst("Nats-Pin-Id"));
            // nobody pulls with the pin: it lapses
            JsonNode un = JSON.readTree(unpinnedAdv.nextMessage(Duration.ofSeconds(15)).getData());
            assertEquals("timeout", un.get("reason").asText());
            assertEquals("jobs", un.get("group").asText());
            assertNull(jsm.getConsumerInfo("S", "C").getPriorityGroupStates().get(0).getPinnedClientId());
        }
    }

    @Test
    void overflowServesOnlyOverTheLimits() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C").ackPolicy(AckPolicy.Explicit)
                    .priorityPolicy(PriorityPolicy.Overflow).priorityGroups("jobs").build());
            publish(nc, 1, 3);
            JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind("S", "C"));
            // 3 pending, the overflow client wants 10 first: it waits
            sub.pull(PullRequestOptions.builder(1).group("jobs").minPending(10).expiresIn(Duration.ofMillis(800))
                    .build());
            assertNull(sub.nextMessage(Duration.ofSeconds(2)));
            // a limit that is met is served
            sub.pull(PullRequestOptions.builder(1).group("jobs").minPending(3).expiresIn(Duration.ofSeconds(5))
                    .build());
            Message m1 = sub.nextMessage(Duration.ofSeconds(5));
            assertEquals("m1", text(m1));
            // min_ack_pending: one is unacknowledged now
            sub.pull(PullRequestOptions.builder(1).group("jobs").minAckPending(1).expiresIn(Duration.ofSeconds(5))
                    .build());
            assertEquals("m2", text(sub.nextMessage(Duration.ofSeconds(5))));
            // without limits, always served
            sub.pull(PullRequestOptions.builder(1).group("jobs").expiresIn(Duration.ofSeconds(5)).build());
            assertEquals("m3", text(sub.nextMessage(Duration.ofSeconds(5))));
        }
    }

    @Test
    void prioritizedServesLowerPriorityFirst() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc);
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer("S", ConsumerConfiguration.builder().durable("C").ackPolicy(AckPolicy.None)
                    .priorityPolicy(PriorityPolicy.Prioritized).priorityGroups("jobs").build());
            // three requests wait, queued worst first; then messages arrive
            Subscription low = pull(nc, "C", "{\"batch\":3,\"expires\":10000000000,\"group\":\"jobs\",\"priority\":5}");
            Subscription high = pull(nc, "C", "{\"batch\":3,\"expires\":10000000000,\"group\":\"jobs\",\"priority\":0}");
            Subscription mid = pull(nc, "C", "{\"batch\":3,\"expires\":10000000000,\"group\":\"jobs\",\"priority\":2}");
            publish(nc, 1, 7);
            List<String> got = List.of(read(high, 3), read(mid, 3), read(low, 1));
            assertEquals(List.of("m1 m2 m3", "m4 m5 m6", "m7"), got);
        }
    }
}
