package io.jetkv.server;

import io.jetkv.config.AuthConfig;
import io.jetkv.config.NKeys;
import io.jetkv.config.NkeyUser;
import io.jetkv.config.Permissions;
import io.jetkv.config.User;
import io.jetkv.server.tls.CertIdentity;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a client's credentials against the {@code authorization} configuration and returns the
 * permissions the client gets. Pure; safe from any thread.
 */
final class Authenticator {
    private final AuthConfig auth;
    private final boolean verifyAndMap;
    private final List<String> userNames = new ArrayList<>();

    Authenticator(AuthConfig auth, boolean verifyAndMap) {
        this.auth = auth;
        this.verifyAndMap = verifyAndMap;
        for (User u : auth.users()) {
            userNames.add(u.name());
        }
    }

    boolean required() {
        return auth.required();
    }

    /** True when nkey users are configured: every INFO then carries a nonce for them to sign. */
    boolean wantsNonce() {
        return !auth.nkeys().isEmpty();
    }

    /**
     * The permissions granted, or null when the credentials are refused.
     *
     * @param cert  the client's TLS certificate, or null; with {@code verify_and_map} it names the user
     * @param nonce the nonce this connection's INFO carried, or null
     */
    Permissions authenticate(ConnectOptions c, X509Certificate cert, String nonce) {
        if (!auth.required()) {
            return Permissions.ALL;
        }
        if (c.nkey() != null && !auth.nkeys().isEmpty()) {
            // as nats-server: a client naming an nkey is judged by it alone
            for (NkeyUser u : auth.nkeys()) {
                if (u.publicKey().equals(c.nkey())) {
                    return nonce != null && Ed25519.verify(NKeys.publicKey(u.publicKey(), NKeys.PREFIX_USER),
                            nonce.getBytes(StandardCharsets.US_ASCII), c.sig())
                            ? (u.permissions() != null ? u.permissions() : auth.defaultPermissions()) : null;
                }
            }
            return null;
        }
        if (auth.token() != null && c.authToken() != null && constantTimeEquals(auth.token(), c.authToken())) {
            return auth.defaultPermissions();
        }
        if (verifyAndMap && !auth.users().isEmpty()) {
            // the certificate names the user and CONNECT's user is ignored; as nats-server, a password that
            // CONNECT carries must still be the mapped user's (none when the user has none)
            String name = CertIdentity.mapToUser(cert, userNames, n -> find(n) != null);
            User u = name == null ? null : find(name);
            return u != null && passwordMatches(u.password(), c.pass()) ? granted(u) : null;
        }
        if (c.user() != null) {
            User u = find(c.user());
            if (u != null && passwordMatches(u.password(), c.pass())) {
                return granted(u);
            }
        }
        return null;
    }

    private User find(String name) {
        for (User u : auth.users()) {
            if (u.name().equals(name)) {
                return u;
            }
        }
        return null;
    }

    private Permissions granted(User u) {
        return u.permissions() != null ? u.permissions() : auth.defaultPermissions();
    }

    /** A user configured without a password is named without one, as nats-server compares "" with "". */
    private static boolean passwordMatches(String configured, String given) {
        if (configured == null || configured.isEmpty()) {
            return given == null || given.isEmpty();
        }
        if (given == null) {
            return false;
        }
        if (configured.startsWith("$2")) {
            return org.mindrot.jbcrypt.BCrypt.checkpw(given, configured);
        }
        return constantTimeEquals(configured, given);
    }

    private static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
