package io.jetkv.jetstream.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.jetstream.FakeBus;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.MemoryStreamStore;
import io.jetkv.jetstream.store.StoredMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The replicated commit path of a stream, without Ratis: the leader's writer proposes its batch instead of
 * storing it, and every replica stores the committed batch identically; only the proposer acks.
 */
class ReplicatedApplyTest {

    private static final class ManualExecutor implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        void runAll() {
            Runnable r;
            while ((r = tasks.poll()) != null) {
                r.run();
            }
        }
    }

    private static final String KV = "{\"name\":\"KV_b\",\"subjects\":[\"$KV.b.>\"],\"max_msgs_per_subject\":1,"
            + "\"allow_rollup_hdrs\":true,\"num_replicas\":3}";

    private static StreamConfig config() {
        return StreamConfig.fromJson(JsJson.parseObject(KV.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void leaderProposesAndEveryReplicaStoresTheSameBatch() {
        FakeBus leaderBus = new FakeBus();
        FakeBus followerBus = new FakeBus();
        ManualExecutor lw = new ManualExecutor();
        ManualExecutor fw = new ManualExecutor();
        MemoryStreamStore leaderStore = new MemoryStreamStore();
        MemoryStreamStore followerStore = new MemoryStreamStore();
        Stream leader = new Stream(config(), 1, leaderStore, lw, 16, new Stream.Context(leaderBus, false, null));
        Stream follower = new Stream(config(), 1, followerStore, fw, 16, new Stream.Context(followerBus, false, null));
        List<byte[]> proposed = new ArrayList<>();
        leader.setReplicator(entry -> {
            proposed.add(entry);
            return new CompletableFuture<>(); // committed later, by the test
        });
        follower.setReplicator(entry -> CompletableFuture.failedFuture(new IllegalStateException("not leader")));

        // three publishes in one writer batch, one of them a CAS that must fail on every replica
        leader.offerPublish("$KV.b.k", "r1", null, bytes("v1"));
        leader.offerPublish("$KV.b.k", "r2", bytes("NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 0\r\n\r\n"),
                bytes("v2"));
        leader.offerPublish("$KV.b.j", "r3", null, bytes("w"));
        lw.runAll();
        assertEquals(1, proposed.size(), "one proposal for the whole batch");
        assertEquals(0, leaderStore.state().lastSeq(), "nothing stored before commit");
        assertTrue(leaderBus.published().isEmpty(), "no ack before commit");

        AtomicInteger applied = new AtomicInteger();
        leader.applyCommitted(proposed.get(0), 7, true, applied::incrementAndGet);
        follower.applyCommitted(proposed.get(0), 7, false, applied::incrementAndGet);
        lw.runAll();
        fw.runAll();
        assertEquals(2, applied.get());
        assertEquals(2, leaderStore.state().lastSeq());
        for (long seq = 1; seq <= 2; seq++) {
            StoredMessage a = leaderStore.load(seq);
            StoredMessage b = followerStore.load(seq);
            assertEquals(a.subject(), b.subject());
            assertArrayEquals(a.payload(), b.payload());
            assertEquals(a.timestamp(), b.timestamp(), "the leader's timestamp on every replica");
        }
        // the proposer acks (two stored, one wrong-last-sequence error), the follower stays silent
        List<String> acks = new ArrayList<>();
        leaderBus.published().forEach(p -> acks.add(p.subject() + " " + new String(p.payload(), StandardCharsets.UTF_8)));
        assertEquals(3, acks.size(), acks.toString());
        assertTrue(acks.get(0).startsWith("r1 ") && acks.get(0).contains("\"seq\":1"), acks.toString());
        assertTrue(acks.stream().anyMatch(a -> a.startsWith("r2 ") && a.contains("10071")), acks.toString());
        assertTrue(followerBus.published().isEmpty());

        // a log replayed after a restart: entries at or below the stored index are skipped
        follower.applyCommitted(proposed.get(0), 7, false, applied::incrementAndGet);
        fw.runAll();
        assertEquals(3, applied.get());
        assertEquals(2, followerStore.state().lastSeq());
        assertEquals(2, followerStore.state().msgs());
    }

    @Test
    void failedProposalAnswersEachPublisher() {
        FakeBus bus = new FakeBus();
        ManualExecutor w = new ManualExecutor();
        Stream s = new Stream(config(), 1, new MemoryStreamStore(), w, 16, new Stream.Context(bus, false, null));
        s.setReplicator(entry -> CompletableFuture.failedFuture(new IllegalStateException("no quorum")));
        s.offerPublish("$KV.b.k", "r1", null, bytes("v"));
        s.offerPublish("$KV.b.k", "r2", null, bytes("v"));
        w.runAll();
        assertEquals(2, bus.published().size());
        for (FakeBus.Published p : bus.published()) {
            assertTrue(new String(p.payload(), StandardCharsets.UTF_8).contains("10008"));
        }
    }
}
