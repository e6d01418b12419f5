package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.store.StoredMessage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * <p>Threading: {@link #onMessage} runs on the delivering thread (the origin's writer); everything else on the
 * target's writer, except {@link #start}, {@link #stop} and {@link #info}.
 */
final class DurableSource {
    private static final byte[] STATUS_PREFIX = "NATS/1.0 100".getBytes(StandardCharsets.US_ASCII);
    /** How long a reset may go unanswered (the consumer not there yet, say after a restart) before it is asked again. */
    private static final long RESET_RETRY_NANOS = 1_000_000_000L;

    private final Stream target;
    private final StreamSource source;
    private final boolean mirror;
    private final String positionKey;
    private final MessageBus bus;
    private volatile MessageBus.Subscription sub;
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

    DurableSource(Stream target, StreamSource source, boolean mirror) {
        this.target = target;
        this.source = source;
        this.mirror = mirror;
        this.positionKey = source.positionKey(mirror);
        this.bus = target.bus();
    }

    /** Subscribes to the deliver subject, and resets the consumer: what it delivered before may not be stored. */
    void start() {
        sub = bus.subscribe(source.consumer().deliverSubject(), this::onMessage);
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
        if (resetting && Stream.nowNanos() - resetAt >= RESET_RETRY_NANOS) {
            reset();
        }
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

    /** Target writer: one delivery, status or message. */
    private void apply(String subject, String reply, byte[] headers, byte[] payload, Stream.Batch batch) {
        if (stopped || target.isClosed()) {
            return;
        }
        if (lastSseq < 0) {
            byte[] saved = target.store().getAux(positionKey);
            lastSseq = saved != null && saved.length == 8 ? ByteBuffer.wrap(saved).getLong() : 0;
        }
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
        target.store().putAux(positionKey, ByteBuffer.allocate(8).putLong(sseq).array());
        batch.markDirty();
    }

    /** Answers a flow-control request after the flush: this acks the consumer up to what is stored. */
    private void answer(String to, Stream.Batch batch) {
        long sseq = lastSseq;
        long dseq = lastDseq;
        batch.afterFlush(() -> bus.publish(to, null, HeaderBlock.append(null, "Nats-Last-Stream",
                Long.toString(sseq), "Nats-Last-Consumer", Long.toString(dseq)), new byte[0]));
    }

    /** Target writer: asks the consumer to deliver again from after its ack floor. */
    private void reset() {
        if (stopped) {
            return;
        }
        resetting = true;
        resetAt = Stream.nowNanos();
        StreamSource.Consumer c = source.consumer();
        bus.publish("$JS.API.CONSUMER.RESET." + source.name() + "." + c.name(), null, null, new byte[0]);
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
        return o;
    }
}
