package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's administrative requests and advisories in the system account (issues 13 and 16), checked against
 * what nats-server 2.9.10 answered with the same accounts: {@code nats server cluster step-down} and
 * {@code peer-remove} send {@code $JS.API.META.LEADER.STEPDOWN} and {@code $JS.API.SERVER.REMOVE} with system
 * credentials, and 2.9.10's meta leader answers them there, and in an account without JetStream too (whose other
 * requests stay refused). The system account also receives {@code DOMAIN.LEADER_ELECTED} from each new meta leader
 * (newer nats-server), a copy of each stream's {@code LEADER_ELECTED} naming its account, and
 * {@code SERVER.REMOVED} from the server removed.
 */
class SystemAccountClusterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration API = Duration.ofSeconds(5);
    static final String ACCOUNTS = """
            accounts {
              A: { users: [ {user: a, password: a} ], jetstream: enabled }
              B: { users: [ {user: b, password: b} ] }
              SYS: { users: [ {user: sys, password: sys} ] }
            }
            system_account: SYS""";

    @TempDir
    Path dir;

    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void closeConnections() throws InterruptedException {
        for (Connection c : connections) {
            c.close();
        }
    }

    @Test
    void metaAdministrationAndAdvisoriesInTheSystemAccount() throws Exception {
        try (ProcessCluster cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("SYSADM").jetStream(true)
                .config(ACCOUNTS).start()) {
            try {
                administer(cluster);
            } catch (AssertionError | RuntimeException e) {
                dumpLogs(cluster);
                throw e;
            }
        }
    }

    /** A failure shows each node's cluster lines and the end of its log. */
    private static void dumpLogs(ProcessCluster cluster) {
        for (ProcessCluster.Node n : cluster.nodes()) {
            List<String> log = n.process().log();
            System.out.println("---- cluster lines of " + n.name());
            log.stream().filter(l -> l.contains("JetStream cluster") || l.contains("stream "))
                    .forEach(System.out::println);
            System.out.println("---- end of the log of " + n.name());
            log.subList(Math.max(0, log.size() - 30), log.size()).forEach(System.out::println);
        }
    }

    private void administer(ProcessCluster cluster) throws Exception {
        Connection sys = connect(cluster, 0, "sys");
        Connection a = connect(cluster, 1, "a");
        Connection b = connect(cluster, 2, "b");
        Subscription domainElected = sys.subscribe("$JS.EVENT.ADVISORY.DOMAIN.LEADER_ELECTED");
        Subscription streamElected = sys.subscribe("$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.>");
        Subscription serverRemoved = sys.subscribe("$JS.EVENT.ADVISORY.SERVER.REMOVED");
        sys.flush(API);

        // a replicated stream's leader election: A's advisory, and the system account's copy naming A (the
        // create also waits for the meta group to hold all three servers)
        StreamConfiguration r3 = StreamConfiguration.builder().name("R3").subjects("r3").replicas(3)
                .storageType(StorageType.File).build();
        ClusterProbes.await(() -> {
            try {
                a.jetStreamManagement().addStream(r3);
                return true;
            } catch (Exception e) {
                return false; // a meta leader still being elected, or not knowing every peer: asked again
            }
        }, "R3 created", 60);
        JsonNode copy = awaitAdvisory(streamElected, n -> true);
        assertEquals("A", copy.path("account").asText(), copy.toString());
        assertEquals("R3", copy.path("stream").asText());
        List<String> fields = new ArrayList<>();
        copy.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("type", "id", "timestamp", "account", "stream", "leader", "replicas"), fields);

        // the system user's step-down: answered once a meta leader is there, and the leadership moves
        String before = awaitMetaLeader(cluster);
        JsonNode ok = awaitAnswer(sys, "$JS.API.META.LEADER.STEPDOWN", "");
        assertEquals("io.nats.jetstream.api.v1.meta_leader_stepdown_response", ok.path("type").asText());
        assertTrue(ok.path("success").asBoolean(), ok.toString());
        String[] after = {null};
        ClusterProbes.await(() -> {
            after[0] = metaLeader(cluster);
            return after[0] != null && !after[0].equals(before);
        }, "a new meta leader after " + before + " stepped down", 60);
        // the new leader says so in the system account (on a loaded machine the leadership may move once more
        // before a leader is ready: any leader but the one that stepped down)
        JsonNode elected = awaitAdvisory(domainElected, n -> !before.equals(n.path("leader").asText()));
        assertEquals("io.nats.jetstream.advisory.v1.domain_leader_elected", elected.path("type").asText());
        assertEquals("SYSADM", elected.path("cluster").asText());
        assertEquals(3, elected.path("replicas").size(), elected.toString());
        assertEquals(22, elected.path("id").asText().length());

        // an account without JetStream: 2.9.10's meta leader answers its step-down all the same, the rest of its
        // API stays refused
        JsonNode fromB = awaitAnswer(b, "$JS.API.META.LEADER.STEPDOWN", "");
        assertTrue(fromB.path("success").asBoolean(), fromB.toString());
        JsonNode info = JSON.readTree(b.request("$JS.API.INFO", new byte[0], API).getData());
        assertEquals(10039, info.path("error").path("err_code").asInt(), info.toString());
        // the system account's tag-placed step-down gets the reference's error
        JsonNode tags = awaitAnswer(sys, "$JS.API.META.LEADER.STEPDOWN", "{\"placement\":{\"tags\":[\"x\"]}}");
        assertEquals(10011, tags.path("error").path("err_code").asInt(), tags.toString());

        // server removal with system credentials: the reference's errors, then the meta leader itself leaves (2.9.10
        // answers that success too) and says so
        JsonNode unknown = awaitAnswer(sys, "$JS.API.SERVER.REMOVE", "{\"peer\":\"nobody\"}");
        assertEquals(10044, unknown.path("error").path("err_code").asInt(), unknown.toString());
        String leader = awaitAgreedMetaLeader(cluster);
        JsonNode removed = awaitAnswer(sys, "$JS.API.SERVER.REMOVE", "{\"peer\":\"" + leader + "\"}");
        assertEquals("io.nats.jetstream.api.v1.meta_server_remove_response", removed.path("type").asText());
        assertTrue(removed.path("success").asBoolean(), removed.toString());
        JsonNode gone = awaitAdvisory(serverRemoved, n -> true);
        assertEquals("io.nats.jetstream.advisory.v1.server_removed", gone.path("type").asText());
        assertEquals(leader, gone.path("server").asText());
        assertEquals("SYSADM", gone.path("cluster").asText());
        assertNotEquals("", gone.path("server_id").asText());
    }

    private Connection connect(ProcessCluster cluster, int node, String user) throws Exception {
        Connection c = Nats.connect(Options.builder().server(cluster.node(node).clientUrl())
                .userInfo(user, user).connectionTimeout(Duration.ofSeconds(5)).build());
        connections.add(c);
        return c;
    }

    /**
     * The answer to a meta request, asked again while none comes (only a meta leader that applied its log answers
     * these: one elected a moment ago is silent until then, as are the others) or while it is 503/10008.
     */
    private static JsonNode awaitAnswer(Connection c, String subject, String body) {
        JsonNode[] answer = {null};
        ClusterProbes.await(() -> {
            try {
                Message m = c.request(subject, body.getBytes(StandardCharsets.UTF_8), API);
                answer[0] = JSON.readTree(m.getData());
                System.out.println("DIAG " + java.time.Instant.now() + " " + subject + " " + body + " -> " + answer[0]);
                return answer[0].path("error").path("err_code").asInt() != 10008;
            } catch (Exception e) {
                System.out.println("DIAG " + java.time.Instant.now() + " " + subject + " " + body + " -> " + e);
                return false;
            }
        }, "an answer to " + subject + " " + body, 60);
        return answer[0];
    }

    /** The next advisory {@code sub} receives that {@code match} accepts (others are skipped). */
    private static JsonNode awaitAdvisory(Subscription sub, java.util.function.Predicate<JsonNode> match)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Message m = sub.nextMessage(Duration.ofSeconds(1));
            if (m != null) {
                JsonNode n = JSON.readTree(m.getData());
                if (match.test(n)) {
                    return n;
                }
            }
        }
        throw new AssertionError("no advisory on " + sub.getSubject());
    }

    private static String awaitMetaLeader(ProcessCluster cluster) {
        String[] leader = {null};
        ClusterProbes.await(() -> (leader[0] = metaLeader(cluster)) != null, "a meta leader", 60);
        assertNotNull(leader[0]);
        return leader[0];
    }

    /** The meta leader's name as a node's {@code /jsz} reports it, or null while none is known. */
    private static String metaLeader(ProcessCluster cluster) {
        for (ProcessCluster.Node n : cluster.nodes()) {
            String leader = metaLeaderOf(n);
            if (leader != null) {
                return leader;
            }
        }
        return null;
    }

    /** The meta leader once every node's {@code /jsz} names the same one. */
    private static String awaitAgreedMetaLeader(ProcessCluster cluster) {
        String[] leader = {null};
        ClusterProbes.await(() -> {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (ProcessCluster.Node n : cluster.nodes()) {
                seen.add(String.valueOf(metaLeaderOf(n)));
            }
            leader[0] = seen.iterator().next();
            return seen.size() == 1 && !leader[0].equals("null");
        }, "every node naming the same meta leader", 60);
        return leader[0];
    }

    private static String metaLeaderOf(ProcessCluster.Node n) {
        try {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                            "http://127.0.0.1:" + n.monitorPort() + "/jsz")).timeout(Duration.ofSeconds(3)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            String leader = JSON.readTree(r.body()).path("meta_cluster").path("leader").asText(null);
            return leader == null || leader.isEmpty() ? null : leader;
        } catch (Exception e) {
            return null;
        }
    }
}
