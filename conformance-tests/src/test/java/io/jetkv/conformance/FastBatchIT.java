package io.jetkv.conformance;

import static io.jetkv.conformance.MessageTtlIT.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast-ingest batch publish (nats-server 2.14, ADR-50, {@code allow_batched}) with jnats: jnats 2.26 has the stream
 * setting ({@code allowBatched()}) but no publisher, so the messages are sent with the protocol's reply subjects,
 * {@code <inbox>.<id>.<flow>.<ok|fail>.<batch seq>.<op>.$FI}, and the flow acks, gaps, errors and the batch's pub
 * ack are read from {@code <inbox>.>}.
 */
class FastBatchIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int START = 0;
    static final int APPEND = 1;
    static final int COMMIT = 2;
    static final int EOB = 3;
    static final int PING = 4;

    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    static StreamConfiguration.Builder stream(String name, String... subjects) {
        return StreamConfiguration.builder().name(name).subjects(subjects).storageType(StorageType.File);
    }

    /** One client-side batch: its reply subjects and the subscription its replies arrive on. */
    static final class Batch implements AutoCloseable {
        final Connection nc;
        final String inbox = "_INBOX.fb" + Long.toHexString(System.nanoTime());
        final String id;
        final int flow;
        final String gap;
        final Subscription sub;

        Batch(Connection nc, String id, int flow, String gap) throws Exception {
            this.nc = nc;
            this.id = id;
            this.flow = flow;
            this.gap = gap;
            this.sub = nc.subscribe(inbox + ".>");
            nc.flush(Duration.ofSeconds(5));
        }

        String reply(long seq, int op) {
            return inbox + "." + id + "." + flow + "." + gap + "." + seq + "." + op + ".$FI";
        }

        void send(String subject, long seq, int op, Headers h) {
            nc.publish(NatsMessage.builder().subject(subject).replyTo(reply(seq, op)).headers(h).data(b("m" + seq))
                    .build());
        }

        void send(String subject, long seq, int op) {
            send(subject, seq, op, null);
        }

        /** The next reply on the batch's inbox. */
        Message next() throws Exception {
            Message m = sub.nextMessage(Duration.ofSeconds(10));
            assertNotNull(m, "no reply on " + inbox);
            return m;
        }

        JsonNode nextJson() throws Exception {
            return JSON.readTree(next().getData());
        }

        @Override
        public void close() {
            sub.unsubscribe();
        }
    }

    static int errCode(JsonNode reply) {
        return reply.path("error").path("err_code").asInt();
    }

    @Test
    void configurationRules() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").build());
            try (Batch b = new Batch(nc, "off", 10, "ok")) {
                b.send("foo", 1, START);
                assertEquals(10205, errCode(b.nextJson()), "batch publish is disabled");
            }
            assertEquals(0, jsm.getStreamInfo("S").getStreamState().getMsgCount());

            StreamInfo si = jsm.updateStream(stream("S", "foo").allowBatched().build());
            assertTrue(si.getConfiguration().getAllowBatched());
            assertEquals("4", si.getConfiguration().getMetadata().get("_nats.req.level"));

            JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(
                    StreamConfiguration.builder().name("M").mirror(io.nats.client.api.Mirror.builder().name("S").build())
                            .allowBatched().build()));
            assertEquals(10209, e.getApiErrorCode());
            // batch publishing and atomic publishing may be allowed together
            jsm.addStream(stream("B", "both").allowBatched().allowAtomicPublish().build());
            // turned off again: open batches are dropped and new ones refused
            try (Batch b = new Batch(nc, "toggle", 10, "ok")) {
                b.send("foo", 1, START);
                assertEquals("ack", b.nextJson().path("type").asText());
                jsm.updateStream(stream("S", "foo").build());
                b.send("foo", 2, APPEND);
                assertEquals(10205, errCode(b.nextJson()));
            }
        }
    }

    @Test
    void messagesAreStoredAsTheyComeAndAckedEveryFlowMessages() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo.*").allowBatched().build());
            nc.jetStream().publish("foo.before", b("x"));
            try (Batch b = new Batch(nc, "b1", 5, "fail")) {
                b.send("foo.a", 1, START);
                JsonNode first = b.nextJson();
                assertEquals("ack", first.path("type").asText(), first.toString());
                assertEquals(1, first.path("seq").asLong());
                assertEquals(5, first.path("msgs").asInt());
                // stored at once, not staged
                assertEquals(2, jsm.getStreamInfo("S").getStreamState().getMsgCount());
                for (int seq = 2; seq <= 11; seq++) {
                    b.send("foo.a", seq, APPEND);
                }
                for (long expected : new long[] {5, 10}) {
                    JsonNode ack = b.nextJson();
                    assertEquals("ack", ack.path("type").asText(), ack.toString());
                    assertEquals(expected, ack.path("seq").asLong());
                }
                // a ping gets the latest state, without counting as a message
                b.nc.publish(NatsMessage.builder().subject("foo.a").replyTo(b.reply(11, PING)).data(new byte[0])
                        .build());
                JsonNode pong = b.nextJson();
                assertEquals("ack", pong.path("type").asText());
                assertEquals(11, pong.path("seq").asLong());
                b.send("foo.z", 12, COMMIT);
                Message last = b.next();
                assertTrue(last.getSubject().endsWith(".12.2.$FI"), last.getSubject());
                PublishAck ack = new PublishAck(last);
                assertEquals("b1", ack.getBatchId());
                assertEquals(12, ack.getBatchSize());
                assertEquals(13, ack.getSeqno());
                assertEquals("S", ack.getStream());
            }
            assertEquals(13, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            assertEquals("foo.z", jsm.getMessage("S", 13).getSubject());
            // the batch is closed
            try (Batch b = new Batch(nc, "b1", 5, "fail")) {
                b.send("foo.a", 13, APPEND);
                assertEquals(10208, errCode(b.nextJson()), "batch publish ID unknown");
            }
        }
    }

    @Test
    void singleMessageCommitsAndEndOfBatch() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowBatched().build());
            try (Batch b = new Batch(nc, "one", 10, "ok")) {
                b.send("foo", 1, COMMIT);
                // a pub ack and nothing before it
                PublishAck ack = new PublishAck(b.next());
                assertEquals(1, ack.getBatchSize());
                assertEquals(1, ack.getSeqno());
            }
            try (Batch b = new Batch(nc, "eob", 10, "ok")) {
                for (int seq = 1; seq <= 3; seq++) {
                    b.send("foo", seq, seq == 1 ? START : APPEND);
                }
                b.send("foo", 4, EOB);
                assertEquals("ack", b.nextJson().path("type").asText());
                PublishAck ack = new PublishAck(b.next());
                assertEquals(3, ack.getBatchSize(), "the end-of-batch message is not counted");
                assertEquals(4, ack.getSeqno());
            }
            assertEquals(4, jsm.getStreamInfo("S").getStreamState().getMsgCount(), "nor stored");
        }
    }

    @Test
    void gapsAreReportedAndEndTheBatchOnlyInFailMode() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowBatched().build());
            try (Batch b = new Batch(nc, "ok", 100, "ok")) {
                b.send("foo", 1, START);
                assertEquals("ack", b.nextJson().path("type").asText());
                b.send("foo", 2, APPEND);
                b.send("foo", 4, APPEND); // 3 is lost
                JsonNode gap = b.nextJson();
                assertEquals("gap", gap.path("type").asText(), gap.toString());
                assertEquals(3, gap.path("last_seq").asLong());
                assertEquals(4, gap.path("seq").asLong());
                assertFalse(gap.has("msgs"), "a gap carries no flow update");
                b.send("foo", 5, COMMIT);
                PublishAck ack = new PublishAck(b.next());
                assertEquals(5, ack.getBatchSize());
            }
            assertEquals(4, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            try (Batch b = new Batch(nc, "fail", 100, "fail")) {
                b.send("foo", 1, START);
                assertEquals("ack", b.nextJson().path("type").asText());
                b.send("foo", 2, APPEND);
                b.send("foo", 3, APPEND);
                b.send("foo", 5, APPEND); // 4 is lost
                JsonNode gap = b.nextJson();
                assertEquals("gap", gap.path("type").asText(), gap.toString());
                assertEquals(4, gap.path("last_seq").asLong());
                PublishAck ack = new PublishAck(b.next());
                assertEquals(3, ack.getBatchSize(), "counted up to the gap");
                assertEquals(7, ack.getSeqno());
                b.send("foo", 6, APPEND);
                assertEquals(10208, errCode(b.nextJson()));
            }
            assertEquals(7, jsm.getStreamInfo("S").getStreamState().getMsgCount());
        }
    }

    @Test
    void aFailingMessageIsReportedAndEndsTheBatchOnlyInFailMode() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowBatched().build());
            Headers wrong = new Headers().put("Nats-Expected-Last-Sequence", "99");
            try (Batch b = new Batch(nc, "okmode", 100, "ok")) {
                b.send("foo", 1, START, wrong);
                JsonNode err = b.nextJson();
                assertEquals("err", err.path("type").asText(), err.toString());
                assertEquals(1, err.path("seq").asLong());
                assertEquals(10071, errCode(err));
                // the batch goes on: the first message's flow ack still comes
                JsonNode ack1 = b.nextJson();
                assertEquals("ack", ack1.path("type").asText(), ack1.toString());
                for (int seq = 2; seq <= 6; seq++) {
                    b.send("foo", seq, APPEND);
                }
                b.send("foo", 7, COMMIT);
                PublishAck ack = new PublishAck(b.next());
                assertEquals(7, ack.getBatchSize());
            }
            assertEquals(6, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            try (Batch b = new Batch(nc, "failmode", 100, "fail")) {
                b.send("foo", 1, START, wrong);
                JsonNode err = b.nextJson();
                assertEquals("err", err.path("type").asText(), err.toString());
                // then the batch's pub ack, with the error
                JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> new PublishAck(b.next()));
                assertEquals(10071, e.getApiErrorCode());
                b.send("foo", 2, APPEND);
                assertEquals(10208, errCode(b.nextJson()));
            }
            assertEquals(6, jsm.getStreamInfo("S").getStreamState().getMsgCount());
        }
    }

    @Test
    void badReplySubjectsAndLimits() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowBatched().build());
            String inbox = "_INBOX.bad";
            Subscription sub = nc.subscribe(inbox + ".>");
            nc.flush(Duration.ofSeconds(5));
            String[][] cases = {
                {inbox + ".u1.10.ok.1.9.$FI", "10206"}, // unknown operation
                {inbox + ".u2.10.maybe.1.0.$FI", "10206"}, // gap mode
                {inbox + ".u3.0.ok.1.0.$FI", "10206"}, // flow 0
                {inbox + ".u4.65536.ok.1.0.$FI", "10206"}, // flow above 65535
                {inbox + "." + "x".repeat(65) + ".10.ok.1.0.$FI", "10207"}, // id longer than 64
                {inbox + ".u5.10.ok.5.1.$FI", "10208"}, // unknown batch above sequence 1
                {inbox + ".u6.10.ok.1.4.$FI", "10208"}, // a ping never starts a batch
            };
            for (String[] c : cases) {
                nc.publish(NatsMessage.builder().subject("foo").replyTo(c[0]).data(b("x")).build());
                Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m, c[0]);
                assertEquals(Integer.parseInt(c[1]), errCode(JSON.readTree(m.getData())), c[0]);
            }
            assertEquals(0, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            // without the $FI marker a reply subject is an ordinary one
            Message plain = nc.request(NatsMessage.builder().subject("foo").data(b("x")).build(),
                    Duration.ofSeconds(10));
            assertEquals(1, new PublishAck(plain).getSeqno());

            // 1000 open batches a stream; the next is refused with 429
            for (int i = 0; i < 1000; i++) {
                nc.publish(NatsMessage.builder().subject("foo").replyTo(inbox + ".open" + i + ".10.ok.1.0.$FI")
                        .data(b("x")).build());
            }
            nc.publish(NatsMessage.builder().subject("foo").replyTo(inbox + ".toomany.10.ok.1.0.$FI").data(b("x"))
                    .build());
            JsonNode refused = null;
            for (int i = 0; i < 1001 && refused == null; i++) {
                Message m = sub.nextMessage(Duration.ofSeconds(10));
                assertNotNull(m);
                if (m.getSubject().contains(".toomany.")) {
                    refused = JSON.readTree(m.getData());
                }
            }
            assertNotNull(refused);
            assertEquals(10211, errCode(refused));
            assertEquals(429, refused.path("error").path("code").asInt());
        }
    }

    @Test
    void anIdleBatchIsDroppedAfterTenSeconds() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowBatched().build());
            try (Batch b = new Batch(nc, "idle", 1, "ok")) {
                b.send("foo", 1, START);
                assertEquals("ack", b.nextJson().path("type").asText());
                // nothing tells the client: the batch is just gone once it has been idle for 10 s
                long deadline = System.nanoTime() + Duration.ofSeconds(13).toNanos();
                assertEquals(null, b.sub.nextMessage(Duration.ofNanos(deadline - System.nanoTime())));
                b.send("foo", 2, APPEND);
                assertEquals(10208, errCode(b.nextJson()));
            }
            assertEquals(1, jsm.getStreamInfo("S").getStreamState().getMsgCount(), "what was stored stays");
        }
    }
}
