package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code cluster {}} block and the cluster flags, as nats-server 2.9 takes them. */
class ClusterConfigTest {

    @TempDir
    Path dir;

    private Launch parse(String... args) throws ConfigException {
        return Flags.parse(name -> null, args);
    }

    private String conf(String text) throws IOException {
        Path file = dir.resolve("c.conf");
        Files.writeString(file, text);
        return file.toString();
    }

    private String error(String... args) {
        return assertThrows(ConfigException.class, () -> parse(args)).getMessage();
    }

    @Test
    void noClusterByDefault() throws Exception {
        assertFalse(parse().config().cluster().enabled());
    }

    @Test
    void fullBlock() throws Exception {
        ClusterConfig c = parse("-c", conf("""
                cluster {
                  name: C1
                  listen: 127.0.0.1:6222
                  advertise: "10.0.0.1:7222"
                  routes: [nats-route://ruser:rpass@127.0.0.1:6223, "nats://127.0.0.1:6224"]
                  authorization { user: ruser, password: rpass, timeout: 3 }
                  no_advertise: true
                  connect_retries: 5
                }
                """)).config().cluster();
        assertTrue(c.enabled());
        assertEquals("C1", c.name());
        assertEquals("127.0.0.1", c.host());
        assertEquals(6222, c.port());
        assertEquals("10.0.0.1:7222", c.advertise());
        assertEquals(List.of(URI.create("nats-route://ruser:rpass@127.0.0.1:6223"), URI.create("nats://127.0.0.1:6224")),
                c.routes());
        assertEquals("ruser", c.user());
        assertEquals("rpass", c.password());
        assertEquals(Duration.ofSeconds(3), c.authTimeout());
        assertTrue(c.noAdvertise());
        assertEquals(5, c.connectRetries());
    }

    @Test
    void hostAndPortKeysAndRandomPort() throws Exception {
        ClusterConfig c = parse("-c", conf("cluster { host: 127.0.0.1\n port: -1 }\n")).config().cluster();
        assertTrue(c.enabled());
        assertEquals("127.0.0.1", c.host());
        assertEquals(0, c.port());
        assertNull(c.name());
    }

    @Test
    void blockErrorsNameFileAndLine() throws Exception {
        String f = conf("port: 4222\ncluster {\n  listen: 127.0.0.1:6222\n  routez: []\n}\n");
        assertTrue(error("-c", f).endsWith("c.conf:4: unknown field \"routez\""), error("-c", f));
        String g = conf("cluster {\n  listen: 127.0.0.1:6222\n  routes: [\"ftp://x:1\"]\n}\n");
        assertTrue(error("-c", g).contains("c.conf:3:"), error("-c", g));
        assertTrue(error("-c", g).contains("unsupported scheme"), error("-c", g));
        String h = conf("cluster {\n  name: x\n}\n");
        assertTrue(error("-c", h).contains("a cluster needs a listen address or port"), error("-c", h));
        String i = conf("cluster {\n  port: 1\n  authorization { user: u }\n}\n");
        assertTrue(error("-c", i).contains("c.conf:3:"), error("-c", i));
    }

    @Test
    void flags() throws Exception {
        ClusterConfig c = parse("--cluster", "nats://u:p@127.0.0.1:6301", "--cluster_name", "X", "--routes",
                "nats://127.0.0.1:6302, nats-route://127.0.0.1:6303", "--cluster_advertise", "h:1", "--no_advertise",
                "--connect_retries", "2").config().cluster();
        assertTrue(c.enabled());
        assertEquals("127.0.0.1", c.host());
        assertEquals(6301, c.port());
        assertEquals("u", c.user());
        assertEquals("p", c.password());
        assertEquals("X", c.name());
        assertEquals(2, c.routes().size());
        assertEquals(6303, c.routes().get(1).getPort());
        assertEquals("h:1", c.advertise());
        assertTrue(c.noAdvertise());
        assertEquals(2, c.connectRetries());
    }

    @Test
    void flagsOverrideTheFile() throws Exception {
        ClusterConfig c = parse("-c", conf("cluster { name: A, listen: 127.0.0.1:6222 }\n"), "--cluster_name", "B",
                "--cluster", "nats://127.0.0.1:-1").config().cluster();
        assertEquals("B", c.name());
        assertEquals(0, c.port());
        assertEquals("127.0.0.1", c.host());
    }

    @Test
    void badFlagValues() {
        assertTrue(error("--cluster", "nats://u@127.0.0.1:6222").contains("not a user alone"));
        assertTrue(error("--routes", "127.0.0.1").contains("expected host:port"));
        assertTrue(error("--connect_retries", "x").contains("not a number"));
    }
}
