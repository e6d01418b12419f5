package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamEnums;
import io.jetkv.jetstream.stream.StreamInfoJson;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.config.Version;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Builds the monitoring endpoints' JSON with nats-server 2.9.10's field names, types and units, from a
 * {@link ServerView}. Runs on the monitor's own event loop; reads only the view's thread-safe values.
 */
final class Endpoints {
    static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** nats-server reports the Go version; we report the JVM's so that dashboards show something true. */
    private static final String RUNTIME = "java" + Runtime.version().feature();
    /** The process's CPU and memory, one sampler for every endpoint (they describe one process). */
    private static final ProcessUsage USAGE = new ProcessUsage();

    private final ServerView server;
    /** Requests per endpoint path, for varz's http_req_stats. */
    private final java.util.Map<String, java.util.concurrent.atomic.LongAdder> requests =
            new java.util.concurrent.ConcurrentSkipListMap<>();
    private final String httpHost;

    Endpoints(ServerView server, String httpHost) {
        this.server = server;
        this.httpHost = httpHost;
    }

    /** Counts a request to {@code path} (an endpoint, or "/" for the index page). */
    void counted(String path) {
        requests.computeIfAbsent(path, k -> new java.util.concurrent.atomic.LongAdder()).increment();
    }

    ServerView server() {
        return server;
    }

    /** {@code /healthz}: the result and its HTTP status. */
    record Health(int status, ObjectNode body) {}

    Health healthz() {
        ObjectNode o = JSON.objectNode();
        if (!server.acceptingClients()) {
            // the reference's text while its client listener is not open (its JetStream recovery happens first)
            o.put("status", "error");
            o.put("error", "failed to be ready for connections after 1ms: server");
            return new Health(503, o);
        }
        if (server.config().jetstream().enabled() && server.jetstream() == null) {
            o.put("status", "unavailable");
            o.put("error", "JetStream not enabled");
            return new Health(503, o);
        }
        o.put("status", "ok");
        return new Health(200, o);
    }

    ObjectNode varz(Instant now) {
        ServerConfig c = server.config();
        ServerStats stats = server.stats();
        ObjectNode o = JSON.objectNode();
        o.put("server_id", server.serverId());
        o.put("server_name", server.serverName());
        o.put("version", Version.NATS_VERSION);
        o.put("proto", 1);
        o.put("go", RUNTIME);
        o.put("host", c.host());
        o.put("port", server.clientPort());
        if (c.auth().required()) {
            o.put("auth_required", true);
        }
        // a cluster's client URLs, as the INFO lines offer them (left out when empty, as nats-server)
        List<List<String>> urls = server.connectUrls();
        if (!urls.get(0).isEmpty()) {
            urls.get(0).forEach(o.putArray("connect_urls")::add);
        }
        if (!urls.get(1).isEmpty()) {
            urls.get(1).forEach(o.putArray("ws_connect_urls")::add);
        }
        o.put("max_connections", c.maxConnections());
        o.put("ping_interval", c.pingInterval().toNanos());
        o.put("ping_max", c.pingMax());
        o.put("http_host", httpHost);
        // the configured value, as the reference reports it (-1 stays -1); the log line names the bound port
        o.put("http_port", c.httpsMonitor() ? 0 : c.httpPort());
        o.put("http_base_path", c.httpBasePath());
        o.put("https_port", c.httpsMonitor() ? c.httpPort() : 0);
        o.put("auth_timeout", c.auth().timeout().toNanos() / 1e9);
        o.put("max_control_line", c.maxControlLine());
        o.put("max_payload", c.maxPayload());
        o.put("max_pending", c.maxPending());
        o.putObject("cluster");
        o.putObject("gateway");
        o.putObject("leaf");
        o.putObject("mqtt");
        o.set("websocket", websocket(c));
        ObjectNode js = o.putObject("jetstream");
        JetStreamService service = server.jetstream();
        if (service != null) {
            js.set("config", jsConfig(c.jetstream()));
            js.set("stats", jsStats(service));
        }
        if (c.tls().enabled()) {
            o.put("tls_required", !c.tls().allowNonTls());
            if (c.tls().verify()) {
                o.put("tls_verify", true);
            }
        }
        o.put("tls_timeout", c.tls().timeout().toNanos() / 1e9);
        o.put("write_deadline", c.writeDeadline().toNanos());
        o.put("start", time(server.started()));
        o.put("now", time(now));
        o.put("uptime", uptime(Duration.between(server.started(), now)));
        ProcessUsage.Sample usage = USAGE.sample();
        o.put("mem", usage.rss());
        int cores = Runtime.getRuntime().availableProcessors();
        o.put("cores", cores);
        o.put("gomaxprocs", cores);
        o.put("cpu", usage.cpu());
        o.put("connections", server.connections());
        o.put("total_connections", stats.totalConnections());
        o.put("routes", 0);
        o.put("remotes", 0);
        o.put("leafnodes", 0);
        o.put("in_msgs", stats.inMsgs());
        o.put("out_msgs", stats.outMsgs());
        o.put("in_bytes", stats.inBytes());
        o.put("out_bytes", stats.outBytes());
        o.put("slow_consumers", stats.slowConsumers());
        o.put("subscriptions", server.subscriptions());
        ObjectNode reqs = o.putObject("http_req_stats");
        requests.forEach((path, n) -> reqs.put(path, n.sum()));
        o.put("config_load_time", time(server.started()));
        if (c.ops().systemAccount() != null) {
            o.put("system_account", c.ops().systemAccount());
        }
        return o;
    }

