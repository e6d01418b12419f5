package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.JetStreamSubscription;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.KeyValueOptions;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream's replica count changed by {@code STREAM.UPDATE}, as {@code nats stream edit --replicas} and
 * {@code nats kv edit} do, on a three-process JetKV cluster through jnats. An R1 stream and an R1 KV bucket scaled to
 * R3 keep every message, key, sequence and their durable consumer's ack floor; once the new replicas are current, the
 * original server is killed (-9) and everything acknowledged is still read through another server. More replicas than
 * servers are refused as nats-server refuses them (400/10005). Scaled back to R1 the stream lives on one server,
 * commits locally again (no replicas in its cluster block) and keeps its messages and consumer across a restart.
 */
class ReplicaChangeIT {
    private static final Duration API_TIMEOUT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private static JetStreamManagement jsm(Connection nc) throws Exception {
        return nc.jetStreamManagement(JetStreamOptions.builder().requestTimeout(API_TIMEOUT).build());
    }

    private static KeyValueOptions kvOptions() {
        return KeyValueOptions.builder().jetStreamOptions(JetStreamOptions.builder().requestTimeout(API_TIMEOUT)
                .build()).build();
    }

    /** A publish retried after a timeout is stored once (its first try may have been). */
    private static PublishOptions once(String id) {
        return PublishOptions.builder().messageId(id).build();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Retries {@code call} until it succeeds (a request during a leader change may get 503 or time out). */
    private static <T> T eventually(String what, java.util.concurrent.Callable<T> call) {
        Object[] out = {null};
        String[] last = {""};
        try {
            ClusterProbes.await(() -> {
                try {
                    out[0] = call.call();
                    return true;
                } catch (Exception e) {
                    last[0] = e.toString();
                    return false;
                }
            }, what, 60);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (last: " + last[0] + ")", e);
        }
        @SuppressWarnings("unchecked")
        T t = (T) out[0];
        return t;
    }

    private static ProcessCluster.Node byName(ProcessCluster cluster, String name) {
        return cluster.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    /** Waits until STREAM.INFO through {@code nc} lists {@code replicas} replicas besides the leader, all current. */
    private static StreamInfo awaitCurrentReplicas(Connection nc, String stream, int replicas) {
        StreamInfo[] seen = {null};
        try {
            ClusterProbes.await(() -> {
                try {
                    StreamInfo si = jsm(nc).getStreamInfo(stream);
                    seen[0] = si;
                    var ci = si.getClusterInfo();
                    List<io.nats.client.api.Replica> rs = ci == null || ci.getReplicas() == null ? List.of()
                            : ci.getReplicas();
                    return ci != null && ci.getLeader() != null && rs.size() == replicas
                            && rs.stream().allMatch(r -> r.isCurrent());
                } catch (Exception e) {
                    return false;
                }
            }, stream + " with " + replicas + " current replicas", 60);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (last: " + (seen[0] == null ? null
                    : seen[0].getClusterInfo()) + ")", e);
        }
        return seen[0];
    }

    private static String awaitOneServer(JetStreamManagement jsm) {
        return awaitOneServer(jsm, "ORDERS");
    }

    /** Waits until {@code stream} lives on one server (a leader, no replicas) and returns its name. */
    private static String awaitOneServer(JetStreamManagement jsm, String stream) {
        return eventually(stream + " on one server", () -> {
            StreamInfo s = jsm.getStreamInfo(stream);
            var ci = s.getClusterInfo();
            if (ci.getLeader() == null || (ci.getReplicas() != null && !ci.getReplicas().isEmpty())) {
                throw new IllegalStateException("still replicated: " + ci);
            }
            return ci.getLeader();
        });
    }

    @Test
    void replicaCountChangesKeepEveryMessageKeyAndAckFloor() throws Exception {
        try (ProcessCluster cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("RESIZE").jetStream(true)
                .start()) {
            FaultRun.awaitJetStream(cluster);
            run(cluster);
        }
    }

    private static void run(ProcessCluster cluster) throws Exception {
        {
            String origin;
            try (Connection nc = cluster.connect(0)) {
                JetStreamManagement jsm = jsm(nc);
                StreamInfo created = eventually("ORDERS created", () -> jsm.addStream(StreamConfiguration.builder()
                        .name("ORDERS").subjects("orders.>").replicas(1).storageType(StorageType.File).build()));
                origin = created.getClusterInfo().getLeader();
                eventually("ORDERS info", () -> jsm.getStreamInfo("ORDERS"));
                KeyValueManagement kvm = nc.keyValueManagement(kvOptions());
                eventually("bucket created", () -> kvm.create(KeyValueConfiguration.builder().name("cfg").replicas(1)
                        .storageType(StorageType.File).build()));
                for (int i = 1; i <= 10; i++) {
                    assertEquals(i, nc.jetStream().publish("orders.n" + i, b("m" + i)).getSeqno());
                }
                // the bucket's server may answer its info only a moment after the meta group answered the create
                KeyValue kv = eventually("bucket cfg", () -> nc.keyValue("cfg", kvOptions()));
                for (int i = 1; i <= 5; i++) {
                    kv.put("k" + i, b("v" + i));
                }
                // a durable that received 5 and acknowledged the first 4: ack floor 4
                jsm.addOrUpdateConsumer("ORDERS", ConsumerConfiguration.builder().durable("C")
                        .ackPolicy(AckPolicy.Explicit).ackWait(Duration.ofSeconds(30)).build());
                JetStreamSubscription sub = nc.jetStream().subscribe(null,
                        PullSubscribeOptions.bind("ORDERS", "C"));
                List<Message> got = sub.fetch(5, Duration.ofSeconds(5));
                assertEquals(5, got.size());
                for (int i = 0; i < 4; i++) {
                    got.get(i).ackSync(Duration.ofSeconds(5));
                }
                sub.unsubscribe();

                // R1 -> R3: the reply carries the new count; the stream keeps its state
                StreamConfiguration cfg = jsm.getStreamInfo("ORDERS").getConfiguration();
                // (just after the start the meta leader may not have every server in its group yet: 10005 meanwhile)
                StreamInfo scaled = eventually("ORDERS scaled to R3",
                        () -> jsm.updateStream(StreamConfiguration.builder(cfg).replicas(3).build()));
                assertEquals(3, scaled.getConfiguration().getReplicas());
                assertEquals(10, scaled.getStreamState().getMsgCount());
                KeyValueConfiguration kvCfg = kvm.getStatus("cfg").getConfiguration();
                assertEquals(3, eventually("cfg scaled to R3",
                        () -> kvm.update(KeyValueConfiguration.builder(kvCfg).replicas(3).build())).getReplicas());

                // more replicas than servers: nats-server's placement error
                JetStreamApiException tooMany = assertThrows(JetStreamApiException.class,
                        () -> jsm.updateStream(StreamConfiguration.builder(cfg).replicas(5).build()));
                assertEquals(10005, tooMany.getApiErrorCode());
                assertTrue(tooMany.getMessage().contains("no suitable peers for placement"), tooMany.getMessage());
            }
            ProcessCluster.Node originNode = byName(cluster, origin);
            int other = (originNode.index() + 1) % 3;
            try (Connection nc = cluster.connect(other)) {
                awaitCurrentReplicas(nc, "ORDERS", 2);
                awaitCurrentReplicas(nc, "KV_cfg", 2);
            }

            // the original server dies: the other two hold everything that was acknowledged
            originNode.kill();
            try (Connection nc = cluster.connect(other)) {
                JetStreamManagement jsm = jsm(nc);
                StreamInfo si = eventually("ORDERS info without " + origin, () -> {
                    StreamInfo s = jsm.getStreamInfo("ORDERS");
                    if (s.getClusterInfo().getLeader() == null || s.getClusterInfo().getLeader().equals(origin)) {
                        throw new IllegalStateException("no new leader yet");
                    }
                    return s;
                });
                assertEquals(10, si.getStreamState().getMsgCount());
                assertEquals(3, si.getConfiguration().getReplicas());
                for (int i = 1; i <= 10; i++) {
                    int seq = i;
                    assertEquals("m" + i, new String(eventually("message " + i,
                            () -> jsm.getMessage("ORDERS", seq)).getData(), StandardCharsets.UTF_8));
                }
                KeyValue kv = eventually("bucket cfg", () -> nc.keyValue("cfg", kvOptions()));
                for (int i = 1; i <= 5; i++) {
                    int k = i;
                    KeyValueEntry e = eventually("key k" + i, () -> kv.get("k" + k));
                    assertNotNull(e, "k" + i);
                    assertEquals("v" + i, e.getValueAsString());
                    assertEquals(i, e.getRevision());
                }
                ConsumerInfo ci = eventually("consumer C", () -> jsm.getConsumerInfo("ORDERS", "C"));
                assertEquals(4, ci.getAckFloor().getStreamSequence(), ci.toString());
                assertEquals(5, ci.getDelivered().getStreamSequence(), ci.toString());
                assertEquals(11, eventually("a publish after the kill",
                        () -> nc.jetStream().publish("orders.n11", b("m11"))).getSeqno());
            }
            originNode.restart();
            cluster.awaitFullMesh(60);

            // R3 -> R1: one server keeps the stream, which commits locally again
            String survivor;
            try (Connection nc = cluster.connect(other)) {
                JetStreamManagement jsm = jsm(nc);
                awaitCurrentReplicas(nc, "ORDERS", 2);
                StreamConfiguration cfg = jsm.getStreamInfo("ORDERS").getConfiguration();
                StreamInfo one = eventually("ORDERS scaled to R1",
                        () -> jsm.updateStream(StreamConfiguration.builder(cfg).replicas(1).build()));
                assertEquals(1, one.getConfiguration().getReplicas());
                survivor = awaitOneServer(jsm);
            }
            ProcessCluster.Node survivorNode = byName(cluster, survivor);
            survivorNode.kill();
            survivorNode.restart();
            cluster.awaitFullMesh(60);
            try (Connection nc = cluster.connect((survivorNode.index() + 1) % 3)) {
                JetStreamManagement jsm = jsm(nc);
                StreamInfo si = eventually("ORDERS after its server restarted", () -> jsm.getStreamInfo("ORDERS"));
                assertEquals(11, si.getStreamState().getMsgCount());
                assertEquals(survivor, si.getClusterInfo().getLeader());
                assertTrue(si.getClusterInfo().getReplicas() == null || si.getClusterInfo().getReplicas().isEmpty(),
                        si.getClusterInfo().toString());
                for (int i = 1; i <= 11; i++) {
                    assertEquals("m" + i, new String(jsm.getMessage("ORDERS", i).getData(), StandardCharsets.UTF_8));
                }
                ConsumerInfo ci = jsm.getConsumerInfo("ORDERS", "C");
                assertEquals(4, ci.getAckFloor().getStreamSequence(), ci.toString());
                assertEquals(12, eventually("a publish to the R1 stream",
                        () -> nc.jetStream().publish("orders.n12", b("m12"))).getSeqno());
                // the remaining message 5 is redelivered to the durable, 6.. follow
                JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind("ORDERS",
                        "C"));
                List<Message> next = sub.fetch(1, Duration.ofSeconds(5));
                assertEquals(1, next.size());
                assertTrue(next.get(0).metaData().streamSequence() >= 5, next.get(0).metaData().toString());
                next.get(0).nak();
                sub.unsubscribe();
            }

            // a stream created on three servers and scaled to one: its server restarted has no group to go back to
            String eventsKept;
            try (Connection nc = cluster.connect(0)) {
                JetStreamManagement jsm = jsm(nc);
                eventually("EVENTS created", () -> jsm.addStream(StreamConfiguration.builder().name("EVENTS")
                        .subjects("events.>").replicas(3).storageType(StorageType.File).build()));
                assertEquals(1, eventually("a publish to EVENTS",
                        () -> nc.jetStream().publish("events.1", b("e1"), once("e1"))).getSeqno());
                StreamConfiguration cfg = jsm.getStreamInfo("EVENTS").getConfiguration();
                eventually("EVENTS scaled to R1",
                        () -> jsm.updateStream(StreamConfiguration.builder(cfg).replicas(1).build()));
                eventsKept = awaitOneServer(jsm, "EVENTS");
            }
            ProcessCluster.Node eventsNode = byName(cluster, eventsKept);
            eventsNode.kill();
            eventsNode.restart();
            cluster.awaitFullMesh(60);
            try (Connection nc = cluster.connect((eventsNode.index() + 1) % 3)) {
                JetStreamManagement jsm = jsm(nc);
                assertEquals(2, eventually("a publish to EVENTS after its server restarted",
                        () -> nc.jetStream().publish("events.2", b("e2"), once("e2"))).getSeqno());
                // (its server takes publishes from its store at once; its API answers once it replayed the meta log)
                StreamInfo si = eventually("EVENTS info", () -> jsm.getStreamInfo("EVENTS"));
                assertEquals(2, si.getStreamState().getMsgCount());
                assertEquals(eventsKept, si.getClusterInfo().getLeader());
                assertTrue(si.getClusterInfo().getReplicas() == null || si.getClusterInfo().getReplicas().isEmpty(),
                        si.getClusterInfo().toString());
                assertEquals("e1", new String(eventually("EVENTS message 1", () -> jsm.getMessage("EVENTS", 1))
                        .getData(), StandardCharsets.UTF_8));
            }

            // R1 -> R3 again, from a server that is not the stream's first; then a server added by it restarts
            try (Connection nc = cluster.connect(survivorNode.index())) {
                JetStreamManagement jsm = jsm(nc);
                StreamConfiguration cfg = jsm.getStreamInfo("ORDERS").getConfiguration();
                eventually("ORDERS scaled to R3 again",
                        () -> jsm.updateStream(StreamConfiguration.builder(cfg).replicas(3).build()));
                awaitCurrentReplicas(nc, "ORDERS", 2);
            }
            ProcessCluster.Node added = cluster.node((survivorNode.index() + 1) % 3);
            added.kill();
            added.restart();
            cluster.awaitFullMesh(60);
            try (Connection nc = cluster.connect(added.index())) {
                awaitCurrentReplicas(nc, "ORDERS", 2);
                assertEquals(13, eventually("a publish to the R3 stream",
                        () -> nc.jetStream().publish("orders.n13", b("m13"), once("m13"))).getSeqno());
            }

            // R3 -> R1 while one server is down: back, it must not bring its replica back (no second copy taking
            // publishes, no replicas listed), and what the stream holds stays as it was
            ProcessCluster.Node down = cluster.node((survivorNode.index() + 2) % 3);
            down.kill();
            String kept;
            try (Connection nc = cluster.connect(survivorNode.index())) {
                JetStreamManagement jsm = jsm(nc);
                StreamConfiguration cfg = jsm.getStreamInfo("ORDERS").getConfiguration();
                eventually("ORDERS scaled to R1 with " + down.name() + " down",
                        () -> jsm.updateStream(StreamConfiguration.builder(cfg).replicas(1).build()));
                kept = awaitOneServer(jsm);
                assertTrue(!kept.equals(down.name()), kept);
            }
            down.restart();
            cluster.awaitFullMesh(60);
            for (ProcessCluster.Node n : cluster.nodes()) {
                try (Connection nc = cluster.connect(n.index())) {
                    JetStreamManagement jsm = jsm(nc);
                    assertEquals(kept, awaitOneServer(jsm), "through " + n.name());
                }
            }
            try (Connection nc = cluster.connect(down.index())) {
                JetStreamManagement jsm = jsm(nc);
                assertEquals(14, eventually("a publish through the restarted server",
                        () -> nc.jetStream().publish("orders.n14", b("m14"), once("m14"))).getSeqno());
                // (a server just started may answer 10008 until it caught up with the meta group)
                StreamInfo si = eventually("ORDERS info", () -> jsm.getStreamInfo("ORDERS"));
                assertEquals(14, si.getStreamState().getMsgCount());
                assertEquals(14, si.getStreamState().getLastSequence());
                assertEquals(kept, si.getClusterInfo().getLeader());
                for (int i = 1; i <= 14; i++) {
                    int seq = i;
                    assertEquals("m" + i, new String(eventually("message " + i,
                            () -> jsm.getMessage("ORDERS", seq)).getData(), StandardCharsets.UTF_8));
                }
                assertEquals(4, eventually("consumer C", () -> jsm.getConsumerInfo("ORDERS", "C")).getAckFloor()
                        .getStreamSequence());
            }
        }
    }
}
