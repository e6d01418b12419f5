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
 * @param accounts           accounts other than {@code $G}, each with its users ({@code accounts { }})
 * @param noAuthUser         the user a client without credentials is taken for ({@code no_auth_user}), or null
 */
public record AuthConfig(String token, List<User> users, Permissions defaultPermissions, Duration timeout,
        List<NkeyUser> nkeys, List<AccountConfig> accounts, String noAuthUser) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    public static final AuthConfig NONE = new AuthConfig(null, List.of(), Permissions.ALL, DEFAULT_TIMEOUT);

    /** Token or password users only. */
    public AuthConfig(String token, List<User> users, Permissions defaultPermissions, Duration timeout) {
        this(token, users, defaultPermissions, timeout, List.of(), List.of(), null);
    }

    /** Without accounts. */
    public AuthConfig(String token, List<User> users, Permissions defaultPermissions, Duration timeout,
            List<NkeyUser> nkeys) {
        this(token, users, defaultPermissions, timeout, nkeys, List.of(), null);
    }

    public AuthConfig withAccounts(List<AccountConfig> newAccounts, String newNoAuthUser) {
        return new AuthConfig(token, users, defaultPermissions, timeout, nkeys, newAccounts, newNoAuthUser);
    }

    public AuthConfig {
        users = List.copyOf(users);
        nkeys = List.copyOf(nkeys);
        accounts = List.copyOf(accounts);
        Objects.requireNonNull(defaultPermissions, "defaultPermissions");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** True when clients must present credentials. */
    public boolean required() {
        return token != null || !users.isEmpty() || !nkeys.isEmpty()
                || accounts.stream().anyMatch(a -> !a.users().isEmpty() || !a.nkeys().isEmpty());
    }
}
