package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ServerConfig;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * One connection that publishes to its own subscription (issue 18): deliveries are written once per batch of reads,
 * never once per message, and every message arrives. Structural checks through the server's counters; no timing.
 */
class WriteBatchingIT {
    private static final int PAYLOAD = 128;
    // writes that answer no read: the server's first keep-alive PING (and one more if a run is very slow)
    private static final int KEEP_ALIVE_SLACK = 2;

    @Test
    void oneConnectionPubSubIsFlushedPerReadBatchNotPerMessage() throws Exception {
        int n = 5000;
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0));
                Socket raw = new Socket("127.0.0.1", server.port())) {
            raw.setSoTimeout(60_000);
            InputStream in = raw.getInputStream();
            OutputStream out = raw.getOutputStream();
            readLine(in); // INFO
            out.write("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB loop 1\r\nPING\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("PONG", readLine(in));
            long flushes0 = server.stats().outboundFlushes();
            long reads0 = server.stats().clientReadBatches();

            // all the PUBs in one write, as a client's write buffer sends them; the reader runs beside the writer
            // so that neither side's socket buffer can stall the other
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            byte[] body = new byte[PAYLOAD];
            Arrays.fill(body, (byte) 'x');
            for (int i = 0; i < n; i++) {
                wire.write(("PUB loop " + PAYLOAD + "\r\n").getBytes(StandardCharsets.US_ASCII));
                wire.write(body);
                wire.write('\r');
                wire.write('\n');
            }
            wire.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            Thread writer = new Thread(() -> {
                try {
                    out.write(wire.toByteArray());
                    out.flush();
                } catch (IOException e) {
                    // the reader below fails on the missing messages
                }
            }, "write-batching-writer");
            writer.start();

            int msgs = 0;
            String line;
            while (!(line = readLine(in)).equals("PONG")) {
                if (line.equals("PING")) {
                    // the server's first keep-alive probe, 2 s after CONNECT; one unanswered PING is harmless (and an
                    // answer from this thread could land in the middle of the writer's PUBs)
                    continue;
                }
                assertTrue(line.startsWith("MSG loop 1 " + PAYLOAD), line);
                assertEquals(PAYLOAD + 2, in.readNBytes(PAYLOAD + 2).length);
                msgs++;
            }
            writer.join(60_000);
            assertEquals(n, msgs, "every message came back before the PONG that followed them");

            long flushes = server.stats().outboundFlushes() - flushes0;
            long reads = server.stats().clientReadBatches() - reads0;
            // at most one write per read batch (per-message flushing would make it n), plus the server's own
            // keep-alive: its first PING goes out 2 s after CONNECT, whatever the client sends
            assertTrue(flushes <= reads + KEEP_ALIVE_SLACK, flushes + " flushes for " + reads + " read batches");
            assertTrue(flushes < n / 10, flushes + " flushes for " + n + " messages: deliveries are not batched");
        }
    }

    @Test
    void jnatsConnectionReceivesEverythingItPublishes() throws Exception {
        int n = 20_000;
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0));
                Connection nc = Nats.connect(Options.builder().server(server.clientUrl())
                        .connectionTimeout(Duration.ofSeconds(10)).build())) {
            AtomicInteger got = new AtomicInteger();
            CountDownLatch all = new CountDownLatch(1);
            Dispatcher d = nc.createDispatcher(m -> {
                if (got.incrementAndGet() == n) {
                    all.countDown();
                }
            });
            d.subscribe("self");
            nc.flush(Duration.ofSeconds(30));
            long flushes0 = server.stats().outboundFlushes();
            long reads0 = server.stats().clientReadBatches();
            byte[] body = new byte[PAYLOAD];
            for (int i = 0; i < n; i++) {
                nc.publish("self", body);
            }
            nc.flush(Duration.ofSeconds(60));
            assertTrue(all.await(60, TimeUnit.SECONDS), got.get() + " of " + n + " delivered");
            long flushes = server.stats().outboundFlushes() - flushes0;
            long reads = server.stats().clientReadBatches() - reads0;
            // how jnats cuts its writes is up to it; whatever it sends is answered by at most one write per read
            assertTrue(flushes <= reads + KEEP_ALIVE_SLACK, flushes + " flushes for " + reads + " read batches");
        }
    }

    /** One protocol line without its CRLF. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("EOF after " + b);
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
