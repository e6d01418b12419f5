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
    /** Size for {@code max_bytes} accounting in memory storage, as nats-server's memory store counts it. */
    public long storedSize() {
        return memorySize(subject.length(), headers == null ? 0 : headers.length, payload.length);
    }

    /** Size for {@code max_bytes} accounting in file storage, as nats-server's file store counts it. */
    public long fileStoredSize() {
        return fileSize(subject.length(), headers == null ? 0 : headers.length, payload.length);
    }

    /** nats-server's memory store: subject + headers + payload + 16. */
    static long memorySize(long subjectLen, long headersLen, long payloadLen) {
        return subjectLen + headersLen + payloadLen + 16L;
    }

    /** nats-server's file store record: 22 + subject + payload + 8, plus 4 + headers when there are headers. */
    static long fileSize(long subjectLen, long headersLen, long payloadLen) {
        return 22L + subjectLen + (headersLen > 0 ? 4 + headersLen : 0) + payloadLen + 8L;
    }
}
