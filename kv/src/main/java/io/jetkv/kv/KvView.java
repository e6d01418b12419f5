package io.jetkv.kv;

import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.stream.HeaderBlock;
import io.jetkv.jetstream.stream.StreamConfig;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The KV view of streams that server-side features need (the web console): which streams are buckets, how
 * keys map to subjects, and what a stored message means as a KV entry — the same rules the client
 * libraries apply, since nats-server has no KV code of its own: a bucket is stream {@code KV_<bucket>} on
 * {@code $KV.<bucket>.>}. Stateless; any thread.
 */
public final class KvView {
    public static final String STREAM_PREFIX = "KV_";
    private static final Pattern BUCKET = Pattern.compile("[a-zA-Z0-9_-]+");
    // the clients' key rule: these characters, no leading or trailing dot
    private static final Pattern KEY = Pattern.compile("[-/_=.a-zA-Z0-9]+");

    /** What an entry says about its key. */
    public enum Operation {
        PUT, DEL, PURGE
    }

    /** One revision of a key. {@code created} is in Unix nanoseconds. */
    public record Entry(String bucket, String key, long revision, long created, Operation operation, byte[] value) {}

    /** A bucket's status as {@code kv status} shows it. */
    public record Status(String bucket, long values, long bytes, long history, long ttlNanos, String storage,
            int replicas, long keys) {}

    private KvView() {}

    /** The bucket a stream holds, or null when the stream is not a KV bucket. */
    public static String bucketOf(StreamConfig stream) {
        String name = stream.name();
        if (!name.startsWith(STREAM_PREFIX) || name.length() == STREAM_PREFIX.length()) {
            return null;
        }
        String bucket = name.substring(STREAM_PREFIX.length());
        return BUCKET.matcher(bucket).matches() ? bucket : null;
    }

    public static String streamOf(String bucket) {
        return STREAM_PREFIX + bucket;
    }

    public static boolean isValidBucket(String bucket) {
        return bucket != null && BUCKET.matcher(bucket).matches();
    }

    public static boolean isValidKey(String key) {
        return key != null && KEY.matcher(key).matches() && !key.startsWith(".") && !key.endsWith(".");
    }

    public static String subjectOf(String bucket, String key) {
        return "$KV." + bucket + "." + key;
    }

    /** The subject filter for keys matching {@code keyFilter} (a key, or with {@code *}/{@code >}). */
    public static String filterOf(String bucket, String keyFilter) {
        return "$KV." + bucket + "." + (keyFilter == null || keyFilter.isEmpty() ? ">" : keyFilter);
    }

    /** The key of a bucket's subject, or null when the subject is not under the bucket's prefix. */
    public static String keyOf(String bucket, String subject) {
        String prefix = "$KV." + bucket + ".";
        return subject.startsWith(prefix) ? subject.substring(prefix.length()) : null;
    }

    /** A stored message of bucket {@code bucket} as an entry (null when it is not under the bucket's prefix). */
    public static Entry entryOf(String bucket, StoredMessage m) {
        String key = keyOf(bucket, m.subject());
        if (key == null) {
            return null;
        }
        return new Entry(bucket, key, m.seq(), m.timestamp(), operationOf(m.headers()), m.payload());
    }

    /**
     * The operation a message's headers give: {@code KV-Operation} as the clients write it, and the subject
     * delete markers of 2.11 (a marker left by max age removes the key, as a purge does).
     */
    public static Operation operationOf(byte[] headers) {
        if (headers == null || headers.length == 0) {
            return Operation.PUT;
        }
        Map<String, String> h = HeaderBlock.parse(headers);
        String op = h.get("KV-Operation");
        if ("DEL".equals(op)) {
            return Operation.DEL;
        }
        if ("PURGE".equals(op)) {
            return Operation.PURGE;
        }
        if (h.containsKey("Nats-Marker-Reason")) {
            return Operation.PURGE;
        }
        return Operation.PUT;
    }

    public static Status statusOf(StreamConfig config, StreamState state) {
        String bucket = bucketOf(config);
        return new Status(bucket, state.msgs(), state.bytes(), config.maxMsgsPerSubject(), config.maxAge(),
                config.storage().name().toLowerCase(java.util.Locale.ROOT), config.numReplicas(),
                state.numSubjects());
    }
}
