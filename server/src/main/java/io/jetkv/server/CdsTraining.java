package io.jetkv.server;

import io.jetkv.config.Flags;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A short training run for the launcher's class-data-sharing archive: starts a server with JetStream in a
 * temporary directory, drives the common paths (handshake, pub/sub, a stream create and a stored publish)
 * over a raw socket, then exits. Run by {@code ./jetkv} once per build under
 * {@code -XX:ArchiveClassesAtExit}, so later starts load these classes from the archive.
 */
public final class CdsTraining {
    private CdsTraining() {}

    public static void main(String[] args) throws Exception {
        // as Main sets it, so that the archive holds what a real start loads and not Netty's JFR events
        System.setProperty("io.netty.jfr.enabled", "false");
        Flags.parse("-js", "-p", "-1", "-a", "127.0.0.1");
        Path dir = Files.createTempDirectory("jetkv-cds");
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(dir));
        try (NatsServer server = NatsServer.start(config);
                Socket socket = new Socket("127.0.0.1", server.port())) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            readUntil(in, "\r\n");
            String create = "{\"name\":\"T\",\"subjects\":[\"t.>\"],\"storage\":\"file\"}";
            out.write(("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                    + "SUB _INBOX.t.* 1\r\nSUB a.> 2\r\nPUB a.b 2\r\nhi\r\n"
                    + "PUB $JS.API.STREAM.CREATE.T _INBOX.t.1 " + create.length() + "\r\n" + create + "\r\n"
                    + "PING\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            readUntil(in, "PONG\r\n");
            readUntil(in, "\"type\"");
            out.write(("HPUB t.x _INBOX.t.2 18 20\r\nNATS/1.0\r\nA: B\r\n\r\nok\r\nPUB $JS.API.STREAM.INFO.T _INBOX.t.3 0\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            readUntil(in, "io.nats.jetstream.api.v1.stream_info_response");
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(0);
    }

    private static void readUntil(InputStream in, String marker) throws IOException {
        StringBuilder seen = new StringBuilder();
        byte[] buf = new byte[4096];
        while (seen.indexOf(marker) < 0) {
            int n = in.read(buf);
            if (n < 0) {
                throw new IOException("closed before " + marker + ": " + seen);
            }
            seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
    }
}
