package io.jetkv.jetstream;

/**
 * Receives the messages of an internal subscription.
 *
 * <p>Threading: called on the publishing client's Netty event loop. Implementations must not block:
 * they copy what they need (the arrays are theirs to keep) and hand off to their own executor.
 */
@FunctionalInterface
public interface InboundHandler {
    /**
     * @param subject the subject the message was published to
     * @param reply   the reply subject, or null
     * @param headers the whole header block, or null when the message has none
     * @param payload the payload
     * @return true when the message was taken; false when this subscription has nothing to serve it (an unknown
     *     {@code $JS.API} subject), so that it does not count as delivered and a requester gets no-responders
     */
    boolean onMessage(String subject, String reply, byte[] headers, byte[] payload);
}
