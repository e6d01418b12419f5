package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.ApiLevel;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.StreamState;

/** StreamInfo as the reference writes it: {@code config}, {@code created}, {@code state}, {@code ts}. */
public final class StreamInfoJson {
    private StreamInfoJson() {}

    /**
     * StreamInfo as create, update and info answer it: the config's metadata with the server's version and level.
     *
     * @param st the counters to report (from the store on the writer, or the last commit's snapshot)
     */
    public static ObjectNode info(Stream stream, StreamState st) {
        return info(stream, st, true);
    }

    /** As {@link #info(Stream, StreamState)}; without {@code serverMetadata} the stored config (lists). */
    public static ObjectNode info(Stream stream, StreamState st, boolean serverMetadata) {
        ObjectNode o = JsJson.object();
        ObjectNode cfg = stream.config().toJson();
        if (serverMetadata && ApiLevel.SERVER >= 1) {
            ObjectNode m = cfg.has("metadata") ? (ObjectNode) cfg.get("metadata") : cfg.putObject("metadata");
            m.put(ApiLevel.META_VERSION, ApiLevel.SERVER_VERSION);
            m.put(ApiLevel.META_LEVEL, Integer.toString(ApiLevel.SERVER));
        }
        o.set("config", cfg);
        o.put("created", JsJson.time(stream.created()));
        o.set("state", state(st, stream.consumerCount().get()));
        long now = StreamApi.nowNanos();
        Sourcing src = stream.sourcing();
        if (src != null) {
            src.info(o, now);
        }
        ObjectNode cluster = stream.clusterInfo();
        if (cluster != null) {
            o.set("cluster", cluster);
        }
        o.put("ts", JsJson.time(now));
        return o;
    }

    private static final String UNIX_EPOCH = "1970-01-01T00:00:00Z";

    public static ObjectNode state(StreamState st, int consumers) {
        ObjectNode o = JsJson.object();
        o.put("messages", st.msgs());
        o.put("bytes", st.bytes());
        // a stream that never stored anything reports 0 / zero time, as the reference does
        long first = st.msgs() == 0 && st.lastSeq() == 0 ? 0 : st.firstSeq();
        o.put("first_seq", first);
        o.put("first_ts", st.msgs() > 0 ? JsJson.time(st.firstTimestamp())
                : st.firstTimestamp() == StreamState.EMPTIED_BY_REMOVAL ? UNIX_EPOCH : JsJson.ZERO_TIME);
        o.put("last_seq", st.lastSeq());
        o.put("last_ts", JsJson.time(st.lastTimestamp()));
        if (st.numSubjects() > 0) {
            o.put("num_subjects", st.numSubjects());
        }
        if (st.numDeleted() > 0) {
            o.put("num_deleted", st.numDeleted());
        }
        o.put("consumer_count", consumers);
        return o;
    }
}