    /**
     * varz's {@code websocket}: nats-server's {@code WebsocketOptsVarz}, every key left out when empty or false;
     * {@code {}} without a WebSocket listener. The port is the bound one once listening (nats-server rewrites a
     * random port's option to it), {@code handshake_timeout} shows only a timeout configured away from the default.
     */
    private ObjectNode websocket(ServerConfig c) {
        ObjectNode ws = JSON.objectNode();
        io.jetkv.config.WebSocketConfig w = c.websocket();
        if (!w.enabled()) {
            return ws;
        }
        ws.put("host", w.host() != null ? w.host() : c.host());
        int bound = server.websocketPort();
        ws.put("port", bound != 0 ? bound : w.port());
        if (w.advertise() != null) {
            ws.put("advertise", w.advertise());
        }
        if (!w.handshakeTimeout().equals(io.jetkv.config.WebSocketConfig.DEFAULT_HANDSHAKE_TIMEOUT)) {
            ws.put("handshake_timeout", w.handshakeTimeout().toNanos());
        }
        if (w.noTls()) {
            ws.put("no_tls", true);
        }
        if (w.tls().enabled() && w.tls().verifyAndMap()) {
            ws.put("tls_map", true);
        }
        if (w.sameOrigin()) {
            ws.put("same_origin", true);
        }
        if (!w.allowedOrigins().isEmpty()) {
            var origins = ws.putArray("allowed_origins");
            w.allowedOrigins().forEach(origins::add);
        }
        if (w.compression()) {
            ws.put("compression", true);
        }
        return ws;
    }

    ObjectNode jsConfig(JetStreamConfig js) {
        ObjectNode cfg = JSON.objectNode();
        cfg.put("max_memory", js.maxMemoryStore());
        cfg.put("max_storage", js.maxFileStore());
        cfg.put("store_dir", js.storeDir().resolve("jetstream").toString());
        return cfg;
    }

    /** The accounts that have JetStream (the one {@code $G} of a server without accounts), in config order. */
    private static List<io.jetkv.jetstream.JetStreamAccount> jsAccounts(JetStreamService service) {
        List<io.jetkv.jetstream.JetStreamAccount> out = new java.util.ArrayList<>();
        for (io.jetkv.jetstream.JetStreamAccount a : service.accounts()) {
            if (a.enabled()) {
                out.add(a);
            }
        }
        return out;
    }

    /** Server-wide JetStream usage, read through the streams' thread-safe stats as the account-info API does. */
    ObjectNode jsStats(JetStreamService service) {
        List<io.jetkv.jetstream.JetStreamAccount> accounts = jsAccounts(service);
        ObjectNode st = accountStats(accounts);
        st.put("accounts", accounts.size());
        return st;
    }

    /** Usage and API counters summed over {@code accounts}. */
    private static ObjectNode accountStats(List<io.jetkv.jetstream.JetStreamAccount> accounts) {
        long memory = 0;
        long storage = 0;
        long total = 0;
        long errors = 0;
        for (io.jetkv.jetstream.JetStreamAccount a : accounts) {
            for (Stream s : a.streams().all()) {
                if (s.config().storage() == StreamEnums.Storage.MEMORY) {
                    memory += s.stats().bytes();
                } else {
                    storage += s.stats().bytes();
                }
            }
            total += a.api().total();
            errors += a.api().errors();
        }
        ObjectNode st = JSON.objectNode();
        st.put("memory", memory);
        st.put("storage", storage);
        st.put("reserved_memory", 0);
        st.put("reserved_storage", 0);
        st.put("accounts", accounts.size());
        st.put("ha_assets", 0);
        ObjectNode api = st.putObject("api");
        api.put("total", total);
        api.put("errors", errors);
        return st;
    }

