package io.jetkv.conformance;

import io.jetkv.server.testing.ReferenceServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keep-alive (stale connections), slow consumers and connection limits (nats.docs "Client Protocol",
 * "Slow Consumers"), with the same config file given to JetKV and, where installed, nats-server.
 */
class KeepAliveAndLimitsIT {
    @TempDir
    Path dir;

    private Path conf(String text) throws IOException {
        Path p = dir.resolve("server.conf");
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void silentClientIsPingedThenDroppedAsStale() throws Exception {
        Path conf = conf("ping_interval: \"300ms\"\nping_max: 2\n");
        String expected = "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n<EOF>";
        try (NatsServer server = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
                RawClient c = new RawClient(server.port())) {
            c.send("CONNECT {\"verbose\":false}\r\n");
            assertEquals(expected, c.readToClose());
        }
        if (ReferenceServer.available()) {
            try (ReferenceServer ref = ReferenceServer.start("-c", conf.toString());
                    RawClient c = new RawClient(ref.port())) {
                c.send("CONNECT {\"verbose\":false}\r\n");
                assertEquals(expected, c.readToClose(), "nats-server");
            }
        }
    }

    /**
     * Whatever ping_interval says (two minutes by default), nats-server pings a client about 2 s (plus up to
     * 20%) after its CONNECT to measure the round trip; test harnesses such as jnats-server-runner wait for
     * that second line after INFO. The PING must come even though the client has just been active.
     */
    @Test
    void firstPingComesSoonAfterConnect() throws Exception {
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0))) {
            assertFirstPing(server.port(), "jetkv");
        }
        if (ReferenceServer.available()) {
            try (ReferenceServer ref = ReferenceServer.start()) {
                assertFirstPing(ref.port(), "nats-server");
            }
        }
    }

    private static void assertFirstPing(int port, String who) throws IOException {
        try (RawClient c = new RawClient(port)) {
            // the deadline: the PING is due by 2.4 s; a loaded machine gets some slack on top
            c.readTimeout(6000);
            long start = System.nanoTime();
            c.send("CONNECT {\"verbose\":false}\r\nPING\r\n");
            assertEquals("PONG\r\n", c.readLine(), who);
            assertEquals("PING\r\n", c.readLine(), who);
            long millis = (System.nanoTime() - start) / 1_000_000;
            // not sent on CONNECT itself: it comes from the first-ping timer
            assertTrue(millis >= 1500, who + ": first PING after only " + millis + " ms");
            c.send("PONG\r\nPING\r\n");
            assertEquals("PONG\r\n", c.readLine(), who);
        }
    }

    @Test
    void clientAnsweringPingsStaysConnected() throws Exception {
        ServerConfig config = ConfigFileParser.load(conf("ping_interval: \"200ms\"\nping_max: 1\n"))
                .withHost("127.0.0.1").withPort(0);
        try (NatsServer server = NatsServer.start(config); RawClient c = new RawClient(server.port())) {
            c.send("CONNECT {\"verbose\":false}\r\n");
            for (int i = 0; i < 4; i++) {
                assertEquals("PING\r\n", c.readLine());
                c.send("PONG\r\n");
            }
            c.send("PING\r\n");
            assertTrue(c.readUntil("PONG\r\n").endsWith("PONG\r\n"));
        }
    }

    @Test
    void slowConsumerIsDisconnectedAndPublisherIsNot() throws Exception {
        ServerConfig config = ConfigFileParser.load(conf("max_pending: 256KB\nmax_payload: 64KB\n")).withHost("127.0.0.1").withPort(0);
        try (NatsServer server = NatsServer.start(config);
                Socket slow = new Socket("127.0.0.1", server.port());
                RawClient publisher = new RawClient(server.port())) {
            slow.setSoTimeout(10_000);
            OutputStream out = slow.getOutputStream();
            out.write("CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = slow.getInputStream();
            readUntil(in, "PONG\r\n");
            // the subscriber stops reading; the publisher sends far more than max_pending plus the kernel's
            // socket buffers (a few MB each way on loopback)
            String payload = "x".repeat(1000);
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 100; i++) {
                batch.append("PUB flood 1000\r\n").append(payload).append("\r\n");
            }
            publisher.send("CONNECT {\"verbose\":false}\r\n");
            for (int i = 0; i < 300; i++) {
                publisher.send(batch.toString());
            }
            publisher.send("PING\r\n");
            assertTrue(publisher.readUntil("PONG\r\n").endsWith("PONG\r\n"), "publisher unaffected");
            // draining the slow socket now ends in EOF: the server closed it rather than buffering 30 MB
            long received = 0;
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) >= 0) {
                received += n;
            }
            assertTrue(received < 30_000_000L, "dropped before everything was queued: " + received);
        }
    }

    /**
     * nats-server's {@code write_deadline}: a client whose socket takes nothing for that long is cut off as a slow
     * consumer, even though far less than {@code max_pending} is queued for it.
     */
    @Test
    void clientThatStopsReadingIsCutOffAtTheWriteDeadline() throws Exception {
        ServerConfig config = ConfigFileParser.load(conf("write_deadline: \"500ms\"\nmax_pending: 512MB\nhttp_port: -1\n"))
                .withHost("127.0.0.1").withPort(0);
        try (NatsServer server = NatsServer.start(config);
                Socket slow = new Socket();
                RawClient publisher = new RawClient(server.port())) {
            slow.setReceiveBufferSize(8192);
            slow.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()));
            slow.setSoTimeout(30_000);
            OutputStream out = slow.getOutputStream();
            out.write("CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = slow.getInputStream();
            readUntil(in, "PONG\r\n");
            String payload = "x".repeat(1000);
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 100; i++) {
                batch.append("PUB flood 1000\r\n").append(payload).append("\r\n");
            }
            publisher.send("CONNECT {\"verbose\":false}\r\n");
            for (int i = 0; i < 100; i++) { // 10 MB: more than the sockets buffer, far below max_pending
                publisher.send(batch.toString());
            }
            publisher.send("PING\r\n");
            assertTrue(publisher.readUntil("PONG\r\n").endsWith("PONG\r\n"), "publisher unaffected");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (slowConsumers(server.monitorPort()) == 0) {
                assertTrue(System.nanoTime() < deadline, "no slow consumer reported in /varz");
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L); // between polls of /varz
            }
            // the server closed it: draining the socket ends in EOF before the 10 MB
            long received = 0;
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) >= 0) {
                received += n;
            }
            assertTrue(received < 10_000_000L, "cut off before everything was written: " + received);
        }
    }

    private static long slowConsumers(int monitorPort) throws IOException, InterruptedException {
        var http = java.net.http.HttpClient.newHttpClient();
        var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + monitorPort + "/varz"))
                .build();
        String body = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        var m = java.util.regex.Pattern.compile("\"slow_consumers\"\\s*:\\s*(\\d+)").matcher(body);
        assertTrue(m.find(), "no slow_consumers in " + body);
        return Long.parseLong(m.group(1));
    }

    @Test
    void connectionsOverTheLimitAreRefused() throws Exception {
        ServerConfig config = ConfigFileParser.load(conf("max_connections: 1\n")).withHost("127.0.0.1").withPort(0);
        try (NatsServer server = NatsServer.start(config); RawClient first = new RawClient(server.port())) {
            first.send("CONNECT {\"verbose\":false}\r\nPING\r\n");
            assertEquals("PONG\r\n", first.readUntil("PONG\r\n"));
            try (RawClient second = new RawClient(server.port())) {
                assertEquals("-ERR 'maximum connections exceeded'\r\n<EOF>", second.readToClose());
            }
        }
    }

    private static void readUntil(InputStream in, String marker) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (sb.indexOf(marker) < 0) {
            int c;
            try {
                c = in.read();
            } catch (SocketTimeoutException e) {
                throw new IOException("no " + marker.strip() + ": " + sb, e);
            }
            if (c < 0) {
                throw new IOException("closed: " + sb);
            }
            sb.append((char) c);
        }
    }
}
