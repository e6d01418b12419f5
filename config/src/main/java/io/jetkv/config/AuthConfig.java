package io.jetkv.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code authorization} block (and {@code --user/--pass/--auth}). A single {@code user}/{@code password}
 * pair is represented as a one-element {@link #users()} list.
 *
 * @param token              required {@code auth_token}, or null
 * @param users              accepted users (empty when no user auth)
 * @param defaultPermissions applied to users that have none of their own; {@link Permissions#ALL} when unset
 * @param timeout            how long a client may take to send CONNECT when auth is required
 * @param nkeys              users who sign the server's nonce with an NKEY (empty when none)
 */
public record AuthConfig(String token, List<User> users, Permissions defaultPermissions, Duration timeout,
        List<NkeyUser> nkeys) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    public static final AuthConfig NONE = new AuthConfig(null, List.of(), Permissions.ALL, DEFAULT_TIMEOUT);

    /** Token or password users only. */
    public AuthConfig(String token, List<User> users, Permissions defaultPermissions, Duration timeout) {
        this(token, users, defaultPermissions, timeout, List.of());
    }

    public AuthConfig {
        users = List.copyOf(users);
        nkeys = List.copyOf(nkeys);
        Objects.requireNonNull(defaultPermissions, "defaultPermissions");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** True when clients must present credentials. */
    public boolean required() {
        return token != null || !users.isEmpty() || !nkeys.isEmpty();
    }
}
