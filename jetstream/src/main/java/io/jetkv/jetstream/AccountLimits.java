package io.jetkv.jetstream;

/**
 * The JetStream limits of one account ({@code accounts { A: { jetstream: { max_mem, max_file, ... } } }}), as
 * nats-server's {@code JetStreamAccountLimits}: -1 means no limit of the account's own (the server's
 * {@code max_memory_store}/{@code max_file_store} still apply). Immutable; any thread.
 *
 * @param maxMemory            bytes of memory storage the account may reserve and use
 * @param maxStore             bytes of file storage the account may reserve and use
 * @param maxStreams           streams the account may have
 * @param maxConsumers         consumers a stream of the account may have (nats-server applies it per stream)
 * @param maxAckPending        reported only
 * @param memoryMaxStreamBytes the largest {@code max_bytes} a memory stream may ask for
 * @param storeMaxStreamBytes  the largest {@code max_bytes} a file stream may ask for
 * @param maxBytesRequired     every stream must set {@code max_bytes}
 */
public record AccountLimits(long maxMemory, long maxStore, int maxStreams, int maxConsumers, int maxAckPending,
        long memoryMaxStreamBytes, long storeMaxStreamBytes, boolean maxBytesRequired) {

    /** An account with JetStream and no limits of its own ({@code jetstream: enabled}). */
    public static final AccountLimits UNLIMITED = new AccountLimits(-1, -1, -1, -1, -1, -1, -1, false);

    public AccountLimits {
        // as nats-server: a byte limit of 0 allows nothing; a count of 0 is no limit (checked with "> 0")
        maxMemory = Math.max(-1, maxMemory);
        maxStore = Math.max(-1, maxStore);
        maxStreams = Math.max(-1, maxStreams);
        maxConsumers = Math.max(-1, maxConsumers);
        maxAckPending = Math.max(-1, maxAckPending);
        memoryMaxStreamBytes = Math.max(-1, memoryMaxStreamBytes);
        storeMaxStreamBytes = Math.max(-1, storeMaxStreamBytes);
    }

    /** The server's own limits as the only account's ({@code $G} of a server without accounts; 0 is none). */
    public static AccountLimits ofServer(long maxMemory, long maxStore) {
        return new AccountLimits(maxMemory > 0 ? maxMemory : -1, maxStore > 0 ? maxStore : -1, -1, -1, -1, -1, -1,
                false);
    }
}