    /**
     * {@code /jsz?consumers=true}: as {@link #jsz} with each stream's {@code consumer_detail}, which the
     * streams' writers fill in (consumer state lives there); completes on those writers.
     */
    java.util.concurrent.CompletableFuture<ObjectNode> jszWithConsumers(Instant now, boolean config) {
        ObjectNode o = jsz(now, true, true, config);
        return consumerDetails(o.path("account_details"), config).thenApply(v -> o);
    }

    /**
     * Fills each stream detail of {@code accountDetails} with its {@code consumer_detail}, which the streams'
     * writers build (consumer state lives there); completes on those writers once all did.
     */
    java.util.concurrent.CompletableFuture<Void> consumerDetails(Iterable<com.fasterxml.jackson.databind.JsonNode>
            accountDetails, boolean config) {
        JetStreamService service = server.jetstream();
        if (service == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        List<java.util.concurrent.CompletableFuture<?>> pending = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode acc : accountDetails) {
            io.jetkv.jetstream.JetStreamAccount account = service.account(acc.path("name").asText());
            if (account == null) {
                continue;
            }
            for (com.fasterxml.jackson.databind.JsonNode d : acc.path("stream_detail")) {
                Stream s = account.streams().get(d.path("name").asText());
                if (s == null || s.consumerCount().get() == 0) {
                    continue;
                }
                ObjectNode detail = (ObjectNode) d;
                pending.add(account.consumers().infos(s).thenAccept(infos -> {
                    var list = JSON.arrayNode();
                    for (ObjectNode info : infos) {
                        if (!config) {
                            info.remove("config");
                        }
                        list.add(info);
                    }
                    // each writer fills only its own stream's node; allOf orders these writes before the reply
                    detail.set("consumer_detail", list);
                }));
            }
        }
        return java.util.concurrent.CompletableFuture.allOf(pending.toArray(new java.util.concurrent.CompletableFuture<?>[0]));
    }

    /** {@code /jsz}: server totals; {@code accounts}/{@code streams} add the one account's details. */
    ObjectNode jsz(Instant now, boolean accounts, boolean streams, boolean config) {
        ObjectNode o = JSON.objectNode();
        o.put("server_id", server.serverId());
        o.put("now", time(now));
        JetStreamService service = server.jetstream();
        if (service == null) {
            o.put("disabled", true);
            o.putObject("config");
            o.put("memory", 0);
            o.put("storage", 0);
            o.put("reserved_memory", 0);
            o.put("reserved_storage", 0);
            o.put("accounts", 0);
            o.put("ha_assets", 0);
            o.putObject("api").put("total", 0).put("errors", 0);
            o.put("streams", 0);
            o.put("consumers", 0);
            o.put("messages", 0);
            o.put("bytes", 0);
            return o;
        }
        o.set("config", jsConfig(server.config().jetstream()));
        if (server.config().cluster().enabled()) {
            // nats-server's meta_cluster, its name and leader so far (omitted while leaderless, as there)
            ObjectNode meta = o.putObject("meta_cluster");
            meta.put("name", server.config().cluster().name());
            String leader = server.metaLeader();
            if (leader != null) {
                meta.put("leader", leader);
            }
        }
        List<io.jetkv.jetstream.JetStreamAccount> jsAccounts = jsAccounts(service);
        o.setAll(jsStats(service));
        long streamCount = 0;
        long consumers = 0;
        long messages = 0;
        long bytes = 0;
        for (io.jetkv.jetstream.JetStreamAccount a : jsAccounts) {
            for (Stream s : a.streams().all()) {
                StreamState state = s.stats();
                streamCount++;
                consumers += s.consumerCount().get();
                messages += state.msgs();
                bytes += state.bytes();
            }
        }
        o.put("streams", streamCount);
        o.put("consumers", consumers);
        o.put("messages", messages);
        o.put("bytes", bytes);
        if (accounts || streams) {
            var details = o.putArray("account_details");
            for (io.jetkv.jetstream.JetStreamAccount a : jsAccounts) {
                details.add(accountDetail(a, streams, config));
            }
        }
        return o;
    }

