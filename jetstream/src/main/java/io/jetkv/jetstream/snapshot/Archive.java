package io.jetkv.jetstream.snapshot;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.store.StreamStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot being read for a restore: its stream configuration first, then its messages into a store, then
 * its consumers. {@link Archives#open} picks the reader by the archive's first entry.
 *
 * <p>Restore thread only.
 */
abstract class Archive {
    private final ObjectNode config;
    private final long created;
    /** Filled by {@link #fill}. */
    protected final List<ObjectNode> consumers = new ArrayList<>();

    Archive(ObjectNode config, long created) {
        this.config = config;
        this.created = created;
    }

    /** The stream configuration saved in the archive. */
    final ObjectNode config() {
        return config;
    }

    /** The stream's creation time saved in the archive, epoch nanos, or 0. */
    final long created() {
        return created;
    }

    /** Reads the rest of the archive, writing its messages into {@code store}. */
    abstract void fill(StreamStore store) throws IOException;

    /** The durable consumers, after {@link #fill}: entries for {@code ConsumerManager.importConsumer}. */
    final List<ObjectNode> consumers() {
        return consumers;
    }
}
