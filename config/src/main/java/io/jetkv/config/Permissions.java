package io.jetkv.config;

import java.util.Objects;

/**
 * Publish and subscribe permissions of a user, as in nats-server's {@code permissions} block.
 *
 * @param publish   subjects the user may publish to
 * @param subscribe subjects the user may subscribe to
 */
public record Permissions(SubjectPermission publish, SubjectPermission subscribe) {
    public static final Permissions ALL = new Permissions(SubjectPermission.ALL, SubjectPermission.ALL);

    public Permissions {
        Objects.requireNonNull(publish, "publish");
        Objects.requireNonNull(subscribe, "subscribe");
    }
}
