package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.TestPki;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code https_port}: the monitoring endpoints over HTTPS with the client port's certificate. */
class HttpsMonitorIT {
    @Test
    void monitoringOverHttps(@TempDir Path dir) throws Exception {
        TestPki ca = new TestPki(dir, "mon");
        TestPki.Issued cert = ca.server("server");
        Path conf = dir.resolve("https.conf");
        Files.writeString(conf, """
                https_port: -1
                tls { cert_file: "%s", key_file: "%s" }
                """.formatted(cert.certFile(), cert.keyFile()));
        try (NatsServer server = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0))) {
            HttpClient https = HttpClient.newBuilder().sslContext(ca.trustingContext())
                    .connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> health = https.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + server.monitorPort() + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals("{\"status\":\"ok\"}", health.body());
            String varz = https.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + server.monitorPort() + "/varz")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(varz.contains("\"https_port\": -1") && varz.contains("\"http_port\": 0"), varz);
            assertTrue(varz.contains("\"tls_required\": true"), varz);
            // plain HTTP on the HTTPS port gets no answer
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            assertThrows(IOException.class, () -> plain.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.monitorPort() + "/healthz"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
        }
    }
}
