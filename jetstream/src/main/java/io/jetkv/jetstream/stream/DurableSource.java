package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.StoredMessage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A mirror or source entry that copies through a durable consumer of the origin (nats-server 2.14, ADR-60:
 * {@code "consumer":{"name","deliver_subject"}}). The user creates that consumer on the origin, a push consumer with
 * {@code ack_policy: "flow_control"}; it delivers to {@code deliver_subject}, which this entry subscribes to. Each
 * delivered message is stored in delivery order; a flow-control request is answered once everything before it is
 * flushed, with {@code Nats-Last-Stream}/{@code Nats-Last-Consumer}, and that answer is the consumer's ack (so a
 * work-queue or interest origin lets the copied messages go).
 *
 * <p>A consumer with acks by flow control never redelivers by itself, so whenever a delivery may have been lost (a
 * skipped delivery sequence, a heartbeat reporting more than was received, a full writer queue, a restart) the
 * consumer is reset ({@code $JS.API.CONSUMER.RESET}, to after its ack floor) and redelivers; what was already copied
 * is recognised by its origin sequence and skipped.
 *
 * <p>Two kinds. A <em>user</em> entry names the consumer in its {@code consumer} field; each reset is answered with
 * the consumer's info, and a consumer that does not ack by flow control is refused (10214 on a mirror, 10217 on a
 * source, shown as the entry's {@code error}, asked again now and then) and nothing it delivers is stored. A
 * <em>server-made</em> entry ({@link Sourcing} makes one for an ordinary entry whose origin is a work-queue or
 * interest stream) asks the origin to create its consumer ({@code JS_SRC_<id>} or {@code JS_MIRROR_<id>}, sent as
 * a direct, sourcing consumer which the origin turns into such a durable); asking again resets it. Its position is
 * kept as the ordinary entry keeps it (the next origin sequence), so the two can take turns.
 *
 * <p>Threading: {@link #onMessage} and {@link #onReply} run on the delivering thread (the origin's writer, or an
 * API worker); everything else on the target's writer, except {@link #start}, {@link #stop}, {@link #tick} and
 * {@link #info}.
 */
final class DurableSource {
    private static final byte[] STATUS_PREFIX = "NATS/1.0 100".getBytes(StandardCharsets.US_ASCII);
    /** How long a reset may go unanswered (the consumer not there yet, say after a restart) before it is asked again. */
    private static final long RESET_RETRY_NANOS = 1_000_000_000L;
    /** How long a consumer refused for its ack policy is left alone before it is looked at again. */
    private static final long REFUSED_RETRY_NANOS = 5_000_000_000L;
    /** The server-made consumer's heartbeat and ack wait, as nats-server asks for them. */
    private static final long HEARTBEAT = 1_000_000_000L;
    private static final long ACK_WAIT = 22L * 3600 * 1_000_000_000L;
    private static final long INACTIVE_THRESHOLD = 10_000_000_000L;

    private final Stream target;
    private final StreamSource source;
    private final boolean mirror;
    private final String positionKey;
    private final MessageBus bus;
    /** The consumer on the origin. */
    private final String consumerName;
    /** Where it delivers: the entry's for a user consumer, a fresh inbox per start for a server-made one. */
    private final String deliverSubject;
    /** Null for a user consumer; the {@code _nats.src.*} (or {@code _nats.mirror.*}) metadata otherwise. */
    private final ObjectNode managedMetadata;
    /** Where the answers to resets and creates come. */
    private final String replySubject;
    /** The stored position is the last origin sequence copied plus this (1 for a server-made entry: the next one). */
    private final long positionBias;
    private volatile MessageBus.Subscription sub;
    private volatile MessageBus.Subscription replySub;
    /** The entry's {@code error} in stream info, or null. */
    private volatile ObjectNode error;
    /** The consumer does not ack by flow control: nothing it delivers is taken. Target writer. */
    private boolean refused;
    /**
     * The answer to the last reset or create came and was good. Until then nothing is taken: deliveries that came
     * before it (the deliver subject got interest) are not known to come from a consumer acking by flow control,
     * and the reset delivers them again right after its answer. Target writer.
     */
    private boolean confirmed;
    private volatile boolean stopped;
    private volatile long lastActive;
    private volatile long lag;
    /** A delivery could not be handed to the target's writer: reset at the next chance. */
    private volatile boolean lost;

    // Target writer only.
    /** The last origin sequence copied; -1 until read from the store. */
    private long lastSseq = -1;
    /** The consumer's delivery sequence of the last message taken. */
    private long lastDseq;
    /**
     * A reset was asked for: deliveries are ignored until the consumer starts again at delivery sequence 1. Volatile
     * only so that the timer can see it; written on the target's writer.
     */
    private volatile boolean resetting;
    /** When the last reset was asked for. */
    private long resetAt;

    /** An entry with its own {@code consumer}. */
    DurableSource(Stream target, StreamSource source, boolean mirror) {
        this(target, source, mirror, source.consumer().name(), source.consumer().deliverSubject(), null, 0);
    }

    private DurableSource(Stream target, StreamSource source, boolean mirror, String consumerName,
            String deliverSubject, ObjectNode managedMetadata, long positionBias) {
        this.target = target;
        this.source = source;
        this.mirror = mirror;
        this.positionKey = source.positionKey(mirror);
        this.bus = target.bus();
        this.consumerName = consumerName;
        this.deliverSubject = deliverSubject;
        this.managedMetadata = managedMetadata;
        this.replySubject = "$JSC.R." + randomToken();
        this.positionBias = positionBias;
    }

    /**
     * An ordinary entry of a work-queue or interest origin, copying through a consumer the origin makes for it
     * (named {@code consumerName}); {@code account} goes into its metadata, as nats-server writes it.
     */
    static DurableSource serverMade(Stream target, StreamSource source, boolean mirror, String consumerName,
            String account) {
        ObjectNode meta = JsJson.object();
        String kind = mirror ? "mirror" : "src";
        meta.put("_nats." + kind + ".stream", target.name());
        meta.put("_nats." + kind + ".acc", account);
        String domain = target.domain();
        if (domain != null) {
            meta.put("_nats." + kind + ".domain", domain);
        }
        return new DurableSource(target, source, mirror, consumerName, (mirror ? "$JS.M." : "$JS.S.") + randomToken(),
                meta, 1);
    }

    /** The consumer this entry copies through. */
    String consumerName() {
        return consumerName;
    }

    /** Subscribes to the deliver subject, and resets the consumer: what it delivered before may not be stored. */
    void start() {
        replySub = bus.subscribe(replySubject, this::onReply);
        sub = bus.subscribe(deliverSubject, this::onMessage);
        if (!target.execute(b -> reset())) {
            lost = true;
        }
    }

    void stop() {
        stopped = true;
        MessageBus.Subscription s = sub;
        if (s != null) {
            s.unsubscribe();
        }
        s = replySub;
        if (s != null) {
            s.unsubscribe();
        }
    }

    /** Best effort, as nats-server: the server-made consumer is deleted when its entry goes. */
    void deleteConsumer() {
        bus.publish("$JS.API.CONSUMER.DELETE." + source.name() + "." + consumerName, null, null, new byte[0]);
    }

    /**
     * Timer: a delivery that found the writer's queue full is recovered by a reset, and a reset nobody answered
     * (the consumer missing when it was sent) is asked again.
     */
    void tick() {
        if (stopped) {
            return;
        }
        if (lost) {
            lost = false;
            if (!target.execute(b -> reset())) {
                lost = true;
            }
        } else if (resetting) {
            target.execute(b -> retryReset());
        }
    }

    /** Target writer: asks again for a reset that has not shown up as delivery sequence 1. */
    private void retryReset() {
        if (resetting && Stream.nowNanos() - resetAt >= (refused ? REFUSED_RETRY_NANOS : RESET_RETRY_NANOS)) {
            reset();
        }
    }

    /** Answering thread: hands the answer to a reset or create to the target's writer. */
    private boolean onReply(String subject, String reply, byte[] headers, byte[] payload) {
        if (!stopped) {
            target.execute(b -> answered(payload));
        }
        return true;
    }

    /**
     * Target writer: the consumer's info after a reset or create, or an error (shown as the entry's). A user
     * consumer must ack by flow control, or what it delivers is not taken (nats-server checks the same answer).
     */
    private void answered(byte[] payload) {
        if (stopped) {
            return;
        }
        JsonNode reply;
        try {
            reply = JsJson.MAPPER.readTree(payload);
        } catch (java.io.IOException e) {
            return;
        }
        if (reply.hasNonNull("error")) {
            error = (ObjectNode) reply.get("error");
            return;
        }
        String ackPolicy = reply.path("config").path("ack_policy").asText();
        if (managedMetadata == null && !"flow_control".equals(ackPolicy)) {
            refused = true;
            error = JsJson.error(new JsApiException(mirror ? JsError.MIRROR_CONSUMER_REQUIRES_ACK_FC
                    : JsError.SOURCE_CONSUMER_REQUIRES_ACK_FC));
            return;
        }
        refused = false;
        confirmed = true;
        error = null;
    }

    /** Target writer, after the store was reopened at its last flush: read the position again and redeliver. */
    void storeReopened() {
        lastSseq = -1;
        reset();
    }

    /** Delivering thread: hands the message to the target's writer. */
    private boolean onMessage(String subject, String reply, byte[] headers, byte[] payload) {
        if (stopped) {
            return true;
        }
        if (!target.execute(b -> apply(subject, reply, headers, payload, b))) {
            lost = true; // the next delivery or the timer resets the consumer
        }
        return true;
    }

    /** Target writer: reads the saved position once. */
    private void loadPosition() {
        if (lastSseq < 0) {
            byte[] saved = target.store().getAux(positionKey);
            lastSseq = saved != null && saved.length == 8 ? Math.max(0, ByteBuffer.wrap(saved).getLong() - positionBias)
                    : 0;
        }
    }

    /** Target writer: one delivery, status or message. */
    private void apply(String subject, String reply, byte[] headers, byte[] payload, Stream.Batch batch) {
        if (stopped || target.isClosed()) {
            return;
        }
        if (refused || !confirmed) {
            return; // not (known to be) a flow_control consumer: its deliveries are not acked by storing them
        }
        loadPosition();
        lastActive = Stream.nowNanos();
        if (isStatus(headers)) {
            Map<String, String> h = HeaderBlock.parse(headers);
            String stalled = h.get("Nats-Consumer-Stalled");
            if (reply != null) {
                answer(reply, batch);
            } else if (stalled != null) {
                answer(stalled, batch); // a heartbeat naming a flow-control request that was not answered
            }
            String delivered = h.get("Nats-Last-Consumer");
            if (resetting) {
                retryReset();
            } else if (reply == null && delivered != null && parse(delivered) > lastDseq) {
                reset(); // a heartbeat says more was delivered than arrived
            }
            return;
        }
        if (lost) {
            lost = false;
            reset();
            return;
        }
        // $JS.ACK.<stream>.<consumer>.<deliveries>.<stream seq>.<delivery seq>.<timestamp>.<pending>
        String[] t = reply == null ? new String[0] : reply.split("\\.");
        if (t.length < 9) {
            return; // not a consumer delivery
        }
        long sseq = parse(t[t.length - 4]);
        long dseq = parse(t[t.length - 3]);
        long ts = parse(t[t.length - 2]);
        lag = Math.max(0, parse(t[t.length - 1]));
        if (dseq == 1) {
            resetting = false; // the consumer (re)started its delivery sequence
            lastDseq = 0;
        }
        if (resetting) {
            retryReset();
            return;
        }
        if (dseq != lastDseq + 1) {
            reset();
            return;
        }
        lastDseq = dseq;
        if (sseq <= lastSseq) {
            return; // copied before the reset that redelivered it
        }
        StoredMessage m = new StoredMessage(sseq, subject, headers, payload, ts);
        if (mirror) {
            String mapped = source.mapSubject(subject);
            if (mapped != null) {
                target.storeMirrored(mapped, m, batch);
            }
        } else {
            target.storeSourced(source, m, batch);
        }
        lastSseq = sseq;
        target.store().putAux(positionKey, ByteBuffer.allocate(8).putLong(sseq + positionBias).array());
        batch.markDirty();
    }

    /** Answers a flow-control request after the flush: this acks the consumer up to what is stored. */
    private void answer(String to, Stream.Batch batch) {
        long sseq = lastSseq;
        long dseq = lastDseq;
        batch.afterFlush(() -> bus.publish(to, null, HeaderBlock.append(null, "Nats-Last-Stream",
                Long.toString(sseq), "Nats-Last-Consumer", Long.toString(dseq)), new byte[0]));
    }

    /**
     * Target writer: asks the consumer to deliver again from after its ack floor; a server-made one is created
     * (again), which resets it.
     */
    private void reset() {
        if (stopped) {
            return;
        }
        resetting = true;
        confirmed = false;
        resetAt = Stream.nowNanos();
        if (managedMetadata == null) {
            bus.publish("$JS.API.CONSUMER.RESET." + source.name() + "." + consumerName, replySubject, null, new byte[0]);
            return;
        }
        if (target.isClosed()) {
            return;
        }
        loadPosition();
        ObjectNode cfg = createConfig(lastSseq + 1);
        ObjectNode req = JsJson.object();
        req.put("stream_name", source.name());
        req.set("config", cfg);
        req.put("action", "");
        // the name travels in the config (nats-server puts a single filter in the subject, for older servers);
        // nats-server also sends Nats-Required-Api-Level: 4, while this server knows what it serves itself
        bus.publish("$JS.API.CONSUMER.CREATE." + source.name(), replySubject, null, JsJson.bytes(req));
    }

    /**
     * The consumer nats-server asks an origin for (an ack-less, direct ephemeral that a work-queue or interest origin
     * turns into a durable acking by flow control), starting at origin sequence {@code next}.
     */
    private ObjectNode createConfig(long next) {
        ObjectNode c = JsJson.object();
        c.put("name", consumerName);
        c.put("deliver_subject", deliverSubject);
        if (next > 1) {
            c.put("deliver_policy", "by_start_sequence");
            c.put("opt_start_seq", next);
        } else if (source.optStartSeq() > 0) {
            c.put("deliver_policy", "by_start_sequence");
            c.put("opt_start_seq", source.optStartSeq());
        } else if (source.optStartTime() > 0) {
            c.put("deliver_policy", "by_start_time");
            c.put("opt_start_time", JsJson.time(source.optStartTime()));
        } else {
            c.put("deliver_policy", "all");
        }
        c.put("ack_policy", "none");
        c.put("ack_wait", ACK_WAIT);
        c.put("max_deliver", 1);
        List<String> filters = new ArrayList<>();
        if (source.filterSubject() != null) {
            filters.add(source.filterSubject());
        }
        for (StreamSource.Transform t : source.transforms()) {
            filters.add(t.source());
        }
        if (filters.size() == 1) {
            c.put("filter_subject", filters.get(0));
        } else if (filters.size() > 1) {
            ArrayNode a = c.putArray("filter_subjects");
            filters.forEach(a::add);
        }
        c.put("replay_policy", "instant");
        c.put("flow_control", true);
        c.put("idle_heartbeat", HEARTBEAT);
        c.put("inactive_threshold", INACTIVE_THRESHOLD);
        c.put("direct", true);
        c.put("sourcing", true);
        c.set("metadata", managedMetadata.deepCopy());
        return c;
    }

    private static String randomToken() {
        return java.util.UUID.randomUUID().toString().replace("-", "");
    }

    private static boolean isStatus(byte[] headers) {
        if (headers == null || headers.length < STATUS_PREFIX.length) {
            return false;
        }
        for (int i = 0; i < STATUS_PREFIX.length; i++) {
            if (headers[i] != STATUS_PREFIX[i]) {
                return false;
            }
        }
        return true;
    }

    private static long parse(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    ObjectNode info(long now) {
        ObjectNode o = source.infoJson();
        o.put("lag", lag);
        long active = lastActive;
        o.put("active", active == 0 ? -1 : Math.max(0, now - active));
        ObjectNode e = error;
        if (e != null) {
            o.set("error", e);
        }
        return o;
    }
}
