package io.jetkv.conformance.faults;

import io.jetkv.server.testing.ReferenceServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What runs the nodes of a {@link ProcessCluster}: the repository's {@code ./jetkv}, or nats-server 2.9.10. */
public enum ServerKind {
    /** The launcher script of this checkout, which builds the server jar when it is stale. */
    JETKV,
    /** Debian's nats-server, the reference. */
    NATS_SERVER;

    /** Whether streams and KV buckets with {@code num_replicas} above 1 are replicated on this kind's cluster. */
    public boolean replicatedJetStream() {
        return true;
    }

    /**
     * Whether a KV create/update (a publish with {@code Nats-Expected-Last-Subject-Sequence}) on a replicated
     * bucket is linearizable. Not on nats-server 2.9.10: the leader checks the expected sequence before
     * proposing, against what is applied, so two concurrent updates on one revision can both succeed (nats-server
     * issue #4320, fixed after 2.9.20 by tracking in-flight subjects); KvLinearizabilityIT demonstrates it.
     */
    public boolean linearizableCompareAndSet() {
        return this == JETKV;
    }

    /**
     * Whether KV gets made beside concurrent writes are linearizable, through kills, pauses and partitions and
     * after them. nats-server 2.9.10: not even through the stream leader (direct gets off): KvLinearizabilityIT
     * sees gets answered tens of revisions behind writes acknowledged before they began while a leader is being
     * isolated, and (in CI, 2026-12-07) with every fault healed, a get answering a value that a delete
     * acknowledged before the get began had removed. Only a read of each key once the writers stopped is judged.
     */
    public boolean linearizableReads() {
        return this == JETKV;
    }

    /** Whether this kind can run here (nats-server must be installed; CI requires it). */
    public boolean available() {
        return this == JETKV || ReferenceServer.available();
    }

    List<String> command(Path config) {
        return switch (this) {
            case JETKV -> List.of(launcher().toString(), "-c", config.toString());
            case NATS_SERVER -> List.of(ReferenceServer.binary().toString(), "-c", config.toString());
        };
    }

    /** Each JetKV node is a JVM; five of them share two cores with the test, so keep their heaps small. */
    Map<String, String> environment() {
        return this == JETKV ? Map.of("JETKV_JAVA_OPTS", "-Xmx256m -XX:TieredStopAtLevel=1") : Map.of();
    }

    static Path launcher() {
        Path p = Path.of("..", "jetkv").toAbsolutePath().normalize();
        if (!Files.isExecutable(p)) {
            p = Path.of("jetkv").toAbsolutePath(); // run from the repository root
        }
        return p;
    }
}
