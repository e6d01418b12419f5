package io.jetkv.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The snapshot exchange as jsm.go drives it for {@code nats stream backup} / {@code restore} (jnats has no API
 * for it): the snapshot request, then a subscription on the deliver subject that writes each chunk and answers
 * its reply subject, until the empty end message; the restore request, then each 64 KiB chunk as a request, then
 * the empty request whose answer is the stream create response.
 */
final class SnapshotClient {
    static final ObjectMapper JSON = new ObjectMapper();

    /** What {@code nats stream backup} keeps: backup.json ({config, state}) and stream.tar.s2. */
    record Backup(ObjectNode meta, byte[] data, int chunks) {}

    private SnapshotClient() {}

    static JsonNode request(Connection nc, String subject, Object body, Duration timeout) throws Exception {
        byte[] payload = body instanceof byte[] b ? b : JSON.writeValueAsBytes(body);
        Message m = nc.request(subject, payload, timeout);
        if (m == null) {
            throw new AssertionError("no reply on " + subject);
        }
        return JSON.readTree(m.getData());
    }

    /** Sends a snapshot request; the reply (an error when it has one). */
    static JsonNode snapshotRequest(Connection nc, String stream, String deliver, boolean consumers) throws Exception {
        ObjectNode req = JSON.createObjectNode();
        req.put("chunk_size", 64 * 1024);
        return snapshotRequest(nc, stream, deliver, consumers, req);
    }

    /** Sends a snapshot request with {@code options} (chunk_size, window_size, ...) added to it. */
    static JsonNode snapshotRequest(Connection nc, String stream, String deliver, boolean consumers,
            ObjectNode options) throws Exception {
        ObjectNode req = JSON.createObjectNode();
        req.put("deliver_subject", deliver);
        req.put("no_consumers", !consumers);
        req.setAll(options);
        return request(nc, "$JS.API.STREAM.SNAPSHOT." + stream, req, Duration.ofSeconds(5));
    }

    static Backup backup(Connection nc, String stream, boolean consumers) throws Exception {
        ObjectNode options = JSON.createObjectNode();
        options.put("chunk_size", 64 * 1024);
        return backup(nc, stream, consumers, options, m -> nc.publish(m.getReplyTo(), new byte[0]));
    }

    /**
     * The snapshot exchange with {@code options} in the request; {@code ack} answers each chunk that has a reply
     * subject (now or later, from any thread). The end is an empty message, with status 204 when at least one full
     * chunk went before it (nats-server 2.9+) or none; any other status fails the backup.
     */
    static Backup backup(Connection nc, String stream, boolean consumers, ObjectNode options,
            java.util.function.Consumer<Message> ack) throws Exception {
        String inbox = nc.createInbox();
        JsonNode resp = snapshotRequest(nc, stream, inbox, consumers, options);
        if (resp.has("error")) {
            throw new AssertionError("snapshot refused: " + resp);
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        CompletableFuture<Integer> done = new CompletableFuture<>();
        int[] chunks = {0};
        // as jsm.go: subscribe only after the response (the server waits for the subscription)
        Dispatcher d = nc.createDispatcher(m -> {
            byte[] b = m.getData();
            boolean ok = m.getStatus() == null || m.getStatus().getCode() == 204;
            if (!ok || m.getHeaders() != null && m.getHeaders().size() > 0) {
                done.completeExceptionally(new AssertionError("snapshot failed: " + m.getStatus()));
                return;
            }
            if (b == null || b.length == 0) {
                done.complete(chunks[0]);
                return;
            }
            data.writeBytes(b);
            chunks[0]++;
            if (m.getReplyTo() != null) {
                ack.accept(m);
            }
        });
        d.setPendingLimits(-1, -1);
        d.subscribe(inbox);
        try {
            int n = done.get(60, TimeUnit.SECONDS);
            ObjectNode meta = JSON.createObjectNode();
            meta.set("config", resp.get("config"));
            meta.set("state", resp.get("state"));
            return new Backup(meta, data.toByteArray(), n);
        } finally {
            nc.closeDispatcher(d);
        }
    }

    /** The restore exchange; the final stream create response. */
    static JsonNode restore(Connection nc, String stream, Backup backup) throws Exception {
        JsonNode resp = request(nc, "$JS.API.STREAM.RESTORE." + stream, backup.meta(), Duration.ofSeconds(5));
        if (resp.has("error")) {
            return resp;
        }
        String deliver = resp.get("deliver_subject").asText();
        byte[] data = backup.data();
        for (int at = 0; at < data.length; at += 64 * 1024) {
            byte[] chunk = Arrays.copyOfRange(data, at, Math.min(data.length, at + 64 * 1024));
            Message ack = nc.request(deliver, chunk, Duration.ofSeconds(5));
            if (ack == null || ack.getData().length != 0) {
                throw new AssertionError("chunk refused: "
                        + (ack == null ? "no reply" : new String(ack.getData(), StandardCharsets.UTF_8)));
            }
        }
        return request(nc, deliver, new byte[0], Duration.ofSeconds(60));
    }
}
