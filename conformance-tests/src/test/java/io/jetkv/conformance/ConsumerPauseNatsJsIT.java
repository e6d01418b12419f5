package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer pause and resume through nats.js ({@code clients/js/pause.mjs}, {@code @nats-io/jetstream} 3.4.0, which
 * sends them whatever the server's version): its resume pauses until the epoch, which the consumer keeps as its
 * {@code pause_until} without being paused. Skipped where {@code clients/install.sh} has not put nats.js in place.
 */
class ConsumerPauseNatsJsIT {
    @TempDir
    Path store;

    @Test
    void natsJsPausesAndResumes() throws Exception {
        Path js = Path.of("clients", "js").toAbsolutePath();
        assumeTrue(Files.isDirectory(js.resolve("node_modules/@nats-io/jetstream")), "nats.js not installed");
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)))) {
            Process p = new ProcessBuilder("node", "pause.mjs", server.clientUrl()).directory(js.toFile())
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes(); // ends when node exits
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node did not exit");
            String text = new String(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            assertEquals(List.of(
                    "pause: paused=true until=true",
                    "info: paused=true remaining=true",
                    "resume: paused=false until=1970-01-01T00:00:00Z",
                    "info: paused=false config.pause_until=1970-01-01T00:00:00Z",
                    "create paused: paused=true"), text.lines().toList());
        }
    }
}
