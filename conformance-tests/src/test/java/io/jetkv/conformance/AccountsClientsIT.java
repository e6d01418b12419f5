package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * nats.js with accounts ({@code clients/js/accounts.mjs}): a KV bucket of the same name in two accounts, a service
 * import and a stream import, against JetKV and nats-server with the same config. Needs node and the packages
 * {@code clients/install.sh} installs.
 */
class AccountsClientsIT {
    private static final Path JS = Path.of("clients", "js");
    private static final String CONFIG = """
            jetstream { store_dir: "%s" }
            accounts {
              A: { users: [ {user: a, password: a} ], jetstream: enabled
                   exports: [ {service: "svc.>"}, {stream: "feed.>"} ] }
              B: { users: [ {user: b, password: b} ], jetstream: enabled
                   imports: [ {service: {account: A, subject: "svc.>"}, to: "a.svc.>"},
                              {stream: {account: A, subject: "feed.>"}, prefix: froma} ] }
            }
            """;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void natsJsInAccounts(String target) throws Exception {
        assumeTrue(Files.isDirectory(JS.resolve("node_modules/@nats-io/kv")),
                "nats.js is not installed (clients/install.sh)");
        Path conf = dir.resolve("accounts.conf");
        Files.writeString(conf, CONFIG.formatted(dir.resolve("store")), StandardCharsets.UTF_8);
        AutoCloseable server;
        int port;
        if (target.equals("jetkv")) {
            NatsServer s = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
            server = s;
            port = s.port();
        } else {
            assumeTrue(ReferenceServer.available(), "nats-server is not installed");
            ReferenceServer r = ReferenceServer.start("-c", conf.toString());
            server = r;
            port = r.port();
        }
        try (server) {
            ProcessBuilder pb = new ProcessBuilder("node", "accounts.mjs").directory(JS.toFile())
                    .redirectErrorStream(true);
            pb.environment().put("NATS_URL", "nats://127.0.0.1:" + port);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            assertEquals("own buckets: ok\naccount info: ok\nservice import: ok\nstream import: ok\n", out, target);
            assertEquals(0, p.exitValue(), out);
        }
    }
}
