package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.protocol.Subject;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code mirror} or {@code sources} entry of a stream configuration, read from the echoed JSON
 * (nats-server's {@code StreamSource}). The JSON itself stays in {@link StreamConfig} so it is echoed
 * exactly as the client sent it; this is the meaning the copier works with.
 *
 * <p>Immutable; any thread.
 *
 * @param optStartTime epoch nanos, 0 when not set
 * @param transforms   {@code subject_transforms}; a null dest keeps the subject
 * @param externalApi  {@code external.api}, or null
 * @param consumer     2.14 durable sourcing (ADR-60): the origin's consumer to copy through, or null
 */
public record StreamSource(String name, long optStartSeq, long optStartTime, String filterSubject,
        List<Transform> transforms, String externalApi, Consumer consumer, JsonNode json) {

    /** {@code consumer}: a durable {@code flow_control} push consumer on the origin, created by the user. */
    public record Consumer(String name, String deliverSubject) {}

    /** One {@code {"src","dest"}} pair. */
    public record Transform(String src, String dest) {
        /** The source filter with its default. */
        public String source() {
            return src == null || src.isEmpty() ? ">" : src;
        }
    }

    /** Reads one entry; malformed values are 10052 with the reference's wording where it has one. */
    static StreamSource parse(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        String name = n.path("name").asText(null);
        if (name == null || name.isEmpty()) {
            throw invalid("sourced stream name is invalid");
        }
        long startSeq = n.path("opt_start_seq").asLong(0);
        long startTime = 0;
        String t = n.path("opt_start_time").asText(null);
        if (t != null && !t.isEmpty() && !t.startsWith("0001-01-01")) {
            try {
                var odt = OffsetDateTime.parse(t);
                startTime = odt.toEpochSecond() * 1_000_000_000L + odt.getNano();
            } catch (DateTimeParseException e) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
        }
        String filter = n.path("filter_subject").asText(null);
        if (filter != null && filter.isEmpty()) {
            filter = null;
        }
        if (filter != null && !Subject.isValid(filter)) {
            throw invalid("source filter subject " + filter + " is invalid");
        }
        List<Transform> transforms = new ArrayList<>();
        JsonNode ts = n.get("subject_transforms");
        if (ts != null && !ts.isNull()) {
            if (!ts.isArray()) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
            for (JsonNode e : ts) {
                String src = e.path("src").asText(null);
                String dest = e.path("dest").asText(null);
                Transform tr = new Transform(src, dest == null || dest.isEmpty() ? null : dest);
                if (!Subject.isValid(tr.source()) || (tr.dest() != null && !Subject.isValid(tr.dest()))) {
                    throw invalid("stream source subject transform from '" + src + "' to '" + dest + "' is invalid");
                }
                transforms.add(tr);
            }
        }
        if (filter != null && !transforms.isEmpty()) {
            throw invalid("stream source can not have both a filter subject and subject transforms");
        }
        JsonNode ext = n.get("external");
        String api = ext == null || ext.isNull() ? null : ext.path("api").asText(null);
        JsonNode c = n.get("consumer");
        Consumer consumer = c == null || c.isNull() ? null
                : new Consumer(c.path("name").asText(""), c.path("deliver_subject").asText(""));
        return new StreamSource(name, startSeq, startTime, filter, List.copyOf(transforms),
                api == null || api.isEmpty() ? null : api, consumer, n);
    }

    /**
     * nats-server's checks of a {@code consumer} entry: a valid consumer name, a literal deliver subject, and no
     * start position or filter of the source's own (the consumer has them); 10213 on a mirror, 10215 on a source.
     */
    void checkConsumer(boolean mirror) {
        if (consumer == null) {
            return;
        }
        boolean ok = StreamConfig.isValidAssetName(consumer.name())
                && Subject.isValidLiteral(consumer.deliverSubject())
                && optStartSeq == 0 && optStartTime == 0 && filterSubject == null;
        if (!ok) {
            throw new JsApiException(mirror ? JsError.MIRROR_DURABLE_CONSUMER_CFG_INVALID
                    : JsError.SOURCE_DURABLE_CONSUMER_CFG_INVALID);
        }
    }

    /** Reads a {@code sources} array (null or empty: none). */
    static List<StreamSource> parseAll(JsonNode sources) {
        List<StreamSource> out = new ArrayList<>();
        if (sources == null) {
            return out;
        }
        if (!sources.isArray()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        for (JsonNode n : sources) {
            out.add(parse(n));
        }
        return out;
    }

    /**
     * The subject a copied message gets, or null when the entry does not take it: the filter must match,
     * and with transforms the first one whose {@code src} matches maps it.
     */
    public String mapSubject(String subject) {
        if (filterSubject != null) {
            return Subject.matches(filterSubject, subject) ? subject : null;
        }
        if (transforms.isEmpty()) {
            return subject;
        }
        for (Transform t : transforms) {
            if (Subject.matches(t.source(), subject)) {
                return t.dest() == null ? subject : SubjectMapping.map(t.source(), t.dest(), subject);
            }
        }
        return null;
    }

    /** The one store filter covering everything this entry takes (null: every subject). */
    public String storeFilter() {
        if (filterSubject != null) {
            return filterSubject;
        }
        return transforms.size() == 1 ? transforms.get(0).source() : null;
    }

    /**
     * Key of this entry's persisted position: stable across restarts and updates as long as the entry
     * reads the same messages (nats-server names a source by stream, filter and transform the same way).
     */
    public String positionKey(boolean mirror) {
        StringBuilder b = new StringBuilder(mirror ? "mirror" : "source").append(' ').append(name);
        if (filterSubject != null) {
            b.append(' ').append(filterSubject);
        }
        for (Transform t : transforms) {
            b.append(' ').append(t.source()).append('>').append(t.dest() == null ? "" : t.dest());
        }
        return b.toString();
    }

    /** StreamSourceInfo's echoed part: {@code name}, {@code filter_subject}, {@code subject_transforms}, {@code external}. */
    com.fasterxml.jackson.databind.node.ObjectNode infoJson() {
        var o = JsJson.object();
        o.put("name", name);
        if (filterSubject != null) {
            o.put("filter_subject", filterSubject);
        }
        if (json.has("subject_transforms") && !json.get("subject_transforms").isNull()) {
            o.set("subject_transforms", json.get("subject_transforms"));
        }
        if (json.has("external") && !json.get("external").isNull()) {
            o.set("external", json.get("external"));
        }
        return o;
    }

    private static JsApiException invalid(String reason) {
        return new JsApiException(JsError.STREAM_INVALID_CONFIG, reason);
    }
}
