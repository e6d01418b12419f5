package io.jetkv.jetstream.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.jetstream.FakeBus;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.MemoryStreamStore;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
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

    /** A leader and a follower of one replicated stream, their proposals collected for the test to commit. */
    private static final class Pair {
        final FakeBus leaderBus = new FakeBus();
        final FakeBus followerBus = new FakeBus();
        final ManualExecutor lw = new ManualExecutor();
        final ManualExecutor fw = new ManualExecutor();
        final MemoryStreamStore leaderStore = new MemoryStreamStore();
        final MemoryStreamStore followerStore = new MemoryStreamStore();
        final Stream leader;
        final Stream follower;
        final List<byte[]> proposed = new ArrayList<>();
        long index;

        Pair(String json) {
            StreamConfig cfg = StreamConfig.fromJson(JsJson.parseObject(bytes(json)));
            leader = new Stream(cfg, 1, leaderStore, lw, 16, new Stream.Context(leaderBus, false, null));
            follower = new Stream(cfg, 1, followerStore, fw, 16, new Stream.Context(followerBus, false, null));
            leader.setReplicator(entry -> {
                proposed.add(entry);
                return new CompletableFuture<>();
            });
            follower.setReplicator(new Replicator() {
                @Override
                public java.util.concurrent.CompletionStage<?> propose(byte[] entry) {
                    return CompletableFuture.failedFuture(new IllegalStateException("not leader"));
                }

                @Override
                public boolean leads() {
                    return false;
                }
            });
        }

        /** Commits everything proposed so far, on both replicas, in order. */
        void commitAll() {
            lw.runAll();
            List<byte[]> entries = new ArrayList<>(proposed);
            proposed.clear();
            for (byte[] e : entries) {
                index++;
                leader.applyCommitted(e, index, true, () -> {});
                follower.applyCommitted(e, index, false, () -> {});
            }
            lw.runAll();
            fw.runAll();
        }

        List<String> replies() {
            List<String> out = new ArrayList<>();
            leaderBus.published().forEach(p -> out.add(p.subject() + " " + new String(p.payload(), StandardCharsets.UTF_8)));
            return out;
        }

        void assertSameStores() {
            assertEquals(leaderStore.state(), followerStore.state());
            for (long seq = 1; seq <= leaderStore.state().lastSeq(); seq++) {
                StoredMessage a = leaderStore.load(seq);
                StoredMessage b = followerStore.load(seq);
                assertEquals(a == null, b == null, "seq " + seq);
                if (a != null) {
                    assertEquals(a.subject(), b.subject());
                    assertArrayEquals(a.headers(), b.headers(), "headers of seq " + seq);
                    assertArrayEquals(a.payload(), b.payload());
                    assertEquals(a.timestamp(), b.timestamp(), "timestamp of seq " + seq);
                }
            }
        }
    }

    /** Records what an op answered. */
    private static final class Answer implements Stream.OpReply {
        final List<String> got = new ArrayList<>();

        @Override
        public void applied(Stream.Batch batch, com.fasterxml.jackson.databind.node.ObjectNode body,
                io.jetkv.jetstream.api.JsApiException error) {
            got.add(error != null ? "error " + error.getMessage() : new String(JsJson.bytes(body), StandardCharsets.UTF_8));
        }

        @Override
        public void failed(io.jetkv.jetstream.api.JsApiException error) {
            got.add("failed " + error.getMessage());
        }
    }

    @Test
    void purgeAndDeleteAreProposedAndAppliedOnEveryReplica() {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"s.>\"],\"storage\":\"file\",\"num_replicas\":3}");
        for (int i = 1; i <= 6; i++) {
            p.leader.offerPublish(i % 2 == 0 ? "s.even" : "s.odd", null, null, bytes("m" + i));
        }
        p.commitAll();
        Answer purge = new Answer();
        Answer delete = new Answer();
        Answer missing = new Answer();
        assertTrue(p.leader.perform(new StreamOp.Purge("s.odd", 0, 0), purge));
        assertTrue(p.leader.perform(new StreamOp.Delete(4, true), delete));
        assertTrue(p.leader.perform(new StreamOp.Delete(99, true), missing));
        p.lw.runAll();
        assertEquals(3, p.proposed.size(), "each op is its own entry");
        assertEquals(6, p.leaderStore.state().msgs(), "nothing applied before commit");
        assertTrue(purge.got.isEmpty());
        p.commitAll();
        assertEquals(List.of("{\"success\":true,\"purged\":3}"), purge.got);
        assertEquals(List.of("{\"success\":true}"), delete.got);
        assertEquals(1, missing.got.size());
        assertTrue(missing.got.get(0).contains("stream store EOF"), missing.got.toString());
        assertEquals(2, p.followerStore.state().msgs());
        p.assertSameStores();
    }

    @Test
    void snapshotCarriesTheSourcePositions(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Pair p = new Pair("{\"name\":\"C\",\"num_replicas\":3,\"sources\":[{\"name\":\"O\"}]}");
        String key = p.leader.config().sourceList().get(0).positionKey(false);
        p.leader.proposeCopy(key, 1, 8, 1, List.of(new StoredMessage(7, "o.7", null, bytes("a"), 10)), new Answer());
        p.commitAll();
        java.nio.file.Path file = dir.resolve("snap");
        CompletableFuture<Long> written = p.leader.snapshotCommitted(file);
        p.lw.runAll();
        written.get();
        ManualExecutor nw = new ManualExecutor();
        MemoryStreamStore fresh = new MemoryStreamStore();
        Stream joined = new Stream(p.leader.config(), 1, fresh, nw, 16, new Stream.Context(new FakeBus(), false, null));
        CompletableFuture<Long> installed = joined.installCommitted(file);
        nw.runAll();
        installed.get();
        assertEquals(8, ReplicatedBatch.readLong(fresh.getAux(key)), "copies go on after origin sequence 7");
    }

    @Test
    void copiesOfASourceAreStoredOnceWhicheverLeaderProposedThemAndNeverWithAGap() {
        Pair p = new Pair("{\"name\":\"C\",\"num_replicas\":3,\"sources\":[{\"name\":\"O\"}]}");
        String key = p.leader.config().sourceList().get(0).positionKey(false);
        List<StoredMessage> first = List.of(new StoredMessage(1, "o.1", null, bytes("a"), 10),
                new StoredMessage(2, "o.2", null, bytes("b"), 20));
        List<StoredMessage> overlapping = List.of(new StoredMessage(2, "o.2", null, bytes("b"), 20),
                new StoredMessage(3, "o.3", null, bytes("c"), 30));
        // an old leader's copy of 1..2 commits before a new leader's copy of 2..3, proposed from a position it read
        // before the old one's entry was applied; then the old one's entry once more, late
        assertTrue(p.leader.perform(new StreamOp.Copy(key, 1, 3, 1, 100, first), new Answer()));
        assertTrue(p.leader.proposeCopy(key, 2, 4, 1, overlapping, new Answer()));
        assertTrue(p.leader.perform(new StreamOp.Copy(key, 1, 3, 1, 100, first), new Answer()));
        // a copy from a position nobody reached (the copy before it was lost) is refused whole
        Answer gap = new Answer();
        assertTrue(p.leader.proposeCopy(key, 9, 10, 1, List.of(new StoredMessage(9, "o.9", null, bytes("z"), 90)),
                gap));
        p.lw.runAll();
        StreamOp.Copy decoded = (StreamOp.Copy) StreamOp.decode(p.proposed.get(1));
        assertEquals(key, decoded.positionKey());
        assertEquals(2, decoded.from());
        assertTrue(decoded.time() > 100, "stamped with the leader's clock");
        assertEquals(2, decoded.messages().size());
        assertEquals(3, decoded.messages().get(1).seq());
        p.commitAll();
        assertEquals(3, p.followerStore.state().msgs(), "each origin message once, and not the one after a gap");
        assertEquals(4, ReplicatedBatch.readLong(p.followerStore.getAux(key)), "the position never goes back");
        assertEquals(1, gap.got.size());
        assertTrue(gap.got.get(0).startsWith("error") && gap.got.get(0).contains("out of order"), gap.got.toString());
        for (long seq = 1; seq <= 3; seq++) {
            assertEquals("o." + seq, p.followerStore.load(seq).subject());
            assertEquals("O " + seq, HeaderBlock.parse(p.followerStore.load(seq).headers()).get("Nats-Stream-Source"));
        }
        p.assertSameStores();
    }

    @Test
    void atomicBatchIsOneEntryCheckedOnApply() {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"s.>\"],\"num_replicas\":3,\"allow_atomic\":true}");
        p.leader.offerPublish("s.a", "r0", null, bytes("before"));
        p.leader.offerPublish("s.a", "r1", bytes("NATS/1.0\r\nNats-Batch-Id: b\r\nNats-Batch-Sequence: 1\r\n\r\n"),
                bytes("x"));
        p.leader.offerPublish("s.b", "r2", bytes("NATS/1.0\r\nNats-Batch-Id: b\r\nNats-Batch-Sequence: 2\r\n"
                + "Nats-Batch-Commit: 1\r\n\r\n"), bytes("y"));
        p.lw.runAll();
        assertEquals(2, p.proposed.size(), "the publish before, then the batch");
        p.commitAll();
        List<String> replies = p.replies();
        assertTrue(replies.contains("r2 {\"stream\":\"S\",\"seq\":3,\"batch\":\"b\",\"count\":2}"), replies.toString());
        p.assertSameStores();
        assertEquals(3, p.followerStore.state().msgs());

        // a batch failing its check on apply stores nothing anywhere
        p.leader.offerPublish("s.a", "r3", bytes("NATS/1.0\r\nNats-Batch-Id: c\r\nNats-Batch-Sequence: 1\r\n\r\n"),
                bytes("z"));
        p.leader.offerPublish("s.b", "r4", bytes("NATS/1.0\r\nNats-Batch-Id: c\r\nNats-Batch-Sequence: 2\r\n"
                + "Nats-Expected-Last-Subject-Sequence: 1\r\nNats-Batch-Commit: 1\r\n\r\n"), bytes("w"));
        p.commitAll();
        assertTrue(p.replies().stream().anyMatch(r -> r.startsWith("r4 ") && r.contains("10071")), p.replies().toString());
        assertEquals(3, p.followerStore.state().lastSeq());
        p.assertSameStores();
    }

    @Test
    void schedulesFireOnApplyOnceWhateverTheProposals() {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"sched.>\",\"out.>\"],\"num_replicas\":3,"
                + "\"allow_msg_schedules\":true,\"allow_rollup_hdrs\":true}");
        p.leader.offerPublish("sched.x", null, bytes("NATS/1.0\r\nNats-Schedule: @at 2020-01-01T00:00:00Z\r\n"
                + "Nats-Schedule-Target: out.x\r\n\r\n"), bytes("due"));
        p.commitAll();
        assertEquals(1, p.followerStore.state().msgs());
        // the follower's timer fires nothing: only the leader proposes
        long now = Stream.nowNanos();
        p.follower.tick(now + 2_000_000_000L);
        p.fw.runAll();
        assertEquals(1, p.followerStore.state().lastSeq());
        // two proposals to fire (a retry, or a new leader's): the one-shot fires once, on both replicas alike
        p.leader.perform(new StreamOp.Schedules(now), new Answer());
        p.leader.perform(new StreamOp.Schedules(now + 1), new Answer());
        p.commitAll();
        assertEquals(2, p.followerStore.state().lastSeq(), "the produced message, once");
        assertEquals(1, p.followerStore.state().msgs(), "the one-shot's schedule was purged");
        assertEquals("out.x", p.followerStore.load(2).subject());
        p.assertSameStores();
    }

    @Test
    void snapshotCarriesTheScheduleIndex(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"sched.>\",\"out.>\"],\"num_replicas\":3,"
                + "\"allow_msg_schedules\":true,\"allow_rollup_hdrs\":true}");
        p.leader.offerPublish("sched.x", null, bytes("NATS/1.0\r\nNats-Schedule: @every 1m\r\n"
                + "Nats-Schedule-Target: out.x\r\n\r\n"), bytes("tick"));
        p.commitAll();
        long first = p.leaderStore.nextScheduleDeadline();
        // fired once: the index now holds the next minute, which the messages alone do not tell
        p.leader.perform(new StreamOp.Schedules(first + 1), new Answer());
        p.commitAll();
        long next = p.leaderStore.nextScheduleDeadline();
        assertTrue(next > first, first + " then " + next);
        assertEquals(next, p.followerStore.nextScheduleDeadline());

        java.nio.file.Path file = dir.resolve("snap");
        CompletableFuture<Long> written = p.leader.snapshotCommitted(file);
        p.lw.runAll();
        assertEquals(p.index, written.get());
        ManualExecutor nw = new ManualExecutor();
        MemoryStreamStore fresh = new MemoryStreamStore();
        Stream joined = new Stream(p.leader.config(), 1, fresh, nw, 16, new Stream.Context(new FakeBus(), false, null));
        CompletableFuture<Long> installed = joined.installCommitted(file);
        nw.runAll();
        assertEquals(p.index, installed.get());
        assertEquals(p.leaderStore.state(), fresh.state());
        assertEquals(next, fresh.nextScheduleDeadline(), "the snapshot's index, not one derived from the messages");
        // the leader's index is unchanged by taking the snapshot
        assertEquals(next, p.leaderStore.nextScheduleDeadline());
    }

    /** Commits {@code entry} on both replicas of {@code p}, as Ratis would, in log order after what came before. */
    private static void commit(Pair p, byte[] entry) {
        p.index++;
        p.leader.applyCommitted(entry, p.index, true, () -> {});
        p.follower.applyCommitted(entry, p.index, false, () -> {});
        p.lw.runAll();
        p.fw.runAll();
    }

    /** A committed batch of publishes as the leader would have timed it: {subject, headers or null, timestamp}. */
    private static byte[] publishes(Object[]... msgs) {
        return ReplicatedBatch.encode(List.of(msgs), m -> (String) m[0], m -> null,
                m -> m[1] == null ? null : bytes((String) m[1]), m -> bytes("v"), m -> (Long) m[2]);
    }

    @Test
    void expiryIsDecidedByTheLeaderAndWritesTheSameMarkersEverywhere() {
        // a KV bucket with limit markers: max_age 1h, per-message TTLs, markers that live 1 minute
        Pair p = new Pair("{\"name\":\"KV_m\",\"subjects\":[\"$KV.m.>\"],\"num_replicas\":3,\"max_msgs_per_subject\":1,"
                + "\"max_age\":3600000000000,\"allow_msg_ttl\":true,\"subject_delete_marker_ttl\":60000000000,"
                + "\"allow_rollup_hdrs\":true}");
        long now = Stream.nowNanos();
        long hour = 3_600_000_000_000L;
        commit(p, publishes(new Object[] {"$KV.m.old", null, now - 2 * hour},
                new Object[] {"$KV.m.never", "NATS/1.0\r\nNats-TTL: never\r\n\r\n", now - 2 * hour},
                new Object[] {"$KV.m.ttl", "NATS/1.0\r\nNats-TTL: 1m\r\n\r\n", now - 2 * 60_000_000_000L},
                new Object[] {"$KV.m.fresh", null, now - 1_000_000L}));
        assertEquals(4, p.followerStore.state().msgs());

        // the follower's timer removes nothing, writes no marker: it never expires on its own clock
        p.follower.tick(now + 1);
        p.fw.runAll();
        assertEquals(4, p.followerStore.state().lastSeq(), "a follower wrote a marker of its own");
        assertEquals(4, p.followerStore.state().msgs(), "a follower expired on its own clock");
        // the leader's timer stores nothing either: it proposes "expire what is due at t"
        p.leader.tick(now + 1);
        p.lw.runAll();
        assertEquals(4, p.leaderStore.state().lastSeq(), "the leader expired before the group agreed");
        assertEquals(1, p.proposed.size(), "one expiry proposal");
        assertEquals(StreamOp.EXPIRE, p.proposed.get(0)[0]);

        p.commitAll();
        // old and ttl are replaced by markers (seq 5 and 6), never stays, fresh stays
        assertEquals(6, p.followerStore.state().lastSeq());
        assertEquals(4, p.followerStore.state().msgs());
        StoredMessage marker = p.followerStore.load(5);
        assertEquals("$KV.m.old", marker.subject());
        assertTrue(new String(marker.headers(), StandardCharsets.UTF_8).contains("Nats-Marker-Reason: MaxAge"));
        assertEquals("$KV.m.ttl", p.followerStore.load(6).subject());
        p.assertSameStores();

        // a second expiry proposal (a retry, or a new leader's) changes nothing more; the markers' own TTL ends later
        p.leader.perform(new StreamOp.Expire(now + 2, Stream.EXPIRY_CAP), new Answer());
        p.commitAll();
        assertEquals(4, p.followerStore.state().msgs());
        p.leader.perform(new StreamOp.Expire(now + 2 * 60_000_000_000L, Stream.EXPIRY_CAP), new Answer());
        p.commitAll();
        assertEquals(6, p.followerStore.state().lastSeq(), "a marker's expiry writes no marker");
        assertEquals(2, p.followerStore.state().msgs(), "never and fresh stay");
        p.assertSameStores();
    }

    /**
     * An expiry op removes at most its limit on every replica alike; while more is due the leader proposes the next
     * op as soon as one has applied, without waiting for its timer.
     */
    @Test
    void eachExpiryOpRemovesItsLimitAndTheLeaderProposesTheRest() {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"s.>\"],\"num_replicas\":3,\"allow_msg_ttl\":true}");
        long t0 = Stream.nowNanos() - 60_000_000_000L;
        int due = 2 * Stream.EXPIRY_CAP + 5;
        Object[][] msgs = new Object[due][];
        for (int i = 0; i < due; i++) {
            msgs[i] = new Object[] {"s." + i, "NATS/1.0\r\nNats-TTL: 1s\r\n\r\n", t0 + i};
        }
        commit(p, publishes(msgs));
        assertEquals(due, p.followerStore.state().msgs());
        p.leader.tick(Stream.nowNanos());
        p.commitAll();
        assertEquals(due - Stream.EXPIRY_CAP, p.followerStore.state().msgs(), "one op, one limit's worth");
        p.assertSameStores();
        assertEquals(1, p.proposed.size(), "the next expiry is proposed without a timer tick");
        p.commitAll();
        p.commitAll();
        assertEquals(0, p.followerStore.state().msgs());
        assertEquals(0, p.proposed.size(), "nothing left to propose");
        p.assertSameStores();
    }

    @Test
    void aKeyThatExpiresBeforeTheNextPutHasItsMarkerFirst() {
        // the state ReplicatedStreamOpsIT once reported as wrong (msgs=2 first=2 last=4 deleted=1) is the right one
        // when key one expires before key two is put: a marker is stored when its key expires, as on a single server
        // and on nats-server, so the markers do not sit at the sequences after both puts
        Pair p = new Pair("{\"name\":\"KV_exp\",\"subjects\":[\"$KV.exp.>\"],\"num_replicas\":3,"
                + "\"max_msgs_per_subject\":1,\"allow_msg_ttl\":true,\"subject_delete_marker_ttl\":3600000000000,"
                + "\"allow_rollup_hdrs\":true}");
        long t0 = Stream.nowNanos() - 60_000_000_000L;
        long second = 1_000_000_000L;
        commit(p, publishes(new Object[] {"$KV.exp.one", "NATS/1.0\r\nNats-TTL: 1s\r\n\r\n", t0}));
        p.leader.perform(new StreamOp.Expire(t0 + second, Stream.EXPIRY_CAP), new Answer());
        p.commitAll();
        assertEquals("$KV.exp.one", p.followerStore.load(2).subject(), "key one's marker is seq 2");
        commit(p, publishes(new Object[] {"$KV.exp.two", "NATS/1.0\r\nNats-TTL: 2s\r\n\r\n", t0 + 2 * second}));
        p.leader.perform(new StreamOp.Expire(t0 + 4 * second, Stream.EXPIRY_CAP), new Answer());
        p.commitAll();
        StoredMessage marker = p.followerStore.load(4);
        assertEquals("$KV.exp.two", marker.subject(), "key two's marker is seq 4");
        assertTrue(new String(marker.headers(), StandardCharsets.UTF_8).contains("Nats-Marker-Reason: MaxAge"));
        StreamState s = p.followerStore.state();
        assertEquals(List.of(2L, 2L, 4L, 1L), List.of(s.msgs(), s.firstSeq(), s.lastSeq(), s.numDeleted()),
                s.toString());
        assertNull(p.followerStore.load(3), "the rollup of key two's marker took its value");
        p.assertSameStores();
    }

    @Test
    void leadershipChangeAbandonsAnOpenAtomicBatch() {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"s.>\"],\"num_replicas\":3,\"allow_atomic\":true}");
        p.leader.offerPublish("s.a", "r1", bytes("NATS/1.0\r\nNats-Batch-Id: b\r\nNats-Batch-Sequence: 1\r\n\r\n"),
                bytes("x"));
        p.lw.runAll();
        assertEquals(List.of("r1 "), p.replies(), "staged");
        // leadership moves away and back before the commit arrives: what was staged is gone
        p.leader.setLeading(false);
        p.leader.setLeading(true);
        p.leader.offerPublish("s.b", "r2", bytes("NATS/1.0\r\nNats-Batch-Id: b\r\nNats-Batch-Sequence: 2\r\n"
                + "Nats-Batch-Commit: 1\r\n\r\n"), bytes("y"));
        p.lw.runAll();
        assertTrue(p.proposed.isEmpty(), "nothing of the batch was proposed");
        assertEquals(2, p.replies().size(), p.replies().toString());
        assertTrue(p.replies().get(1).startsWith("r2 ") && p.replies().get(1).contains("10176"), p.replies().toString());
        // a new batch under the same id starts afresh
        p.leader.offerPublish("s.a", "r3", bytes("NATS/1.0\r\nNats-Batch-Id: b\r\nNats-Batch-Sequence: 1\r\n"
                + "Nats-Batch-Commit: 1\r\n\r\n"), bytes("z"));
        p.commitAll();
        assertTrue(p.replies().contains("r3 {\"stream\":\"S\",\"seq\":1,\"batch\":\"b\",\"count\":1}"), p.replies().toString());
        p.assertSameStores();
    }

    @Test
    void fastBatchMessagesAreProposedAndRunOnEveryReplica() {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"s.>\"],\"num_replicas\":3,\"allow_batched\":true}");
        String r = "_INBOX.c.b1.2.fail.";
        p.leader.offerPublish("s.a", r + "1.0.$FI", null, bytes("m1"));
        p.leader.offerPublish("s.a", r + "2.1.$FI", null, bytes("m2"));
        p.lw.runAll();
        assertEquals(1, p.proposed.size(), "proposed as publishes");
        assertTrue(p.replies().isEmpty(), "no flow ack before the commit");
        p.commitAll();
        assertEquals(List.of(r + "1.0.$FI {\"type\":\"ack\",\"seq\":1,\"msgs\":2}",
                r + "2.1.$FI {\"type\":\"ack\",\"seq\":2,\"msgs\":2}"), p.replies());
        // a gap (seq 4 after 2) in fail mode ends the batch at seq 2, on every replica alike
        p.leader.offerPublish("s.a", r + "4.1.$FI", null, bytes("m4"));
        p.commitAll();
        assertTrue(p.replies().contains(r + "4.1.$FI {\"type\":\"gap\",\"last_seq\":3,\"seq\":4}"), p.replies().toString());
        assertTrue(p.replies().contains(r + "4.1.$FI {\"stream\":\"S\",\"seq\":2,\"batch\":\"b1\",\"count\":2}"),
                p.replies().toString());
        // the batch is over on the follower too: a later message of it is an unknown batch there as well
        p.leader.offerPublish("s.a", r + "5.2.$FI", null, bytes("m5"));
        p.commitAll();
        assertTrue(p.replies().get(p.replies().size() - 1).contains("10208"), p.replies().toString());
        assertEquals(2, p.followerStore.state().msgs());
        assertTrue(p.followerBus.published().isEmpty(), "only the proposer answers");
        p.assertSameStores();

        // idle batches end when the leader's expiry op says so, at its time, on every replica
        String r2 = "_INBOX.c.b2.10.ok.";
        p.leader.offerPublish("s.b", r2 + "1.0.$FI", null, bytes("n1"));
        p.commitAll();
        p.leader.perform(new StreamOp.Expire(Stream.nowNanos() + 11_000_000_000L, Stream.EXPIRY_CAP), new Answer());
        p.commitAll();
        p.leader.offerPublish("s.b", r2 + "2.2.$FI", null, bytes("n2"));
        p.commitAll();
        assertTrue(p.replies().get(p.replies().size() - 1).contains("10208"), p.replies().toString());
        assertEquals(3, p.followerStore.state().msgs());
        p.assertSameStores();
    }

    @Test
    void aSnapshotCarriesTheOpenFastBatches(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"s.>\"],\"num_replicas\":3,\"allow_batched\":true}");
        String r = "_INBOX.c.b1.10.fail.";
        p.leader.offerPublish("s.a", r + "1.0.$FI", null, bytes("m1"));
        p.commitAll();
        java.nio.file.Path file = dir.resolve("snap");
        CompletableFuture<Long> written = p.leader.snapshotCommitted(file);
        p.lw.runAll();
        assertEquals(p.index, written.get());
        // a new replica installs the snapshot taken while batch b1 is open, then applies the log after it
        ManualExecutor nw = new ManualExecutor();
        MemoryStreamStore fresh = new MemoryStreamStore();
        Stream joined = new Stream(p.leader.config(), 1, fresh, nw, 16, new Stream.Context(new FakeBus(), false, null));
        joined.setReplicator(entry -> CompletableFuture.failedFuture(new IllegalStateException("not leader")));
        CompletableFuture<Long> installed = joined.installCommitted(file);
        nw.runAll();
        assertEquals(p.index, installed.get());
        p.leader.offerPublish("s.a", r + "2.2.$FI", null, bytes("m2"));
        p.lw.runAll();
        byte[] commit = p.proposed.remove(0);
        p.index++;
        p.leader.applyCommitted(commit, p.index, true, () -> {});
        p.follower.applyCommitted(commit, p.index, false, () -> {});
        joined.applyCommitted(commit, p.index, false, () -> {});
        p.lw.runAll();
        p.fw.runAll();
        nw.runAll();
        assertTrue(p.replies().contains(r + "2.2.$FI {\"stream\":\"S\",\"seq\":2,\"batch\":\"b1\",\"count\":2}"),
                p.replies().toString());
        assertEquals(p.leaderStore.state(), fresh.state(), "the installed replica refused the batch's commit");
        assertEquals(p.leaderStore.load(2).subject(), fresh.load(2).subject());
        p.assertSameStores();
    }

    @Test
    void aRestartedReplicaKnowsTheOpenFastBatches() {
        Pair p = new Pair("{\"name\":\"S\",\"subjects\":[\"s.>\"],\"num_replicas\":3,\"allow_batched\":true}");
        String r = "_INBOX.c.b1.10.fail.";
        p.leader.offerPublish("s.a", r + "1.0.$FI", null, bytes("m1"));
        p.commitAll();
        p.leader.offerPublish("s.a", r + "2.1.$FI", null, bytes("m2"));
        p.lw.runAll();
        byte[] second = p.proposed.remove(0);
        // the follower restarts on its store: the log entries it holds are skipped on replay, so the open batch comes
        // from the store, and the batch's next message is stored there as on the leader
        ManualExecutor rw = new ManualExecutor();
        Stream restarted = new Stream(p.follower.config(), 1, p.followerStore, rw, 16,
                new Stream.Context(new FakeBus(), false, null));
        restarted.setReplicator(entry -> CompletableFuture.failedFuture(new IllegalStateException("not leader")));
        restarted.applyCommitted(second, p.index + 1, false, () -> {});
        p.leader.applyCommitted(second, p.index + 1, true, () -> {});
        rw.runAll();
        p.lw.runAll();
        assertEquals(2, p.leaderStore.state().msgs());
        assertEquals(2, p.followerStore.state().msgs(), "the restarted replica refused the batch's message");
    }
}
