package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.List;

/**
 * {@code /connz}: the open connections, the closed ones nats-server keeps ({@code state=closed}), or both
 * ({@code state=all}), sorted and paged as nats-server does, from snapshots the connections' own event loops
 * took. Runs on the monitoring thread (or {@code sys-requests} for {@code $SYS.REQ.SERVER.PING.CONNZ}).
 */
final class Connz {
    /** The validated query: sort key, paging, detail switches; {@code account} null for every account. */
    record Options(String sort, boolean auth, boolean subs, boolean subsDetail, int offset, int limit, long cid,
            State state, String account) {
        Options(String sort, boolean auth, boolean subs, boolean subsDetail, int offset, int limit, long cid,
                State state) {
            this(sort, auth, subs, subsDetail, offset, limit, cid, state, null);
        }

        Options forAccount(String name) {
            return new Options(sort, auth, subs, subsDetail, offset, limit, cid, state, name);
        }
    }

    /** Which connections: {@code open} (the default), {@code closed}, or both ({@code any}/{@code all}). */
    enum State {
        OPEN, CLOSED, ALL;

        /** nats-server's names; anything else is its 400 text. */
        static State parse(String text) throws MonitorServer.BadParameter {
            return switch (text) {
                case "", "open" -> OPEN;
                case "closed" -> CLOSED;
                case "any", "all" -> ALL;
                default -> throw new MonitorServer.BadParameter("Error decoding state for " + text);
            };
        }

        boolean open() {
            return this != CLOSED;
        }

        boolean closed() {
            return this != OPEN;
        }
    }

    private Connz() {}

    /** Checks the sort option with the reference's 400 texts. */
    static void checkSort(String sort, String state) throws MonitorServer.BadParameter {
        switch (sort) {
            case "", "cid", "start", "subs", "pending", "msgs_to", "msgs_from", "bytes_to", "bytes_from", "last",
                    "idle", "uptime" -> { }
            case "stop", "reason" -> {
                if (!state.equals("closed")) {
                    throw new MonitorServer.BadParameter("sort by " + sort + " only valid on closed connections");
                }
            }
            default -> throw new MonitorServer.BadParameter("invalid sorting option: " + sort);
        }
    }

    /** The connections {@code state} asks for: open ones from their loops' snapshots, closed ones as kept. */
    static CompletableFuture<List<ConnectionInfo>> gather(ServerView server, State state) {
        CompletableFuture<List<ConnectionInfo>> open = state.open()
                ? server.connectionSnapshots() : CompletableFuture.completedFuture(List.of());
        if (!state.closed()) {
            return open;
        }
        return open.thenApply(o -> {
            List<ConnectionInfo> all = new ArrayList<>(o);
            all.addAll(server.closedConnections());
            return all;
        });
    }

    /** nats-server's answer for an account it does not know: no server id, no connections. */
    static ObjectNode unknownAccount(Instant now, Options o) {
        ObjectNode r = Endpoints.JSON.objectNode();
        r.put("server_id", "");
        r.put("now", Endpoints.time(now));
        r.put("num_connections", 0);
        r.put("total", 0);
        r.put("offset", o.offset());
        r.put("limit", o.cid() != 0 ? 1 : o.limit() > 0 ? o.limit() : 1024);
        r.putNull("connections");
        return r;
    }

    static ObjectNode render(String serverId, Instant now, List<ConnectionInfo> all, Options o) {
        if (o.account() != null) {
            // an account's connections only: they are its whole set, total included (as nats-server)
            all = all.stream().filter(c -> o.account().equals(c.account())).toList();
        }
        int total = all.size();
        // ascending by cid by default; the other keys sort biggest first, as the reference does
        Comparator<ConnectionInfo> order = switch (o.sort()) {
            case "start" -> Comparator.comparing(ConnectionInfo::start).reversed();
            case "subs" -> Comparator.comparingInt((ConnectionInfo c) -> c.subscriptions().size()).reversed();
            case "pending" -> Comparator.comparingLong(ConnectionInfo::pendingBytes).reversed();
            case "msgs_to" -> Comparator.comparingLong(ConnectionInfo::outMsgs).reversed();
            case "msgs_from" -> Comparator.comparingLong(ConnectionInfo::inMsgs).reversed();
            case "bytes_to" -> Comparator.comparingLong(ConnectionInfo::outBytes).reversed();
            case "bytes_from" -> Comparator.comparingLong(ConnectionInfo::inBytes).reversed();
            case "last" -> Comparator.comparing(ConnectionInfo::lastActivity).reversed();
            case "idle" -> Comparator.comparing((ConnectionInfo c) -> Duration.between(c.lastActivity(), end(c, now)))
                    .reversed();
            case "uptime" -> Comparator.comparing((ConnectionInfo c) -> Duration.between(c.start(), end(c, now)))
                    .reversed();
            // only with state=closed (checkSort): the latest closed first, reasons alphabetically
            case "stop" -> Comparator.comparing(ConnectionInfo::stop).reversed();
            case "reason" -> Comparator.comparing(ConnectionInfo::reason);
            default -> Comparator.comparingLong(ConnectionInfo::cid);
        };
        List<ConnectionInfo> chosen = all.stream()
                .filter(c -> o.cid() == 0 || c.cid() == o.cid())
                .sorted(order.thenComparingLong(ConnectionInfo::cid))
                .toList();
        int limit = o.cid() != 0 ? 1 : o.limit() > 0 ? o.limit() : 1024;
        int from = Math.min(Math.max(o.offset(), 0), chosen.size());
        List<ConnectionInfo> page = chosen.subList(from, Math.min(chosen.size(), from + limit));

        ObjectNode r = Endpoints.JSON.objectNode();
        r.put("server_id", serverId);
        r.put("now", Endpoints.time(now));
        r.put("num_connections", page.size());
        r.put("total", total);
        r.put("offset", o.offset());
        r.put("limit", limit);
        ArrayNode list = r.putArray("connections");
        for (ConnectionInfo c : page) {
            list.add(connection(c, now, o));
        }
        return r;
    }

