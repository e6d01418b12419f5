package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code tls { }} block, {@code allow_non_tls} and the {@code --tls*} flags. */
class TlsConfigTest {
    private static ServerConfig load(String text) throws ConfigException {
        return ConfigFileParser.loadString(text, "test.conf", name -> null);
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> load(text)).getMessage();
    }

    @Test
    void offByDefault() {
        assertFalse(ServerConfig.defaults().tls().enabled());
    }

    @Test
    void everyKey() throws Exception {
        TlsConfig t = load("""
                tls {
                  cert_file: "/c/server.pem"
                  key_file: "/c/server-key.pem"
                  ca_file: "/c/ca.pem"
                  verify_and_map: true
                  timeout: 0.5
                  handshake_first: true
                  min_version: "1.3"
                  cipher_suites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"]
                  curve_preferences: [CurveP256, X25519]
                  pinned_certs: ["ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"]
                }
                allow_non_tls: true
                """).tls();
        assertTrue(t.enabled());
        assertEquals(Path.of("/c/server.pem"), t.certFile());
        assertEquals(Path.of("/c/server-key.pem"), t.keyFile());
        assertEquals(Path.of("/c/ca.pem"), t.caFile());
        assertTrue(t.verify(), "verify_and_map implies verify");
        assertTrue(t.verifyAndMap());
        assertEquals(Duration.ofMillis(500), t.timeout());
        assertTrue(t.handshakeFirst());
        assertEquals("1.3", t.minVersion());
        assertEquals(List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"),
                t.cipherSuites());
        assertEquals(List.of("CurveP256", "X25519"), t.curvePreferences());
        assertEquals(List.of("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"), t.pinnedCerts());
        assertTrue(t.allowNonTls());
    }

    @Test
    void defaultsInsideTheBlock() throws Exception {
        TlsConfig t = load("tls { cert_file: a.pem, key_file: b.pem }").tls();
        assertEquals(Duration.ofSeconds(2), t.timeout());
        assertFalse(t.verify());
        assertNull(t.caFile());
        assertEquals("1.2", t.minVersion());
        assertFalse(t.allowNonTls());
    }

    @Test
    void badBlocksNameTheirProblem() {
        assertTrue(error("tls { key_file: b.pem }").contains("missing 'cert_file' in TLS configuration"));
        assertTrue(error("tls { cert_file: a.pem }").contains("missing 'key_file' in TLS configuration"));
        assertTrue(error("tls { cert_file: a, key_file: b, verfy: true }").contains("unknown field \"verfy\""));
        assertTrue(error("tls { cert_file: a, key_file: b, cipher_suites: [TLS_FOO] }")
                .contains("unrecognized cipher suite \"TLS_FOO\""));
        assertTrue(error("tls { cert_file: a, key_file: b, cipher_suites: [TLS_AES_128_GCM_SHA256] }")
                .contains("TLS 1.3"));
        assertTrue(error("tls { cert_file: a, key_file: b, cipher_suites: [] }").contains("non-empty list"));
        assertTrue(error("tls { cert_file: a, key_file: b, curve_preferences: [P999] }")
                .contains("unrecognized curve preference"));
        assertTrue(error("tls { cert_file: a, key_file: b, min_version: \"1.1\" }").contains("min_version"));
        assertTrue(error("tls { cert_file: a, key_file: b, pinned_certs: [abc] }").contains("pinned_certs"));
        assertTrue(error("tls { cert_file: a, key_file: b, handshake_first: auto }").contains("handshake_first"));
    }

    @Test
    void flagsTurnTlsOn() throws Exception {
        TlsConfig t = Flags.parse(n -> null, "--tls", "--tlscert", "s.pem", "--tlskey", "k.pem").config().tls();
        assertTrue(t.enabled());
        assertFalse(t.verify());
        assertEquals(Path.of("s.pem"), t.certFile());
        t = Flags.parse(n -> null, "--tlsverify", "--tlscert", "s.pem", "--tlskey", "k.pem", "--tlscacert", "ca.pem")
                .config().tls();
        assertTrue(t.enabled());
        assertTrue(t.verify());
        assertEquals(Path.of("ca.pem"), t.caFile());
        // the files alone do not turn TLS on, as nats-server
        assertFalse(Flags.parse(n -> null, "--tlscert", "s.pem", "--tlskey", "k.pem").config().tls().enabled());
        assertEquals("TLS Server certificate must be present and valid",
                assertThrows(ConfigException.class, () -> Flags.parse(n -> null, "--tls")).getMessage());
        assertEquals("TLS Server private key must be present and valid", assertThrows(ConfigException.class,
                () -> Flags.parse(n -> null, "--tls", "--tlscert", "s.pem")).getMessage());
    }

    @Test
    void httpsPortServesMonitoringWithTheTlsCertificate() throws Exception {
        ServerConfig c = load("https_port: 8443\ntls { cert_file: a.pem, key_file: b.pem }");
        assertTrue(c.httpsMonitor());
        assertEquals(8443, c.httpPort());
        assertTrue(error("https_port: 8443").contains("https_port needs a tls"));
        ServerConfig f = Flags.parse(n -> null, "-ms", "-1", "--tls", "--tlscert", "a.pem", "--tlskey", "b.pem")
                .config();
        assertTrue(f.httpsMonitor());
        assertEquals(-1, f.httpPort());
    }
}
