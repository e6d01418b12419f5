package io.jetkv.jetstream.store;

/**
 * One message as a stream stores it.
 *
 * @param seq       stream sequence
 * @param subject   the subject it was published to
 * @param headers   the NATS header block exactly as published ({@code NATS/1.0\r\n...\r\n\r\n}), or null
 * @param payload   the payload (never null; may be empty)
 * @param timestamp publish time, nanoseconds since the Unix epoch (UTC)
 */
public record StoredMessage(long seq, String subject, byte[] headers, byte[] payload, long timestamp) {
    /** Size for {@code max_bytes} accounting, as nats-server's file store counts it: subject + headers + payload + 16. */
    public long storedSize() {
        return subject.length() + (headers == null ? 0 : headers.length) + payload.length + 16L;
    }
}
