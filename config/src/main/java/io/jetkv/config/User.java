package io.jetkv.config;

import java.util.Objects;

/**
 * One configured user.
 *
 * @param name        the {@code user} a client sends in CONNECT
 * @param password    plain text, or a bcrypt hash starting with {@code $2}; null for none (as nats-server, a
 *                    client then names the user without a password; with {@code verify_and_map} the
 *                    certificate names it)
 * @param permissions this user's permissions, or null to take the block's default permissions
 * @param account     the account the user belongs to, or null for the global one; until accounts exist only
 *                    the system account ({@code system_account}) means anything: its users may send
 *                    {@code $SYS.REQ.SERVER} requests
 */
public record User(String name, String password, Permissions permissions, String account) {
    public User {
        Objects.requireNonNull(name, "name");
    }

    public User(String name, String password, Permissions permissions) {
        this(name, password, permissions, null);
    }
}
