package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.protocol.Subject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code /subsz}: subscription statistics and, with {@code subs=1}, the client subscriptions (from the
 * same per-connection snapshots as /connz). Runs on the monitoring thread.
 */
final class Subsz {
    /** {@code account}: one account's subscriptions only, null for all. */
    record Options(boolean subs, int offset, int limit, String test, String account) {
        Options(boolean subs, int offset, int limit, String test) {
            this(subs, offset, limit, test, null);
        }
    }

    private Subsz() {}

    /** The statistics alone: nats-server's shape without server_id, as it answers without {@code subs}. */
    static ObjectNode stats(int subscriptions) {
        ObjectNode o = Endpoints.JSON.objectNode();
        o.put("num_subscriptions", subscriptions);
        // the subject index keeps no match cache, so its cache figures are zero
        o.put("num_cache", 0);
        o.put("num_inserts", 0);
        o.put("num_removes", 0);
        o.put("num_matches", 0);
        o.put("cache_hit_rate", 0);
        o.put("max_fanout", 0);
        o.put("avg_fanout", 0);
        return o;
    }

    /** {@code test} must be a literal subject, with the reference's 400 text. */
    static void checkTest(String test) throws MonitorServer.BadParameter {
        if (!test.isEmpty() && !Subject.isValidLiteral(test)) {
            throw new MonitorServer.BadParameter("invalid test subject, must be valid publish subject: " + test);
        }
    }

    static ObjectNode render(String serverId, Instant now, int subscriptions, List<ConnectionInfo> conns,
            Options o) {
        record Row(ConnectionInfo.SubInfo sub, long cid, String account) {}
        List<Row> rows = new ArrayList<>();
        for (ConnectionInfo c : conns) {
            if (o.account() != null && !o.account().equals(c.account())) {
                continue;
            }
            for (ConnectionInfo.SubInfo s : c.subscriptions()) {
                if (o.test().isEmpty() || Subject.matches(s.subject(), o.test())) {
                    rows.add(new Row(s, c.cid(), c.account() == null ? "$G" : c.account()));
                }
            }
        }
        rows.sort(Comparator.comparingLong(Row::cid).thenComparing(r -> r.sub().sid()));
        int limit = o.limit() > 0 ? o.limit() : 1024;
        int from = Math.min(Math.max(o.offset(), 0), rows.size());
        List<Row> page = rows.subList(from, Math.min(rows.size(), from + limit));
        ObjectNode r = Endpoints.JSON.objectNode();
        r.put("server_id", serverId);
        r.put("now", Endpoints.time(now));
        r.setAll(stats(subscriptions));
        // 2.9.10 reports the page size as total
        r.put("total", page.size());
        r.put("offset", o.offset());
        r.put("limit", limit);
        if (page.isEmpty()) {
            return r; // subscriptions_list is left out when empty (omitempty)
        }
        ArrayNode list = r.putArray("subscriptions_list");
        for (Row row : page) {
            ObjectNode d = list.addObject();
            d.put("account", row.account());
            d.put("subject", row.sub().subject());
            if (row.sub().queue() != null) {
                d.put("qgroup", row.sub().queue());
            }
            d.put("sid", row.sub().sid());
            d.put("msgs", row.sub().msgs());
            if (row.sub().max() > 0) {
                d.put("max", row.sub().max());
            }
            d.put("cid", row.cid());
        }
        return r;
    }
}
