package io.jetkv.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/** Request/reply over a {@link FakeBus}, as a NATS client would do it with an inbox. */
public final class TestClient {
    public static final ObjectMapper JSON = new ObjectMapper();

    /** A reply: header block (or null) and payload. */
    public record Reply(byte[] headers, byte[] payload) {
        public String headersText() {
            return headers == null ? null : new String(headers, StandardCharsets.UTF_8);
        }

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        public JsonNode json() {
            try {
                return JSON.readTree(payload);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final FakeBus bus;
    private final AtomicInteger inboxes = new AtomicInteger();

    public TestClient(FakeBus bus) {
        this.bus = bus;
    }

    public Reply request(String subject, String headers, String payload) {
        return requestOrNull(subject, headers, payload, 5000);
    }

    public Reply request(String subject, String payload) {
        return request(subject, null, payload);
    }

    /** The reply, or null when none came within {@code millis}. */
    public Reply requestOrNull(String subject, String headers, String payload, long millis) {
        String inbox = "_INBOX.t" + inboxes.incrementAndGet();
        CompletableFuture<Reply> f = new CompletableFuture<>();
        MessageBus.Subscription sub = bus.subscribe(inbox, (s, r, h, p) -> f.complete(new Reply(h, p)));
        try {
            bus.clientPublish(subject, inbox, headers == null ? null : headers.getBytes(StandardCharsets.UTF_8),
                    payload == null ? new byte[0] : payload.getBytes(StandardCharsets.UTF_8));
            return f.get(millis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        } finally {
            sub.unsubscribe();
        }
    }

    /** A JSON API request whose reply must come. */
    public JsonNode api(String subject, String payload) {
        Reply r = request(subject, payload);
        assertNotNull(r, "no reply to " + subject);
        return r.json();
    }

    /** Publishes with a reply subject and returns the pub ack JSON. */
    public JsonNode publish(String subject, String headers, String payload) {
        Reply r = request(subject, headers, payload);
        assertNotNull(r, "no ack for " + subject);
        return r.json();
    }

    /** {@code NATS/1.0␍␊Name: value␍␊...␍␊} from name, value pairs. */
    public static String headers(String... nv) {
        StringBuilder sb = new StringBuilder("NATS/1.0\r\n");
        for (int i = 0; i < nv.length; i += 2) {
            sb.append(nv[i]).append(": ").append(nv[i + 1]).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    public static void assertError(JsonNode reply, int code, int errCode) {
        JsonNode e = reply.get("error");
        assertNotNull(e, "expected an error, got " + reply);
        assertEquals(code, e.get("code").asInt(), reply.toString());
        assertEquals(errCode, e.get("err_code").asInt(), reply.toString());
        assertTrue(e.get("description").isTextual());
    }

    public static void assertNoError(JsonNode reply) {
        assertTrue(reply.get("error") == null, () -> "unexpected error: " + reply);
    }
}
