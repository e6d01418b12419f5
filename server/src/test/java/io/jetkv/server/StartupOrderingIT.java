package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.AuthConfig;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.Permissions;
import io.jetkv.config.ServerConfig;
import io.jetkv.config.User;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server listens before JetStream is up; a client that connects in between is served in order once it
 * is: its {@code $JS.API} request answered, its publish to a restored stream stored and acknowledged; and
 * when JetStream cannot start, the start fails and the held connection is closed. JetStream's start is held
 * by a test hook (a latch), so "in between" is certain rather than a race.
 */
class StartupOrderingIT {
    private static final int TIMEOUT_MS = 10_000;

    @TempDir
    Path store;

    @Test
    void clientConnectedWhileJetStreamStartsIsServedOnceReady() throws Exception {
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store));
        // a first run leaves a stream on disk, so that the second has one to restore
        try (NatsServer first = NatsServer.start(config); Connection nc = connect(first)) {
            nc.jetStreamManagement().addStream(
                    StreamConfiguration.builder().name("S").subjects("s.>").storageType(StorageType.File).build());
        }

        CountDownLatch jetStreamHeld = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        NatsServer server = NatsServer.bind(config, () -> {
            jetStreamHeld.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (server; Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(TIMEOUT_MS);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            assertTrue(jetStreamHeld.await(TIMEOUT_MS, TimeUnit.MILLISECONDS));

            // served while JetStream cannot have started: the hook has not returned
            assertTrue(readLine(in).startsWith("INFO "));
            out.write(("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n"
                    + "SUB _INBOX.r.* 1\r\n"
                    + "PUB s.one _INBOX.r.ack 5\r\nhello\r\n"
                    + "PUB $JS.API.STREAM.INFO.S _INBOX.r.info 0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();

            release.countDown();
            server.awaitReady();

            // the pub ack (stream writer) and the stream info (API worker) may come in either order
            Map<String, String> replies = new HashMap<>();
            while (replies.size() < 2) {
                String line = readLine(in);
                String[] f = line.split(" ");
                assertEquals("MSG", f[0], line);
                byte[] payload = in.readNBytes(Integer.parseInt(f[f.length - 1]));
                assertEquals("", readLine(in));
                replies.put(f[1], new String(payload, StandardCharsets.UTF_8));
            }
            String ack = replies.get("_INBOX.r.ack");
            assertTrue(ack.contains("\"stream\":\"S\"") && ack.contains("\"seq\":1"), ack);
            assertTrue(replies.get("_INBOX.r.info").contains("\"name\":\"S\""), replies.toString());
            assertFalse(replies.get("_INBOX.r.info").contains("\"error\""), replies.toString());

            try (Connection nc = connect(server)) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                MessageInfo stored = jsm.getMessage("S", 1);
                assertEquals("s.one", stored.getSubject());
                assertEquals("hello", new String(stored.getData(), StandardCharsets.UTF_8));
                assertEquals(1, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            }
        } finally {
            release.countDown();
        }
    }

    @Test
    void authTimeoutStartsWhenAHeldClientCanBeHeard() throws Exception {
        Duration authTimeout = Duration.ofMillis(300);
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store))
                .withAuth(new AuthConfig(null, List.of(new User("u", "p", null)), Permissions.ALL, authTimeout));
        CountDownLatch release = new CountDownLatch(1);
        NatsServer server = NatsServer.bind(config, () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (server; Socket socket = new Socket("127.0.0.1", server.port())) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            socket.setSoTimeout(TIMEOUT_MS);
            assertTrue(readLine(in).startsWith("INFO "));
            socket.getOutputStream().write(
                    "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\"}\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            // held for three auth timeouts: the CONNECT, sent in time, cannot be read yet, and no timeout ends it
            socket.setSoTimeout((int) authTimeout.multipliedBy(3).toMillis());
            assertThrows(SocketTimeoutException.class, in::read);
            release.countDown();
            server.awaitReady();
            socket.setSoTimeout(TIMEOUT_MS);
            String line = readLine(in);
            while (line.equals("PING")) { // the server's keep-alive, when the start took its first 2 s
                line = readLine(in);
            }
            assertEquals("PONG", line);
        } finally {
            release.countDown();
        }
    }

    @Test
    void unusableStoreDirectoryFailsBeforeTheBind() throws Exception {
        Path notADirectory = Files.createFile(store.resolve("file"));
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(notADirectory));
        AtomicBoolean jetStreamStarted = new AtomicBoolean();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NatsServer.bind(config, () -> jetStreamStarted.set(true)));
        assertTrue(e.getMessage().startsWith("cannot create store directory "), e.getMessage());
        assertFalse(jetStreamStarted.get());
    }

    @Test
    void jetStreamThatCannotStartFailsTheStartAndClosesHeldClients() throws Exception {
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store));
        // another server holds the store's lock, so this one's RocksDB open fails
        NatsServer owner = NatsServer.start(config);
        CountDownLatch release = new CountDownLatch(1);
        NatsServer server = NatsServer.bind(config, () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (server; Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(TIMEOUT_MS);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            assertTrue(readLine(in).startsWith("INFO "));
            release.countDown();
            assertThrows(RuntimeException.class, server::awaitReady);
            int next;
            try {
                next = in.read();
            } catch (SocketException reset) {
                next = -1;
            }
            assertEquals(-1, next, "the held connection is closed with the server");
            assertThrows(IOException.class, () -> new Socket("127.0.0.1", server.port()).close());
        } finally {
            release.countDown();
            owner.close();
        }
    }

    /** A cold server on a loaded machine may take more than jnats' default 2 s to answer the first CONNECT. */
    private static Connection connect(NatsServer server) throws Exception {
        return Nats.connect(Options.builder().server(server.clientUrl())
                .connectionTimeout(Duration.ofMillis(TIMEOUT_MS)).build());
    }

    /** One CRLF-terminated line, without the CRLF. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after " + line);
            }
            if (prev == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.US_ASCII);
            }
            line.write(b);
            prev = b;
        }
    }
}
