package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.store.SubjectState;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamListener;
import io.jetkv.kv.KvView;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.jetkv.server.monitor.MonitorServer.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web console for KV buckets on the monitoring port ({@code /console}): one static page, and the JSON
 * it reads — buckets, a bucket's keys (paged, with a filter), a key's value and history — plus a live
 * watch as server-sent events. Everything is read through the streams themselves, on each stream's writer
 * thread (as {@code $JS.API} reads are), never from a client connection looping back; the monitoring loop
 * only routes and writes. With {@code console { writes: true }} a user of the server (HTTP basic
 * authentication) may also put and delete keys: the console publishes to {@code $KV.<bucket>.<key>} through the
 * server's message bus, as a client's publish goes, and answers with the stream's pub ack.
 *
 * <p>Threading: requests arrive on the {@code nats-http} loop; reads run on the bucket's stream writer and
 * complete a future; watch events are written from the writer thread to the watcher's channel (Netty
 * queues them onto the channel's loop).
 */
final class Console {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_PAGE = 100;
    private static final int MAX_PAGE = 1000;
    /** Events written to one watcher per stream flush; the rest follow on the next flush. */
    private static final int WATCH_BATCH = 1000;

    /**
     * A bucket's keys for one filter, sorted off the writer and kept while the stream is unchanged so that
     * paging does not sort again; {@code sorted} false while it is the writer's raw copy.
     */
    private record KeyIndex(long lastSeq, long removals, String filter, String[] subjects, boolean sorted) {}

    /** Sorts key listings: one thread, a short queue (a full one answers 503), never a writer or the HTTP loop. */
    private final java.util.concurrent.ThreadPoolExecutor sorter = new java.util.concurrent.ThreadPoolExecutor(1, 1,
            0, java.util.concurrent.TimeUnit.MILLISECONDS, new java.util.concurrent.ArrayBlockingQueue<>(16), r -> {
                Thread t = new Thread(r, "console-keys");
                t.setDaemon(true);
                return t;
            });

    private static final java.security.SecureRandom REPLY_IDS = new java.security.SecureRandom();

    private final ServerView server;
    private final Map<String, KeyIndex> keyIndexes = new ConcurrentHashMap<>();
    private final byte[] page;

    Console(ServerView server) {
        this.server = server;
        try (InputStream in = Console.class.getResourceAsStream("console.html")) {
            page = in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the console page is missing from the jar", e);
        }
    }

    static boolean handles(String path) {
        return path.equals("/console") || path.startsWith("/console/");
    }

    /** A put ({@code PUT}/{@code POST}) or delete ({@code DELETE}) of one key. */
    static boolean isWrite(String method, String path) {
        boolean write = method.equals("PUT") || method.equals("POST") || method.equals("DELETE");
        if (!write || !path.startsWith("/console/api/buckets/")) {
            return false;
        }
        String[] parts = path.substring("/console/api/buckets/".length()).split("/", 3);
        return parts.length == 3 && parts[1].equals("key");
    }

