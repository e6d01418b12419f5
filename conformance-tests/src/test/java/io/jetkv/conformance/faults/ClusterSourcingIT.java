package io.jetkv.conformance.faults;

import static io.jetkv.conformance.faults.ClusterCalls.awaitCount;
import static io.jetkv.conformance.faults.ClusterCalls.createStream;
import static io.jetkv.conformance.faults.ClusterCalls.publish;
import static io.jetkv.conformance.faults.ClusterCalls.stepDown;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.Mirror;
import io.nats.client.api.Placement;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.Source;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
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
 * restarts and its copy resumes with no gap or duplicate; an R3 mirror and an R3 source (of a limits and of a
 * work-queue origin) keep copying, exactly once, through a step-down of their leaders.
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
                createStream(nc, StreamConfiguration.builder().name("ORIGIN").subjects("origin.>")
                        .storageType(StorageType.File).placement(on("az1")).build());
                createStream(nc, StreamConfiguration.builder().name("MIRROR").storageType(StorageType.File)
                        .placement(on("az2")).mirror(Mirror.builder().sourceName("ORIGIN").build()).build());
                createStream(nc, StreamConfiguration.builder().name("COPY").storageType(StorageType.File)
                        .placement(on("az3")).sources(Source.builder().sourceName("ORIGIN").build()).build());
                for (int i = 1; i <= 10; i++) {
                    publish(nc, "origin." + i, "m" + i);
                }
                awaitCount(nc, "MIRROR", 10);
                awaitCount(nc, "COPY", 10);

                createStream(nc, StreamConfiguration.builder().name("WORK").subjects("work.>")
                        .retentionPolicy(RetentionPolicy.WorkQueue).storageType(StorageType.File)
                        .placement(on("az1")).build());
                createStream(nc, StreamConfiguration.builder().name("WORKCOPY").storageType(StorageType.File)
                        .placement(on("az2")).sources(Source.builder().sourceName("WORK").build()).build());
                for (int i = 1; i <= 5; i++) {
                    publish(nc, "work." + i, "w" + i);
                }
                awaitCount(nc, "WORKCOPY", 5);
                awaitCount(nc, "WORK", 0); // what the source's consumer took goes from the work queue

                // the mirror's server restarts: the copy resumes where its store left off, no gap, no duplicate
                cluster.node(1).restart();
                FaultRun.awaitJetStream(cluster);
                publish(nc, "origin.11", "m11");
                awaitCount(nc, "COPY", 11);

                awaitCount(nc, "MIRROR", 11);
                long last = nc.jetStreamManagement().getStreamInfo("MIRROR").getStreamState().getLastSequence();
                if (last != 11) {
                    throw new AssertionError("the mirror's last sequence is " + last + ", not 11");
                }

                // replicated copies: an R3 mirror and an R3 source (of a work queue: its consumer acks what the
                // group committed), through a step-down of each one's leader
                createStream(nc, StreamConfiguration.builder().name("MIRROR3").storageType(StorageType.File).replicas(3)
                        .mirror(Mirror.builder().sourceName("ORIGIN").build()).build());
                createStream(nc, StreamConfiguration.builder().name("WORK3").subjects("work3.>")
                        .retentionPolicy(RetentionPolicy.WorkQueue).storageType(StorageType.File)
                        .placement(on("az1")).build());
                createStream(nc, StreamConfiguration.builder().name("COPY3").storageType(StorageType.File).replicas(3)
                        .sources(Source.builder().sourceName("ORIGIN").build(),
                                Source.builder().sourceName("WORK3").build()).build());
                for (int i = 1; i <= 5; i++) {
                    publish(nc, "work3." + i, "x" + i);
                }
                awaitCount(nc, "MIRROR3", 11);
                awaitCount(nc, "COPY3", 16);
                awaitCount(nc, "WORK3", 0);
                stepDown(nc, "MIRROR3");
                stepDown(nc, "COPY3");
                for (int i = 12; i <= 20; i++) {
                    publish(nc, "origin." + i, "m" + i);
                }
                for (int i = 6; i <= 10; i++) {
                    publish(nc, "work3." + i, "x" + i);
                }
                awaitCount(nc, "MIRROR3", 20);
                try {
                    awaitCount(nc, "COPY3", 30);
                } catch (AssertionError e) {
                    JetStreamManagement jsm = nc.jetStreamManagement();
                    long lastSeq = jsm.getStreamInfo("COPY3").getStreamState().getLastSequence();
                    StringBuilder sb = new StringBuilder();
                    for (long q = 1; q <= lastSeq; q++) {
                        io.nats.client.api.MessageInfo mi = jsm.getMessage("COPY3", q);
                        sb.append(q).append(' ').append(mi.getSubject()).append(' ')
                                .append(mi.getHeaders() == null ? "" : mi.getHeaders().getFirst("Nats-Stream-Source"))
                                .append('\n');
                    }
                    throw new AssertionError(e.getMessage() + "\n" + sb, e);
                }
                if (kind == ServerKind.JETKV) {
                    // nats-server 2.9.10 leaves the messages sourced after the step-down in the work queue
                    awaitCount(nc, "WORK3", 0);
                }
                StreamInfo m3 = nc.jetStreamManagement().getStreamInfo("MIRROR3");
                if (m3.getStreamState().getLastSequence() != 20 || m3.getMirrorInfo().getLag() != 0) {
                    throw new AssertionError("R3 mirror: " + m3.getStreamState() + " " + m3.getMirrorInfo());
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
}
