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
 */
public record User(String name, String password, Permissions permissions) {
    public User {
        Objects.requireNonNull(name, "name");
    }
}
