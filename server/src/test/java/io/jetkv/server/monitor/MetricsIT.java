package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.StreamConfiguration;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} scraped over HTTP and parsed as Prometheus reads it; the values follow what a jnats client
 * does: publishes, a stream's messages and sequences, a consumer's pending and ack-pending counts, the group
 * commits behind the publishes. OpenMetrics when the scraper asks for it.
 */
class MetricsIT {
    // name{labels} value   (the text format's sample line; labels optional)
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

    /** Every sample of the exposition, by {@code name{labels}} as written. */
    static Map<String, Double> parse(String body) {
        Map<String, Double> out = new HashMap<>();
        for (String line : body.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            out.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
        }
        return out;
    }

    static Map<String, Double> scrape(int port) throws Exception {
        HttpResponse<String> r = MonitorIT.get(port, "/metrics");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
        return parse(r.body());
    }

    private static double value(Map<String, Double> m, String key) {
        Double v = m.get(key);
        assertNotNull(v, key + " in " + m.keySet());
        return v;
    }

    @Test
    void metricsFollowTrafficStreamsAndConsumers(@TempDir Path dir) throws Exception {
        ServerConfig config = MonitorIT.monitored().withJetStream(new JetStreamConfig(true, dir, -1, -1, false));
        try (NatsServer server = NatsServer.start(config);
                Connection nc = Nats.connect(io.nats.client.Options.builder().server(server.clientUrl())
                        .connectionTimeout(Duration.ofSeconds(10)).build())) {
            int port = server.monitorPort();
            Map<String, Double> before = scrape(port);
            assertEquals(1.0, value(before, "jetkv_connections"));
            assertTrue(value(before, "jvm_memory_used_bytes{area=\"heap\"}") > 0, "JVM heap from the client library");

            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>").build());
            JetStream js = nc.jetStream();
            for (int i = 0; i < 10; i++) {
                js.publish("orders." + i, ("order " + i).getBytes(StandardCharsets.UTF_8));
            }
            nc.publish("plain", new byte[100]);
            JetStreamSubscription sub = js.subscribe("orders.>", PullSubscribeOptions.builder().durable("C")
                    .configuration(ConsumerConfiguration.builder().ackWait(Duration.ofMinutes(5)).build()).build());
            List<Message> got = sub.fetch(3, Duration.ofSeconds(5));
            assertEquals(3, got.size());
            nc.flush(Duration.ofSeconds(5));

            Map<String, Double> after = scrape(port);
            assertTrue(value(after, "jetkv_in_messages_total") >= value(before, "jetkv_in_messages_total") + 11,
                    "10 stream publishes and one plain one");
            assertTrue(value(after, "jetkv_in_bytes_total") >= value(before, "jetkv_in_bytes_total") + 100);
            assertTrue(value(after, "jetkv_out_messages_total") > value(before, "jetkv_out_messages_total"));
            assertEquals(10.0, value(after, "jetkv_stream_messages{stream=\"ORDERS\"}"));
            assertEquals(1.0, value(after, "jetkv_stream_first_seq{stream=\"ORDERS\"}"));
            assertEquals(10.0, value(after, "jetkv_stream_last_seq{stream=\"ORDERS\"}"));
            assertTrue(value(after, "jetkv_stream_bytes{stream=\"ORDERS\"}") > 0);
            assertEquals(1.0, value(after, "jetkv_stream_consumers{stream=\"ORDERS\"}"));
            assertEquals(3.0, value(after, "jetkv_consumer_ack_pending{consumer=\"C\",stream=\"ORDERS\"}"));
            assertEquals(7.0, value(after, "jetkv_consumer_pending{consumer=\"C\",stream=\"ORDERS\"}"));
            assertEquals(0.0, value(after, "jetkv_consumer_redelivered{consumer=\"C\",stream=\"ORDERS\"}"));
            assertTrue(value(after, "jetkv_jetstream_api_requests_total") >= 2, "stream and consumer create");
            // every acknowledged publish went through a group commit
            assertTrue(value(after, "jetkv_store_flush_seconds_count") >= 1);
            assertTrue(value(after, "jetkv_store_flush_batch_size_sum") >= 10);
            assertTrue(value(after, "jetkv_rocksdb_memtable_bytes") > 0, "the stored messages are in the memtable");
            value(after, "jetkv_rocksdb_pending_compaction_bytes");
            value(after, "jetkv_rocksdb_block_cache_bytes");
            assertEquals(value(after, "jetkv_store_flush_seconds_count"),
                    value(after, "jetkv_store_flush_seconds_bucket{le=\"+Inf\"}"));

            for (Message m : got) {
                m.ack();
            }
            nc.flush(Duration.ofSeconds(5));
            await(() -> {
                try {
                    return scrape(port).get("jetkv_consumer_ack_pending{consumer=\"C\",stream=\"ORDERS\"}") == 0.0;
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(50); // polling to a deadline
        }
    }

    @Test
    void openMetricsWhenAsked() throws Exception {
        try (NatsServer server = NatsServer.start(MonitorIT.monitored())) {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.monitorPort() + "/metrics"))
                    .header("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8")
                    .timeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> r = MonitorIT.HTTP.send(req, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/openmetrics-text"));
            assertTrue(r.body().endsWith("# EOF\n"), r.body());
            assertTrue(r.body().contains("# TYPE jetkv_connections gauge"), r.body());
            // without JetStream the JetStream series are there, at zero
            Map<String, Double> text = scrape(server.monitorPort());
            assertEquals(0.0, value(text, "jetkv_jetstream_api_requests_total"));
            assertEquals(0.0, value(text, "jetkv_store_flush_seconds_count"));
        }
    }
}
