package io.jetkv.server;

import io.jetkv.config.AuthConfig;
import io.jetkv.config.Permissions;
import io.jetkv.config.User;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Checks a client's credentials against the {@code authorization} configuration and returns the
 * permissions the client gets. Pure; safe from any thread.
 */
final class Authenticator {
    private final AuthConfig auth;

    Authenticator(AuthConfig auth) {
        this.auth = auth;
    }

    boolean required() {
        return auth.required();
    }

    /** Whether {@code name} is one of the configured users. */
    boolean hasUser(String name) {
        for (User u : auth.users()) {
            if (u.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the client's user belongs to {@code systemAccount} (null: there is none). */
    boolean isSystemUser(ConnectOptions c, String systemAccount) {
        if (systemAccount == null || c.user() == null) {
            return false;
        }
        for (User u : auth.users()) {
            if (u.name().equals(c.user())) {
                return systemAccount.equals(u.account());
            }
        }
        return false;
    }

    /** The permissions granted, or null when the credentials are refused. */
    Permissions authenticate(ConnectOptions c) {
        if (!auth.required()) {
            return Permissions.ALL;
        }
        if (auth.token() != null && c.authToken() != null && constantTimeEquals(auth.token(), c.authToken())) {
            return auth.defaultPermissions();
        }
        if (c.user() != null) {
            for (User u : auth.users()) {
                if (u.name().equals(c.user()) && passwordMatches(u.password(), c.pass())) {
                    return u.permissions() != null ? u.permissions() : auth.defaultPermissions();
                }
            }
        }
        return null;
    }

    private static boolean passwordMatches(String configured, String given) {
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
