package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch and multi-last direct get (nats-server 2.11, ADR-31; {@code no_hdr} from 2.12): the messages with
 * {@code Nats-Num-Pending}/{@code Nats-Last-Sequence}, the {@code 204 EOB} with its headers ({@code Nats-UpTo-Sequence}
 * for multi-last), {@code max_bytes}, {@code start_time}, paging, the 404/408/413 statuses. Raw requests: jnats
 * 2.26.2 has no batch get, and nats.js switches its {@code getBatch} on only for servers claiming 2.11.
 */
class DirectGetBatchIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    /** One reply message, summarised: its status, or subject/sequence/pending/last, and the payload. */
    private record Got(Message msg) {
        String status() {
            return msg.isStatusMessage() ? msg.getStatus().getCode() + " " + msg.getStatus().getMessage() : null;
        }

        String header(String name) {
            return msg.getHeaders() == null ? null : msg.getHeaders().getFirst(name);
        }

        long seq() {
            return Long.parseLong(header("Nats-Sequence"));
        }

        String data() {
            return new String(msg.getData(), StandardCharsets.UTF_8);
        }
    }

    /** Sends a direct get and reads replies until a status ends them (204 EOB, or an error). */
    private static List<Got> get(Connection nc, String subject, String body) throws Exception {
        String inbox = nc.createInbox();
        Subscription sub = nc.subscribe(inbox);
        nc.publish(subject, inbox, body.getBytes(StandardCharsets.UTF_8));
        List<Got> out = new ArrayList<>();
        while (true) {
            Message m = sub.nextMessage(Duration.ofSeconds(5));
            assertNotNull(m, "reply ended without a status after " + out.size() + " messages");
            out.add(new Got(m));
            if (m.isStatusMessage()) {
                sub.unsubscribe();
                return out;
            }
        }
    }

    /** A single reply (single gets send no EOB). */
    private static Got one(Connection nc, String subject, String body) throws Exception {
        Message m = nc.request(subject, body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5));
        assertNotNull(m);
        return new Got(m);
    }

    private static List<Long> seqs(List<Got> got) {
        List<Long> out = new ArrayList<>();
        for (Got g : got.subList(0, got.size() - 1)) {
            out.add(g.seq());
        }
        return out;
    }

    private static void eob(Got last, long pending, long lastSeq) {
        assertEquals("204 EOB", last.status());
        assertEquals(Long.toString(pending), last.header("Nats-Num-Pending"));
        assertEquals(Long.toString(lastSeq), last.header("Nats-Last-Sequence"));
    }

    /** t.a a1 (1), t.b b1 (2), t.a a2 (3), t.c c1 (4, deleted), t.b b2 (5). */
    private static void setUp(Connection nc) throws Exception {
        JetStreamManagement jsm = nc.jetStreamManagement();
        jsm.addStream(StreamConfiguration.builder().name("T").subjects("t.>").storageType(StorageType.File)
                .allowDirect(true).build());
        JetStream js = nc.jetStream();
        js.publish("t.a", "a1".getBytes(StandardCharsets.UTF_8));
        js.publish("t.b", "b1".getBytes(StandardCharsets.UTF_8));
        Headers h = new Headers().add("X-Custom", "yes");
        js.publish(NatsMessage.builder().subject("t.a").headers(h).data("a2".getBytes(StandardCharsets.UTF_8)).build());
        js.publish("t.c", "c1".getBytes(StandardCharsets.UTF_8));
        js.publish("t.b", "b2".getBytes(StandardCharsets.UTF_8));
        jsm.deleteMessage("T", 4);
    }

    @Test
    void batchFromASequence() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc);
            List<Got> got = get(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":1,\"batch\":3}");
            assertEquals(4, got.size());
            assertEquals(List.of(1L, 2L, 3L), seqs(got));
            // left after each: 1 2 3 5 match from the start
            assertEquals(List.of("3", "2", "1"), got.subList(0, 3).stream().map(g -> g.header("Nats-Num-Pending")).toList());
            assertEquals(List.of("0", "1", "2"),
                    got.subList(0, 3).stream().map(g -> g.header("Nats-Last-Sequence")).toList());
            assertEquals("T", got.get(0).header("Nats-Stream"));
            assertEquals("t.a", got.get(0).header("Nats-Subject"));
            assertEquals("yes", got.get(2).header("X-Custom")); // stored headers come first
            assertEquals("a2", got.get(2).data());
            eob(got.get(3), 1, 3);

            // deleted messages are skipped; the end of the data ends the batch
            List<Got> rest = get(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":2,\"batch\":10}");
            assertEquals(List.of(2L, 3L, 5L), seqs(rest));
            eob(rest.get(3), 0, 5);

            // a subject filter (from the start when seq is left out)
            List<Got> a = get(nc, "$JS.API.DIRECT.GET.T", "{\"next_by_subj\":\"t.a\",\"batch\":5}");
            assertEquals(List.of(1L, 3L), seqs(a));
            eob(a.get(2), 0, 3);

            // max_bytes: at least one message, then the budget ends it
            List<Got> small = get(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":1,\"batch\":10,\"max_bytes\":1}");
            assertEquals(List.of(1L), seqs(small));
            eob(small.get(1), 3, 1);

            // start_time: from the third message's time on
            String third = one(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":3}").header("Nats-Time-Stamp");
            List<Got> byTime = get(nc, "$JS.API.DIRECT.GET.T", "{\"start_time\":\"" + third + "\",\"batch\":5}");
            assertEquals(List.of(3L, 5L), seqs(byTime));

            // nothing at all: 404 and no EOB
            List<Got> none = get(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":99,\"batch\":2}");
            assertEquals(1, none.size());
            assertEquals("404 Message Not Found", none.get(0).status());

            // a single get sends no pending count and no EOB
            Got single = one(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":1}");
            assertNull(single.header("Nats-Num-Pending"));
            assertEquals("a1", single.data());
        }
    }

    @Test
    void noHeaders() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc);
            Got single = one(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":3,\"no_hdr\":true}");
            assertFalse(single.msg().hasHeaders());
            assertEquals("a2", single.data());
            List<Got> batch = get(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":2,\"batch\":2,\"no_hdr\":true}");
            assertEquals(3, batch.size());
            assertFalse(batch.get(0).msg().hasHeaders());
            assertEquals("b1", batch.get(0).data());
            assertEquals("a2", batch.get(1).data());
            eob(batch.get(2), 1, 3);
            // the subject form takes a body with no_hdr alone
            Got last = one(nc, "$JS.API.DIRECT.GET.T.t.a", "{\"no_hdr\":true}");
            assertFalse(last.msg().hasHeaders());
            assertEquals("a2", last.data());
            assertEquals("408 Bad Request", one(nc, "$JS.API.DIRECT.GET.T.t.a", "{\"seq\":1}").status());
            // STREAM.MSG.GET leaves hdrs out
            JsonNode msg = JSON.readTree(nc.request("$JS.API.STREAM.MSG.GET.T",
                    "{\"seq\":3,\"no_hdr\":true}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertFalse(msg.path("message").has("hdrs"));
            JsonNode withHdrs = JSON.readTree(nc.request("$JS.API.STREAM.MSG.GET.T",
                    "{\"seq\":3}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertTrue(withHdrs.path("message").has("hdrs"));
        }
    }

    @Test
    void multiLast() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc);
            List<Got> two = get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"t.a\",\"t.b\"]}");
            assertEquals(List.of(3L, 5L), seqs(two));
            assertEquals("1", two.get(0).header("Nats-Num-Pending"));
            assertEquals("0", two.get(1).header("Nats-Num-Pending"));
            eob(two.get(2), 0, 5);
            assertEquals("5", two.get(2).header("Nats-UpTo-Sequence"));

            // a ceiling: the last of each subject at or below it, ascending
            List<Got> upTo = get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"t.*\"],\"up_to_seq\":3}");
            assertEquals(List.of(2L, 3L), seqs(upTo));
            assertEquals("3", upTo.get(2).header("Nats-UpTo-Sequence"));
            String fourth = one(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":5}").header("Nats-Time-Stamp");
            List<Got> byTime = get(nc, "$JS.API.DIRECT.GET.T",
                    "{\"multi_last\":[\"t.>\"],\"up_to_time\":\"" + fourth + "\"}");
            assertEquals(List.of(2L, 3L), seqs(byTime));
            String first = one(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":1}").header("Nats-Time-Stamp");
            assertEquals("404 No Results", get(nc, "$JS.API.DIRECT.GET.T",
                    "{\"multi_last\":[\"t.>\"],\"up_to_time\":\"" + first + "\"}").get(0).status());

            // paging: batch 1, then from Last-Sequence+1 with the same ceiling
            List<Got> page1 = get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"t.>\"],\"batch\":1}");
            assertEquals(List.of(3L), seqs(page1));
            eob(page1.get(1), 1, 3);
            String ceiling = page1.get(1).header("Nats-UpTo-Sequence");
            List<Got> page2 = get(nc, "$JS.API.DIRECT.GET.T",
                    "{\"multi_last\":[\"t.>\"],\"batch\":1,\"seq\":4,\"up_to_seq\":" + ceiling + "}");
            assertEquals(List.of(5L), seqs(page2));
            eob(page2.get(1), 0, 5);

            assertEquals("404 No Results",
                    get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"x.>\"]}").get(0).status());

            // a deep history (looked up per subject rather than scanned): the ceiling falls inside it
            JetStream js = nc.jetStream();
            long tenth = 0;
            for (int i = 1; i <= 20; i++) {
                long seq = js.publish("t.deep", ("d" + i).getBytes(StandardCharsets.UTF_8)).getSeqno();
                tenth = i == 10 ? seq : tenth;
            }
            List<Got> deep = get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"t.deep\"],\"up_to_seq\":" + tenth + "}");
            assertEquals(List.of(tenth), seqs(deep));
            assertEquals("d10", deep.get(0).data());
            List<Got> all = get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"t.deep\",\"t.a\"]}");
            assertEquals(List.of(3L, tenth + 10), seqs(all));
        }
    }

    @Test
    void tooManyResultsAndBadRequests() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            setUp(nc);
            JetStream js = nc.jetStream();
            List<CompletableFuture<?>> acks = new ArrayList<>();
            for (int i = 0; i < 1025; i++) {
                acks.add(js.publishAsync("t.many." + i, new byte[0]));
            }
            long seq1024 = 0;
            for (int i = 0; i < acks.size(); i++) {
                long seq = ((io.nats.client.api.PublishAck) acks.get(i).get()).getSeqno();
                seq1024 = i == 1023 ? seq : seq1024;
            }
            assertEquals("413 Too Many Results",
                    get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"t.many.*\"]}").get(0).status());
            assertEquals(1025, get(nc, "$JS.API.DIRECT.GET.T", "{\"seq\":6,\"batch\":2000}").size() - 1);
            // below a ceiling only the subjects with a message at or under it count: 1024 fit in one reply
            assertEquals(1024, get(nc, "$JS.API.DIRECT.GET.T",
                    "{\"multi_last\":[\"t.many.*\"],\"up_to_seq\":" + seq1024 + "}").size() - 1);
            // a deep history (each subject looked up rather than the stream scanned) is refused the same way
            acks.clear();
            for (int round = 0; round < 9; round++) {
                for (int i = 0; i < 1025; i++) {
                    acks.add(js.publishAsync("t.many." + i, new byte[0]));
                }
            }
            for (CompletableFuture<?> f : acks) {
                f.get();
            }
            assertEquals("413 Too Many Results",
                    get(nc, "$JS.API.DIRECT.GET.T", "{\"multi_last\":[\"t.many.*\"]}").get(0).status());
            assertEquals(1024, get(nc, "$JS.API.DIRECT.GET.T",
                    "{\"multi_last\":[\"t.many.*\"],\"up_to_seq\":" + seq1024 + "}").size() - 1);

            String t = "$JS.API.DIRECT.GET.T";
            assertEquals("408 Empty Request", get(nc, t, "{\"batch\":5}").get(0).status());
            assertEquals("408 Bad Request", get(nc, t, "{\"last_by_subj\":\"t.a\",\"batch\":2}").get(0).status());
            assertEquals("408 Bad Request", get(nc, t, "{\"last_by_subj\":\"t.a\",\"multi_last\":[\"t.a\"]}")
                    .get(0).status());
            assertEquals("408 Bad Request", get(nc, t, "{\"next_by_subj\":\"t.a\",\"multi_last\":[\"t.a\"]}")
                    .get(0).status());
            assertEquals("408 Bad Request", get(nc, t,
                    "{\"multi_last\":[\"t.a\"],\"up_to_seq\":2,\"up_to_time\":\"2026-01-01T00:00:00Z\"}")
                    .get(0).status());
            assertEquals("408 Bad Request", get(nc, t, "{\"seq\":1,\"start_time\":\"2026-01-01T00:00:00Z\",\"batch\":2}")
                    .get(0).status());
            assertEquals("408 Malformed Request", get(nc, t, "{\"multi_last\":5}").get(0).status());
            assertEquals("408 Malformed Request", get(nc, t, "{\"seq\":1,\"batch\":\"x\"}").get(0).status());
            // STREAM.MSG.GET refuses the batch fields
            JsonNode refused = JSON.readTree(nc.request("$JS.API.STREAM.MSG.GET.T",
                    "{\"seq\":1,\"batch\":2}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5)).getData());
            assertEquals(10003, refused.path("error").path("err_code").asInt());
        }
    }
}
