package io.jetkv.config;

import java.util.List;

/**
 * An allow list and a deny list of subjects (wildcards allowed). An empty allow list allows everything
 * not denied, as in nats-server; a deny entry always wins.
 */
public record SubjectPermission(List<String> allow, List<String> deny) {
    public static final SubjectPermission ALL = new SubjectPermission(List.of(), List.of());

    public SubjectPermission {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }
}
