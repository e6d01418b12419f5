package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.Nats;
import io.nats.client.api.KeyValueConfiguration;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KV console on the monitoring port: its JSON (buckets, keys paged and filtered with deleted keys left
 * out, a key's history), its live watch as server-sent events, and the page itself in a real browser
 * (headless Chromium) following a jnats client's puts.
 */
class ConsoleIT {
    @TempDir
    Path store;

    private ServerConfig config() {
        return MonitorIT.monitored().withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store));
    }

    @Test
    void bucketsKeysAndHistory() throws Exception {
        try (NatsServer server = NatsServer.start(config());
                Connection nc = Nats.connect("nats://127.0.0.1:" + server.port())) {
            int port = server.monitorPort();
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("orders").maxHistoryPerKey(5).build());
            KeyValue kv = nc.keyValue("orders");
            kv.put("a", "1");
            kv.put("a", "2");
            kv.put("b", "gone");
            kv.delete("b");
            kv.put("c.d", "deep");
            kv.put("c.e", new byte[] {(byte) 0xff, 0x00});

            JsonNode buckets = MonitorIT.getJson(port, "/console/api/buckets").get("buckets");
            assertEquals(1, buckets.size());
            assertEquals("orders", buckets.get(0).get("bucket").asText());
            assertEquals(5, buckets.get(0).get("history").asInt());

            JsonNode keys = MonitorIT.getJson(port, "/console/api/buckets/orders/keys");
            assertEquals(List.of("a", "c.d", "c.e"), keyNames(keys), "deleted keys are left out, in order");
            assertFalse(keys.has("next"));
            JsonNode filtered = MonitorIT.getJson(port, "/console/api/buckets/orders/keys?filter=c.*");
            assertEquals(List.of("c.d", "c.e"), keyNames(filtered));
            JsonNode page1 = MonitorIT.getJson(port, "/console/api/buckets/orders/keys?limit=1");
            assertEquals(List.of("a"), keyNames(page1));
            JsonNode page2 = MonitorIT.getJson(port,
                    "/console/api/buckets/orders/keys?limit=1&after=" + page1.get("next").asText());
            assertEquals(List.of("c.d"), keyNames(page2), "paging skips the deleted key");

            JsonNode a = MonitorIT.getJson(port, "/console/api/buckets/orders/key/a");
            assertEquals(2, a.get("history").size());
            assertEquals("2", a.get("history").get(1).get("value").asText());
            assertEquals("PUT", a.get("history").get(1).get("operation").asText());
            JsonNode b = MonitorIT.getJson(port, "/console/api/buckets/orders/key/b");
            assertEquals("DEL", b.get("history").get(1).get("operation").asText());
            JsonNode binary = MonitorIT.getJson(port, "/console/api/buckets/orders/key/c.e");
            assertEquals("/wA=", binary.get("history").get(0).get("value_base64").asText());

            assertEquals(404, MonitorIT.get(port, "/console/api/buckets/nope/keys").statusCode());
            assertEquals(400, MonitorIT.get(port, "/console/api/buckets/orders/keys?filter=a..b").statusCode());
            assertEquals(400, MonitorIT.get(port, "/console/api/buckets/orders/key/.bad").statusCode());
            HttpResponse<String> pageRedirect = MonitorIT.get(port, "/console");
            assertEquals(301, pageRedirect.statusCode());
            HttpResponse<String> page = MonitorIT.get(port, "/console/");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<title>JetKV console</title>"));
        }
    }

    @Test
    void watchStreamsChangesAsServerSentEvents() throws Exception {
        try (NatsServer server = NatsServer.start(config());
                Connection nc = Nats.connect("nats://127.0.0.1:" + server.port())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("live").build());
            KeyValue kv = nc.keyValue("live");
            kv.put("before", "not shown: the watch starts now");
            HttpRequest req = HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + server.monitorPort() + "/console/api/buckets/live/watch")).build();
            HttpResponse<java.io.InputStream> r = MonitorIT.HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            assertEquals("text/event-stream; charset=utf-8", r.headers().firstValue("content-type").orElse(""));
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                assertTrue(in.readLine().startsWith(": watching live"), "the stream opens at once");
                in.readLine();
                // the listener is registered on the stream's writer: a put after the open is seen; puts until then
                // may land before it, so the test puts until one shows up
                List<String> events = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                int n = 0;
                String line = null;
                while (System.nanoTime() < deadline) {
                    kv.put("k" + n++, "v");
                    kv.delete("before");
                    line = in.readLine();
                    if (line != null && line.startsWith("data: ")) {
                        events.add(line);
                        break;
                    }
                }
                assertTrue(line != null && line.startsWith("data: "), "an event arrives");
                JsonNode e = MonitorIT.JSON.readTree(line.substring(6));
                assertTrue(e.get("key").asText().startsWith("k"));
                assertEquals("PUT", e.get("operation").asText());
                in.readLine(); // blank line ending the event
                JsonNode del = MonitorIT.JSON.readTree(in.readLine().substring(6));
                assertEquals("before", del.get("key").asText());
                assertEquals("DEL", del.get("operation").asText());
            }
        }
    }

    @Test
    void thePageInAHeadlessBrowserFollowsPuts() throws Exception {
        String chromium = HeadlessChromium.find();
        assumeTrue(chromium != null || System.getenv("JETKV_REQUIRE_REFERENCE") != null,
                "chromium is not installed (conformance-tests/clients/install.sh installs it)");
        try (NatsServer server = NatsServer.start(config());
                Connection nc = Nats.connect("nats://127.0.0.1:" + server.port());
                HeadlessChromium browser = new HeadlessChromium(chromium)) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("walkthrough").build());
            KeyValue kv = nc.keyValue("walkthrough");
            kv.put("greeting", "hello");
            kv.put("colour", "blue");
            browser.navigate("http://127.0.0.1:" + server.monitorPort() + "/console/#walkthrough");
            String keys = browser.await("document.getElementById('keys').innerText",
                    v -> v != null && v.contains("greeting") && v.contains("colour"));
            assertTrue(keys.contains("greeting") && keys.contains("colour"), keys);
            String buckets = browser.eval("document.getElementById('buckets').innerText");
            assertTrue(buckets.contains("walkthrough"), buckets);
            browser.await("document.getElementById('watch-state').innerText", v -> v != null && v.startsWith("watching"));
            // the page's watch is open once it says so; puts from now on appear live
            kv.put("greeting", "hello, console");
            String live = browser.await("document.getElementById('events').innerText",
                    v -> v != null && v.contains("greeting = hello, console"));
            assertTrue(live.contains("PUT greeting = hello, console"), live);
            browser.eval("document.querySelector('#keys li[data-key=\"greeting\"]').click()");
            String value = browser.await("document.getElementById('value').innerText",
                    v -> "hello, console".equals(v));
            assertEquals("hello, console", value);
            browser.screenshot(Path.of("target", "console.png"));
        }
    }

    /** JetStream, two users (one may not publish to $KV), and console writes on or off. */
    private ServerConfig withUsers(boolean writes) throws Exception {
        return io.jetkv.config.ConfigFileParser.loadString("""
                console { writes: %s }
                authorization {
                  users: [
                    {user: admin, password: secret}
                    {user: reader, password: r, permissions: { publish: { deny: ["$KV.>"] } }}
                  ]
                }
                """.formatted(writes), "test.conf", n -> null).toBuilder().host("127.0.0.1").port(0).httpPort(-1)
                .jetstream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)).build();
    }

    private static HttpResponse<String> send(int port, String method, String path, String user, String pass,
            String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(15))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (user != null) {
            b.header("Authorization", "Basic " + java.util.Base64.getEncoder()
                    .encodeToString((user + ":" + pass).getBytes(StandardCharsets.UTF_8)));
        }
        return MonitorIT.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void writesNeedTheSettingAndAUserAllowedToPublish() throws Exception {
        try (NatsServer server = NatsServer.start(withUsers(true));
                Connection nc = Nats.connect(io.nats.client.Options.builder().server(server.clientUrl())
                        .userInfo("admin", "secret").build())) {
            int port = server.monitorPort();
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("cfg").maxHistoryPerKey(3).build());
            KeyValue kv = nc.keyValue("cfg");
            assertTrue(MonitorIT.getJson(port, "/console/api/buckets").path("writes").asBoolean());

            HttpResponse<String> anonymous = send(port, "PUT", "/console/api/buckets/cfg/key/mode", null, null, "x");
            assertEquals(401, anonymous.statusCode());
            assertEquals("Basic realm=\"jetkv console\"", anonymous.headers().firstValue("www-authenticate").orElse(""));
            assertEquals(401, send(port, "PUT", "/console/api/buckets/cfg/key/mode", "admin", "wrong", "x").statusCode());
            HttpResponse<String> reader = send(port, "PUT", "/console/api/buckets/cfg/key/mode", "reader", "r", "x");
            assertEquals(403, reader.statusCode());
            assertTrue(reader.body().contains("Permissions Violation for Publish to \\\"$KV.cfg.mode\\\""), reader.body());
            assertEquals(null, kv.get("mode"), "refused writes leave the bucket alone");

            HttpResponse<String> put = send(port, "PUT", "/console/api/buckets/cfg/key/mode", "admin", "secret", "fast");
            assertEquals(200, put.statusCode(), put.body());
            JsonNode ack = MonitorIT.JSON.readTree(put.body());
            assertEquals("PUT", ack.path("operation").asText());
            assertEquals("fast", kv.get("mode").getValueAsString());
            assertEquals(kv.get("mode").getRevision(), ack.path("revision").asLong());

            HttpResponse<String> del = send(port, "DELETE", "/console/api/buckets/cfg/key/mode", "admin", "secret", null);
            assertEquals(200, del.statusCode(), del.body());
            assertEquals(null, kv.get("mode"), "jnats sees the console's delete");
            assertEquals(io.nats.client.api.KeyValueOperation.DELETE, kv.history("mode").get(1).getOperation());
            assertEquals(404, send(port, "PUT", "/console/api/buckets/nope/key/k", "admin", "secret", "v").statusCode());
            assertEquals(400, send(port, "PUT", "/console/api/buckets/cfg/key/.bad", "admin", "secret", "v").statusCode());
        }
    }

    @Test
    void writesAreOffUnlessConfigured() throws Exception {
        try (NatsServer server = NatsServer.start(withUsers(false));
                Connection nc = Nats.connect(io.nats.client.Options.builder().server(server.clientUrl())
                        .userInfo("admin", "secret").build())) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("cfg").build());
            int port = server.monitorPort();
            assertFalse(MonitorIT.getJson(port, "/console/api/buckets").path("writes").asBoolean());
            HttpResponse<String> put = send(port, "PUT", "/console/api/buckets/cfg/key/mode", "admin", "secret", "x");
            assertEquals(403, put.statusCode());
            assertEquals(null, nc.keyValue("cfg").get("mode"));
        }
    }

    @Test
    void thePageWritesAndItsWatchShowsTheWrite() throws Exception {
        String chromium = HeadlessChromium.find();
        assumeTrue(chromium != null || System.getenv("JETKV_REQUIRE_REFERENCE") != null,
                "chromium is not installed (conformance-tests/clients/install.sh installs it)");
        try (NatsServer server = NatsServer.start(withUsers(true));
                Connection nc = Nats.connect(io.nats.client.Options.builder().server(server.clientUrl())
                        .userInfo("admin", "secret").build());
                HeadlessChromium browser = new HeadlessChromium(chromium)) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("ops").build());
            KeyValue kv = nc.keyValue("ops");
            kv.put("existing", "1");
            browser.navigate("http://127.0.0.1:" + server.monitorPort() + "/console/#ops");
            browser.await("document.getElementById('watch-state').innerText", v -> v != null && v.startsWith("watching"));
            browser.await("String(!document.getElementById('write').hidden)", "true"::equals);
            browser.eval("document.getElementById('write-user').value = 'admin';"
                    + "document.getElementById('write-password').value = 'secret';"
                    + "document.getElementById('write-key').value = 'feature.flag';"
                    + "document.getElementById('write-value').value = 'on';"
                    + "document.getElementById('put').click(); 'ok'");
            String result = browser.await("document.getElementById('write-result').innerText",
                    v -> v != null && v.startsWith("PUT feature.flag"));
            assertTrue(result.startsWith("PUT feature.flag rev "), result);
            String live = browser.await("document.getElementById('events').innerText",
                    v -> v != null && v.contains("PUT feature.flag = on"));
            assertTrue(live.contains("PUT feature.flag = on"), live);
            assertEquals("on", kv.get("feature.flag").getValueAsString());

            // a wrong password is refused and the bucket is untouched
            browser.eval("document.getElementById('write-password').value = 'nope';"
                    + "document.getElementById('delete').click(); 'ok'");
            String refused = browser.await("document.getElementById('write-result').innerText",
                    v -> v != null && v.startsWith("refused"));
            assertTrue(refused.contains("authentication required"), refused);
            assertEquals("on", kv.get("feature.flag").getValueAsString());

            browser.eval("document.getElementById('write-password').value = 'secret';"
                    + "document.getElementById('delete').click(); 'ok'");
            browser.await("document.getElementById('events').innerText", v -> v != null && v.contains("DEL feature.flag"));
            assertEquals(null, kv.get("feature.flag"));
        }
    }

    private static List<String> keyNames(JsonNode page) {
        List<String> names = new ArrayList<>();
        page.get("keys").forEach(k -> names.add(k.get("key").asText()));
        return names;
    }
}
