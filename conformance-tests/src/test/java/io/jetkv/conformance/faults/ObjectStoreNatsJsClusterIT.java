package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nats.js's object store ({@code clients/js/obj.test.mjs}, {@code @nats-io/obj} 3.4.0) against a three-process JetKV
 * cluster: a bucket made without {@code replicas} (an R1 stream placed by the meta group, maybe on another server),
 * and a batched bucket of three replicas, whose multi-MB puts are fast-ingest batches going through the stream's
 * Raft group message by message. The object store lists its buckets with {@code STREAM.LIST}, which the meta leader
 * answers with every stream's info from its leader, wherever it lives (checked with jnats too). The single-server run
 * is {@code clients/run.sh}'s. The nats.js part is skipped where {@code clients/install.sh} has not put nats.js in
 * place.
 */
class ObjectStoreNatsJsClusterIT {
    @TempDir
    static Path dir;

    private static ProcessCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("OBJ").jetStream(true).start();
        FaultRun.awaitJetStream(cluster);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void streamListShowsEveryStreamWithItsLeadersState() throws Exception {
        try (Connection nc = cluster.connect(0)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            // R1 streams land on whichever server the meta leader picks: several, so some are elsewhere
            Map<String, Integer> want = new TreeMap<>();
            for (int i = 0; i < 6; i++) {
                want.put("L" + i, 1);
            }
            want.put("L3R", 3);
            for (Map.Entry<String, Integer> e : want.entrySet()) {
                String name = e.getKey();
                ClusterProbes.await(() -> {
                    try {
                        jsm.addStream(StreamConfiguration.builder().name(name).subjects(name.toLowerCase() + ".>")
                                .replicas(e.getValue()).storageType(StorageType.File).build());
                        return true;
                    } catch (Exception ex) {
                        return false;
                    }
                }, "stream " + name + " created", 60);
            }
            int n = 0;
            for (String name : want.keySet()) {
                n++;
                for (int m = 0; m < n; m++) { // stream i holds i messages: the state comes from its leader
                    String subject = name.toLowerCase() + ".x";
                    ClusterProbes.await(() -> {
                        try {
                            nc.jetStream().publish(subject, "v".getBytes(StandardCharsets.UTF_8));
                            return true;
                        } catch (Exception ex) {
                            return false;
                        }
                    }, "a pub ack on " + subject, 60);
                }
            }
        }
        for (int node = 0; node < 3; node++) {
            try (Connection nc = cluster.connect(node)) {
                List<StreamInfo> list = nc.jetStreamManagement().getStreams();
                Map<String, Long> got = new TreeMap<>();
                for (StreamInfo si : list) {
                    got.put(si.getConfiguration().getName(), si.getStreamState().getMsgCount());
                }
                assertEquals(Map.of("L0", 1L, "L1", 2L, "L2", 3L, "L3", 4L, "L3R", 5L, "L4", 6L, "L5", 7L), got,
                        "STREAM.LIST through node " + node);
                assertEquals(3, list.stream().filter(si -> si.getConfiguration().getName().equals("L3R")).findFirst()
                        .orElseThrow().getConfiguration().getReplicas());
                assertEquals(List.of("L0", "L1", "L2", "L3", "L3R", "L4", "L5"),
                        list.stream().map(si -> si.getConfiguration().getName()).toList(), "in name order");
            }
        }
    }

    @Test
    void natsJsObjectStoreOnThreeNodes() throws Exception {
        Path js = Path.of("clients", "js").toAbsolutePath();
        assumeTrue(Files.isDirectory(js.resolve("node_modules/@nats-io/obj")), "nats.js not installed");
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", "obj.test.mjs")
                .directory(js.toFile()).redirectErrorStream(true);
        pb.environment().put("NATS_URL", String.join(",", cluster.clientUrls()));
        pb.environment().put("OBJ_REPLICAS", "3");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes(); // ends when node exits
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "node did not exit");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("ℹ pass 2"), text);
    }
}
