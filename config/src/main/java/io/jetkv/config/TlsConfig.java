package io.jetkv.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A {@code tls { }} block (and the flags {@code --tls --tlscert --tlskey --tlscacert --tlsverify}): the
 * server's certificate, and how clients' certificates are checked. Immutable.
 *
 * @param certFile         PEM certificate chain; null when TLS is off
 * @param keyFile          PEM private key of {@code certFile}
 * @param caFile           PEM CAs that client certificates must chain to; null for the system's roots
 * @param verify           clients must present a certificate that verifies ({@code verify} or
 *                         {@code verify_and_map})
 * @param verifyAndMap     the client certificate's e-mail, DNS or URI name, or its subject, names the user
 * @param timeout          how long a client may take to complete the handshake
 * @param handshakeFirst   TLS starts at once, and INFO is the first TLS record (nats-server 2.10.4+)
 * @param minVersion       lowest TLS version, {@code "1.2"} or {@code "1.3"}
 * @param cipherSuites     TLS 1.2 cipher suites by their IANA (Go) names; empty for the defaults
 * @param curvePreferences key exchange groups by their Go names ({@code CurveP256}, {@code X25519}, ...);
 *                         empty for the defaults
 * @param pinnedCerts      hex SHA-256 of the client certificates' public keys that are accepted; empty for any
 * @param allowNonTls      top-level {@code allow_non_tls}: plaintext clients are served on the same port
 */
public record TlsConfig(
        Path certFile,
        Path keyFile,
        Path caFile,
        boolean verify,
        boolean verifyAndMap,
        Duration timeout,
        boolean handshakeFirst,
        String minVersion,
        List<String> cipherSuites,
        List<String> curvePreferences,
        List<String> pinnedCerts,
        boolean allowNonTls) {

    /** nats-server's {@code TLS_TIMEOUT}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    public static final TlsConfig NONE = new TlsConfig(null, null, null, false, false, DEFAULT_TIMEOUT, false, "1.2",
            List.of(), List.of(), List.of(), false);

    public TlsConfig {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(minVersion, "minVersion");
        cipherSuites = List.copyOf(cipherSuites);
        curvePreferences = List.copyOf(curvePreferences);
        pinnedCerts = List.copyOf(pinnedCerts);
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException(certFile == null ? "missing 'cert_file' in TLS configuration"
                    : "missing 'key_file' in TLS configuration");
        }
        if (!minVersion.equals("1.2") && !minVersion.equals("1.3")) {
            throw new IllegalArgumentException("unsupported TLS min_version \"" + minVersion + "\"");
        }
        if (verifyAndMap) {
            verify = true;
        }
    }

    /** True when the server has a certificate: clients connect over TLS. */
    public boolean enabled() {
        return certFile != null;
    }

    /** This configuration, keeping everything but the certificate files (the {@code --tls*} flags). */
    public TlsConfig withFiles(Path cert, Path key, Path ca) {
        return new TlsConfig(cert, key, ca, verify, verifyAndMap, timeout, handshakeFirst, minVersion, cipherSuites,
                curvePreferences, pinnedCerts, allowNonTls);
    }

    public TlsConfig withVerify(boolean v) {
        return new TlsConfig(certFile, keyFile, caFile, v, verifyAndMap && v, timeout, handshakeFirst, minVersion,
                cipherSuites, curvePreferences, pinnedCerts, allowNonTls);
    }

    /** This configuration with another handshake timeout and {@code pinned_certs}. */
    public TlsConfig withTimeoutAndPins(Duration newTimeout, List<String> newPins) {
        return new TlsConfig(certFile, keyFile, caFile, verify, verifyAndMap, newTimeout, handshakeFirst, minVersion,
                cipherSuites, curvePreferences, newPins, allowNonTls);
    }

    public TlsConfig withAllowNonTls(boolean v) {
        return new TlsConfig(certFile, keyFile, caFile, verify, verifyAndMap, timeout, handshakeFirst, minVersion,
                cipherSuites, curvePreferences, pinnedCerts, v);
    }
}
