package io.jetkv.server;

import io.jetkv.jetstream.InboundHandler;

/**
 * One subscription in the {@link SubjectIndex}: a client's {@code SUB} (with its sid), an internal
 * subscription of JetStream (with a handler), or a route's remote interest (an {@code RS+} from another server:
 * {@link #route} set, one entry per subject and queue group, with the group's member count there as
 * {@link #weight}).
 *
 * <p>Immutable identity fields; {@code delivered} and {@code max} are touched only on the owning
 * client's event loop for client subscriptions. Internal subscriptions never use them.
 */
final class Sub {
    final String subject;
    final String queue;
    final String sid;
    final byte[] sidBytes;
    final ClientConnection client;
    final InboundHandler handler;
    final RouteConnection route;
    /**
     * An internal subscription that serves this server's own publishers only: its interest is not announced to
     * other servers and messages from routes do not reach it (a service import takes requests where they are
     * published, as nats-server's do).
     */
    final boolean localOnly;

    /** For remote queue interest: how many members the group has behind {@link #route}; re-announced by RS+. */
    volatile int weight;

    /** Messages delivered so far; with {@link #max} > 0 the subscription ends after max deliveries. */
    volatile long delivered;
    volatile long max;
    volatile boolean closed;

    Sub(String subject, String queue, String sid, ClientConnection client) {
        this.subject = subject;
        this.queue = queue;
        this.sid = sid;
        this.sidBytes = sid.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.client = client;
        this.handler = null;
        this.route = null;
        this.localOnly = false;
    }

    /** Remote interest announced by {@code route}. */
    Sub(String subject, String queue, int weight, RouteConnection route) {
        this.subject = subject;
        this.queue = queue;
        this.sid = null;
        this.sidBytes = null;
        this.client = null;
        this.handler = null;
        this.route = route;
        this.weight = weight;
        this.localOnly = false;
    }

    Sub(String subject, InboundHandler handler) {
        this(subject, handler, false);
    }

    Sub(String subject, InboundHandler handler, boolean localOnly) {
        this.subject = subject;
        this.queue = null;
        this.sid = null;
        this.sidBytes = null;
        this.client = null;
        this.handler = handler;
        this.route = null;
        this.localOnly = localOnly;
    }

    boolean internal() {
        return handler != null;
    }

    boolean remote() {
        return route != null;
    }
}
