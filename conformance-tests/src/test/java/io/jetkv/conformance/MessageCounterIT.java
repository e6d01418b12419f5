package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Message counters (nats-server 2.12, ADR-49) through jnats: {@code allow_msg_counter} and its config rules,
 * {@code Nats-Incr} publishes whose pub ack carries the total ({@code PublishAck.getVal()}), the errors in the
 * reference's order, big totals, reset by purge, survival across a restart, and counters sourced into a counter
 * stream adding only what changed.
 */
class MessageCounterIT {
    @TempDir
    Path store;

    private ServerConfig config() {
        return ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store));
    }

    static NatsMessage incr(String subject, String by) {
        return NatsMessage.builder().subject(subject).headers(new Headers().put("Nats-Incr", by)).build();
    }

    @Test
    void incrementsAddUpAndTheAckCarriesTheTotal() throws Exception {
        try (NatsServer server = NatsServer.start(config()); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamInfo info = jsm.addStream(StreamConfiguration.builder().name("C").subjects("c.>")
                    .storageType(StorageType.File).allowMessageCounter().build());
            assertTrue(info.getConfiguration().getAllowMessageCounter());
            JetStream js = nc.jetStream();
            assertEquals("1", js.publish(incr("c.hits", "1")).getVal());
            assertEquals("11", js.publish(incr("c.hits", "+10")).getVal());
            PublishAck down = js.publish(incr("c.hits", "-20"));
            assertEquals("-9", down.getVal());
            assertEquals(3, down.getSeqno());
            assertEquals("5", js.publish(incr("c.other", "5")).getVal(), "each subject counts alone");
            // arbitrary precision, as the reference's big integers
            String big = "123456789012345678901234567890";
            assertEquals(big, js.publish(incr("c.big", big)).getVal());
            assertEquals("246913578024691357802469135780", js.publish(incr("c.big", big)).getVal());
            MessageInfo last = jsm.getLastMessage("C", "c.hits");
            assertEquals("{\"val\":\"-9\"}", new String(last.getData(), StandardCharsets.UTF_8));
            assertEquals("-20", last.getHeaders().getFirst("Nats-Incr"), "headers are kept as sent");
            // a purge of the subject resets it
            jsm.purgeStream("C", io.nats.client.PurgeOptions.subject("c.hits"));
            assertEquals("2", js.publish(incr("c.hits", "2")).getVal());
        }
        // the total is the stored last message: it survives a restart
        try (NatsServer server = NatsServer.start(config()); Connection nc = Clients.connect(server.clientUrl())) {
            assertEquals("5", nc.jetStream().publish(incr("c.hits", "3")).getVal());
        }
    }

    @Test
    void publishErrorsAsTheReference() throws Exception {
        try (NatsServer server = NatsServer.start(config()); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("C").subjects("c.>").allowMessageCounter().build());
            jsm.addStream(StreamConfiguration.builder().name("P").subjects("p.>").build());
            JetStream js = nc.jetStream();
            assertEquals(10171, code(() -> js.publish(incr("c.x", "one"))), "not an integer");
            assertEquals(10171, code(() -> js.publish(NatsMessage.builder().subject("c.x")
                    .headers(new Headers().put("Nats-Incr", "1").put("Nats-Rollup", "sub")).build())));
            assertEquals(10168, code(() -> js.publish(incr("p.x", "1"))), "a stream without counters");
            assertEquals(10170, code(() -> js.publish(NatsMessage.builder().subject("c.x")
                    .headers(new Headers().put("Nats-Incr", "1")).data("x".getBytes(StandardCharsets.UTF_8)).build())));
            assertEquals(10169, code(() -> js.publish("c.x", "plain".getBytes(StandardCharsets.UTF_8))),
                    "a counter stream takes only increments");
            // the first check wins: an invalid increment on a stream without counters is 10171
            assertEquals(10171, code(() -> js.publish(incr("p.x", "1.5"))));
        }
    }

    @Test
    void configRulesAsTheReference() throws Exception {
        try (NatsServer server = NatsServer.start(config()); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            assertEquals(10052, code(() -> jsm.addStream(StreamConfiguration.builder().name("A").subjects("a")
                    .allowMessageCounter().discardPolicy(DiscardPolicy.New).build())));
            assertEquals(10052, code(() -> jsm.addStream(StreamConfiguration.builder().name("A").subjects("a")
                    .allowMessageCounter().retentionPolicy(RetentionPolicy.WorkQueue).build())));
            assertEquals(10052, code(() -> jsm.addStream(StreamConfiguration.builder().name("A").subjects("a")
                    .allowMessageCounter().allowMessageTtl().build())));
            jsm.addStream(StreamConfiguration.builder().name("A").subjects("a").allowMessageCounter().build());
            var e = assertThrows(JetStreamApiException.class, () -> jsm.updateStream(StreamConfiguration.builder()
                    .name("A").subjects("a").build()));
            assertEquals(10052, e.getApiErrorCode());
            assertEquals("stream configuration update can not change message counter setting",
                    e.getErrorDescription());
            jsm.addStream(StreamConfiguration.builder().name("B").subjects("b").build());
            assertEquals(10052, code(() -> jsm.updateStream(StreamConfiguration.builder().name("B").subjects("b")
                    .allowMessageCounter().build())));
        }
    }

    @Test
    void aCounterSourcedIntoACounterStreamAddsWhatChanged() throws Exception {
        try (NatsServer server = NatsServer.start(config()); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("EU").subjects("eu.hits").allowMessageCounter().build());
            jsm.addStream(StreamConfiguration.builder().name("US").subjects("us.hits").allowMessageCounter().build());
            jsm.addStream(StreamConfiguration.builder().name("ALL").allowMessageCounter()
                    .sources(io.nats.client.api.Source.builder().sourceName("EU").subjectTransforms(
                                    io.nats.client.api.SubjectTransform.builder().source("eu.hits")
                                            .destination("all.hits").build()).build(),
                            io.nats.client.api.Source.builder().sourceName("US").subjectTransforms(
                                    io.nats.client.api.SubjectTransform.builder().source("us.hits")
                                            .destination("all.hits").build()).build())
                    .build());
            JetStream js = nc.jetStream();
            js.publish(incr("eu.hits", "10"));
            js.publish(incr("us.hits", "5"));
            js.publish(incr("eu.hits", "1"));
            js.publish(incr("us.hits", "-2"));
            // EU 11 + US 3: each source's totals are turned back into the increments they came from
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            String total = null;
            while (System.nanoTime() < deadline) {
                StreamInfo all = jsm.getStreamInfo("ALL");
                if (all.getStreamState().getMsgCount() == 4) {
                    total = new String(jsm.getLastMessage("ALL", "all.hits").getData(), StandardCharsets.UTF_8);
                    break;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L); // polling to the deadline
            }
            assertEquals("{\"val\":\"14\"}", total);
            String seen = jsm.getLastMessage("ALL", "all.hits").getHeaders().getFirst("Nats-Counter-Sources");
            assertTrue(seen.contains("\"EU\":{\"eu.hits\":\"11\"}") && seen.contains("\"US\":{\"us.hits\":\"3\"}"), seen);
        }
    }

    interface Call {
        void run() throws Exception;
    }

    static int code(Call c) {
        return assertThrows(JetStreamApiException.class, c::run).getApiErrorCode();
    }
}
