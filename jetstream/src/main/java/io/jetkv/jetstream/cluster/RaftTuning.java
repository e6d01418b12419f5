package io.jetkv.jetstream.cluster;

import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * The Ratis settings every JetKV node runs its groups with (meta group and stream groups alike), in one place so
 * that {@code bench/ratis-floor.sh} measures a bare Ratis group configured exactly as the server's: the floor under
 * a replicated publish.
 */
public final class RaftTuning {

    /** System properties named {@code jetkv.ratis.<Ratis key>} override that key (measurements only). */
    public static final String OVERRIDE_PREFIX = "jetkv.ratis.";

    private RaftTuning() {
    }

    /**
     * Sets the read, log, election, staging and snapshot settings on {@code properties}; storage directory and
     * transport address stay with the caller.
     */
    public static void apply(RaftProperties properties, boolean syncAlways, long snapshotThreshold,
            long stagingSeconds) {
        // follower reads wait for the leader's commit index (read index), never answer stale; the leader answers a
        // read index from its lease (90 % of the minimum election timeout since a quorum last acknowledged it)
        // instead of a heartbeat round to the followers first
        RaftServerConfigKeys.Read.setOption(properties, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(properties, true);
        // What a pub ack means follows sync_always, as on one server. Default: an entry counts as written on a
        // replica once it is in its log file (the OS page cache), fsync follows in the background (Ratis "unsafe
        // flush"), so a commit does not wait for two fsyncs in a row (leader, then follower). An ack then
        // survives any process being killed and the loss of a minority of machines, not a power cut of a
        // majority at once: nats-server's default does not fsync on the request path either. With sync_always
        // every replica fsyncs its log before it acknowledges the entry.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(properties, !syncAlways);
        // election timeouts: a new stream's group elects within a second, so that its create is answered within
        // a client's default 2 s request timeout; well above Ratis's 150-300 ms for a loaded two-core machine
        RaftServerConfigKeys.Rpc.setTimeoutMin(properties, TimeDuration.valueOf(500, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(properties, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
        // a server joining a group is staged until it catches up, and Ratis gives up on it (NOPROGRESS) after
        // 3 x the election timeout without an answer by default: a just-started JVM on a loaded machine misses
        // that again on every retry, so the meta group never grew past two and R3 placement found no peers.
        // Liveness is not at stake here (the group's elections keep their timeouts), only how long to wait
        // for a new member; nats-server likewise counts a peer as lost only after lostQuorumInterval (10 s).
        RaftServerConfigKeys.setStagingTimeout(properties, TimeDuration.valueOf(stagingSeconds,
                TimeUnit.SECONDS));
        // snapshots: every snapshotThreshold applied entries a group writes its state to one file and the log up
        // to it is purged (disk does not grow with history); a replica behind the purged log installs the file.
        // Not on stop or removal: the stores are durable on their own, and a stop should not dump every stream.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, snapshotThreshold);
        RaftServerConfigKeys.Snapshot.setCreationGap(properties, Math.min(1024, snapshotThreshold));
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(properties, false);
        RaftServerConfigKeys.Snapshot.setTriggerWhenRemoveEnabled(properties, false);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
        RaftServerConfigKeys.Log.setPurgeGap(properties, (int) Math.min(1024, snapshotThreshold));
        if (snapshotThreshold < 1024) {
            // small segments, so that a purge frees disk soon after a snapshot (only closed segments are deleted)
            RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf("16KB"));
            RaftServerConfigKeys.Log.setPreallocatedSize(properties, SizeInBytes.valueOf("16KB"));
        }
        // for measurements only (bench/ratis-floor.sh, a server under study): -Djetkv.ratis.<Ratis key>=<value>
        // sets that Ratis key last, over everything above
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(OVERRIDE_PREFIX))
                .forEach(k -> properties.set(k.substring(OVERRIDE_PREFIX.length()), System.getProperty(k)));
    }
}
