package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertNoError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.stream.Stream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Consumers of a replicated stream without Ratis: the stream's proposals come straight back as committed entries
 * (a one-replica group), so the consumer entries, their group commit, retention on apply and a leader change's
 * rebuild from the committed state can be checked on one writer.
 */
class ReplicatedConsumersTest extends JetStreamTestBase {
    private final AtomicLong index = new AtomicLong();
    private final List<byte[]> consumerEntries = new CopyOnWriteArrayList<>();

    /** A stream whose every proposal is committed at once; this replica leads. */
    private Stream replicated(String name, String json) {
        createStream(json);
        Stream s = js.streams().get(name);
        js.consumers().replicate(s);
        s.setReplicator(entry -> {
            if (entry[0] == 0x43) {
                consumerEntries.add(entry);
            }
            CompletableFuture<Object> f = new CompletableFuture<>();
            s.applyCommitted(entry, index.incrementAndGet(), true, () -> f.complete(null));
            return f;
        });
        s.setLeading(true);
        return s;
    }

    /** Pulls up to {@code batch} messages with no_wait; their ack subjects. */
    private List<String> pull(String stream, String consumer, int batch) throws InterruptedException {
        LinkedBlockingQueue<String> acks = new LinkedBlockingQueue<>();
        String inbox = "_INBOX.pull." + System.nanoTime();
        var sub = bus.subscribe(inbox, (s, r, h, p) -> acks.add(r == null ? "" : r));
        try {
            bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer, inbox, null,
                    ("{\"batch\":" + batch + ",\"no_wait\":true}").getBytes(StandardCharsets.UTF_8));
            List<String> out = new ArrayList<>();
            while (out.size() < batch) {
                String r = acks.poll(5, TimeUnit.SECONDS);
                assertNotNull(r, "pull answered");
                if (r.isEmpty()) {
                    break;
                }
                out.add(r);
            }
            return out;
        } finally {
            sub.unsubscribe();
        }
    }

    private JsonNode consumerInfo(String stream, String name) {
        JsonNode r = client.api("$JS.API.CONSUMER.INFO." + stream + "." + name, "");
        assertNoError(r);
        return r;
    }

    @Test
    void acksOfOneWriterBatchAreOneEntryAndRemoveWorkQueueMessagesOnApply() throws Exception {
        Stream s = replicated("W", "{\"name\":\"W\",\"subjects\":[\"w.>\"],\"retention\":\"workqueue\"}");
        assertNoError(client.api("$JS.API.CONSUMER.DURABLE.CREATE.W.x",
                "{\"stream_name\":\"W\",\"config\":{\"durable_name\":\"x\",\"ack_policy\":\"explicit\"}}"));
        int n = 50;
        for (int i = 0; i < n; i++) {
            assertEquals(i + 1, client.publish("w.a", null, "m" + i).get("seq").asLong());
        }
        List<String> acks = pull("W", "x", n);
        assertEquals(n, acks.size());

        // hold the writer so that all the acks arrive while it is busy: they run in one batch
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch hold = new CountDownLatch(1);
        assertTrue(s.execute(b -> {
            entered.countDown();
            try {
                hold.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        int before = consumerEntries.size();
        LinkedBlockingQueue<String> confirmed = new LinkedBlockingQueue<>();
        var sub = bus.subscribe("_INBOX.acks", (subj, r, h, p) -> confirmed.add(subj));
        for (String ack : acks) {
            bus.clientPublish(ack, "_INBOX.acks", null, "+ACK".getBytes(StandardCharsets.UTF_8));
        }
        hold.countDown();
        for (int i = 0; i < n; i++) {
            assertNotNull(confirmed.poll(10, TimeUnit.SECONDS), "ack " + i + " confirmed after its commit");
        }
        sub.unsubscribe();
        int entries = consumerEntries.size() - before;
        assertTrue(entries >= 1 && entries <= 2, n + " acks took " + entries + " consumer entries");
        // removed when the entry carrying the acks was applied
        assertEquals(0, info("W").get("state").get("messages").asLong());
        JsonNode ci = consumerInfo("W", "x");
        assertEquals(n, ci.get("ack_floor").get("stream_seq").asLong());
        assertEquals(0, ci.get("num_ack_pending").asLong());
    }

    @Test
    void newLeaderContinuesFromTheCommittedState() throws Exception {
        Stream s = replicated("O", "{\"name\":\"O\",\"subjects\":[\"o.>\"]}");
        assertNoError(client.api("$JS.API.CONSUMER.DURABLE.CREATE.O.d", "{\"stream_name\":\"O\",\"config\":"
                + "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\",\"ack_wait\":60000000000}}"));
        for (int i = 1; i <= 10; i++) {
            client.publish("o.a", null, "m" + i);
        }
        List<String> acks = pull("O", "d", 10);
        assertEquals(10, acks.size());
        for (int i = 0; i < 10; i += 2) {
            assertNotNull(client.request(acks.get(i), "+ACK"), "ack confirmed"); // seqs 1, 3, 5, 7, 9
        }

        s.setLeading(false);
        // no leader here any more: the consumer is gone from this replica's live set
        JsonNode gone = client.api("$JS.API.CONSUMER.INFO.O.d", "");
        assertEquals(10014, gone.path("error").path("err_code").asInt(), gone.toString());

        s.setLeading(true);
        JsonNode ci = consumerInfo("O", "d");
        assertEquals(10, ci.get("delivered").get("stream_seq").asLong(), ci.toString());
        assertEquals(10, ci.get("delivered").get("consumer_seq").asLong(), ci.toString());
        assertEquals(5, ci.get("num_ack_pending").asLong(), ci.toString());
        assertEquals(1, ci.get("ack_floor").get("stream_seq").asLong(), ci.toString());
        assertEquals(0, ci.get("num_pending").asLong(), ci.toString());
    }

    @Test
    void aResetIsAnsweredAndDeliversOnlyOnceItsEntryCommits() throws Exception {
        createStream("{\"name\":\"R\",\"subjects\":[\"r.>\"]}");
        Stream s = js.streams().get("R");
        js.consumers().replicate(s);
        // consumer entries wait while the gate is closed, until the test commits them
        java.util.concurrent.atomic.AtomicBoolean gate = new java.util.concurrent.atomic.AtomicBoolean();
        LinkedBlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
        s.setReplicator(entry -> {
            CompletableFuture<Object> f = new CompletableFuture<>();
            Runnable commit = () -> s.applyCommitted(entry, index.incrementAndGet(), true, () -> f.complete(null));
            if (entry[0] == 0x43 && gate.get()) {
                held.add(commit);
            } else {
                commit.run();
            }
            return f;
        });
        s.setLeading(true);
        for (int i = 1; i <= 5; i++) {
            client.publish("r.a", null, "m" + i);
        }
        // deliveries and the reset's answer, in the order they arrive
        LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
        var deliveries = bus.subscribe("d.r", (subj, r, h, p) -> events.add("msg " + r.split("\\.")[5]));
        var answers = bus.subscribe("_INBOX.reset", (subj, r, h, p) -> events.add("reply " + resetSeq(p)));
        assertNoError(client.api("$JS.API.CONSUMER.DURABLE.CREATE.R.p", "{\"stream_name\":\"R\",\"config\":"
                + "{\"durable_name\":\"p\",\"ack_policy\":\"none\",\"deliver_subject\":\"d.r\"}}"));
        for (int i = 1; i <= 5; i++) {
            assertEquals("msg " + i, events.poll(10, TimeUnit.SECONDS));
        }

        gate.set(true);
        bus.clientPublish("$JS.API.CONSUMER.RESET.R.p", "_INBOX.reset", null,
                "{\"seq\":2}".getBytes(StandardCharsets.UTF_8));
        Runnable commitReset = held.poll(10, TimeUnit.SECONDS);
        assertNotNull(commitReset, "the reset proposed");
        // proposed at the end of the writer batch that reset, after its sends: nothing answered or delivered yet
        assertEquals(List.of(), List.copyOf(events));
        // a new message does not get past the hold either
        assertEquals(6, client.publish("r.a", null, "m6").get("seq").asLong());
        assertEquals(List.of(), List.copyOf(events));

        commitReset.run();
        List<String> after = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String e = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "after the commit: " + after);
            after.add(e);
        }
        assertEquals(List.of("reply 2", "msg 2", "msg 3", "msg 4", "msg 5", "msg 6"), after);
        deliveries.unsubscribe();
        answers.unsubscribe();
    }

    private static String resetSeq(byte[] answer) {
        try {
            JsonNode n = JsJson.MAPPER.readTree(answer);
            return n.has("error") ? n.toString() : String.valueOf(n.path("reset_seq").asLong());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void snapshotCarriesTheCommittedConsumers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        Stream s = replicated("S", "{\"name\":\"S\",\"subjects\":[\"s.>\"]}");
        assertNoError(client.api("$JS.API.CONSUMER.DURABLE.CREATE.S.d", "{\"stream_name\":\"S\",\"config\":"
                + "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\",\"ack_wait\":60000000000}}"));
        for (int i = 1; i <= 10; i++) {
            client.publish("s.a", null, "m" + i);
        }
        List<String> acks = pull("S", "d", 10);
        for (int i = 0; i < 5; i++) {
            assertNotNull(client.request(acks.get(i), "+ACK"), "ack confirmed"); // seqs 1..5
        }
        java.nio.file.Path file = tmp.resolve("snap");
        long at = s.snapshotCommitted(file).get(10, TimeUnit.SECONDS);
        assertTrue(at > 0);
        for (int i = 5; i < 8; i++) {
            assertNotNull(client.request(acks.get(i), "+ACK"), "ack confirmed"); // seqs 6..8, after the snapshot
        }
        // installing the snapshot puts the committed consumers back where it was taken (the log would follow)
        s.installCommitted(file).get(10, TimeUnit.SECONDS);
        s.setLeading(false);
        s.setLeading(true);
        JsonNode ci = consumerInfo("S", "d");
        assertEquals(5, ci.get("num_ack_pending").asLong(), ci.toString());
        assertEquals(5, ci.get("ack_floor").get("stream_seq").asLong(), ci.toString());
        assertEquals(10, ci.get("delivered").get("stream_seq").asLong(), ci.toString());
    }
}