    /** One account's entry of {@code account_details} (nats-server's {@code AccountDetail}). */
    ObjectNode accountDetail(io.jetkv.jetstream.JetStreamAccount a, boolean streams, boolean config) {
        ObjectNode acc = JSON.objectNode();
        acc.put("name", a.name());
        acc.put("id", a.name());
        acc.setAll(accountStats(List.of(a)));
        acc.put("accounts", 0);
        // an account's reservation: its own limit, or Go's uint64 max when unlimited
        acc.put("reserved_memory", reservation(a.hasOwnLimits() ? a.limits().maxMemory() : -1));
        acc.put("reserved_storage", reservation(a.hasOwnLimits() ? a.limits().maxStore() : -1));
        if (streams) {
            var streamDetails = acc.putArray("stream_detail");
            for (Stream s : a.streams().all()) {
                ObjectNode d = streamDetails.addObject();
                d.put("name", s.name());
                d.put("created", JsJson.time(s.created()));
                d.putObject("cluster").put("leader", server.serverName());
                if (config) {
                    d.set("config", s.config().toJson());
                }
                d.set("state", StreamInfoJson.state(s.stats(), s.consumerCount().get()));
            }
        }
        return acc;
    }

    private static java.math.BigInteger reservation(long limit) {
        return limit >= 0 ? java.math.BigInteger.valueOf(limit) : new java.math.BigInteger("18446744073709551615");
    }

    ObjectNode routez(Instant now) {
        ObjectNode o = header(now);
        java.util.List<RouteInfo> routes = server.routes();
        o.put("num_routes", routes.size());
        com.fasterxml.jackson.databind.node.ArrayNode list = o.putArray("routes");
        for (RouteInfo r : routes) {
            ObjectNode e = list.addObject();
            e.put("rid", r.rid());
            e.put("remote_id", r.remoteId());
            e.put("remote_name", r.remoteName());
            e.put("did_solicit", r.didSolicit());
            e.put("is_configured", r.isConfigured());
            e.put("ip", r.ip());
            e.put("port", r.port());
            e.put("subscriptions", r.subscriptions());
        }
        return o;
    }

    ObjectNode gatewayz(Instant now) {
        ObjectNode o = header(now);
        o.putObject("outbound_gateways");
        o.putObject("inbound_gateways");
        return o;
    }

    ObjectNode leafz(Instant now) {
        ObjectNode o = header(now);
        o.put("leafnodes", 0);
        o.putNull("leafs");
        return o;
    }

    /**
     * {@code /accountz}: the system account and every account's name ({@code $G}, the configured ones); with
     * {@code acc} that account's detail instead, or nats-server's 400 text for an unknown one.
     */
    ObjectNode accountz(Instant now, String acc) throws MonitorServer.BadParameter {
        ObjectNode o = header(now);
        String sys = server.config().ops().systemAccount();
        if (sys != null) {
            o.put("system_account", sys);
        }
        if (acc != null && !acc.isEmpty()) {
            if (!Accountz.exists(server, acc)) {
                throw new MonitorServer.BadParameter("Account " + acc + " does not exist");
            }
            o.set("account_detail", Accountz.detail(server, acc));
            return o;
        }
        var list = o.putArray("accounts");
        Accountz.names(server).forEach(list::add);
        return o;
    }

    ObjectNode accountz(Instant now) {
        try {
            return accountz(now, null);
        } catch (MonitorServer.BadParameter e) {
            throw new IllegalStateException(e); // no account named: nothing to refuse
        }
    }

    private ObjectNode header(Instant now) {
        ObjectNode o = JSON.objectNode();
        o.put("server_id", server.serverId());
        o.put("now", time(now));
        return o;
    }

    /** RFC 3339 with nanoseconds, UTC, as Go's time.Time marshals. */
    static String time(Instant t) {
        return t.toString();
    }

    /** nats-server's uptime form: {@code [Ny][Nd][Nh][Nm]Ns}, leading zero units left out. */
    static String uptime(Duration d) {
        long secs = Math.max(0, d.getSeconds());
        long mins = secs / 60;
        long hours = mins / 60;
        long days = hours / 24;
        long years = days / 365;
        StringBuilder b = new StringBuilder();
        if (years > 0) {
            b.append(years).append('y');
        }
        if (days > 0) {
            b.append(days % 365).append('d');
        }
        if (hours > 0) {
            b.append(hours % 24).append('h');
        }
        if (mins > 0) {
            b.append(mins % 60).append('m');
        }
        return b.append(secs % 60).append('s').toString();
    }
}
