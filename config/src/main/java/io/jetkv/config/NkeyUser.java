package io.jetkv.config;

import java.util.Objects;

/**
 * A user who authenticates with an NKEY: {@code {nkey: U..., permissions: {...}}} in a users list.
 *
 * @param publicKey   the user's public key, {@code U} and 55 more base32 characters
 * @param permissions this user's permissions, or null to take the block's default permissions
 */
public record NkeyUser(String publicKey, Permissions permissions) {
    public NkeyUser {
        Objects.requireNonNull(publicKey, "publicKey");
        if (!NKeys.isValidPublicKey(publicKey, NKeys.PREFIX_USER)) {
            throw new IllegalArgumentException("Not a valid public nkey for a user");
        }
    }
}
