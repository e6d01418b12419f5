package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's answers to the system account's requests, as nats-server gives them to {@code nats server ping},
 * {@code nats server info} and nats-surveyor: {@code $SYS.REQ.SERVER.PING} (statsz), and
 * {@code $SYS.REQ.SERVER.PING.<EP>} / {@code $SYS.REQ.SERVER.<id>.<EP>} for the monitoring endpoints, each reply
 * {@code {"server":{...},"data":{...}}} with the same objects as the HTTP port. A request whose filter
 * ({@code server_name}, {@code cluster}, {@code host}) names another server is left unanswered, as the reference
 * does.
 *
 * <p>The server holds internal subscriptions on {@link #subjects()}, so that, as nats-server's system
 * subscriptions, their interest reaches the other servers of a cluster and a PING from any node is answered by
 * every node. The server keeps other users' publishes to {@code $SYS.REQ.SERVER.} away from them.
 *
 * <p>Threading: {@link #onMessage} is called on the publisher's (client or route) event loop and only queues;
 * the answer is built on one {@code sys-requests} thread (a full queue drops the request, as a busy server's
 * would time out).
 */
public final class SysRequests implements AutoCloseable, io.jetkv.jetstream.InboundHandler {
    private static final Logger LOG = LoggerFactory.getLogger(SysRequests.class);
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String PREFIX = "$SYS.REQ.SERVER.";

    /** Where replies go: the router's server-side publish. */
    public interface Publisher {
        void publish(String subject, String reply, byte[] headers, byte[] payload);
    }

    private final ServerView server;
    private final Endpoints endpoints;
    private final Publisher out;
    private final AtomicLong seq = new AtomicLong();
    private final ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(256), r -> {
                Thread t = new Thread(r, "sys-requests");
                t.setDaemon(true);
                return t;
            }, new ThreadPoolExecutor.AbortPolicy());

    public SysRequests(ServerView server, Publisher out) {
        this.server = server;
        this.endpoints = new Endpoints(server, server.config().host());
        this.out = out;
    }

    /** The subjects the server subscribes this handler to: the broadcast PINGs and the ones naming this server. */
    public java.util.List<String> subjects() {
        return java.util.List.of(PREFIX + "PING", PREFIX + "PING.*", PREFIX + server.serverId() + ".*");
    }

    /**
     * A system-account user (here or on another server of the cluster) published {@code subject} with
     * {@code reply}; true when it is a request this server answers (it then counts as delivered: no no-responders
     * status), whether or not a filter silences it.
     */
    @Override
    public boolean onMessage(String subject, String reply, byte[] headers, byte[] body) {
        if (reply == null || !subject.startsWith(PREFIX)) {
            return false;
        }
        String rest = subject.substring(PREFIX.length());
        String endpoint;
        if (rest.equals("PING")) {
            endpoint = "STATSZ-PING";
        } else if (rest.startsWith("PING.")) {
            endpoint = rest.substring(5);
        } else if (rest.startsWith(server.serverId() + ".")) {
            endpoint = rest.substring(server.serverId().length() + 1);
        } else {
            return false;
        }
        if (!known(endpoint)) {
            return false;
        }
        try {
            executor.execute(() -> answer(endpoint, reply, body));
        } catch (RejectedExecutionException e) {
            LOG.warn("dropping {} request: too many waiting", subject);
        }
        return true;
    }

    private static boolean known(String endpoint) {
        return switch (endpoint) {
            case "STATSZ-PING", "STATSZ", "VARZ", "SUBSZ", "CONNZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "ACCOUNTZ", "JSZ",
                    "HEALTHZ" -> true;
            default -> false;
        };
    }

    private void answer(String endpoint, String reply, byte[] body) {
        JsonNode options;
        try {
            options = body.length == 0 ? MAPPER.createObjectNode() : MAPPER.readTree(body);
            if (options == null || options.isNull()) {
                options = MAPPER.createObjectNode();
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            ObjectNode o = envelope();
            o.putObject("error").put("code", 400).put("description", e.getOriginalMessage());
            send(reply, o);
            return;
        } catch (java.io.IOException e) {
            return; // reading a byte array does not fail otherwise
        }
        if (!forThisServer(options)) {
            return; // another server's request: silence, as the reference
        }
        Instant now = Instant.now();
        CompletableFuture<? extends JsonNode> data = switch (endpoint) {
            case "STATSZ-PING", "STATSZ" -> done(statsz(now));
            case "VARZ" -> done(endpoints.varz(now));
            case "HEALTHZ" -> done(endpoints.healthz().body());
            case "ROUTEZ" -> done(endpoints.routez(now));
            case "GATEWAYZ" -> done(endpoints.gatewayz(now));
            case "LEAFZ" -> done(endpoints.leafz(now));
            case "ACCOUNTZ" -> done(endpoints.accountz(now));
            case "SUBSZ" -> done(Subsz.stats(server.subscriptions()));
            case "JSZ" -> options.path("consumers").asBoolean(false)
                    ? endpoints.jszWithConsumers(now, options.path("config").asBoolean(false))
                    : done(endpoints.jsz(now, options.path("accounts").asBoolean(false),
                            options.path("streams").asBoolean(false), options.path("config").asBoolean(false)));
            case "CONNZ" -> connz(now, options);
            default -> throw new IllegalStateException(endpoint);
        };
        data.whenComplete((d, failure) -> {
            ObjectNode o = envelope();
            Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
            if (cause instanceof MonitorServer.BadParameter bad) {
                o.putObject("error").put("code", 400).put("description", bad.getMessage());
            } else if (failure != null) {
                o.putObject("error").put("code", 500).put("description", failure.toString());
            } else if (endpoint.equals("STATSZ-PING")) {
                o.set("statsz", d); // the plain PING has no "data" wrapper
            } else {
                o.set("data", d);
            }
            send(reply, o);
        });
    }

    private CompletableFuture<ObjectNode> connz(Instant now, JsonNode options) {
        boolean detail = options.path("subscriptions_detail").asBoolean(false);
        Connz.Options o;
        try {
            // nats.go's ConnzOptions: "state" is the number of its ConnState (0 open, 1 closed, 2 all)
            JsonNode st = options.path("state");
            String stateText = st.isNumber() ? switch (st.asInt()) {
                case 1 -> "closed";
                case 2 -> "all";
                default -> "open";
            } : st.asText("");
            String sort = options.path("sort").asText("");
            Connz.checkSort(sort, stateText);
            o = new Connz.Options(sort, options.path("auth").asBoolean(false),
                    detail || options.path("subscriptions").asBoolean(false), detail, options.path("offset").asInt(0),
                    options.path("limit").asInt(0), options.path("cid").asLong(0), Connz.State.parse(stateText));
        } catch (MonitorServer.BadParameter e) {
            return CompletableFuture.failedFuture(e);
        }
        return Connz.gather(server, o.state()).thenApply(all -> Connz.render(server.serverId(), now, all, o));
    }

    ObjectNode statsz(Instant now) {
        ObjectNode varz = endpoints.varz(now);
        ObjectNode s = MAPPER.createObjectNode();
        s.set("start", varz.get("start"));
        s.set("mem", varz.get("mem"));
        s.set("cores", varz.get("cores"));
        s.set("cpu", varz.get("cpu"));
        s.set("connections", varz.get("connections"));
        s.set("total_connections", varz.get("total_connections"));
        s.put("active_accounts", 1);
        s.set("subscriptions", varz.get("subscriptions"));
        s.putObject("sent").set("msgs", varz.get("out_msgs"));
        ((ObjectNode) s.get("sent")).set("bytes", varz.get("out_bytes"));
        s.putObject("received").set("msgs", varz.get("in_msgs"));
        ((ObjectNode) s.get("received")).set("bytes", varz.get("in_bytes"));
        s.set("slow_consumers", varz.get("slow_consumers"));
        // nats-server counts the servers it heard from; here every routed peer answers PINGs too. Its per-route
        // "routes" list is left out (omitempty): routes keep no traffic counters yet
        int routes = server.routes().size();
        s.put("active_servers", 1 + routes);
        if (server.jetstream() != null) {
            s.set("jetstream", varz.get("jetstream"));
        }
        return s;
    }

    /** nats-server's filter fields: a request naming another server gets no reply from this one. */
    private boolean forThisServer(JsonNode options) {
        String name = options.path("server_name").asText("");
        if (!name.isEmpty() && !name.equals(server.serverName())) {
            return false;
        }
        String host = options.path("host").asText("");
        if (!host.isEmpty() && !host.equals(server.config().host())) {
            return false;
        }
        String cluster = options.path("cluster").asText("");
        String ours = server.config().cluster().name();
        return cluster.isEmpty() || cluster.equals(ours);
    }

    /** The {@code server} block every reply carries. */
    ObjectNode envelope() {
        ObjectNode o = MAPPER.createObjectNode();
        ObjectNode s = o.putObject("server");
        s.put("name", server.serverName());
        s.put("host", server.config().host());
        s.put("id", server.serverId());
        String cluster = server.config().cluster().name();
        if (server.config().cluster().enabled() && cluster != null) {
            s.put("cluster", cluster);
        }
        s.put("ver", io.jetkv.config.Version.NATS_VERSION);
        s.put("seq", seq.incrementAndGet());
        s.put("jetstream", server.jetstream() != null);
        s.put("time", Endpoints.time(Instant.now()));
        return o;
    }

    void send(String reply, ObjectNode o) {
        try {
            out.publish(reply, null, null, MAPPER.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            LOG.error("cannot encode a $SYS reply: {}", e.toString());
        }
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
