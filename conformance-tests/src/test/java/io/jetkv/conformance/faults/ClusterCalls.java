package io.jetkv.conformance.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The JetStream calls the multi-process cluster tests make through jnats, each asked again (to a 60 s deadline)
 * while the cluster cannot answer yet: a meta leader that does not know every peer, a stream leader whose interest
 * has not reached the client's server, a group still electing. Test threads only.
 */
final class ClusterCalls {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final int SECONDS = 60;

    private ClusterCalls() {}

    /** A client of one node only, which gives up rather than reconnects elsewhere. */
    static Connection connect(ProcessCluster.Node n) throws Exception {
        return Nats.connect(Options.builder().server(n.clientUrl()).noReconnect()
                .connectionTimeout(Duration.ofSeconds(5)).build());
    }

    /** Adds a stream, retrying while the meta leader does not know every peer yet or the group elects. */
    static StreamInfo createStream(Connection nc, StreamConfiguration sc) {
        StreamInfo[] out = {null};
        String[] last = {""};
        try {
            ClusterProbes.await(() -> {
                try {
                    out[0] = nc.jetStreamManagement().addStream(sc);
                    return true;
                } catch (Exception e) {
                    last[0] = e.toString();
                    return false;
                }
            }, "stream " + sc.getName() + " created", SECONDS);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (last: " + last[0] + ")", e);
        }
        return out[0];
    }

    /**
     * Publishes and returns the pub ack's sequence; retries while the stream leader's interest has not reached the
     * client's server yet over the routes (no responders), as a client would.
     */
    static long publish(Connection nc, String subject, String data) {
        long[] seq = {0};
        ClusterProbes.await(() -> {
            try {
                seq[0] = nc.jetStream().publish(subject, data.getBytes(StandardCharsets.UTF_8)).getSeqno();
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "a pub ack for " + subject, SECONDS);
        return seq[0];
    }

    /** Waits until {@code stream} holds {@code count} messages, as the server {@code nc} asks answers. */
    static void awaitCount(Connection nc, String stream, long count) {
        long[] seen = {-1};
        try {
            ClusterProbes.await(() -> {
                try {
                    seen[0] = nc.jetStreamManagement().getStreamInfo(stream).getStreamState().getMsgCount();
                    return seen[0] == count;
                } catch (Exception e) {
                    return false;
                }
            }, stream + " holds " + count + " messages", SECONDS);
        } catch (AssertionError e) {
            throw new AssertionError(stream + " holds " + seen[0] + " messages, not " + count, e);
        }
    }

    /** Asks the stream's leader to step down, retrying while no leader answers (a fresh group still electing). */
    static void stepDown(Connection nc, String stream) {
        ClusterProbes.await(() -> {
            try {
                Message m = nc.request("$JS.API.STREAM.LEADER.STEPDOWN." + stream, new byte[0], Duration.ofSeconds(5));
                return m != null && new String(m.getData(), StandardCharsets.UTF_8).contains("\"success\":true");
            } catch (Exception e) {
                return false;
            }
        }, "a step-down of " + stream + "'s leader", SECONDS);
    }

    /**
     * A JetStream API request's answer, asked again while there is none in time or it is a 503 (no meta or group
     * leader yet, a leader change under load). Other errors are returned.
     */
    static JsonNode request(Connection nc, String subject, String body) {
        JsonNode[] out = {null};
        ClusterProbes.await(() -> {
            try {
                Message m = nc.request(subject, body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5));
                out[0] = m == null ? null : JSON.readTree(m.getData());
                return out[0] != null && out[0].path("error").path("code").asInt() != 503;
            } catch (Exception e) {
                return false;
            }
        }, "an answer to " + subject, SECONDS);
        return out[0];
    }

    /** {@link #request}, failing on an error answer. */
    static JsonNode requestOk(Connection nc, String subject, String body) {
        JsonNode answer = request(nc, subject, body);
        if (answer.has("error")) {
            throw new AssertionError(subject + ": " + answer);
        }
        return answer;
    }

    /** The meta leader's name from the first running node's {@code /jsz} that knows one, or null. */
    static String metaLeader(ProcessCluster c) {
        HttpClient http = HttpClient.newHttpClient();
        for (ProcessCluster.Node n : c.nodes()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + n.monitorPort() + "/jsz")).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                String leader = JSON.readTree(r.body()).path("meta_cluster").path("leader").asText(null);
                if (leader != null) {
                    return leader;
                }
            } catch (Exception e) {
                // the next node
            }
        }
        return null;
    }
}
