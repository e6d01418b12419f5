package io.jetkv.jetstream.snapshot;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.ApiRequest;
import io.jetkv.jetstream.api.JsApi;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsApiSubjects;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.consumer.ConsumerManager;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamConfig;
import io.jetkv.jetstream.stream.StreamInfoJson;
import io.jetkv.jetstream.stream.StreamManager;
import io.jetkv.protocol.Subject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code $JS.API.STREAM.SNAPSHOT.<stream>} and {@code $JS.API.STREAM.RESTORE.<stream>}: what {@code nats stream
 * backup} and {@code nats stream restore} (and so KV bucket backups) drive (nats-server's
 * {@code jsStreamSnapshotRequest} and {@code jsStreamRestoreRequest}).
 *
 * <p>A snapshot answers with the stream's configuration and state, then a {@link SnapshotSender} streams an
 * S2-compressed tar ({@link JetKvArchive}) to the request's {@code deliver_subject}, paced by the client's chunk
 * acks. A restore answers with a subject to send the archive to; a {@link RestoreSession} stages the chunks,
 * and at the empty end chunk restores the stream, from a JetKV snapshot or from a nats-server one
 * ({@link NatsServerArchive}), and answers that chunk with a stream create response.
 *
 * <p>Threading: handlers run on API workers and only validate; each snapshot or restore then runs on a thread of
 * its own (at most {@link #MAX_SESSIONS} at once), which may wait on the client and on the stream's writer.
 */
public final class SnapshotApi {
    static final int MAX_SESSIONS = 4;

    private final StreamManager streams;
    private final ConsumerManager consumers;
    private final MessageBus bus;
    private final Path stagingDir;
    private final long maxStore;
    private final Semaphore sessions = new Semaphore(MAX_SESSIONS);
    private final Set<Thread> running = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * @param stagingDir where restore chunks are staged until the end chunk arrives
     * @param maxStore   file storage limit (&lt;= 0: none), also the most a restore may send
     */
    public SnapshotApi(StreamManager streams, ConsumerManager consumers, MessageBus bus, Path stagingDir,
            long maxStore) {
        this.streams = streams;
        this.consumers = consumers;
        this.bus = bus;
        this.stagingDir = stagingDir;
        this.maxStore = maxStore;
    }

    public void registerWith(JsApi api) {
        api.register(JsApiSubjects.STREAM_SNAPSHOT, 1, 1, JsApiSubjects.STREAM_SNAPSHOT_RESPONSE, this::snapshot);
        api.register(JsApiSubjects.STREAM_RESTORE, 1, 1, JsApiSubjects.STREAM_RESTORE_RESPONSE, this::restore);
    }

    private void snapshot(ApiRequest req) {
        if (req.isEmptyRequest()) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        Stream stream = streams.get(req.arg(0));
        if (stream == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        ObjectNode body = req.body();
        String deliver = JsJson.getString(body, "deliver_subject");
        boolean noConsumers = JsJson.getBool(body, "no_consumers");
        // both clamped by ChunkPublisher, never refused (Go ints: anything integral up to 64 bits is taken)
        long chunkSize = JsJson.getLong(body, "chunk_size", 0);
        long windowSize = JsJson.getLong(body, "window_size", 0);
        JsJson.getBool(body, "jsck"); // checked for its type only: see SnapshotSender
        // an empty request was 10003 above; options without a deliver subject have an invalid (empty) one
        if (deliver == null || !Subject.isValid(deliver)) {
            throw new JsApiException(JsError.SNAPSHOT_DELIVER_SUBJECT_INVALID);
        }
        if (closed || !sessions.tryAcquire()) {
            throw new JsApiException(JsError.TOO_MANY_REQUESTS);
        }
        ObjectNode out = JsJson.object();
        out.set("config", stream.config().toJson());
        out.set("state", StreamInfoJson.state(stream.stats(), stream.consumerCount().get()));
        SnapshotSender sender = new SnapshotSender(bus, stream, noConsumers ? null : consumers, deliver,
                JsApiSubjects.SNAPSHOT_ACK_PREFIX + stream.name() + "." + token(), chunkSize, windowSize,
                sessions::release);
        req.respond(out);
        start("js-snapshot-" + stream.name(), sender);
    }

    private void restore(ApiRequest req) {
        if (req.isEmptyRequest()) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        String name = req.arg(0);
        ObjectNode body = req.body();
        ObjectNode cfgJson = JsJson.getObject(body, "config");
        StreamConfig requested = null;
        if (cfgJson != null && JsJson.getString(cfgJson, "name") != null) {
            requested = StreamConfig.fromJson(cfgJson);
            if (!requested.name().equals(name)) {
                throw new JsApiException(JsError.STREAM_MISMATCH);
            }
        }
        if (streams.get(name) != null) {
            throw new JsApiException(JsError.STREAM_NAME_EXIST_RESTORE_FAILED);
        }
        if (closed || !sessions.tryAcquire()) {
            throw new JsApiException(JsError.TOO_MANY_REQUESTS);
        }
        String deliver = JsApiSubjects.RESTORE_DELIVER_PREFIX + name + "." + token();
        RestoreSession session;
        Path staged = null;
        try {
            Files.createDirectories(stagingDir);
            staged = Files.createTempFile(stagingDir, "js-restore-", ".tar.s2");
            session = new RestoreSession(name, requested, streams, consumers, bus, staged, maxStore, deliver,
                    sessions::release);
        } catch (IOException e) {
            sessions.release();
            throw new JsApiException(JsError.TEMP_STORAGE_FAILED);
        } catch (RuntimeException e) {
            sessions.release();
            deleteQuietly(staged);
            throw e;
        }
        ObjectNode out = JsJson.object();
        out.put("deliver_subject", deliver);
        req.respond(out);
        start("js-restore-" + name, session);
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a leftover in the staging directory
            }
        }
    }

    private static String token() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 22);
    }

    private void start(String name, Runnable r) {
        Thread t = new Thread(() -> {
            try {
                r.run(); // even when closing meanwhile: it releases its permit and subscription, and sees the interrupt
            } finally {
                running.remove(Thread.currentThread());
            }
        }, name);
        t.setDaemon(true);
        running.add(t);
        t.start();
    }

    /**
     * Shutdown, before the streams close: interrupts running snapshots (they end with an error status) and
     * restores (a half-filled store is destroyed), and waits a little for them.
     */
    public void close() {
        closed = true;
        for (Thread t : running) {
            t.interrupt();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (Thread t : running) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
