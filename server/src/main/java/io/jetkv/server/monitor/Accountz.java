package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.config.AccountConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One account as nats-server describes it: {@code /accountz?acc=} and {@code $SYS.REQ.ACCOUNT.<acc>.INFO} (the
 * account detail), and its statistics ({@code /accstatz}, {@code $SYS.REQ.ACCOUNT.<acc>.STATZ} and
 * {@code CONNS}). Built from the config, the {@link AccountCounters} and the open connections' snapshots. Runs on
 * the monitoring thread or {@code sys-requests}.
 */
final class Accountz {
    /** The requests every account imports from the system account: local subject, then the endpoint it maps to. */
    static final List<String[]> SYSTEM_IMPORTS = List.of(
            new String[] {"$SYS.REQ.ACCOUNT.PING.CONNZ", "CONNZ"},
            new String[] {"$SYS.REQ.SERVER.PING.CONNZ", "CONNZ"},
            new String[] {"$SYS.REQ.ACCOUNT.PING.STATZ", "STATZ"});

    private Accountz() {}

    /** Every account: the system account (nats-server makes it even when no block configures it), $G, the rest. */
    static List<String> names(ServerView server) {
        Set<String> names = new LinkedHashSet<>();
        String sys = server.config().ops().systemAccount();
        if (sys != null) {
            names.add(sys);
        }
        names.add(AccountConfig.GLOBAL);
        for (AccountConfig a : server.config().auth().accounts()) {
            names.add(a.name());
        }
        return new ArrayList<>(names);
    }

    static boolean exists(ServerView server, String account) {
        return names(server).contains(account);
    }

    private static AccountConfig config(ServerView server, String account) {
        for (AccountConfig a : server.config().auth().accounts()) {
            if (a.name().equals(account)) {
                return a;
            }
        }
        return null;
    }

    static boolean jetStreamEnabled(ServerView server, String account) {
        io.jetkv.jetstream.JetStreamService js = server.jetstream();
        if (js == null) {
            return false;
        }
        io.jetkv.jetstream.JetStreamAccount a = js.account(account);
        return a != null && a.enabled();
    }

    /** nats-server's {@code AccountInfo} of an existing account. */
    static ObjectNode detail(ServerView server, String account) {
        String sys = server.config().ops().systemAccount();
        boolean system = account.equals(sys);
        ObjectNode o = Endpoints.JSON.objectNode();
        o.put("account_name", account);
        // accounts come from the config file: they were last updated when it was loaded
        o.put("update_time", Endpoints.time(server.started()));
        if (system) {
            o.put("is_system", true);
        }
        o.put("expired", false);
        o.put("complete", true);
        o.put("jetstream_enabled", jetStreamEnabled(server, account));
        o.put("leafnode_connections", 0);
        o.put("client_connections", server.accountCounters().open(account));
        int subs = server.subscriptions(account);
        o.put("subscriptions", subs);
        AccountConfig cfg = config(server, account);
        ArrayNode exports = Endpoints.JSON.arrayNode();
        if (cfg != null) {
            for (AccountConfig.Export e : cfg.exports()) {
                ObjectNode x = exports.addObject();
                x.put("subject", e.subject());
                x.put("type", e.service() ? "service" : "stream");
                if (e.service()) {
                    x.put("response_type", responseType(e.responseType()));
                }
                if (!e.accounts().isEmpty()) {
                    ArrayNode approved = x.putArray("approved_accounts");
                    e.accounts().forEach(approved::add);
                }
            }
        }
        if (system) {
            // what the system account serves every account (the imports below)
            service(exports, "$SYS.REQ.ACCOUNT.*.CONNZ", "Streamed");
            service(exports, "$SYS.REQ.ACCOUNT.*.STATZ", "Streamed");
            service(exports, "$SYS.REQ.USER.*.INFO", "Singleton");
        }
        if (!exports.isEmpty()) {
            o.set("exports", exports);
        }
        ArrayNode imports = Endpoints.JSON.arrayNode();
        if (cfg != null) {
            for (AccountConfig.Import i : cfg.imports()) {
                // as nats-server lists them: a service by the subject this account uses, a stream by the exported one
                ObjectNode x = imports.addObject();
                x.put("subject", i.service() ? i.localSubject() : i.subject());
                x.put("account", i.account());
                String to = i.service() ? i.subject() : i.localSubject();
                if (!to.equals(x.get("subject").asText())) {
                    x.put("to", to);
                }
                x.put("type", i.service() ? "service" : "stream");
                importFlags(x);
            }
        }
        if (sys != null) {
            if (!system) {
                for (String[] imp : SYSTEM_IMPORTS) {
                    systemImport(imports, imp[0], sys, "$SYS.REQ.ACCOUNT." + account + "." + imp[1]);
                }
            }
            systemImport(imports, SysRequests.USER_INFO, sys, "$SYS.REQ.USER." + account + ".INFO");
        }
        if (!imports.isEmpty()) {
            o.set("imports", imports);
        }
        o.set("sublist_stats", Subsz.stats(subs));
        return o;
    }

