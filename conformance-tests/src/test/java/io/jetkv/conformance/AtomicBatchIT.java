package io.jetkv.conformance;

import static io.jetkv.conformance.MessageTtlIT.b;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.nats.client.support.NatsJetStreamConstants;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Atomic batch publish (nats-server 2.12, ADR-50) through jnats 2.26, which has the header constants and
 * {@code PublishAck.getBatchId()/getBatchSize()} but no batch helper, so the messages are built with headers: a
 * batch is staged under {@code Nats-Batch-Id} with {@code Nats-Batch-Sequence} 1, 2, ... and stored all or nothing
 * by the message carrying {@code Nats-Batch-Commit: 1}.
 */
class AtomicBatchIT {
    @TempDir
    Path store;

    NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    static Message msg(String subject, String id, long seq, boolean commit, String... extra) {
        Headers h = new Headers();
        h.put(NatsJetStreamConstants.NATS_BATCH_ID_HDR, id);
        if (seq > 0) {
            h.put(NatsJetStreamConstants.NATS_BATCH_SEQUENCE_HDR, Long.toString(seq));
        }
        if (commit) {
            h.put(NatsJetStreamConstants.NATS_BATCH_COMMIT_HDR, "1");
        }
        for (int i = 0; i < extra.length; i += 2) {
            h.put(extra[i], extra[i + 1]);
        }
        return NatsMessage.builder().subject(subject).headers(h).data(b(subject)).build();
    }

    /** The pub ack of a request, parsed by jnats (an error in it throws {@link JetStreamApiException}). */
    static PublishAck ack(Connection nc, Message m) throws Exception {
        Message reply = nc.request(m, Duration.ofSeconds(10));
        return new PublishAck(reply);
    }

    static int errorCode(Connection nc, Message m) throws Exception {
        return assertThrows(JetStreamApiException.class, () -> ack(nc, m)).getApiErrorCode();
    }

    static StreamConfiguration.Builder stream(String name, String... subjects) {
        return StreamConfiguration.builder().name(name).subjects(subjects).storageType(StorageType.Memory);
    }

    @Test
    void aBatchIsStagedAndStoredAtItsCommit() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo.*").build());
            assertEquals(10174, errorCode(nc, msg("foo.0", "uuid", 1, true)), "atomic publish is disabled");

            StreamInfo si = jsm.updateStream(stream("S", "foo.*").allowAtomicPublish().build());
            assertTrue(si.getConfiguration().getAllowAtomicPublish());
            assertEquals("2", si.getConfiguration().getMetadata().get("_nats.req.level"));
            assertEquals(10175, errorCode(nc, msg("foo.0", "uuid", 0, true)), "sequence missing");
            assertEquals(10176, errorCode(nc, msg("foo.0", "uuid", 2, true)), "unknown batch not at 1");
            assertEquals(10179, errorCode(nc, msg("foo.0", "x".repeat(65), 1, true)), "id longer than 64");

            PublishAck one = ack(nc, msg("foo.0", "x".repeat(64), 1, true));
            assertEquals(1, one.getSeqno());
            assertEquals("x".repeat(64), one.getBatchId());
            assertEquals(1, one.getBatchSize());

            // staged messages: nothing is stored, a request gets an empty reply
            for (int seq = 1; seq <= 4; seq++) {
                Message staged = nc.request(msg("foo." + seq, "five", seq, false), Duration.ofSeconds(10));
                assertEquals(0, staged.getData().length);
                assertEquals(1, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            }
            PublishAck commit = ack(nc, msg("foo.5", "five", 5, true));
            assertEquals(6, commit.getSeqno());
            assertEquals("five", commit.getBatchId());
            assertEquals(5, commit.getBatchSize());
            assertEquals(6, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            for (int seq = 2; seq <= 6; seq++) {
                var m = jsm.getMessage("S", seq);
                assertEquals("foo." + (seq - 1), m.getSubject());
                // the batch headers are not stored
                assertTrue(m.getHeaders() == null || m.getHeaders().get("Nats-Batch-Id") == null, m.toString());
            }
        }
    }

