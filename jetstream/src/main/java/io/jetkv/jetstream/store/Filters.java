package io.jetkv.jetstream.store;

import io.jetkv.protocol.Subject;

/** Subject filter helpers shared by the stores. Pure functions. */
final class Filters {
    private Filters() {}

    /** Null, empty or {@code >} select every subject. */
    static boolean isAll(String filter) {
        return filter == null || filter.isEmpty() || filter.equals(">");
    }

    static boolean isWildcard(String filter) {
        return Subject.hasWildcard(filter);
    }

    static boolean matches(String filter, String subject) {
        return isAll(filter) || Subject.matches(filter, subject);
    }
}