    private static void service(ArrayNode exports, String subject, String responseType) {
        ObjectNode x = exports.addObject();
        x.put("subject", subject);
        x.put("type", "service");
        x.put("response_type", responseType);
    }

    private static void systemImport(ArrayNode imports, String subject, String sys, String to) {
        ObjectNode x = imports.addObject();
        x.put("subject", subject);
        x.put("account", sys);
        x.put("to", to);
        x.put("type", "service");
        importFlags(x);
    }

    private static void importFlags(ObjectNode x) {
        x.put("invalid", false);
        x.put("share", false);
        x.put("tracking", false);
    }

    /** nats-server's names for a service export's response type. */
    private static String responseType(String configured) {
        return switch (configured == null ? "singleton" : configured) {
            case "stream" -> "Streamed";
            case "chunked" -> "Chunked";
            default -> "Singleton";
        };
    }

    /**
     * One account's statistics (nats-server 2.9's {@code AccountStat}): its open clients, and what was sent to and
     * received from its clients, open and closed.
     */
    static ObjectNode stat(ServerView server, String account, List<ConnectionInfo> open) {
        MessageTotals closed = server.accountCounters().closedTotals(account);
        long inMsgs = closed.inMsgs();
        long inBytes = closed.inBytes();
        long outMsgs = closed.outMsgs();
        long outBytes = closed.outBytes();
        for (ConnectionInfo c : open) {
            if (account.equals(c.account())) {
                inMsgs += c.inMsgs();
                inBytes += c.inBytes();
                outMsgs += c.outMsgs();
                outBytes += c.outBytes();
            }
        }
        int conns = server.accountCounters().open(account);
        ObjectNode a = Endpoints.JSON.objectNode();
        a.put("acc", account);
        a.put("conns", conns);
        a.put("leafnodes", 0);
        a.put("total_conns", conns);
        a.putObject("sent").put("msgs", outMsgs).put("bytes", outBytes);
        a.putObject("received").put("msgs", inMsgs).put("bytes", inBytes);
        a.put("slow_consumers", closed.slowConsumers());
        return a;
    }

    /**
     * {@code /accstatz} and the STATZ requests: {@code accounts} (every account when empty) that have clients now,
     * or all of them with {@code unused}; unknown names are left out.
     */
    static ObjectNode statz(ServerView server, Instant now, List<String> accounts, boolean unused,
            List<ConnectionInfo> open) {
        ObjectNode o = Endpoints.JSON.objectNode();
        o.put("server_id", server.serverId());
        o.put("now", Endpoints.time(now));
        ArrayNode list = o.putArray("account_statz");
        List<String> known = names(server);
        for (String account : accounts.isEmpty() ? known : accounts) {
            if (known.contains(account) && (unused || server.accountCounters().open(account) > 0)) {
                list.add(stat(server, account, open));
            }
        }
        return o;
    }
}