    /**
     * Monitoring loop: puts {@code value} under the key ({@code PUT}/{@code POST}) or deletes it ({@code DELETE}),
     * once the user of {@code authorization} (a {@code Basic} header) passes. 403 when writes are off.
     */
    CompletableFuture<Reply> write(String method, String path, String authorization, byte[] value) {
        if (!server.config().monitor().consoleWrites()) {
            return done(error(HttpResponseStatus.FORBIDDEN, "console writes are disabled (console { writes: true })"));
        }
        JetStreamService js = server.jetstream();
        if (js == null) {
            return done(error(HttpResponseStatus.SERVICE_UNAVAILABLE, "JetStream is not enabled"));
        }
        String[] parts = path.substring("/console/api/buckets/".length()).split("/", 3);
        String bucket = parts[0];
        String key = java.net.URLDecoder.decode(parts[2], StandardCharsets.UTF_8);
        if (!KvView.isValidBucket(bucket) || js.streams().get(KvView.streamOf(bucket)) == null) {
            return done(error(HttpResponseStatus.NOT_FOUND, "bucket not found"));
        }
        if (!KvView.isValidKey(key)) {
            return done(error(HttpResponseStatus.BAD_REQUEST, "invalid key"));
        }
        String subject = KvView.subjectOf(bucket, key);
        String[] credentials = basic(authorization);
        ServerView.WriteCheck check = server.checkWrite(credentials[0], credentials[1], subject);
        if (check == ServerView.WriteCheck.UNAUTHENTICATED) {
            return done(error(HttpResponseStatus.UNAUTHORIZED, "authentication required"));
        }
        if (check == ServerView.WriteCheck.FORBIDDEN) {
            return done(error(HttpResponseStatus.FORBIDDEN, "Permissions Violation for Publish to \"" + subject + "\""));
        }
        boolean delete = method.equals("DELETE");
        byte[] headers = delete ? "NATS/1.0\r\nKV-Operation: DEL\r\n\r\n".getBytes(StandardCharsets.US_ASCII) : null;
        return publish(subject, headers, delete ? new byte[0] : value).thenApply(ack -> {
            if (ack.has("error")) {
                // the stream's own refusal (400 and its err_code), or 504 when no pub ack came
                return json(HttpResponseStatus.valueOf(ack.path("error").path("code").asInt(504)), ack);
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("bucket", bucket);
            o.put("key", key);
            o.put("revision", ack.path("seq").asLong());
            o.put("operation", delete ? "DEL" : "PUT");
            return json(HttpResponseStatus.OK, o);
        });
    }

    /** Publishes with an internal reply subject and completes with the pub ack (or a 504 after 10 s). */
    private CompletableFuture<ObjectNode> publish(String subject, byte[] headers, byte[] payload) {
        CompletableFuture<ObjectNode> ack = new CompletableFuture<>();
        String reply = "$JKV.CONSOLE." + Long.toHexString(REPLY_IDS.nextLong() & Long.MAX_VALUE);
        io.jetkv.jetstream.MessageBus bus = server.bus();
        // the stream's writer answers on its thread; the subscription ends with the first answer
        io.jetkv.jetstream.MessageBus.Subscription sub = bus.subscribe(reply, (s, r, h, p) -> {
            try {
                ack.complete((ObjectNode) JSON.readTree(p));
            } catch (IOException | ClassCastException e) {
                ack.completeExceptionally(e);
            }
            return true;
        });
        ack.whenComplete((a, t) -> sub.unsubscribe());
        bus.publish(subject, reply, headers, payload);
        return ack.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> {
            ObjectNode o = JSON.createObjectNode();
            o.putObject("error").put("description", "no pub ack from the bucket's stream: " + t);
            return o;
        });
    }

