package io.jetkv.jetstream.snapshot;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.InboundHandler;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsApiSubjects;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.consumer.ConsumerManager;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamConfig;
import io.jetkv.jetstream.stream.StreamInfoJson;
import io.jetkv.jetstream.stream.StreamManager;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One restore: chunks arrive on the deliver subject (each a request the client waits on), are staged in a file
 * and acknowledged with an empty reply; the empty chunk ends the upload, and is answered, once the stream is
 * restored, with a stream create response (stream info, or the error). A restore with no chunk for
 * {@link #IDLE_SECONDS} is abandoned, as the reference abandons a stalled one.
 *
 * <p>{@link #onMessage} runs on event loops and only queues (bounded); {@link #run} is the session's thread.
 */
final class RestoreSession implements InboundHandler, Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(RestoreSession.class);
    private static final long IDLE_SECONDS = 10;
    private static final int QUEUE = 64;

    private record Chunk(String reply, byte[] data) {}

    private final String name;
    private final StreamConfig requested;
    private final StreamManager streams;
    private final ConsumerManager consumers;
    private final MessageBus bus;
    private final Path staged;
    private final long maxBytes;
    private final Runnable done;
    private final ArrayBlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE);
    private final MessageBus.Subscription subscription;
    private volatile boolean finished;

    /**
     * @param requested the configuration the client sent (null: the archive's)
     * @param staged    an empty file for the chunks; the session deletes it when done
     */
    RestoreSession(String name, StreamConfig requested, StreamManager streams, ConsumerManager consumers,
            MessageBus bus, Path staged, long maxBytes, String deliverSubject, Runnable done) {
        this.name = name;
        this.requested = requested;
        this.streams = streams;
        this.consumers = consumers;
        this.bus = bus;
        this.staged = staged;
        this.maxBytes = maxBytes;
        this.done = done;
        this.subscription = bus.subscribe(deliverSubject, this);
    }

    /** Event loop: queue the chunk (the arrays are ours to keep). */
    @Override
    public boolean onMessage(String subject, String reply, byte[] headers, byte[] payload) {
        if (finished) {
            return true;
        }
        if (!queue.offer(new Chunk(reply, payload == null ? new byte[0] : payload)) && reply != null) {
            bus.publish(reply, null, null, "-ERR 'restore is busy'".getBytes(StandardCharsets.US_ASCII));
        }
        return true;
    }

    @Override
    public void run() {
        try {
            String endReply = stage(staged);
            subscription.unsubscribe();
            if (endReply != null) {
                bus.publish(endReply, null, null, finish(staged));
            }
        } catch (IOException e) {
            LOG.error("stream {}: restore could not stage its data", name, e);
        } finally {
            finished = true;
            subscription.unsubscribe();
            try {
                Files.deleteIfExists(staged);
            } catch (IOException e) {
                LOG.warn("stream {}: could not remove {}", name, staged);
            }
            done.run();
        }
    }

    /** Writes chunks to {@code file} until the empty one; returns its reply subject, or null when abandoned. */
    private String stage(Path file) throws IOException {
        long total = 0;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            while (true) {
                Chunk c;
                try {
                    c = queue.poll(IDLE_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
                if (c == null) {
                    LOG.warn("stream {}: restore is stalled, abandoned", name);
                    return null;
                }
                if (c.reply() == null) {
                    LOG.warn("stream {}: restore abandoned, a chunk came without reply subject", name);
                    return null;
                }
                if (c.data().length == 0) {
                    return c.reply();
                }
                total += c.data().length;
                if (maxBytes > 0 && total > maxBytes) {
                    bus.publish(c.reply(), null, null, response(new JsApiException(JsError.INSUFFICIENT_RESOURCES)));
                    return null;
                }
                try {
                    out.write(c.data());
                } catch (IOException e) {
                    bus.publish(c.reply(), null, null,
                            "-ERR 'storage failure during restore'".getBytes(StandardCharsets.US_ASCII));
                    throw e;
                }
                bus.publish(c.reply(), null, null, new byte[0]);
            }
        }
    }

    /** Restores the stream from the staged archive; the stream create response. */
    private byte[] finish(Path file) {
        long start = System.nanoTime();
        try (InputStream in = new S2InputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            Archive archive = Archives.open(new TarReader(in, Archives.MAX_ENTRY));
            ObjectNode saved = archive.config();
            String savedName = JsJson.getString(saved, "name");
            if (savedName != null && !savedName.equals(name)) {
                throw new JsApiException(JsError.STREAM_RESTORE_FAILED,
                        "snapshot is of stream " + savedName + ", not " + name);
            }
            StreamConfig cfg = requested != null ? requested : StreamConfig.fromJson(saved);
            cfg.validate();
            long created = archive.created() > 0 ? archive.created() : nowNanos();
            Stream stream = streams.createRestored(cfg, created, store -> {
                try {
                    archive.fill(store);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            for (ObjectNode c : archive.consumers()) {
                try {
                    OnWriter.call(stream, () -> {
                        consumers.importConsumer(stream, c);
                        return null;
                    });
                } catch (IOException | JsApiException e) {
                    LOG.warn("stream {}: consumer {} not restored: {}", name, c.path("name").asText(), e.getMessage());
                }
            }
            LOG.info("stream {}: restored in {} ms", name, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            // the counters of the restored store, its consumers included
            ObjectNode info = OnWriter.call(stream, () -> StreamInfoJson.info(stream, stream.store().state()));
            ObjectNode out = JsJson.object();
            out.put("type", JsApiSubjects.STREAM_CREATE_RESPONSE);
            out.setAll(info);
            return JsJson.bytes(out);
        } catch (JsApiException e) {
            LOG.warn("stream {}: restore failed: {}", name, e.description());
            if (e.error() == JsError.STREAM_NAME_EXIST) {
                // taken while the chunks came in
                return response(new JsApiException(JsError.STREAM_NAME_EXIST_RESTORE_FAILED));
            }
            return response(e.error() == JsError.STREAM_RESTORE_FAILED ? e
                    : new JsApiException(JsError.STREAM_RESTORE_FAILED, e.description()));
        } catch (IOException | UncheckedIOException e) {
            String reason = e instanceof UncheckedIOException u ? u.getCause().getMessage() : e.getMessage();
            LOG.warn("stream {}: restore failed: {}", name, reason);
            return response(new JsApiException(JsError.STREAM_RESTORE_FAILED, reason));
        } catch (RuntimeException e) {
            LOG.error("stream {}: restore failed", name, e);
            return response(new JsApiException(JsError.STREAM_RESTORE_FAILED, "internal error"));
        }
    }

    private static byte[] response(JsApiException e) {
        ObjectNode out = JsJson.object();
        out.put("type", JsApiSubjects.STREAM_CREATE_RESPONSE);
        out.set("error", JsJson.error(e));
        return JsJson.bytes(out);
    }

    private static long nowNanos() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }
}
