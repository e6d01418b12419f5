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
 * <p>{@code $SYS.REQ.ACCOUNT.<account>.<EP>} scopes SUBSZ, CONNZ, LEAFZ, JSZ, INFO, STATZ and CONNS to one account
 * ({@code $SYS.REQ.ACCOUNT.PING.STATZ}: every account with clients), which every account also reaches for itself
 * through nats-server's imports ({@link #importedBy}); {@code $SYS.REQ.USER.INFO} tells any user who it is.
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
    private static final String ACCOUNT_PREFIX = "$SYS.REQ.ACCOUNT.";
    /** A user asking who it is (nats-server 2.10+); every account imports it from the system account. */
    public static final String USER_INFO = "$SYS.REQ.USER.INFO";
    private static final java.util.Set<String> ACCOUNT_ENDPOINTS =
            java.util.Set.of("SUBSZ", "CONNZ", "LEAFZ", "JSZ", "INFO", "STATZ", "CONNS");
    private static final String CONNS_TYPE = "io.nats.server.advisory.v1.account_connections";
    private static final char[] DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    /** Where replies go: the router's server-side publish. */
    public interface Publisher {
        /**
         * @param account the subject space to publish in: null for the system account's, else that account's
         */
        void publish(String account, String subject, String reply, byte[] headers, byte[] payload);
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
        return java.util.List.of(PREFIX + "PING", PREFIX + "PING.*", PREFIX + server.serverId() + ".*",
                ACCOUNT_PREFIX + "*.*");
    }

    /** Whether a client's publish to {@code subject} is a server request, which only system users may send. */
    public static boolean isServerRequest(String subject) {
        return subject.startsWith(PREFIX) || subject.startsWith(ACCOUNT_PREFIX);
    }

    /**
     * The system account's subject a publish by a client of {@code account} (not the system account) stands for,
     * when it is one of the requests nats-server imports into every account: {@code $SYS.REQ.ACCOUNT.PING.CONNZ}
     * and {@code $SYS.REQ.SERVER.PING.CONNZ} give the account's own CONNZ, {@code $SYS.REQ.ACCOUNT.PING.STATZ} its
     * STATZ. Null for any other subject.
     */
    public static String importedBy(String subject, String account) {
        for (String[] imp : Accountz.SYSTEM_IMPORTS) {
            if (imp[0].equals(subject)) {
                return ACCOUNT_PREFIX + account + "." + imp[1];
            }
        }
        return null;
    }

    /**
     * A system-account user (here or on another server of the cluster) published {@code subject} with
     * {@code reply}; true when it is a request this server answers (it then counts as delivered: no no-responders
     * status), whether or not a filter silences it.
     */
    @Override
    public boolean onMessage(String subject, String reply, byte[] headers, byte[] body) {
        if (reply == null) {
            return false;
        }
        if (subject.startsWith(ACCOUNT_PREFIX)) {
            return onAccountRequest(subject, reply, body);
        }
        if (!subject.startsWith(PREFIX)) {
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
        return queue(subject, () -> answer(endpoint, reply, body));
    }

    /** {@code $SYS.REQ.ACCOUNT.<account>.<EP>}: the account is one token, the endpoint one of nats-server's. */
    private boolean onAccountRequest(String subject, String reply, byte[] body) {
        String rest = subject.substring(ACCOUNT_PREFIX.length());
        int dot = rest.indexOf('.');
        if (dot <= 0 || rest.indexOf('.', dot + 1) >= 0) {
            return false;
        }
        String account = rest.substring(0, dot);
        String endpoint = rest.substring(dot + 1);
        if (!ACCOUNT_ENDPOINTS.contains(endpoint)) {
            return false;
        }
        return queue(subject, () -> answerAccount(account, endpoint, reply, body));
    }

    /**
     * {@code $SYS.REQ.USER.INFO} from a client of {@code account} authenticated as {@code user} (nats-server's
     * name for it), with {@code permissions} null when unrestricted: answered on this server only, as nats-server
     * keeps this subscription's interest local. False when there is no reply to answer to.
     */
    public boolean userInfo(String account, String user, io.jetkv.config.Permissions permissions, String reply) {
        if (reply == null) {
            return false;
        }
        return queue(USER_INFO, () -> {
            ObjectNode o = envelope();
            ObjectNode d = o.putObject("data");
            d.put("user", user);
            d.put("account", account);
            if (permissions != null) {
                ObjectNode p = d.putObject("permissions");
                subjectPermission(p.putObject("publish"), permissions.publish());
                subjectPermission(p.putObject("subscribe"), permissions.subscribe());
            }
            // "expires" is a JWT user's: configured users never expire, and nats-server leaves the 0 out
            send(account, reply, o);
        });
    }

    private static void subjectPermission(ObjectNode o, io.jetkv.config.SubjectPermission p) {
        if (!p.allow().isEmpty()) {
            p.allow().forEach(o.putArray("allow")::add);
        }
        if (!p.deny().isEmpty()) {
            p.deny().forEach(o.putArray("deny")::add);
        }
    }

    private boolean queue(String subject, Runnable task) {
        try {
            executor.execute(task);
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

    /**
     * The request's options as nats-server decodes them into {@code schema}'s struct, or null when they do not
     * decode (then answered with nats-server's 400 and Go's error text, without {@code data}) or the filters name
     * another server (silence, as the reference).
     */
    private JsonNode options(String reply, byte[] body, GoJson.Schema schema) {
        GoJson.Decoded d = GoJson.decode(MAPPER, body, schema);
        if (d.error() != null) {
            ObjectNode o = envelope();
            o.putObject("error").put("code", 400).put("description", d.error());
            send(reply, o);
            return null;
        }
        return forThisServer(d.options()) ? d.options() : null;
    }

    private void answer(String endpoint, String reply, byte[] body) {
        JsonNode options = options(reply, body, SysOptions.forServer(endpoint));
        if (options == null) {
            return;
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
            // nats.go's JSzOptions say "consumer"; JetKV once read "consumers", still accepted
            case "JSZ" -> consumerOption(options)
                    ? endpoints.jszWithConsumers(now, options.path("config").asBoolean(false))
                    : done(endpoints.jsz(now, options.path("accounts").asBoolean(false),
                            options.path("streams").asBoolean(false), options.path("config").asBoolean(false)));
            case "CONNZ" -> connz(now, options);
            default -> throw new IllegalStateException(endpoint);
        };
        data.whenComplete((d, failure) -> {
            ObjectNode o = envelope();
            Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
            if (failure != null) {
                // as nats-server: a handler's failure (a bad option too) is a 500 with "data":null
                o.putNull("data");
                o.putObject("error").put("code", 500).put("description",
                        cause instanceof MonitorServer.BadParameter bad ? bad.getMessage() : String.valueOf(cause));
            } else if (endpoint.equals("STATSZ-PING")) {
                o.set("statsz", d); // the plain PING has no "data" wrapper
            } else {
                o.set("data", d);
            }
            send(reply, o);
        });
    }

    private static boolean consumerOption(JsonNode options) {
        return options.path("consumer").asBoolean(false) || options.path("consumers").asBoolean(false);
    }

    /**
     * One account's request. As nats-server: STATZ is silent for an account without clients (unless
     * {@code include_unused}), CONNS too and answers with a bare {@code account_connections} event, an unknown
     * account gets an empty CONNZ and SUBSZ, a 500 for INFO and JSZ.
     */
    private void answerAccount(String account, String endpoint, String reply, byte[] body) {
        if (endpoint.equals("CONNS")) {
            conns(account, reply, body);
            return;
        }
        JsonNode options = options(reply, body, SysOptions.forAccount(endpoint));
        if (options == null) {
            return;
        }
        Instant now = Instant.now();
        boolean known = Accountz.exists(server, account);
        CompletableFuture<? extends JsonNode> data = switch (endpoint) {
            case "LEAFZ" -> done(endpoints.leafz(now));
            case "INFO" -> known ? done(Accountz.detail(server, account))
                    : failed("Account " + account + " does not exist");
            case "JSZ" -> accountJsz(account, known, options);
            case "CONNZ" -> known ? connz(now, options, account) : connzOptions(options, null)
                    .thenApply(o -> Connz.unknownAccount(now, o));
            case "SUBSZ" -> subsz(now, options, known ? account : null);
            case "STATZ" -> account.equals("PING") ? statz(now, options, strings(options.path("accounts")))
                    : statz(now, options, java.util.List.of(account));
            default -> throw new IllegalStateException(endpoint);
        };
        data.whenComplete((d, failure) -> {
            if (failure == null && d == null) {
                return; // nothing to say (STATZ of accounts without clients)
            }
            ObjectNode o = envelope();
            Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
            if (failure != null) {
                o.putNull("data");
                o.putObject("error").put("code", 500).put("description",
                        cause.getMessage() != null ? cause.getMessage() : cause.toString());
            } else {
                o.set("data", d);
            }
            send(reply, o);
        });
    }

    /** JSZ for one account: nats-server's texts for JetStream off, an unknown account, one without JetStream. */
    private CompletableFuture<ObjectNode> accountJsz(String account, boolean known, JsonNode options) {
        io.jetkv.jetstream.JetStreamService js = server.jetstream();
        if (js == null) {
            return failed("jetstream not enabled");
        }
        if (!known) {
            return failed("account \"" + account + "\" not found");
        }
        io.jetkv.jetstream.JetStreamAccount a = js.account(account);
        if (a == null || !a.enabled()) {
            return failed("account \"" + account + "\" not jetstream enabled");
        }
        boolean consumers = consumerOption(options);
        boolean config = options.path("config").asBoolean(false);
        ObjectNode detail = endpoints.accountDetail(a, consumers || options.path("streams").asBoolean(false), config);
        return consumers ? endpoints.consumerDetails(java.util.List.of(detail), config).thenApply(v -> detail)
                : done(detail);
    }

    /** SUBSZ for one account (its subscriptions listed, as nats-server forces); {@code account} null: unknown. */
    private CompletableFuture<ObjectNode> subsz(Instant now, JsonNode options, String account) {
        String test = options.path("test").asText("");
        try {
            Subsz.checkTest(test);
        } catch (MonitorServer.BadParameter e) {
            return CompletableFuture.failedFuture(e);
        }
        Subsz.Options o = new Subsz.Options(true, options.path("offset").asInt(0), options.path("limit").asInt(0),
                test, account == null ? "" : account); // "": an unknown account, whose list is empty
        int subs = account == null ? 0 : server.subscriptions(account);
        return server.connectionSnapshots().thenApply(all -> Subsz.render(server.serverId(), now, subs, all, o));
    }

    /** STATZ of {@code accounts}; null (no reply) when none has clients and {@code include_unused} is not set. */
    private CompletableFuture<ObjectNode> statz(Instant now, JsonNode options, java.util.List<String> accounts) {
        boolean unused = options.path("include_unused").asBoolean(false);
        return server.connectionSnapshots().thenApply(open -> {
            ObjectNode stz = Accountz.statz(server, now, accounts, unused, open);
            return stz.path("account_statz").isEmpty() && !unused ? null : stz;
        });
    }

    /**
     * CONNS, nats-server's server-to-server question for an account's local connections: the answer is an
     * {@code account_connections} event, sent only while the account has clients here; a body naming another
     * account, or not JSON, is ignored.
     */
    private void conns(String account, String reply, byte[] body) {
        if (body.length > 0) {
            try {
                JsonNode req = MAPPER.readTree(body);
                if (req != null && req.has("acc") && !account.equals(req.path("acc").asText())) {
                    return;
                }
            } catch (java.io.IOException e) {
                return;
            }
        }
        if (!Accountz.exists(server, account) || server.accountCounters().open(account) == 0) {
            return;
        }
        server.connectionSnapshots().thenAccept(open -> {
            ObjectNode o = MAPPER.createObjectNode();
            o.put("type", CONNS_TYPE);
            o.put("id", eventId());
            o.put("timestamp", Endpoints.time(Instant.now()));
            o.set("server", envelope().get("server"));
            o.setAll(Accountz.stat(server, account, open));
            send(reply, o);
        });
    }

    /** 22 characters of base 62, the length of nats-server's NUID event ids. */
    static String eventId() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        char[] id = new char[22];
        for (int i = 0; i < id.length; i++) {
            id[i] = DIGITS[random.nextInt(DIGITS.length)];
        }
        return new String(id);
    }

    private static java.util.List<String> strings(JsonNode array) {
        java.util.List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private CompletableFuture<ObjectNode> connz(Instant now, JsonNode options, String account) {
        return connzOptions(options, account).thenCompose(o -> Connz.gather(server, o.state())
                .thenApply(all -> Connz.render(server.serverId(), now, all, o)));
    }

    private CompletableFuture<ObjectNode> connz(Instant now, JsonNode options) {
        return connz(now, options, null);
    }

    /** nats.go's {@code ConnzOptions} as {@link Connz.Options}, for {@code account} (null: every account). */
    private static CompletableFuture<Connz.Options> connzOptions(JsonNode options, String account) {
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
                    options.path("limit").asInt(0), options.path("cid").asLong(0), Connz.State.parse(stateText),
                    account);
        } catch (MonitorServer.BadParameter e) {
            return CompletableFuture.failedFuture(e);
        }
        return done(o);
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
        // accounts with clients, and the system account, which nats-server's own internal client keeps active
        java.util.Set<String> active = new java.util.TreeSet<>(server.accountCounters().active());
        String sys = server.config().ops().systemAccount();
        if (sys != null) {
            active.add(sys);
        }
        s.put("active_accounts", active.size());
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
        if (!server.config().serverTags().isEmpty()) {
            server.config().serverTags().forEach(s.putArray("tags")::add); // nats-server's ServerInfo, omitempty
        }
        s.put("seq", seq.incrementAndGet());
        s.put("jetstream", server.jetstream() != null);
        s.put("time", Endpoints.time(Instant.now()));
        return o;
    }

    void send(String reply, ObjectNode o) {
        send(null, reply, o);
    }

    /** Publishes {@code o} to {@code reply} in {@code account}'s subject space (null: the system account's). */
    void send(String account, String reply, ObjectNode o) {
        try {
            out.publish(account, reply, null, null, MAPPER.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            LOG.error("cannot encode a $SYS reply: {}", e.toString());
        }
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    /** A handler failure with nats-server's text (a 500 with {@code "data":null}). */
    private static <T> CompletableFuture<T> failed(String description) {
        return CompletableFuture.failedFuture(new MonitorServer.BadParameter(description));
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
