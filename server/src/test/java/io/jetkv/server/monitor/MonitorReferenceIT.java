package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differential: the same monitoring requests to nats-server 2.9.10 and to JetKV, both with JetStream and
 * one stream holding one message; the JSON must have the same field names and JSON types (values differ).
 */
class MonitorReferenceIT {
    /** Fields the reference has that we do not serve yet, each with its reason. */
    private static final Set<String> NOT_YET = Set.of();
    /** Fields we have beyond 2.9.10 because JetKV speaks 2.10's and 2.11's JetStream API (stream config, consumer info). */
    private static final Set<String> NEWER = Set.of(
            "/jsz.account_details[0].stream_detail[0].consumer_detail[0].ts",
            "/jsz.account_details[0].stream_detail[0].config.compression",
            "/jsz.account_details[0].stream_detail[0].config.consumer_limits",
            // 2.11 (JetKV advertises 2.11): allow_msg_ttl always, and the stored _nats.req.level
            "/jsz.account_details[0].stream_detail[0].config.allow_msg_ttl",
            "/jsz.account_details[0].stream_detail[0].config.metadata",
            "/jsz.account_details[0].stream_detail[0].consumer_detail[0].config.metadata");
    /** Maps keyed by data (paths, account names): compared as objects, not key by key. */
    private static final Set<String> OPEN_MAPS = Set.of("/varz.http_req_stats");

    @Test
    void endpointsHaveTheReferenceStructure(@TempDir Path ours, @TempDir Path theirs) throws Exception {
        assumeTrue(ReferenceServer.available(), "nats-server not installed");
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0).withHttpPort(-1)
                .withJetStream(new JetStreamConfig(true, ours, -1, -1, false));
        try (ReferenceServer ref = ReferenceServer.start("-js", "-sd", theirs.toString(), "-m", "-1");
                NatsServer server = NatsServer.start(config)) {
            load("nats://127.0.0.1:" + ref.port());
            load(server.clientUrl());
            // one open connection with a subscription on each side, for /connz
            Connection refClient = Nats.connect("nats://127.0.0.1:" + ref.port());
            Connection ourClient = Nats.connect(server.clientUrl());
            refClient.subscribe("watch.>");
            ourClient.subscribe("watch.>");
            refClient.flush(java.time.Duration.ofSeconds(5));
            ourClient.flush(java.time.Duration.ofSeconds(5));
            List<String> differences = new ArrayList<>();
            for (String path : List.of("/varz", "/healthz", "/healthz?js-enabled-only=true",
                    "/healthz?js-server-only=true", "/jsz", "/jsz?accounts=true", "/jsz?streams=true&config=true",
                    "/jsz?consumers=true", "/jsz?consumers=true&config=true",
                    "/routez", "/leafz", "/gatewayz", "/accountz", "/connz", "/connz?subs=1&auth=1",
                    "/connz?subs=detail", "/subsz", "/subsz?subs=1", "/accstatz")) {
                JsonNode expected = MonitorIT.getJson(ref.monitorPort(), path);
                JsonNode actual = MonitorIT.getJson(server.monitorPort(), path);
                compare(path.replaceFirst("\\?.*", ""), expected, actual, differences);
            }
            refClient.close();
            ourClient.close();
            assertEquals(List.of(), differences);
        }
    }

    /** One stream with one message, so that stream details are not empty on either side. */
    private static void load(String url) throws Exception {
        try (Connection nc = Nats.connect(url)) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>").build());
            nc.jetStream().publish("s.1", "x".getBytes(StandardCharsets.UTF_8));
            nc.jetStreamManagement().addOrUpdateConsumer("S",
                    io.nats.client.api.ConsumerConfiguration.builder().durable("C").build());
        }
    }

    private static void compare(String at, JsonNode expected, JsonNode actual, List<String> out) {
        if (!kind(expected).equals(kind(actual))) {
            out.add(at + ": reference " + kind(expected) + ", ours " + kind(actual));
            return;
        }
        if (expected.isObject() && !OPEN_MAPS.contains(at)) {
            Set<String> names = new TreeSet<>();
            expected.fieldNames().forEachRemaining(names::add);
            actual.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                String child = at + "." + name;
                if (!actual.has(name)) {
                    if (!NOT_YET.contains(child)) {
                        out.add(child + ": missing in ours");
                    }
                } else if (!expected.has(name)) {
                    if (NEWER.contains(child)) {
                        continue;
                    }
                    out.add(child + ": not in the reference");
                } else {
                    compare(child, expected.get(name), actual.get(name), out);
                }
            }
        } else if (expected.isArray() && !expected.isEmpty() && !actual.isEmpty()) {
            Iterator<JsonNode> e = expected.elements();
            compare(at + "[0]", e.next(), actual.get(0), out);
        }
    }

    /** JSON's own types: Go writes 0.0 as 0, so integers and decimals are one kind. */
    private static String kind(JsonNode n) {
        return n.isNumber() ? "number" : n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
}
