package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import io.nats.client.api.StreamConfiguration;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The monitoring port over real HTTP: listener, common behaviour, /healthz, /varz with live counters, /jsz. */
class MonitorIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    static ServerConfig monitored() {
        return ServerConfig.defaults().withHost("127.0.0.1").withPort(0).withHttpPort(-1);
    }

    static HttpResponse<String> get(int port, String pathAndQuery) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(10))
                .build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    static JsonNode getJson(int port, String pathAndQuery) throws Exception {
        HttpResponse<String> r = get(port, pathAndQuery);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        return JSON.readTree(r.body());
    }

    @Test
    void noMonitorPortUnlessAsked() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0))) {
            assertEquals(0, server.monitorPort());
        }
    }

    @Test
    void healthzIsOkWithItsProbeVariants() throws Exception {
        try (NatsServer server = NatsServer.start(monitored())) {
            int port = server.monitorPort();
            assertNotEquals(0, port);
            for (String q : new String[] {"/healthz", "/healthz?js-enabled-only=true", "/healthz?js-server-only=true"}) {
                HttpResponse<String> r = get(port, q);
                assertEquals(200, r.statusCode(), q);
                // compact, as the reference writes /healthz
                assertEquals("{\"status\":\"ok\"}", r.body(), q);
            }
            HttpResponse<String> bad = get(port, "/healthz?js-enabled-only=yes");
            assertEquals(400, bad.statusCode());
            assertEquals("Error decoding boolean for 'js-enabled-only': strconv.ParseBool: parsing \"yes\": invalid syntax",
                    bad.body());
        }
    }

    @Test
    void commonBehaviourMatchesTheReference() throws Exception {
        try (NatsServer server = NatsServer.start(monitored())) {
            int port = server.monitorPort();
            HttpResponse<String> missing = get(port, "/varz/");
            assertEquals(404, missing.statusCode());
            assertEquals("404 page not found\n", missing.body());
            assertTrue(missing.headers().firstValue("content-type").orElse("").startsWith("text/plain"));

            HttpResponse<String> doubled = get(port, "//varz?x=1");
            assertEquals(301, doubled.statusCode());
            assertEquals("/varz?x=1", doubled.headers().firstValue("location").orElse(""));

            HttpResponse<String> jsonp = get(port, "/varz?callback=cb");
            assertEquals("application/javascript", jsonp.headers().firstValue("content-type").orElse(""));
            assertTrue(jsonp.body().startsWith("cb({") && jsonp.body().endsWith("})"), jsonp.body());
            assertEquals(server.serverId(),
                    JSON.readTree(jsonp.body().substring(3, jsonp.body().length() - 1)).path("server_id").asText());

            HttpResponse<String> varz = get(port, "/varz");
            // indented by two spaces with "key": value, as Go's MarshalIndent
            assertTrue(varz.body().startsWith("{\n  \"server_id\": \""), varz.body());

            HttpResponse<String> index = get(port, "/");
            assertEquals(200, index.statusCode());
            assertTrue(index.headers().firstValue("content-type").orElse("").startsWith("text/html"));
            for (String link : new String[] {"./varz", "./jsz", "./connz", "./healthz"}) {
                assertTrue(index.body().contains("\"" + link + "\""), link);
            }
        }
    }

    @Test
    void basePathPrefixesEveryEndpoint() throws Exception {
        ServerConfig config = monitored().toBuilder().httpBasePath("/mon").build();
        try (NatsServer server = NatsServer.start(config)) {
            int port = server.monitorPort();
            assertEquals("/mon", getJson(port, "/mon/varz").path("http_base_path").asText());
            assertEquals(200, get(port, "/mon/healthz").statusCode());
            assertEquals(200, get(port, "/mon").statusCode());
            assertEquals(404, get(port, "/varz").statusCode());
            assertEquals(404, get(port, "/healthz").statusCode());
        }
    }

    @Test
    void varzCountsRealTraffic() throws Exception {
        try (NatsServer server = NatsServer.start(monitored())) {
            int port = server.monitorPort();
            JsonNode before = getJson(port, "/varz");
            assertEquals(0, before.path("connections").asInt());
            assertEquals(0, getJson(port, "/accstatz").path("account_statz").size(), "no account without clients");
            List<String> unused = new java.util.ArrayList<>();
            getJson(port, "/accstatz?unused=1").path("account_statz").forEach(x -> unused.add(x.path("acc").asText()));
            assertTrue(unused.contains("$G"), unused.toString());
            try (Connection sub = Nats.connect(server.clientUrl()); Connection pub = Nats.connect(server.clientUrl())) {
                Subscription s = sub.subscribe("m.>");
                sub.flush(Duration.ofSeconds(5));
                for (int i = 0; i < 3; i++) {
                    pub.publish("m.x", "hello".getBytes(StandardCharsets.UTF_8));
                }
                pub.publish("nobody", "abc".getBytes(StandardCharsets.UTF_8));
                pub.flush(Duration.ofSeconds(5));
                for (int i = 0; i < 3; i++) {
                    assertTrue(s.nextMessage(Duration.ofSeconds(5)) != null);
                }
                JsonNode v = getJson(port, "/varz");
                assertEquals(server.serverId(), v.path("server_id").asText());
                assertEquals(server.port(), v.path("port").asInt());
                assertEquals(-1, v.path("http_port").asInt());
                assertEquals(2, v.path("connections").asInt());
                assertEquals(2, v.path("total_connections").asInt());
                assertEquals(4, v.path("in_msgs").asLong());
                assertEquals(3 * 5 + 3, v.path("in_bytes").asLong());
                assertEquals(3, v.path("out_msgs").asLong());
                assertEquals(3 * 5, v.path("out_bytes").asLong());
                assertTrue(v.path("subscriptions").asInt() >= 1);
                assertTrue(v.path("mem").asLong() > 0);
                assertTrue(v.path("uptime").asText().matches("(\\d+y)?(\\d+d)?(\\d+h)?(\\d+m)?\\d+s"));
                assertEquals(120_000_000_000L, v.path("ping_interval").asLong());
                assertTrue(v.path("jetstream").isObject() && v.path("jetstream").isEmpty());
                JsonNode acc = getJson(port, "/accstatz").path("account_statz").path(0);
                assertEquals(2, acc.path("conns").asInt());
                assertEquals(4, acc.path("received").path("msgs").asLong());
                assertEquals(3, acc.path("sent").path("msgs").asLong());
                // this is the second /varz request; the reference counts the one being answered too
                assertEquals(2, v.path("http_req_stats").path("/varz").asInt());
            }
        }
    }

    @Test
    void jszReportsStreamsThroughTheStreamViews(@TempDir Path dir) throws Exception {
        ServerConfig config = monitored().withJetStream(new JetStreamConfig(true, dir, -1, -1, false));
        try (NatsServer server = NatsServer.start(config); Connection nc = Nats.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>").build());
            JetStream js = nc.jetStream();
            js.publish("orders.1", "one".getBytes(StandardCharsets.UTF_8));
            js.publish("orders.2", "two".getBytes(StandardCharsets.UTF_8));
            int port = server.monitorPort();
            JsonNode jsz = getJson(port, "/jsz");
            assertEquals(1, jsz.path("streams").asInt());
            assertEquals(2, jsz.path("messages").asLong());
            assertTrue(jsz.path("storage").asLong() > 0);
            assertTrue(jsz.path("api").path("total").asLong() >= 1);
            assertTrue(jsz.path("account_details").isMissingNode());

            JsonNode detail = getJson(port, "/jsz?streams=true&config=true");
            JsonNode stream = detail.path("account_details").path(0).path("stream_detail").path(0);
            assertEquals("ORDERS", stream.path("name").asText());
            assertEquals(2, stream.path("state").path("messages").asLong());
            assertEquals("orders.>", stream.path("config").path("subjects").path(0).asText());

            nc.jetStreamManagement().addOrUpdateConsumer("ORDERS",
                    io.nats.client.api.ConsumerConfiguration.builder().durable("C1").build());
            JsonNode withConsumers = getJson(port, "/jsz?consumers=true");
            JsonNode consumer = withConsumers.path("account_details").path(0).path("stream_detail").path(0)
                    .path("consumer_detail").path(0);
            assertEquals("C1", consumer.path("name").asText());
            assertEquals(2, consumer.path("num_pending").asLong());
            assertTrue(consumer.path("config").isMissingNode(), "config only with config=true");
            assertTrue(consumer.path("delivered").isObject() && consumer.path("ack_floor").isObject());
            assertEquals("C1", getJson(port, "/jsz?consumers=true&config=true").path("account_details").path(0)
                    .path("stream_detail").path(0).path("consumer_detail").path(0).path("config")
                    .path("durable_name").asText());

            JsonNode varzJs = getJson(port, "/varz").path("jetstream");
            assertTrue(varzJs.path("stats").path("storage").asLong() > 0);
            assertTrue(varzJs.path("config").path("store_dir").asText().endsWith("jetstream"));
            assertEquals(400, get(port, "/jsz?streams=maybe").statusCode());

            // JetStream's replies (pub acks, API responses) are deliveries too: varz and connz agree on them
            nc.flush(Duration.ofSeconds(5));
            JsonNode varz = getJson(port, "/varz");
            JsonNode conn = getJson(port, "/connz").path("connections").path(0);
            assertTrue(varz.path("out_msgs").asLong() >= 2, varz.toString());
            assertEquals(varz.path("out_msgs").asLong(), conn.path("out_msgs").asLong());
            assertEquals(varz.path("out_bytes").asLong(), conn.path("out_bytes").asLong());
            assertEquals(varz.path("in_msgs").asLong(), conn.path("in_msgs").asLong());
        }
    }

    /**
     * What prometheus-nats-exporter and the NATS Helm chart read (operations.md 1.9): the exporter exits at
     * start unless varz's server_id is a string, turns every numeric leaf into a gauge, decodes a few
     * strings, and its -jsz=all collector sends raft=true, which must be ignored.
     */
    @Test
    void fieldsTheExporterAndHelmChartReadArePresent(@TempDir Path dir) throws Exception {
        ServerConfig config = monitored().withJetStream(new JetStreamConfig(true, dir, -1, -1, false));
        try (NatsServer server = NatsServer.start(config); Connection nc = Nats.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>").build());
            int port = server.monitorPort();
            JsonNode varz = getJson(port, "/varz");
            for (String f : new String[] {"server_id", "server_name", "version", "start", "config_load_time", "now",
                    "uptime", "host", "http_host"}) {
                assertTrue(varz.path(f).isTextual(), f);
            }
            for (String f : new String[] {"connections", "total_connections", "in_msgs", "out_msgs", "in_bytes",
                    "out_bytes", "slow_consumers", "subscriptions", "mem", "cpu", "cores", "routes", "remotes",
                    "leafnodes", "max_payload", "max_connections", "port", "http_port"}) {
                assertTrue(varz.path(f).isNumber(), f);
            }
            assertTrue(varz.path("jetstream").path("stats").path("api").path("total").isNumber());
            // the chart's startup, readiness and liveness probes: success is 2xx
            for (String probe : new String[] {"/healthz", "/healthz?js-server-only=true", "/healthz?js-enabled-only=true"}) {
                assertEquals("ok", getJson(port, probe).path("status").asText(), probe);
            }
            JsonNode jsz = getJson(port, "/jsz?consumers=true&config=true&raft=true");
            for (String f : new String[] {"memory", "storage", "reserved_memory", "reserved_storage", "streams",
                    "consumers", "messages", "bytes"}) {
                assertTrue(jsz.path(f).isNumber(), f);
            }
            assertTrue(jsz.path("config").path("max_memory").isNumber());
            JsonNode account = jsz.path("account_details").path(0);
            for (String f : new String[] {"name", "id"}) {
                assertTrue(account.path(f).isTextual(), f);
            }
            for (String f : new String[] {"memory", "storage", "reserved_memory", "reserved_storage"}) {
                assertTrue(account.path(f).isNumber(), f);
            }
            JsonNode stream = account.path("stream_detail").path(0);
            assertEquals("S", stream.path("name").asText());
            assertTrue(stream.path("cluster").path("leader").isTextual());
            assertTrue(stream.path("config").isObject());
            assertTrue(stream.path("state").path("messages").isNumber());
            // the exporter's optional collectors
            assertTrue(getJson(port, "/routez").path("routes").isArray());
            assertTrue(getJson(port, "/leafz").has("leafs"));
            assertTrue(getJson(port, "/gatewayz").path("outbound_gateways").isObject());
            assertTrue(getJson(port, "/accountz").path("accounts").isArray());
        }
    }

    @Test
    void connzPagesSortsAndListsSubscriptions() throws Exception {
        try (NatsServer server = NatsServer.start(monitored());
                Connection a = Nats.connect(new io.nats.client.Options.Builder().server(server.clientUrl())
                        .connectionName("holder-a").build());
                Connection b = Nats.connect(server.clientUrl())) {
            a.subscribe("foo");
            a.subscribe("svc.>", "q1");
            a.flush(Duration.ofSeconds(5));
            for (int i = 0; i < 5; i++) {
                b.publish("foo", "12345678".getBytes(StandardCharsets.UTF_8));
            }
            b.flush(Duration.ofSeconds(5));
            a.flush(Duration.ofSeconds(5));
            int port = server.monitorPort();

            JsonNode all = getJson(port, "/connz");
            assertEquals(2, all.path("num_connections").asInt());
            assertEquals(2, all.path("total").asInt());
            assertEquals(1024, all.path("limit").asInt());
            JsonNode first = all.path("connections").path(0);
            JsonNode second = all.path("connections").path(1);
            assertTrue(first.path("cid").asLong() < second.path("cid").asLong(), "ascending cid by default");
            assertEquals("holder-a", first.path("name").asText());
            assertEquals("java", first.path("lang").asText());
            assertEquals(2, first.path("subscriptions").asInt());
            assertEquals(5, first.path("out_msgs").asLong());
            assertEquals(40, first.path("out_bytes").asLong());
            assertEquals(5, second.path("in_msgs").asLong());
            assertEquals(40, second.path("in_bytes").asLong());
            assertEquals("127.0.0.1", first.path("ip").asText());
            assertTrue(first.path("rtt").asText().matches("0s|[0-9.]+(ns|µs|ms|s)"), first.path("rtt").asText());
            assertTrue(first.path("subscriptions_list").isMissingNode());

            JsonNode byMsgsFrom = getJson(port, "/connz?sort=msgs_from&limit=1&subs=1");
            assertEquals(1, byMsgsFrom.path("num_connections").asInt());
            assertEquals(2, byMsgsFrom.path("total").asInt());
            assertEquals(second.path("cid").asLong(), byMsgsFrom.path("connections").path(0).path("cid").asLong());

            JsonNode page2 = getJson(port, "/connz?offset=1&limit=1&subs=true");
            assertEquals(second.path("cid").asLong(), page2.path("connections").path(0).path("cid").asLong());

            JsonNode one = getJson(port, "/connz?cid=" + first.path("cid").asLong() + "&subs=detail");
            assertEquals(1, one.path("num_connections").asInt());
            JsonNode detail = one.path("connections").path(0).path("subscriptions_list_detail");
            assertEquals(2, detail.size());
            boolean queued = false;
            for (JsonNode d : detail) {
                queued |= "q1".equals(d.path("qgroup").asText(null)) && "svc.>".equals(d.path("subject").asText());
            }
            assertTrue(queued, detail.toString());
            JsonNode subsList = getJson(port, "/connz?cid=" + first.path("cid").asLong() + "&subs=1")
                    .path("connections").path(0).path("subscriptions_list");
            assertEquals(2, subsList.size());

            assertEquals("invalid sorting option: foo", get(port, "/connz?sort=foo").body());
            assertEquals("sort by stop only valid on closed connections", get(port, "/connz?sort=stop").body());
            assertEquals("Error decoding state for x", get(port, "/connz?state=x").body());
            assertEquals(400, get(port, "/connz?limit=ten").statusCode());
        }
    }

    @Test
    void subszCountsAndListsClientSubscriptions() throws Exception {
        try (NatsServer server = NatsServer.start(monitored()); Connection nc = Nats.connect(server.clientUrl())) {
            nc.subscribe("orders.*");
            nc.subscribe("orders.>", "workers");
            nc.subscribe("other");
            nc.flush(Duration.ofSeconds(5));
            int port = server.monitorPort();
            JsonNode stats = getJson(port, "/subsz");
            // the three clients' and the server's own five in the system account: three on $SYS.REQ.SERVER, one on
            // $SYS.REQ.ACCOUNT and its import-reply prefix (nats-server counts its own too)
            assertEquals(8, stats.path("num_subscriptions").asInt());
            assertTrue(stats.path("server_id").isMissingNode(), "no server_id without subs, as the reference");

            JsonNode listed = getJson(port, "/subsz?subs=1&test=orders.new");
            assertEquals(server.serverId(), listed.path("server_id").asText());
            assertEquals(2, listed.path("subscriptions_list").size());
            assertEquals(2, listed.path("total").asInt());
            JsonNode paged = getJson(port, "/subscriptionsz?subs=1&offset=1&limit=1");
            assertEquals(1, paged.path("subscriptions_list").size());
            assertEquals("$G", paged.path("subscriptions_list").path(0).path("account").asText());

            HttpResponse<String> bad = get(port, "/subsz?test=foo.*");
            assertEquals(400, bad.statusCode());
            assertEquals("invalid test subject, must be valid publish subject: foo.*", bad.body());
        }
    }

    /**
     * Scrapers that stall mid-request hold sockets on the monitoring loop only: clients keep their round
     * trips and other scrapes are still answered.
     */
    @Test
    void stalledScrapersDelayNeitherClientsNorOtherScrapes() throws Exception {
        try (NatsServer server = NatsServer.start(monitored()); Connection nc = Nats.connect(server.clientUrl())) {
            int port = server.monitorPort();
            List<java.net.Socket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < 50; i++) {
                    java.net.Socket s = new java.net.Socket("127.0.0.1", port);
                    // a request line and no end of headers: the server must wait for more without blocking
                    s.getOutputStream().write("GET /varz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    stalled.add(s);
                }
                long start = System.nanoTime();
                nc.flush(Duration.ofSeconds(2));
                assertEquals(200, get(port, "/varz").statusCode());
                assertEquals(200, get(port, "/healthz").statusCode());
                assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos());
                assertEquals(1, getJson(port, "/varz").path("connections").asInt());
            } finally {
                for (java.net.Socket s : stalled) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aMonitorPortInUseStopsTheStartWithAClearError() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            ServerConfig config = monitored().withHttpPort(taken.getLocalPort());
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> NatsServer.start(config));
            assertTrue(e.getMessage().startsWith("Can't start monitoring: "), e.getMessage());
        }
    }
}
