package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ServerConfig;
import io.jetkv.config.TlsConfig;
import io.jetkv.config.WebSocketConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which TLS changes a reload takes and how it reports them, in nats-server's words. */
class ConfigReloadTest {
    private static final TlsConfig A = TlsConfig.NONE.withFiles(Path.of("/a-cert.pem"), Path.of("/a-key.pem"), null);
    private static final ServerConfig BASE = ServerConfig.defaults().withTls(A);

    private static WebSocketConfig ws(TlsConfig tls) {
        return new WebSocketConfig(true, null, 0, !tls.enabled(), false, false, List.of(),
                WebSocketConfig.DEFAULT_HANDSHAKE_TIMEOUT, null, tls);
    }

    @Test
    void unchangedTlsReportsNothingUnlessItsFilesChanged() throws Exception {
        assertEquals(List.of(), ConfigReload.changes(BASE, BASE));
        assertEquals(List.of("tls = enabled"), ConfigReload.changes(BASE, BASE, true, false));
    }

    @Test
    void serverTagsReload() throws Exception {
        ServerConfig tagged = BASE.toBuilder().serverTags(List.of("az1")).build();
        assertEquals(List.of("tags"), ConfigReload.changes(BASE, tagged));
        assertEquals(List.of("tags"), ConfigReload.changes(tagged, BASE.toBuilder().serverTags(List.of("az2")).build()));
        assertEquals(List.of(), ConfigReload.changes(tagged, tagged));
    }

    @Test
    void certificatesVerifyTimeoutAndPinsReload() throws Exception {
        TlsConfig other = A.withFiles(Path.of("/b-cert.pem"), Path.of("/b-key.pem"), Path.of("/ca.pem"));
        assertEquals(List.of("tls = enabled"), ConfigReload.changes(BASE, BASE.withTls(other)));
        assertEquals(List.of("tls = enabled"), ConfigReload.changes(BASE, BASE.withTls(A.withVerify(true))));
        assertEquals(List.of("tls timeout = 3"), ConfigReload.changes(BASE,
                BASE.withTls(A.withTimeoutAndPins(Duration.ofSeconds(3), List.of()))));
        assertEquals(List.of("1 pinned_certs"), ConfigReload.changes(BASE,
                BASE.withTls(A.withTimeoutAndPins(A.timeout(), List.of("ab".repeat(32))))));
        assertEquals(List.of("tls = disabled"), ConfigReload.changes(BASE, BASE.withTls(TlsConfig.NONE)));
        assertEquals(List.of("tls = enabled"), ConfigReload.changes(BASE.withTls(TlsConfig.NONE), BASE));
    }

    @Test
    void mappingAllowNonTlsAndHandshakeFirstNeedARestart() {
        assertEquals("config reload not supported for TLSMap: old=false, new=true",
                assertThrows(ConfigReload.NotReloadable.class, () -> ConfigReload.changes(BASE,
                        BASE.withTls(new TlsConfig(A.certFile(), A.keyFile(), null, true, true, A.timeout(), false,
                                "1.2", List.of(), List.of(), List.of(), false)))).getMessage());
        assertEquals("config reload not supported for AllowNonTLS: old=false, new=true",
                assertThrows(ConfigReload.NotReloadable.class,
                        () -> ConfigReload.changes(BASE, BASE.withTls(A.withAllowNonTls(true)))).getMessage());
    }

    @Test
    void websocketReloadsItsCertificateOnly() throws Exception {
        ServerConfig wss = BASE.withWebSocket(ws(A));
        TlsConfig b = A.withFiles(Path.of("/b-cert.pem"), Path.of("/b-key.pem"), null);
        // as nats-server: a websocket certificate change is taken without a Reloaded line of its own
        assertEquals(List.of(), ConfigReload.changes(wss, BASE.withWebSocket(ws(b))));
        assertTrue(assertThrows(ConfigReload.NotReloadable.class,
                () -> ConfigReload.changes(wss, BASE.withWebSocket(ws(TlsConfig.NONE)))).getMessage()
                .startsWith("config reload not supported for Websocket"));
        WebSocketConfig moved = new WebSocketConfig(true, null, 1234, false, false, false, List.of(),
                WebSocketConfig.DEFAULT_HANDSHAKE_TIMEOUT, null, A);
        assertTrue(assertThrows(ConfigReload.NotReloadable.class,
                () -> ConfigReload.changes(wss, BASE.withWebSocket(moved))).getMessage()
                .startsWith("config reload not supported for Websocket"));
    }
}
