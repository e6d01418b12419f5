package io.jetkv.jetstream.api;

import io.jetkv.jetstream.MessageBus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code $JS.API} dispatch table (nats-server's {@code jetstream_api.go} handler map). Operations are
 * registered with how many name tokens follow them; stream handlers are registered by
 * {@code StreamApi}, consumer handlers can be added (or replace the placeholders) by the consumer side.
 *
 * <p>Threading: {@link #onMessage} runs on a Netty event loop; it only matches the subject and hands the
 * request to the API worker pool (bounded; a full pool answers 429/10167), except for routes registered
 * as {@code inline}, whose handlers must not block (direct get: they only offer to a stream's queue).
 * A request on a subject no route serves (an unknown operation, the wrong token count, an empty token) is not
 * taken, so its requester gets no-responders (503) at once rather than waiting for a timeout: nats-server
 * answers malformed subjects that way and leaves unknown operations unanswered.
 */
public final class JsApi {
    private static final Logger LOG = LoggerFactory.getLogger(JsApi.class);

    /** Serves one request; throws {@link JsApiException} or replies through the request itself. */
    @FunctionalInterface
    public interface Handler {
        void handle(ApiRequest request);
    }

    /**
     * Decides, in a cluster, whether this server answers a request (nats-server: only the meta leader or the
     * stream leader answers; every server receives every request over the routes). Event loop: must not block.
     */
    @FunctionalInterface
    public interface Gate {
        /**
         * @param op   the operation, e.g. {@code STREAM.INFO}
         * @param args the name tokens after it
         * @return null when another server answers; otherwise a stage after whose completion this server
         *     answers (already complete, or a read barrier)
         */
        java.util.concurrent.CompletionStage<?> admit(String op, List<String> args, String reply);
    }

    private volatile Gate gate;
    /** Unknown request fields are 10025 (nats-server 2.12's default; {@code jetstream { strict: false }}). */
    private volatile boolean strict = true;

    /** Strict request decoding on (the default) or off ({@link StrictJson}). */
    public void setStrict(boolean on) {
        this.strict = on;
    }

    /** Set for an account without JetStream: every request is answered with it (inline ones get nothing). */
    private volatile JsError refuseAll;

    /**
     * Makes this the API of an account without JetStream: requests get {@code error} (nats-server's "JetStream not
     * enabled for account"), direct gets and pull requests no reply at all, as the reference.
     */
    public void refuseAll(JsError error) {
        this.refuseAll = error;
    }

    /** The system account's: only {@code INFO} is refused out loud; everything else goes unanswered, as the reference. */
    public void refuseInfoOnly(JsError error) {
        this.refuseInfoOnly = true;
        this.refuseAll = error;
    }

    private volatile boolean refuseInfoOnly;

    /** Installs the cluster's gate (null: a single server answers everything). */
    public void setGate(Gate g) {
        this.gate = g;
    }

    private record Route(String[] op, int minArgs, int maxArgs, String responseType, Handler handler, boolean inline) {}

    private static final byte[] REQUIRED_API_LEVEL_STATUS =
            "NATS/1.0 412 Required Api Level\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final MessageBus bus;
    private final ExecutorService workers;
    private final List<String> prefixes;
    private final List<Route> routes = new CopyOnWriteArrayList<>();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();

    /** @param domain JetStream domain also answered as {@code $JS.<domain>.API.}, or null */
    public JsApi(MessageBus bus, ExecutorService workers, String domain) {
        this.bus = bus;
        this.workers = workers;
        this.prefixes = domain == null || domain.isEmpty()
                ? List.of(JsApiSubjects.PREFIX)
                : List.of(JsApiSubjects.PREFIX, JsApiSubjects.domainPrefix(domain));
    }

    /** The subscriptions the API needs ({@code $JS.API.>}, plus the domain form). */
    public List<String> subscriptionSubjects() {
        List<String> out = new ArrayList<>();
        for (String p : prefixes) {
            out.add(p + ">");
        }
        return out;
    }

    /**
     * Adds (or replaces, for the same operation and token counts) a route.
     *
     * @param op       operation tokens, e.g. {@code "STREAM.INFO"}
     * @param minArgs  fewest name tokens after the operation
     * @param maxArgs  most name tokens ({@code Integer.MAX_VALUE}: any)
     * @param inline   run on the event loop (handler must not block); otherwise on an API worker
     */
    public void register(String op, int minArgs, int maxArgs, String responseType, Handler handler, boolean inline) {
        String[] tokens = op.split("\\.");
        routes.removeIf(r -> Arrays.equals(r.op, tokens) && r.minArgs == minArgs && r.maxArgs == maxArgs);
        routes.add(new Route(tokens, minArgs, maxArgs, responseType, handler, inline));
    }

    /** The handler registered for exactly {@code op}, or null (a layer wrapping it, e.g. the cluster's). */
    public Handler handler(String op) {
        String[] tokens = op.split("\\.");
        for (Route r : routes) {
            if (Arrays.equals(r.op, tokens)) {
                return r.handler;
            }
        }
        return null;
    }

    public void register(String op, int minArgs, int maxArgs, String responseType, Handler handler) {
        register(op, minArgs, maxArgs, responseType, handler, false);
    }

    public long total() {
        return total.get();
    }

    public long errors() {
        return errors.get();
    }

    void countError() {
        errors.incrementAndGet();
    }

    /** Event loop: match and hand off; false when no route serves the subject. */
    public boolean onMessage(String subject, String reply, byte[] headers, byte[] payload) {
        String rest = null;
        for (String p : prefixes) {
            if (subject.startsWith(p)) {
                rest = subject.substring(p.length());
                break;
            }
        }
        if (rest == null || rest.isEmpty()) {
            return false;
        }
        String[] tokens = rest.split("\\.", -1);
        for (String t : tokens) {
            if (t.isEmpty()) {
                return false;
            }
        }
        Route route = match(tokens);
        if (route == null) {
            return false;
        }
        List<String> args = List.of(tokens).subList(route.op.length, tokens.length);
        ApiRequest request = new ApiRequest(this, bus, JsApiSubjects.PREFIX + rest, args, reply, headers, payload,
                route.responseType, String.join(".", route.op), strict);
        Gate g = gate;
        if (g != null) {
            java.util.concurrent.CompletionStage<?> admitted = g.admit(String.join(".", route.op), args, reply);
            if (admitted == null) {
                return true; // another server of the cluster answers
            }
            java.util.concurrent.CompletableFuture<?> f = admitted.toCompletableFuture();
            if (!f.isDone()) {
                admitted.whenComplete((ok, err) -> {
                    if (err != null) {
                        request.fail(JsError.CLUSTER_NOT_AVAILABLE);
                    } else {
                        dispatch(route, request);
                    }
                });
                return true;
            }
            if (f.isCompletedExceptionally()) {
                request.fail(JsError.CLUSTER_NOT_AVAILABLE);
                return true;
            }
        }
        dispatch(route, request);
        return true;
    }

    private void dispatch(Route route, ApiRequest request) {
        JsError refused = refuseAll;
        if (refused != null) {
            if (!route.inline && (!refuseInfoOnly || route.op.length == 1 && route.op[0].equals(JsApiSubjects.INFO))) {
                request.fail(refused);
            }
            return;
        }
        total.incrementAndGet();
        if (route.inline) {
            run(route, request);
            return;
        }
        try {
            workers.execute(() -> run(route, request));
        } catch (RejectedExecutionException e) {
            request.fail(JsError.TOO_MANY_REQUESTS);
        }
    }

    private Route match(String[] tokens) {
        Route best = null;
        for (Route r : routes) {
            if (r.op.length > tokens.length) {
                continue;
            }
            boolean same = true;
            for (int i = 0; i < r.op.length && same; i++) {
                same = r.op[i].equals(tokens[i]);
            }
            int args = tokens.length - r.op.length;
            if (same && args >= r.minArgs && args <= r.maxArgs && (best == null || r.op.length > best.op.length)) {
                best = r;
            }
        }
        return best;
    }

    private void run(Route route, ApiRequest request) {
        if (!ApiLevel.satisfied(request.headers(), ApiLevel.SERVER)) {
            // a request needing a newer server (ADR-44): an error on the JSON endpoints, a status on the others
            if (route.responseType.isEmpty()) {
                if (request.reply() != null) {
                    bus.publish(request.reply(), null, REQUIRED_API_LEVEL_STATUS, new byte[0]);
                }
            } else {
                request.fail(JsError.REQUIRED_API_LEVEL);
            }
            return;
        }
        try {
            route.handler.handle(request);
        } catch (JsApiException e) {
            request.fail(e);
        } catch (RuntimeException e) {
            LOG.error("JetStream API request {} failed", request.subject(), e);
            request.fail(new JsApiException(JsError.STREAM_GENERAL_ERROR, "internal error"));
        }
    }
}
