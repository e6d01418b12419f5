package io.jetkv.server;

import io.jetkv.config.AccountConfig;
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
 * Checks a client's credentials against the {@code authorization} and {@code accounts} configuration and
 * returns what the client gets: its permissions and its account. Pure; safe from any thread.
 */
final class Authenticator {
    /**
     * An accepted client: its permissions, the account whose subjects it sees, and who it is as nats-server names
     * it in user info and events (the user name, the nkey, {@code [REDACTED]} for a token, empty when open).
     */
    record Grant(Permissions permissions, String account, String user) {}

    private static final Grant OPEN = new Grant(Permissions.ALL, AccountConfig.GLOBAL, "");

    private final AuthConfig auth;
    private final List<String> userNames = new ArrayList<>();
    // every user and nkey user, of $G and of the accounts, with its account
    private final java.util.Map<String, User> users = new java.util.HashMap<>();
    private final java.util.Map<String, NkeyUser> nkeys = new java.util.HashMap<>();
    private final java.util.Map<Object, String> accountOf = new java.util.HashMap<>();

    Authenticator(AuthConfig auth) {
        this.auth = auth;
        add(AccountConfig.GLOBAL, auth.users(), auth.nkeys());
        for (AccountConfig a : auth.accounts()) {
            add(a.name(), a.users(), a.nkeys());
        }
    }

    private void add(String account, List<User> accountUsers, List<NkeyUser> accountNkeys) {
        for (User u : accountUsers) {
            userNames.add(u.name());
            users.put(u.name(), u);
            accountOf.put(u, account);
        }
        for (NkeyUser u : accountNkeys) {
            nkeys.put(u.publicKey(), u);
            accountOf.put(u, account);
        }
    }

    /** True when INFO says {@code auth_required}: not with {@code no_auth_user}, whose clients need none. */
    boolean advertised() {
        return auth.required() && auth.noAuthUser() == null;
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

    /** True when nkey users are configured: every INFO then carries a nonce for them to sign. */
    boolean wantsNonce() {
        return !nkeys.isEmpty();
    }

    /**
     * The permissions granted, or null when the credentials are refused.
     *
     * @param cert         the client's TLS certificate, or null
     * @param verifyAndMap the client's listener has {@code verify_and_map}: {@code cert} names the user
     * @param nonce        the nonce this connection's INFO carried, or null
     */
    Grant authenticate(ConnectOptions c, X509Certificate cert, boolean verifyAndMap, String nonce) {
        if (!auth.required()) {
            return OPEN;
        }
        if (c.nkey() != null && !nkeys.isEmpty()) {
            // as nats-server: a client naming an nkey is judged by it alone
            NkeyUser u = nkeys.get(c.nkey());
            if (u == null || nonce == null || !Ed25519.verify(NKeys.publicKey(u.publicKey(), NKeys.PREFIX_USER),
                    nonce.getBytes(StandardCharsets.US_ASCII), c.sig())) {
                return null;
            }
            return grant(u, u.permissions());
        }
        if (auth.token() != null && c.authToken() != null && constantTimeEquals(auth.token(), c.authToken())) {
            return new Grant(auth.defaultPermissions(), AccountConfig.GLOBAL, "[REDACTED]");
        }
        if (auth.noAuthUser() != null && c.user() == null && c.pass() == null && c.authToken() == null
                && c.nkey() == null) {
            // no credentials at all: the no_auth_user's identity (nats-server's order: after nkeys and tokens)
            User u = users.get(auth.noAuthUser());
            return u == null ? null : grant(u, u.permissions());
        }
        if (verifyAndMap && !auth.users().isEmpty()) {
            // the certificate names the user and CONNECT's user is ignored; as nats-server, a password that
            // CONNECT carries must still be the mapped user's (none when the user has none)
            String name = CertIdentity.mapToUser(cert, userNames, n -> find(n) != null);
            User u = name == null ? null : find(name);
            return u != null && passwordMatches(u.password(), c.pass()) ? grant(u, u.permissions()) : null;
        }
        if (c.user() != null) {
            User u = find(c.user());
            if (u != null && passwordMatches(u.password(), c.pass())) {
                return grant(u, u.permissions());
            }
        }
        return null;
    }

    private User find(String name) {
        return users.get(name);
    }

    /** The block's default permissions apply to the authorization block's users ($G), as in the config. */
    private Grant grant(Object user, Permissions own) {
        String account = accountOf.get(user);
        Permissions p = own != null ? own
                : AccountConfig.GLOBAL.equals(account) ? auth.defaultPermissions() : Permissions.ALL;
        String name = user instanceof User u ? u.name() : ((NkeyUser) user).publicKey();
        return new Grant(p, account, name);
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
