package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code max_closed_clients} (nats-server's) and JetKV's {@code console { writes }}. */
class MonitorConfigTest {
    private static ServerConfig load(String text) throws ConfigException {
        return ConfigFileParser.loadString(text, "test.conf", name -> null);
    }

    @Test
    void defaultsAndValues() throws Exception {
        MonitorConfig d = load("port: 1").monitor();
        assertEquals(10_000, d.maxClosedClients());
        assertFalse(d.consoleWrites());
        MonitorConfig m = load("max_closed_clients: 5\nconsole { writes: true }").monitor();
        assertEquals(5, m.maxClosedClients());
        assertTrue(m.consoleWrites());
    }

    @Test
    void badValuesNameTheKey() {
        assertTrue(assertThrows(ConfigException.class, () -> load("console { write: true }")).getMessage()
                .contains("unknown field \"write\""));
        assertTrue(assertThrows(ConfigException.class, () -> load("max_closed_clients: -1")).getMessage()
                .contains("max_closed_clients"));
    }
}