    private static ObjectNode connection(ConnectionInfo c, Instant now, Options o) {
        ObjectNode n = Endpoints.JSON.objectNode();
        n.put("cid", c.cid());
        n.put("kind", "Client");
        n.put("type", c.type());
        n.put("ip", c.ip());
        n.put("port", c.port());
        n.put("start", Endpoints.time(c.start()));
        n.put("last_activity", Endpoints.time(c.lastActivity()));
        n.put("rtt", goDuration(c.rttNanos()));
        if (c.closed()) {
            n.put("stop", Endpoints.time(c.stop()));
        }
        // a closed connection's clock stopped when it closed
        n.put("uptime", Endpoints.uptime(Duration.between(c.start(), end(c, now))));
        n.put("idle", Endpoints.uptime(Duration.between(c.lastActivity(), end(c, now))));
        n.put("pending_bytes", c.pendingBytes());
        n.put("in_msgs", c.inMsgs());
        n.put("out_msgs", c.outMsgs());
        n.put("in_bytes", c.inBytes());
        n.put("out_bytes", c.outBytes());
        n.put("subscriptions", c.subscriptions().size());
        if (c.name() != null && !c.name().isEmpty()) {
            n.put("name", c.name());
        }
        n.put("lang", c.lang() == null ? "" : c.lang());
        n.put("version", c.version() == null ? "" : c.version());
        // as 2.9.10 on a server without authentication: nothing to add for an anonymous client
        if (o.auth() && c.user() != null && !c.user().isEmpty()) {
            n.put("authorized_user", c.user());
            n.put("account", c.account() == null ? "$G" : c.account());
        }
        if (c.closed()) {
            n.put("reason", c.reason());
        }
        if (o.subsDetail() && !c.subscriptions().isEmpty()) {
            ArrayNode subs = n.putArray("subscriptions_list_detail");
            for (ConnectionInfo.SubInfo s : c.subscriptions()) {
                ObjectNode d = subs.addObject();
                d.put("subject", s.subject());
                if (s.queue() != null) {
                    d.put("qgroup", s.queue());
                }
                d.put("sid", s.sid());
                d.put("msgs", s.msgs());
                if (s.max() > 0) {
                    d.put("max", s.max());
                }
                d.put("cid", c.cid());
            }
        } else if (o.subs() && !c.subscriptions().isEmpty()) {
            ArrayNode subs = n.putArray("subscriptions_list");
            for (ConnectionInfo.SubInfo s : c.subscriptions()) {
                subs.add(s.subject());
            }
        }
        return n;
    }

    private static Instant end(ConnectionInfo c, Instant now) {
        return c.closed() ? c.stop() : now;
    }

    /** A duration as Go's time.Duration.String() writes it for sub-minute values: 0s, 713µs, 1.324883ms, 2.5s. */
    static String goDuration(long nanos) {
        if (nanos <= 0) {
            return "0s";
        }
        if (nanos < 1_000) {
            return nanos + "ns";
        }
        if (nanos < 1_000_000) {
            return decimal(nanos, 1_000) + "µs";
        }
        if (nanos < 1_000_000_000) {
            return decimal(nanos, 1_000_000) + "ms";
        }
        long secs = nanos / 1_000_000_000;
        if (secs < 60) {
            return decimal(nanos, 1_000_000_000) + "s";
        }
        return Endpoints.uptime(Duration.ofNanos(nanos));
    }

    private static String decimal(long value, long unit) {
        String frac = String.valueOf(unit + value % unit).substring(1).replaceFirst("0+$", "");
        return (value / unit) + (frac.isEmpty() ? "" : "." + frac);
    }
}
