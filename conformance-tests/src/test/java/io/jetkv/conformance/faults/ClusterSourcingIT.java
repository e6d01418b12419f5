package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.Mirror;
import io.nats.client.api.Placement;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.Source;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Mirrors and sources whose origin lives on another server of the cluster, on three processes (JetKV, and
 * nats-server 2.9.10 to show the test asks what the reference does): the origin is placed on one server by its
 * tag, the mirror and the source on the others, and what is published to the origin shows up in both; a
 * work-queue origin on one server is sourced from another and lets the copied messages go; the mirror's server
 * restarts and its copy resumes with no gap or duplicate.
 */
class ClusterSourcingIT {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(ServerKind.class)
    void mirrorAndSourceCopyFromAnotherServer(ServerKind kind) throws Exception {
        assumeTrue(kind.available(), "nats-server is not installed");
        try (ProcessCluster cluster = ProcessCluster.builder(kind, 3, dir).name("SRC").jetStream(true).proxied(true)
                .nodeConfig(0, "server_tags: [\"az1\"]")
                .nodeConfig(1, "server_tags: [\"az2\"]")
                .nodeConfig(2, "server_tags: [\"az3\"]")
                .start()) {
            FaultRun.awaitJetStream(cluster);
            try (Connection nc = cluster.connect(0)) {
                create(nc, StreamConfiguration.builder().name("ORIGIN").subjects("origin.>")
                        .storageType(StorageType.File).placement(on("az1")).build());
                create(nc, StreamConfiguration.builder().name("MIRROR").storageType(StorageType.File)
                        .placement(on("az2")).mirror(Mirror.builder().sourceName("ORIGIN").build()).build());
                create(nc, StreamConfiguration.builder().name("COPY").storageType(StorageType.File)
                        .placement(on("az3")).sources(Source.builder().sourceName("ORIGIN").build()).build());
                for (int i = 1; i <= 10; i++) {
                    publish(nc, "origin." + i, "m" + i);
                }
                awaitMessages(nc, "MIRROR", 10);
                awaitMessages(nc, "COPY", 10);

                create(nc, StreamConfiguration.builder().name("WORK").subjects("work.>")
                        .retentionPolicy(RetentionPolicy.WorkQueue).storageType(StorageType.File)
                        .placement(on("az1")).build());
                create(nc, StreamConfiguration.builder().name("WORKCOPY").storageType(StorageType.File)
                        .placement(on("az2")).sources(Source.builder().sourceName("WORK").build()).build());
                for (int i = 1; i <= 5; i++) {
                    publish(nc, "work." + i, "w" + i);
                }
                awaitMessages(nc, "WORKCOPY", 5);
                awaitMessages(nc, "WORK", 0); // what the source's consumer took goes from the work queue

                // the mirror's server restarts: the copy resumes where its store left off, no gap, no duplicate
                cluster.node(1).restart();
                FaultRun.awaitJetStream(cluster);
                publish(nc, "origin.11", "m11");
                awaitMessages(nc, "COPY", 11);

                awaitMessages(nc, "MIRROR", 11);
                long last = nc.jetStreamManagement().getStreamInfo("MIRROR").getStreamState().getLastSequence();
                if (last != 11) {
                    throw new AssertionError("the mirror's last sequence is " + last + ", not 11");
                }
                StreamInfo mirror = nc.jetStreamManagement().getStreamInfo("MIRROR");
                if (mirror.getMirrorInfo() == null || mirror.getMirrorInfo().getLag() != 0) {
                    throw new AssertionError("mirror info: " + mirror.getMirrorInfo());
                }
            }
        }
    }

    private static Placement on(String tag) {
        return Placement.builder().tags(List.of(tag)).build();
    }

    /** Adds a stream, retrying while the meta leader does not know every peer yet. */
    private static void create(Connection nc, StreamConfiguration sc) {
        String[] last = {""};
        ClusterProbes.await(() -> {
            try {
                nc.jetStreamManagement().addStream(sc);
                return true;
            } catch (Exception e) {
                last[0] = e.toString();
                return false;
            }
        }, "stream " + sc.getName() + " created (last: " + last[0] + ")", 60);
    }

    /** Publishes, retrying while the stream leader's interest has not reached this server yet. */
    private static void publish(Connection nc, String subject, String data) {
        ClusterProbes.await(() -> {
            try {
                nc.jetStream().publish(subject, data.getBytes(StandardCharsets.UTF_8));
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "a pub ack for " + subject, 60);
    }

    private static void awaitMessages(Connection nc, String stream, long count) {
        JetStreamManagement[] jsm = {null};
        long[] seen = {-1};
        try {
            ClusterProbes.await(() -> {
                try {
                    jsm[0] = nc.jetStreamManagement();
                    seen[0] = jsm[0].getStreamInfo(stream).getStreamState().getMsgCount();
                    return seen[0] == count;
                } catch (Exception e) {
                    return false;
                }
            }, stream + " holds " + count + " messages", 60);
        } catch (AssertionError e) {
            throw new AssertionError(stream + " holds " + seen[0] + " messages, not " + count, e);
        }
    }
}
