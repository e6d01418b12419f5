package io.jetkv.server;

import io.jetkv.jetstream.InboundHandler;

/**
 * One subscription in the {@link SubjectIndex}: a client's {@code SUB} (with its sid) or an internal
 * subscription of JetStream (with a handler).
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
    }

    Sub(String subject, InboundHandler handler) {
        this.subject = subject;
        this.queue = null;
        this.sid = null;
        this.sidBytes = null;
        this.client = null;
        this.handler = handler;
    }

    boolean internal() {
        return handler != null;
    }
}
