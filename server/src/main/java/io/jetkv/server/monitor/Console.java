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
 * only routes and writes. Read-only for now.
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

    /** A bucket's keys in order, kept while the stream is unchanged so that paging does not sort again. */
    private record KeyIndex(long lastSeq, long removals, String filter, String[] subjects) {}

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
            return onWriter(stream, store -> keys(stream.name(), bucket, store, filter, after, limit));
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
        return o;
    }

    /** Writer thread. Live keys (last operation a put) after {@code after}, in order. */
    private ObjectNode keys(String streamName, String bucket, StreamStore store, String filter, String after,
            int limit) {
        String subjectFilter = KvView.filterOf(bucket, filter);
        KeyIndex index = keyIndexes.get(streamName);
        long lastSeq = store.lastSeq();
        long removals = store.removals();
        if (index == null || index.lastSeq != lastSeq || index.removals != removals
                || !index.filter.equals(subjectFilter)) {
            String[] subjects = store.subjectCounts(subjectFilter).keySet().toArray(new String[0]);
            Arrays.sort(subjects);
            index = new KeyIndex(lastSeq, removals, subjectFilter, subjects);
            keyIndexes.put(streamName, index);
        }
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
