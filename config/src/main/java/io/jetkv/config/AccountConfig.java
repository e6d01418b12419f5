package io.jetkv.config;

import java.util.List;
import java.util.Objects;

/**
 * One account of an {@code accounts { NAME: { users: [...] } }} block: a subject space of its own, shared by
 * its users. Users outside every account belong to the global account {@code $G}.
 *
 * @param name  the account name
 * @param users its password (or passwordless) users
 * @param nkeys its nkey users
 */
public record AccountConfig(String name, List<User> users, List<NkeyUser> nkeys) {
    /** The account of users configured outside {@code accounts}. */
    public static final String GLOBAL = "$G";

    public AccountConfig {
        Objects.requireNonNull(name, "name");
        users = List.copyOf(users);
        nkeys = List.copyOf(nkeys);
    }
}
