package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.jetkv.server.testing.TestPki;
import io.nats.client.NKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * nats.js over TLS and with an nkey user ({@code clients/js/security.mjs}), and over {@code wss://}
 * ({@code clients/js/wss.mjs}), against JetKV and nats-server with the same certificates and keys. Needs node
 * and the packages {@code clients/install.sh} installs.
 */
class SecurityClientsIT {
    private static final Path JS = Path.of("clients", "js");

    @TempDir
    Path dir;
    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
    }

    private int start(String target, Path conf) throws Exception {
        if (target.equals("jetkv")) {
            NatsServer s = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
            started.add(s);
            return s.port();
        }
        assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        ReferenceServer r = ReferenceServer.start("-c", conf.toString());
        started.add(r);
        return r.port();
    }

    /** Runs {@code script} with node and {@code env}; returns its output once it exited with status 0. */
    private static String node(String script, Map<String, String> env, String... flags) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("node"));
        cmd.addAll(List.of(flags));
        cmd.add(script);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(JS.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void natsJsOverTlsAndWithAnNkey(String target) throws Exception {
        assumeTrue(Files.isDirectory(JS.resolve("node_modules/@nats-io/transport-node")),
                "nats.js is not installed (clients/install.sh)");
        TestPki ca = new TestPki(dir, "js");
        TestPki.Issued cert = ca.server("server");
        NKey user = NKey.createUser(new SecureRandom());
        Path tlsConf = dir.resolve("tls.conf");
        Files.writeString(tlsConf, "tls { cert_file: \"%s\", key_file: \"%s\" }\n"
                .formatted(cert.certFile(), cert.keyFile()));
        Path nkeyConf = dir.resolve("nkey.conf");
        Files.writeString(nkeyConf, "authorization { users: [ {nkey: %s} ] }\n".formatted(new String(user.getPublicKey())));
        int tlsPort = start(target, tlsConf);
        int nkeyPort = start(target, nkeyConf);

        ProcessBuilder pb = new ProcessBuilder("node", "security.mjs").directory(JS.toFile()).redirectErrorStream(true);
        pb.environment().put("TLS_URL", "tls://127.0.0.1:" + tlsPort);
        pb.environment().put("CA_FILE", ca.caFile().toString());
        pb.environment().put("NKEY_URL", "nats://127.0.0.1:" + nkeyPort);
        pb.environment().put("NKEY_SEED", new String(user.getSeed()));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        assertEquals("tls: ok\nnkey: ok\nno credentials: refused\n", out, target);
        assertEquals(0, p.exitValue(), out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void natsJsOverWss(String target) throws Exception {
        assumeTrue(Files.isDirectory(JS.resolve("node_modules/@nats-io/nats-core")),
                "nats.js is not installed (clients/install.sh)");
        TestPki ca = new TestPki(dir, "wss");
        TestPki.Issued cert = ca.server("wss-server");
        Path conf = dir.resolve("wss.conf");
        Files.writeString(conf, "websocket { listen: \"127.0.0.1:-1\", tls { cert_file: \"%s\", key_file: \"%s\" } }\n"
                .formatted(cert.certFile(), cert.keyFile()));
        int wsPort;
        if (target.equals("jetkv")) {
            NatsServer s = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
            started.add(s);
            wsPort = s.websocketPort();
        } else {
            assumeTrue(ReferenceServer.available(), "nats-server is not installed");
            ReferenceServer r = ReferenceServer.start("-c", conf.toString());
            started.add(r);
            wsPort = r.websocketPort();
        }
        // node 20 has the browser's WebSocket (which wsconnect uses) behind a flag; node 22 has it on
        boolean builtIn = new ProcessBuilder("node", "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)")
                .start().waitFor() == 0;
        String[] flags = builtIn ? new String[0] : new String[] {"--experimental-websocket"};
        String out = node("wss.mjs", Map.of("WSS_URL", "wss://127.0.0.1:" + wsPort,
                "NODE_EXTRA_CA_CERTS", ca.caFile().toString()), flags);
        // node may add a warning about the experimental WebSocket; the script fails with status 1 on any error
        assertTrue(out.lines().anyMatch("wss: ok"::equals), target + ": " + out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void natsJsWithTheWebSocketBlocksUser(String target) throws Exception {
        assumeTrue(Files.isDirectory(JS.resolve("node_modules/@nats-io/nats-core")),
                "nats.js is not installed (clients/install.sh)");
        // the client port is open; the websocket block's authorization asks its clients for a user of its own
        Path conf = dir.resolve("wsauth.conf");
        Files.writeString(conf, "websocket { listen: \"127.0.0.1:-1\", no_tls: true, "
                + "authorization { user: web, password: s3cret } }\n");
        int wsPort;
        if (target.equals("jetkv")) {
            NatsServer s = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
            started.add(s);
            wsPort = s.websocketPort();
        } else {
            assumeTrue(ReferenceServer.available(), "nats-server is not installed");
            ReferenceServer r = ReferenceServer.start("-c", conf.toString());
            started.add(r);
            wsPort = r.websocketPort();
        }
        boolean builtIn = new ProcessBuilder("node", "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)")
                .start().waitFor() == 0;
        String[] flags = builtIn ? new String[0] : new String[] {"--experimental-websocket"};
        String out = node("wsauth.mjs", Map.of("WS_URL", "ws://127.0.0.1:" + wsPort, "WS_USER", "web",
                "WS_PASS", "s3cret"), flags);
        assertEquals(List.of("no credentials: refused", "wrong password: refused", "user: ok"),
                out.lines().filter(l -> l.endsWith(": refused") || l.endsWith(": ok")).toList(), target + ": " + out);
    }
}
