package io.jetkv.jetstream;

/**
 * How JetStream reaches clients, implemented by the server's router. JetStream never sees a Netty
 * channel: it subscribes to subjects like any client, publishes replies and deliveries, and asks
 * whether anyone listens on a subject.
 *
 * <p>Threading: every method is safe from any thread and never blocks.
 */
public interface MessageBus {

    /**
     * Subscribes {@code handler} to {@code subject} (wildcards allowed). A message delivered to an
     * internal subscription counts as delivered for no-responders purposes (so a stream capturing a
     * subject means no 503 for its publishers).
     */
    Subscription subscribe(String subject, InboundHandler handler);

    /**
     * As {@link #subscribe}, for this server's own publishers only: in a cluster the interest is not announced to
     * the other servers, so their publishes never reach it (an API that only refuses answers on each server
     * for its own clients, rather than every server answering every request).
     */
    default Subscription subscribeLocal(String subject, InboundHandler handler) {
        return subscribe(subject, handler);
    }

    /**
     * Publishes a message as the server, to every matching subscription (client or internal).
     *
     * @param headers a whole header block ({@code NATS/1.0...\r\n\r\n}) or null for a plain message
     */
    void publish(String subject, String reply, byte[] headers, byte[] payload);

    /**
     * Delivers a consumer's message: routed to the subscriptions matching {@code deliverTo} (a push
     * consumer's deliver subject, a pull request's reply subject) while the message shows its original
     * {@code subject}, as JetStream deliveries do.
     */
    void deliver(String deliverTo, String subject, String reply, byte[] headers, byte[] payload);

    /**
     * Runs {@code work} on the calling thread and lets the bus hold back handing to the network what
     * {@code work} publishes and delivers until it returns (or enough bytes piled up): a stream's writer wraps
     * each batch in it, so that a run of deliveries wakes a client's connection once instead of per message.
     * Order is kept. {@code work} must not wait for a client.
     */
    default void batch(Runnable work) {
        work.run();
    }

    /** True when at least one subscription (client or internal) matches {@code subject}. */
    boolean hasInterest(String subject);

    /**
     * Where a subscriber of {@code subject} is: {@code ""} when on this server, the name of the server behind a
     * route otherwise, null when nobody listens. A cluster answers a read on the replica nearest its requester.
     */
    default String interestServer(String subject) {
        return hasInterest(subject) ? "" : null;
    }

    /** A handle on an internal subscription. */
    interface Subscription {
        void unsubscribe();
    }
}