    @Test
    void oneFailingMessageRejectsTheWholeBatch() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo.*").allowAtomicPublish().build());
            nc.jetStream().publish("foo.a", b("before"));
            nc.publish(msg("foo.b", "b1", 1, false));
            nc.publish(msg("foo.c", "b1", 2, false));
            // the third expects foo.a to be empty: checked at the commit, against the stream before the batch
            JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> ack(nc,
                    msg("foo.a", "b1", 3, true, "Nats-Expected-Last-Subject-Sequence", "0")));
            assertEquals(10071, e.getApiErrorCode());
            assertEquals(1, jsm.getStreamInfo("S").getStreamState().getMsgCount(), "nothing of the batch stored");

            // an expected sequence on a subject the batch already wrote is refused (10164)
            nc.publish(msg("foo.b", "b2", 1, false));
            assertEquals(10164, errorCode(nc, msg("foo.b", "b2", 2, true, "Nats-Expected-Last-Subject-Sequence", "0")));
            // Nats-Expected-Last-Sequence only on the first message
            PublishAck ok = ack(nc, msg("foo.b", "b3", 1, true, "Nats-Expected-Last-Sequence", "1"));
            assertEquals(2, ok.getSeqno());
            nc.publish(msg("foo.b", "b4", 1, false));
            assertEquals(10164, errorCode(nc, msg("foo.c", "b4", 2, true, "Nats-Expected-Last-Sequence", "3")));
            assertEquals(2, jsm.getStreamInfo("S").getStreamState().getMsgCount());
        }
    }

    @Test
    void gapsAndBadHeadersAbandonTheBatch() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowAtomicPublish().build());
            Subscription advisories = nc.subscribe("$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.S");
            nc.flush(Duration.ofSeconds(5));

            nc.publish(msg("foo", "gap", 1, false));
            assertEquals(10176, errorCode(nc, msg("foo", "gap", 3, true)));
            String adv = new String(advisories.nextMessage(Duration.ofSeconds(10)).getData(), StandardCharsets.UTF_8);
            assertTrue(adv.contains("\"type\":\"io.nats.jetstream.advisory.v1.stream_batch_abandoned\""), adv);
            assertTrue(adv.contains("\"batch\":\"gap\"") && adv.contains("\"reason\":\"incomplete\""), adv);
            // the batch is gone: continuing it is incomplete too
            assertEquals(10176, errorCode(nc, msg("foo", "gap", 2, true)));

            nc.publish(msg("foo", "hdr", 1, false));
            JetStreamApiException e = assertThrows(JetStreamApiException.class,
                    () -> ack(nc, msg("foo", "hdr", 2, true, "Nats-Expected-Last-Msg-Id", "x")));
            assertEquals(10177, e.getApiErrorCode());
            assertTrue(e.getMessage().contains("atomic publish unsupported header used: Nats-Expected-Last-Msg-Id"),
                    e.getMessage());
            assertEquals(10200, errorCode(nc, msg("foo", "c", 1, false, "Nats-Batch-Commit", "2")));
            assertEquals(10185, errorCode(nc, msg("foo", "lvl", 1, true, "Nats-Required-Api-Level", "9")));
            assertEquals(0, jsm.getStreamInfo("S").getStreamState().getMsgCount());
        }
    }

    /** 2.14's {@code Nats-Batch-Commit: eob}: the batch is committed without the message that says so. */
    @Test
    void anEndOfBatchCommitStoresTheBatchWithoutItsOwnMessage() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo.*").allowAtomicPublish().build());
            for (int seq = 1; seq <= 3; seq++) {
                nc.publish(msg("foo." + seq, "e1", seq, false));
            }
            PublishAck ack = ack(nc, msg("foo.eob", "e1", 4, false, "Nats-Batch-Commit", "eob"));
            assertEquals("e1", ack.getBatchId());
            assertEquals(3, ack.getBatchSize());
            assertEquals(3, ack.getSeqno());
            // the eob message is not stored
            assertEquals(3, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            assertEquals("foo.3", jsm.getMessage("S", 3).getSubject());

            // eob must still follow the sequence: a gap abandons the batch
            nc.publish(msg("foo.a", "e2", 1, false));
            assertEquals(10176, errorCode(nc, msg("foo.a", "e2", 3, false, "Nats-Batch-Commit", "eob")));
            // eob as the first message has nothing to commit
            assertEquals(10176, errorCode(nc, msg("foo.a", "e3", 1, false, "Nats-Batch-Commit", "eob")));
            assertEquals(10200, errorCode(nc, msg("foo.a", "e4", 1, false, "Nats-Batch-Commit", "EOB")));
            assertEquals(3, jsm.getStreamInfo("S").getStreamState().getMsgCount());

            // a full batch of 1000 may end with an eob at 1001, which does not count toward the limit
            for (int seq = 1; seq <= 1000; seq++) {
                nc.publish(msg("foo.big", "full", seq, false));
            }
            PublishAck full = ack(nc, msg("foo.big", "full", 1001, false, "Nats-Batch-Commit", "eob"));
            assertEquals(1000, full.getBatchSize());
            assertEquals(1003, full.getSeqno());
        }
    }

    @Test
    void messageIdsMustBeNewInAndBeforeTheBatch() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowAtomicPublish().build());
            nc.jetStream().publish(NatsMessage.builder().subject("foo").headers(new Headers().put("Nats-Msg-Id", "old"))
                    .data(b("x")).build());
            nc.publish(msg("foo", "d1", 1, false, "Nats-Msg-Id", "a"));
            assertEquals(10201, errorCode(nc, msg("foo", "d1", 2, true, "Nats-Msg-Id", "a")));
            assertEquals(10201, errorCode(nc, msg("foo", "d2", 1, true, "Nats-Msg-Id", "old")));
            PublishAck ok = ack(nc, msg("foo", "d3", 1, true, "Nats-Msg-Id", "new"));
            assertEquals(2, ok.getSeqno());
            // stored ids dedupe later single publishes as usual
            PublishAck dup = nc.jetStream().publish(NatsMessage.builder().subject("foo")
                    .headers(new Headers().put("Nats-Msg-Id", "new")).data(b("y")).build());
            assertTrue(dup.isDuplicate());
        }
    }

    @Test
    void limitsOnSizeAndOpenBatches() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("S", "foo").allowAtomicPublish().build());
            for (int seq = 1; seq <= 1000; seq++) {
                nc.publish(msg("foo", "big", seq, false));
            }
            JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> ack(nc, msg("foo", "big", 1001, true)));
            assertEquals(10199, e.getApiErrorCode());
            assertTrue(e.getMessage().contains("atomic publish batch is too large: 1000"), e.getMessage());
            // 50 open batches per stream; the 51st is refused with 429
            for (int i = 0; i < 50; i++) {
                nc.publish(msg("foo", "open" + i, 1, false));
            }
            assertEquals(10210, errorCode(nc, msg("foo", "one-too-many", 1, true)));
            // a commit closes one, which makes room
            assertEquals(2, ack(nc, msg("foo", "open0", 2, true)).getBatchSize());
            assertEquals(1, ack(nc, msg("foo", "now-fits", 1, true)).getBatchSize());
        }
    }

    @Test
    void anIdleBatchIsAbandonedAfterTenSeconds() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(stream("S", "foo").allowAtomicPublish().build());
            Subscription advisories = nc.subscribe("$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.S");
            nc.publish(msg("foo", "idle", 1, false));
            nc.flush(Duration.ofSeconds(5));
            Message adv = advisories.nextMessage(Duration.ofSeconds(40));
            assertNotNull(adv, "no timeout advisory");
            assertTrue(new String(adv.getData(), StandardCharsets.UTF_8).contains("\"reason\":\"timeout\""));
            assertEquals(10176, errorCode(nc, msg("foo", "idle", 2, true)));
        }
    }

    @Test
    void configurationRules() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(stream("O", "o").build());
            JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> jsm.addStream(
                    StreamConfiguration.builder().name("M").mirror(io.nats.client.api.Mirror.builder().name("O").build())
                            .allowAtomicPublish().build()));
            assertEquals(10198, e.getApiErrorCode());
        }
    }

    /** Two keys changed together, each only if it is still at the revision read: both change, or neither. */
    @Test
    void aMultiKeyKvUpdateIsAtomic() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            var kvm = nc.keyValueManagement();
            kvm.create(KeyValueConfiguration.builder().name("acct").storageType(StorageType.File).build());
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamConfiguration backing = jsm.getStreamInfo("KV_acct").getConfiguration();
            jsm.updateStream(StreamConfiguration.builder(backing).allowAtomicPublish().build());
            KeyValue kv = nc.keyValue("acct");
            long alice = kv.put("alice", b("100"));
            long bob = kv.put("bob", b("0"));

            nc.publish(kvPut("$KV.acct.alice", "tx1", 1, false, alice, "70"));
            PublishAck commit = ack(nc, kvPut("$KV.acct.bob", "tx1", 2, true, bob, "30"));
            assertEquals(2, commit.getBatchSize());
            assertEquals("70", new String(kv.get("alice").getValue(), StandardCharsets.UTF_8));
            assertEquals("30", new String(kv.get("bob").getValue(), StandardCharsets.UTF_8));
            assertEquals(commit.getSeqno(), kv.get("bob").getRevision());

            // a second transfer read bob before the first one: bob's revision is stale, so alice stays too
            nc.publish(kvPut("$KV.acct.alice", "tx2", 1, false, kv.get("alice").getRevision(), "40"));
            JetStreamApiException e = assertThrows(JetStreamApiException.class,
                    () -> ack(nc, kvPut("$KV.acct.bob", "tx2", 2, true, bob, "60")));
            assertEquals(10071, e.getApiErrorCode());
            assertEquals("70", new String(kv.get("alice").getValue(), StandardCharsets.UTF_8));
            assertEquals("30", new String(kv.get("bob").getValue(), StandardCharsets.UTF_8));
            assertNull(kv.get("carol"));
        }
    }

    static Message kvPut(String subject, String id, long seq, boolean commit, long revision, String value) {
        Message m = msg(subject, id, seq, commit, "Nats-Expected-Last-Subject-Sequence", Long.toString(revision));
        return NatsMessage.builder().subject(subject).headers(m.getHeaders()).data(b(value)).build();
    }
}