    /** {@code [user, password]} of a {@code Basic} authorization header; nulls when absent or malformed. */
    private static String[] basic(String header) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return new String[2];
        }
        try {
            String text = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            return colon < 0 ? new String[2] : new String[] {text.substring(0, colon), text.substring(colon + 1)};
        } catch (IllegalArgumentException e) {
            return new String[2];
        }
    }

    static boolean isWatch(String path) {
        return path.startsWith("/console/api/buckets/") && path.endsWith("/watch");
    }

    /** Everything except the watch: the page and the JSON reads. */
    CompletableFuture<Reply> route(String path, Map<String, List<String>> params) {
        if (path.equals("/console")) {
            // the page's requests are relative to it, so it lives under a slash (and under http_base_path)
            return done(new Reply(HttpResponseStatus.MOVED_PERMANENTLY, "text/plain; charset=utf-8", new byte[0],
                    "console/"));
        }
        if (path.equals("/console/")) {
            return done(new Reply(HttpResponseStatus.OK, "text/html; charset=utf-8", page, null));
        }
        JetStreamService js = server.jetstream();
        if (js == null) {
            return done(error(HttpResponseStatus.SERVICE_UNAVAILABLE, "JetStream is not enabled"));
        }
        if (path.equals("/console/api/buckets")) {
            return done(json(HttpResponseStatus.OK, buckets(js)));
        }
        String[] parts = path.substring("/console/api/buckets/".length()).split("/", 3);
        if (!path.startsWith("/console/api/buckets/") || parts.length < 2) {
            return done(error(HttpResponseStatus.NOT_FOUND, "no such console path"));
        }
        String bucket = parts[0];
        Stream stream = KvView.isValidBucket(bucket) ? js.streams().get(KvView.streamOf(bucket)) : null;
        if (stream == null) {
            return done(error(HttpResponseStatus.NOT_FOUND, "bucket not found"));
        }
        if (parts.length == 2 && parts[1].equals("keys")) {
            String filter = first(params, "filter");
            String after = first(params, "after");
            int limit;
            try {
                limit = Math.min(MAX_PAGE, Math.max(1, Integer.parseInt(first(params, "limit", "" + DEFAULT_PAGE))));
            } catch (NumberFormatException e) {
                return done(error(HttpResponseStatus.BAD_REQUEST, "limit must be a number"));
            }
            if (filter != null && !filter.isEmpty() && !validFilter(filter)) {
                return done(error(HttpResponseStatus.BAD_REQUEST, "invalid key filter"));
            }
            return keys(stream, bucket, filter, after, limit);
        }
        if (parts.length == 3 && parts[1].equals("key")) {
            String key = java.net.URLDecoder.decode(parts[2], StandardCharsets.UTF_8);
            if (!KvView.isValidKey(key)) {
                return done(error(HttpResponseStatus.BAD_REQUEST, "invalid key"));
            }
            return onWriter(stream, store -> key(bucket, store, key));
        }
        return done(error(HttpResponseStatus.NOT_FOUND, "no such console path"));
    }

    // ---- reads ----

    private ObjectNode buckets(JetStreamService js) {
        ArrayNode list = JSON.createArrayNode();
        for (Stream s : js.streams().all()) {
            if (KvView.bucketOf(s.config()) == null || s.isDeleted()) {
                continue;
            }
            KvView.Status st = KvView.statusOf(s.config(), s.stats());
            ObjectNode b = list.addObject();
            b.put("bucket", st.bucket());
            b.put("keys", st.keys());
            b.put("values", st.values());
            b.put("bytes", st.bytes());
            b.put("history", st.history());
            b.put("ttl_ns", st.ttlNanos());
            b.put("storage", st.storage());
            b.put("replicas", st.replicas());
        }
        ObjectNode o = JSON.createObjectNode();
        o.set("buckets", list);
        o.put("writes", server.config().monitor().consoleWrites());
        return o;
    }

    /**
     * Live keys (last operation a put) after {@code after}, in order. Three steps, so that the writer never sorts:
     * on the writer, the cached order is checked against the stream's last sequence and removals and, when stale,
     * the matching subjects are copied out unsorted; on {@code console-keys} they are sorted; on the writer again,
     * the page's entries are read from just after {@code after} (a binary search).
     */
    private CompletableFuture<Reply> keys(Stream stream, String bucket, String filter, String after, int limit) {
        String subjectFilter = KvView.filterOf(bucket, filter);
        String cacheKey = stream.name() + " " + subjectFilter;
        CompletableFuture<KeyIndex> index = onWriterValue(stream, store -> {
            KeyIndex cached = keyIndexes.get(cacheKey);
            long lastSeq = store.lastSeq();
            long removals = store.removals();
            if (cached != null && cached.lastSeq == lastSeq && cached.removals == removals) {
                return cached;
            }
            return new KeyIndex(lastSeq, removals, subjectFilter, store.subjectsMatching(subjectFilter), false);
        }).thenApplyAsync(found -> {
            if (found.sorted()) {
                return found;
            }
            Arrays.sort(found.subjects());
            KeyIndex sorted = new KeyIndex(found.lastSeq(), found.removals(), found.filter(), found.subjects(), true);
            // one order per bucket and filter; a newer one replaces it
            keyIndexes.keySet().removeIf(k -> k.startsWith(stream.name() + " "));
            keyIndexes.put(cacheKey, sorted);
            return sorted;
        }, sorter);
        return index.thenCompose(ix -> onWriter(stream, store -> keysPage(bucket, store, ix, after, limit)))
                .exceptionally(t -> error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the bucket is busy or going away"));
    }

    /** Writer thread: one page of {@code index}'s subjects after {@code after}, deleted keys skipped. */
    private static ObjectNode keysPage(String bucket, StreamStore store, KeyIndex index, String after, int limit) {
        String[] subjects = index.subjects;
        int i = 0;
        if (after != null && !after.isEmpty()) {
            int at = Arrays.binarySearch(subjects, KvView.subjectOf(bucket, after));
            i = at >= 0 ? at + 1 : -at - 1;
        }
        ArrayNode keys = JSON.createArrayNode();
        // deleted keys are skipped; a page stops early rather than read without bound
        int budget = limit * 10 + 1000;
        String last = null;
        for (; i < subjects.length && keys.size() < limit && budget-- > 0; i++) {
            StoredMessage m = store.loadLast(subjects[i]);
            last = KvView.keyOf(bucket, subjects[i]);
            KvView.Entry e = m == null ? null : KvView.entryOf(bucket, m);
            if (e == null || e.operation() != KvView.Operation.PUT) {
                continue;
            }
            ObjectNode k = keys.addObject();
            k.put("key", e.key());
            k.put("revision", e.revision());
            k.put("created", Instant.ofEpochSecond(0, e.created()).toString());
            k.put("size", e.value().length);
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("bucket", bucket);
        o.put("total_subjects", subjects.length);
        o.set("keys", keys);
        if (i < subjects.length && last != null) {
            o.put("next", last);
        }
        return o;
    }

    /** Writer thread. The key's latest entry and its history, oldest first. */
    private ObjectNode key(String bucket, StreamStore store, String key) {
        String subject = KvView.subjectOf(bucket, key);
        SubjectState state = store.subjectState(subject);
        ArrayNode history = JSON.createArrayNode();
        long seq = state.firstSeq();
        for (long n = 0; n < state.msgs() && seq > 0 && seq <= state.lastSeq(); n++) {
            StoredMessage m = store.loadNext(seq, subject);
            if (m == null) {
                break;
            }
            history.add(entryJson(KvView.entryOf(bucket, m)));
            seq = m.seq() + 1;
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("bucket", bucket);
        o.put("key", key);
        o.set("history", history);
        return o;
    }

    static ObjectNode entryJson(KvView.Entry e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("key", e.key());
        o.put("revision", e.revision());
        o.put("created", Instant.ofEpochSecond(0, e.created()).toString());
        o.put("operation", e.operation().name());
        String text = utf8(e.value());
        if (text != null) {
            o.put("value", text);
        } else {
            o.put("value_base64", Base64.getEncoder().encodeToString(e.value()));
        }
        return o;
    }

    // values are shown as text when they are valid UTF-8, else as base64
    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    private interface StoreRead {
        ObjectNode read(StreamStore store);
    }

    /** Runs {@code read} on the stream's writer; fails when the stream refuses the task (busy or closing). */
    private static <T> CompletableFuture<T> onWriterValue(Stream stream, java.util.function.Function<StreamStore, T> read) {
        CompletableFuture<T> result = new CompletableFuture<>();
        boolean queued = stream.execute(batch -> batch.read(() -> {
            try {
                result.complete(read.apply(stream.store()));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }));
        if (!queued) {
            result.completeExceptionally(new java.util.concurrent.RejectedExecutionException(stream.name()));
        }
        return result;
    }

    private static CompletableFuture<Reply> onWriter(Stream stream, StoreRead read) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        boolean queued = stream.execute(batch -> batch.read(() -> {
            try {
                reply.complete(json(HttpResponseStatus.OK, read.read(stream.store())));
            } catch (RuntimeException e) {
                reply.completeExceptionally(e);
            }
        }));
        if (!queued) {
            reply.complete(error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the bucket is busy or going away"));
        }
        return reply;
    }

    // ---- live watch ----

    /**
     * Monitoring loop: turns this request's connection into an event stream of the bucket's changes from now
     * on. A watcher that does not keep up (its socket buffer full) is dropped; the browser's EventSource then
     * reconnects by itself.
     */
    void watch(ChannelHandlerContext ctx, String path) {
        String bucket = path.substring("/console/api/buckets/".length(), path.length() - "/watch".length());
        JetStreamService js = server.jetstream();
        Stream stream = js == null || !KvView.isValidBucket(bucket) ? null
                : js.streams().get(KvView.streamOf(bucket));
        if (stream == null) {
            MonitorServer.writeFull(ctx, error(HttpResponseStatus.NOT_FOUND, "bucket not found"), false);
            return;
        }
        Channel ch = ctx.channel();
        if (ch.pipeline().get(ReadTimeoutHandler.class) != null) {
            ch.pipeline().remove(ReadTimeoutHandler.class); // an event stream is quiet on the way in
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        HttpUtil.setTransferEncodingChunked(head, true);
        ch.write(head);
        ch.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(": watching " + bucket + "\n\n",
                StandardCharsets.UTF_8)));
        Watcher w = new Watcher(ch, bucket);
        boolean queued = stream.execute(batch -> batch.read(() -> {
            w.next = stream.store().lastSeq() + 1;
            stream.addListener(w);
            ch.closeFuture().addListener(f -> stream.removeListener(w));
        }));
        if (!queued) {
            ch.close();
        }
    }

    /** Writer thread of the bucket's stream: writes what each flush added, as events. */
    private static final class Watcher implements StreamListener {
        private final Channel ch;
        private final String bucket;
        private final String filter;
        long next;

        Watcher(Channel ch, String bucket) {
            this.ch = ch;
            this.bucket = bucket;
            this.filter = KvView.filterOf(bucket, null);
        }

        @Override
        public void afterFlush(Stream stream) {
            if (!ch.isActive()) {
                stream.removeListener(this);
                return;
            }
            StreamStore store = stream.store();
            long last = store.lastSeq();
            int n = 0;
            while (next <= last && n < WATCH_BATCH) {
                if (!ch.isWritable()) {
                    ch.close(); // too slow: dropped rather than buffered without bound
                    stream.removeListener(this);
                    return;
                }
                StoredMessage m = store.loadNext(next, filter);
                if (m == null || m.seq() > last) {
                    next = last + 1;
                    break;
                }
                next = m.seq() + 1;
                KvView.Entry e = KvView.entryOf(bucket, m);
                if (e != null) {
                    String event = "data: " + entryJson(e) + "\n\n";
                    ch.write(new DefaultHttpContent(Unpooled.copiedBuffer(event, StandardCharsets.UTF_8)));
                    n++;
                }
            }
            if (n > 0) {
                ch.flush();
            }
        }

        @Override
        public void streamClosed(Stream stream) {
            ch.close();
        }
    }

    void close() {
        sorter.shutdownNow();
    }

    // ---- helpers ----

    private static boolean validFilter(String filter) {
        String[] tokens = filter.split("\\.", -1);
        for (int i = 0; i < tokens.length; i++) {
            String t = tokens[i];
            if (t.isEmpty() || (t.equals(">") && i != tokens.length - 1)) {
                return false;
            }
            if (!t.equals("*") && !t.equals(">") && !KvView.isValidKey(t)) {
                return false;
            }
        }
        return true;
    }

    private static String first(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static String first(Map<String, List<String>> params, String name, String fallback) {
        String v = first(params, name);
        return v == null ? fallback : v;
    }

    private static CompletableFuture<Reply> done(Reply r) {
        return CompletableFuture.completedFuture(r);
    }

    private static Reply json(HttpResponseStatus status, ObjectNode o) {
        try {
            return new Reply(status, "application/json", JSON.writeValueAsBytes(o), null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Reply error(HttpResponseStatus status, String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("error", message);
        return json(status, o);
    }
}
