package io.jetkv.server;

import io.jetkv.config.Permissions;
import io.jetkv.config.SubjectPermission;
import io.jetkv.protocol.Subject;
import java.util.HashMap;
import java.util.List;

/**
 * A client's publish and subscribe permissions, with a small cache of publish decisions (publishers
 * repeat subjects). An empty allow list allows everything not denied; a deny always wins.
 *
 * <p>Threading: one per connection, used on its event loop only.
 */
final class PermissionCheck {
    private static final int CACHE_MAX = 1024;

    private final Permissions permissions;
    private final HashMap<String, Boolean> publishCache = new HashMap<>();

    PermissionCheck(Permissions permissions) {
        this.permissions = permissions;
    }

    /** The permissions as configured (user info reports them). */
    Permissions permissions() {
        return permissions;
    }

    boolean unrestricted() {
        return permissions.publish().allow().isEmpty() && permissions.publish().deny().isEmpty()
                && permissions.subscribe().allow().isEmpty() && permissions.subscribe().deny().isEmpty();
    }

    boolean canPublish(String subject) {
        SubjectPermission p = permissions.publish();
        if (p.allow().isEmpty() && p.deny().isEmpty()) {
            return true;
        }
        Boolean cached = publishCache.get(subject);
        if (cached != null) {
            return cached;
        }
        boolean ok = (p.allow().isEmpty() || anyMatch(p.allow(), subject)) && !anyMatch(p.deny(), subject);
        if (publishCache.size() >= CACHE_MAX) {
            publishCache.clear();
        }
        publishCache.put(subject, ok);
        return ok;
    }

    /** A subscription is allowed when an allow pattern contains it and no deny pattern covers it. */
    boolean canSubscribe(String subject) {
        SubjectPermission p = permissions.subscribe();
        if (!p.allow().isEmpty()) {
            boolean allowed = false;
            for (String a : p.allow()) {
                if (Subject.isSubsetOf(subject, a)) {
                    allowed = true;
                    break;
                }
            }
            if (!allowed) {
                return false;
            }
        }
        for (String d : p.deny()) {
            if (Subject.isSubsetOf(subject, d)) {
                return false;
            }
        }
        return true;
    }

    private static boolean anyMatch(List<String> patterns, String subject) {
        for (String pattern : patterns) {
            if (Subject.matches(pattern, subject)) {
                return true;
            }
        }
        return false;
    }
}
