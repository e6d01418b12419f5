package io.jetkv.jetstream.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.ApiRequest;
import io.jetkv.jetstream.api.JsApiSubjects;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code $JS.API.STREAM.LIST} in a cluster, answered by the meta leader as nats-server does: the streams are the
 * meta group's assignments of the account (by name, filtered by {@code subject}, paged by {@code offset}), and each
 * one's info comes from its own leader, asked with a {@code STREAM.INFO} request through the account's bus (the
 * leader may be another server; an R1 stream lives on one server only). Streams whose leader did not answer in time are
 * named in {@code missing}. Runs on an API worker; the answers arrive on the delivering thread and the timeout on the
 * cluster's executor, whichever completes the reply first.
 */
final class ClusteredStreamList {
    /** How long the leaders have to answer before the list goes out without them. */
    private static final long WAIT_MILLIS = 4000;

    private ClusteredStreamList() {}

    static void answer(ApiRequest req, List<Assignment> assignments, MessageBus bus, ScheduledExecutorService timer) {
        ObjectNode body = req.body();
        String subject = JsJson.getString(body, "subject");
        List<Assignment> all = new ArrayList<>();
        for (Assignment a : assignments) {
            if (subject == null || a.config().subjects().stream().anyMatch(s -> Subject.collide(s, subject))) {
                all.add(a);
            }
        }
        all.sort(Comparator.comparing(Assignment::name));
        int offset = (int) Math.max(0, Math.min(JsJson.getLong(body, "offset", 0), all.size()));
        List<Assignment> page = all.subList(offset, Math.min(all.size(), offset + JsApiSubjects.LIST_LIMIT));
        ObjectNode out = JsJson.object();
        out.put("total", all.size());
        out.put("offset", offset);
        out.put("limit", JsApiSubjects.LIST_LIMIT);
        if (page.isEmpty()) {
            out.putArray("streams");
            req.respond(out);
            return;
        }
        ObjectNode[] infos = new ObjectNode[page.size()];
        AtomicInteger left = new AtomicInteger(page.size());
        AtomicBoolean sent = new AtomicBoolean();
        String inbox = "_INBOX.jsl." + UUID.randomUUID().toString().replace("-", "");
        MessageBus.Subscription[] sub = new MessageBus.Subscription[1];
        Runnable finish = () -> {
            if (!sent.compareAndSet(false, true)) {
                return;
            }
            sub[0].unsubscribe();
            ArrayNode streams = out.putArray("streams");
            ArrayNode missing = JsJson.MAPPER.createArrayNode();
            for (int i = 0; i < infos.length; i++) {
                if (infos[i] != null) {
                    streams.add(infos[i]);
                } else {
                    missing.add(page.get(i).name());
                }
            }
            if (!missing.isEmpty()) {
                out.set("missing", missing);
            }
            req.respond(out);
        };
        // reply subjects end in the stream's index in the page
        sub[0] = bus.subscribe(inbox + ".*", (s, r, h, p) -> {
            int i;
            try {
                i = Integer.parseInt(s.substring(inbox.length() + 1));
            } catch (NumberFormatException e) {
                return true;
            }
            ObjectNode info = parse(p);
            if (i >= 0 && i < infos.length && info != null && infos[i] == null) {
                info.remove("type");
                infos[i] = info;
                if (left.decrementAndGet() == 0) {
                    finish.run();
                }
            }
            return true;
        });
        for (int i = 0; i < page.size(); i++) {
            bus.publish("$JS.API.STREAM.INFO." + page.get(i).name(), inbox + "." + i, null, new byte[0]);
        }
        timer.schedule(finish, WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** A stream info answer, or null for an error or something else (a 503 from a replica without a leader). */
    private static ObjectNode parse(byte[] payload) {
        try {
            JsonNode n = JsJson.MAPPER.readTree(payload);
            return n instanceof ObjectNode o && !o.has("error") && o.has("config") ? o : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
