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
 * Fast-ingest batch publish through nats.js ({@code clients/js/fastingest.mjs}, {@code @nats-io/jetstream} 3.4.0's
 * {@code startFastIngest}, which its object store uses for batched puts): flow-acked adds, a committing last
 * message, a ping, an end-of-batch commit, and the refusal on a stream without {@code allow_batched}. Skipped where
 * {@code clients/install.sh} has not put nats.js in place.
 */
class FastBatchNatsJsIT {
    @TempDir
    Path store;

    @Test
    void natsJsFastIngest() throws Exception {
        Path js = Path.of("clients", "js").toAbsolutePath();
        assumeTrue(Files.isDirectory(js.resolve("node_modules/@nats-io/jetstream")), "nats.js not installed");
        try (NatsServer server = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)))) {
            Process p = new ProcessBuilder("node", "fastingest.mjs", server.clientUrl()).directory(js.toFile())
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes(); // ends when node exits
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node did not exit");
            String text = new String(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            assertEquals(List.of(
                    "create: allow_batched=true level=4",
                    "add: batchSeq=100 acked=true",
                    "last: batch=true count=101 seq=101",
                    "ping: batchSeq=2 ackSeq=2",
                    "end: count=2 seq=103",
                    "done: count=2",
                    "stream: messages=103 last=fi.b",
                    "disabled: true"), text.lines().toList());
        }
    }
}
