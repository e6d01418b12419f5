package io.jetkv.jetstream.store;

/** A storage failure (RocksDB error, corrupt record). Logged once where it is caught; never shown to clients verbatim. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
