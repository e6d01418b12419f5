package io.jetkv.server;

import io.jetkv.config.AccountConfig;
import io.jetkv.config.SubjectMap;
import io.jetkv.jetstream.MessageBus;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The accounts' imports, wired into their subject spaces as nats-server's account imports behave for core NATS:
 *
 * <ul>
 *   <li>a <b>stream import</b> is an internal subscription in the exporting account on the imported subject; what
 *       it receives is published again in the importing account, under the import's prefix or {@code to};
 *   <li>a <b>service import</b> is an internal subscription in the importing account on its local subject; a
 *       request is published in the exporting account on the exported subject with a reply of its own,
 *       {@code _R_.<import>.<token>}, and the response to that reply travels back to the requester's reply in the
 *       importing account (once for a {@code singleton} export, until it expires for {@code stream} and
 *       {@code chunked}). As in nats-server, the import takes every request, so a request nobody in the exporting
 *       account answers times out rather than getting no-responders.
 * </ul>
 *
 * JetStream deliveries (routed by a deliver or reply subject, showing the stream subject) cross as deliveries, so a
 * pull request made through an imported {@code $JS.API} gets its messages, with their {@code $JS.ACK} replies.
 *
 * <p>In a cluster every server installs the same imports. A stream import's subscription announces its interest in
 * the exporting account, so the exporter's messages reach every server, and each hands them to its own importing
 * subscribers only. A service import takes the requests published on its server (never from a route) and publishes
 * them in the exporting account, whose routes carry them to a responder anywhere; the responses come back over
 * the routes in the exporting account to the server whose import made the reply subject.
 *
 * <p>Threading: the taps run on the thread that published (an event loop or a JetStream thread) and never block;
 * the pending responses are a concurrent map, swept of expired entries as new ones come.
 */
final class AccountImports implements AutoCloseable {
    /** How long a service response is waited for (nats-server's default response threshold). */
    private static final long RESPONSE_TTL_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
    private static final int SWEEP_EVERY = 1024;
    /** Imports that feed each other in a circle stop here rather than recurse forever. */
    private static final int MAX_HOPS = 8;
    private static final ThreadLocal<int[]> HOPS = ThreadLocal.withInitial(() -> new int[1]);

    private final List<MessageBus.Subscription> subscriptions = new ArrayList<>();
    private final AtomicLong nextImport = new AtomicLong();

    private AccountImports() {}

    /** Wires every import of {@code accounts}; {@code routers} gives each account's subject space. */
    static AccountImports install(List<AccountConfig> accounts, Function<String, Router> routers) {
        AccountImports imports = new AccountImports();
        Map<String, AccountConfig> byName = new java.util.HashMap<>();
        for (AccountConfig a : accounts) {
            byName.put(a.name(), a);
        }
        for (AccountConfig a : accounts) {
            for (AccountConfig.Import imp : a.imports()) {
                Router importer = routers.apply(a.name());
                Router exporter = routers.apply(imp.account());
                if (imp.service()) {
                    imports.service(importer, exporter, imp, responseType(byName.get(imp.account()), a.name(), imp),
                            a.name());
                } else {
                    imports.stream(importer, exporter, imp);
                }
            }
        }
        return imports;
    }

    /** The response type of the export the import was authorized by (the config loader checked there is one). */
    private static String responseType(AccountConfig exporter, String importer, AccountConfig.Import imp) {
        if (exporter != null) {
            for (AccountConfig.Export ex : exporter.exports()) {
                if (ex.service() && ex.allows(importer) && SubjectMap.isSubset(imp.subject(), ex.subject())) {
                    return ex.responseType();
                }
            }
        }
        return "singleton";
    }

    private void stream(Router importer, Router exporter, AccountConfig.Import imp) {
        String from = imp.subject();
        String to = imp.localSubject();
        subscriptions.add(exporter.subscribe(from, (Router.Tap) (deliverTo, subject, reply, headers, payload) -> {
            if (!enter()) {
                return false;
            }
            try {
                String local = SubjectMap.map(from, to, deliverTo);
                // a plain publish shows its new subject; a delivery keeps showing the stream subject
                String shown = deliverTo.equals(subject) ? local : subject;
                // to this server's subscribers only: every server the exporter's message reached (its interest
                // crossed the routes in the exporting account) does the same for its own
                importer.sendLocal(local, shown, reply, headers, payload);
                return true;
            } finally {
                leave();
            }
        }));
    }

    /** A requester's reply in the importing account, waiting for the exporting account's response. */
    private record Pending(String reply, boolean once, long expires) {}

    private void service(Router importer, Router exporter, AccountConfig.Import imp, String responseType,
            String importerName) {
        String local = imp.localSubject();
        String remote = imp.subject();
        boolean once = responseType.equals("singleton");
        // _R_.<random>.<token>: unguessable, so a client of the exporting account cannot answer someone else's
        String prefix = "_R_." + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36)
                + nextImport.incrementAndGet() + ".";
        Map<String, Pending> pending = new ConcurrentHashMap<>();
        AtomicLong tokens = new AtomicLong();
        // the responses' interest crosses the routes in the exporting account (RS+ A _R_.<prefix>.*), so a
        // responder on another server answers here
        subscriptions.add(exporter.subscribe(prefix + "*", (Router.Tap) (deliverTo, subject, reply, headers,
                payload) -> {
            String token = deliverTo.substring(prefix.length());
            Pending p = once ? pending.remove(token) : pending.get(token);
            if (p == null || p.expires - System.nanoTime() < 0) {
                return false;
            }
            if (!enter()) {
                return false;
            }
            try {
                // a JetStream delivery (a pull request's message) keeps its subject and its $JS.ACK reply
                importer.send(p.reply, deliverTo.equals(subject) ? p.reply : subject, reply, headers, payload);
                return true;
            } finally {
                leave();
            }
        }));
        // local only: the requests are taken on the server they are published on, as nats-server's service imports
        // are (its interest is not announced in the importing account, and a request from a route never reaches it)
        subscriptions.add(importer.subscribeLocal(local, (Router.PublisherTap) (from, deliverTo, subject, reply,
                headersIn, payload) -> {
            // a request that came through another service import already names its requester
            boolean chained = HOPS.get()[0] > 0;
            if (!enter()) {
                return false;
            }
            try {
                byte[] headers = withRequestInfo(headersIn, importerName, chained,
                        from == null ? null : from.requester(), imp.share());
                String target = SubjectMap.map(local, remote, deliverTo);
                if (reply == null) {
                    exporter.send(target, target, null, headers, payload);
                    return true;
                }
                long n = tokens.incrementAndGet();
                if (n % SWEEP_EVERY == 0) {
                    sweep(pending);
                }
                String token = Long.toString(n, 36);
                pending.put(token, new Pending(reply, once, System.nanoTime() + RESPONSE_TTL_NANOS));
                // the import counts as the request's taker even when nobody answers in the exporting account, so
                // the requester times out rather than getting no-responders (as nats-server 2.9.10)
                if (exporter.send(target, target, prefix + token, headers, payload) == 0) {
                    pending.remove(token);
                }
                return true;
            } finally {
                leave();
            }
        }));
    }

    static final String REQUEST_INFO = "Nats-Request-Info";

    /**
     * {@code headers} with nats-server's {@code Nats-Request-Info} for the exporting account's responders, as
     * nats-server 2.9.10 adds it: {@code {"acc":"<requester's account>","rtt":<ns>}}, or with the import's
     * {@code share: true} the requester in detail ({@code start host id acc user name lang ver rtt server cluster
     * kind client_type}); after a further import the header it came with, with {@code "svc":"<account>"} after
     * {@code acc}. A header of that name the requester set is replaced, last in the block (responders without
     * headers get the message without it; streams strip it when they store).
     *
     * @param importer  the importing account (the requester's, on the first import)
     * @param chained   the request comes through another service import, whose header is kept and gets the service
     * @param requester the publishing client, or null when the server published (then the account alone)
     */
    static byte[] withRequestInfo(byte[] headers, String importer, boolean chained, ClientConnection.Requester requester,
            boolean share) {
        com.fasterxml.jackson.databind.node.ObjectNode ci = null;
        if (chained) {
            String previous = io.jetkv.jetstream.stream.HeaderBlock.parse(headers).get(REQUEST_INFO);
            if (previous != null) {
                try {
                    com.fasterxml.jackson.databind.JsonNode prev = JSON.readTree(previous);
                    if (prev instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
                        // "svc" goes where nats-server's struct has it: right after "acc" (or first)
                        ci = JSON.createObjectNode();
                        boolean placed = !o.has("acc");
                        if (placed) {
                            ci.put("svc", importer);
                        }
                        for (var it = o.fields(); it.hasNext(); ) {
                            var f = it.next();
                            if (f.getKey().equals("svc")) {
                                continue;
                            }
                            ci.set(f.getKey(), f.getValue());
                            if (f.getKey().equals("acc")) {
                                ci.put("svc", importer);
                            }
                        }
                    }
                } catch (java.io.IOException | RuntimeException e) {
                    ci = null; // not nats-server's: described afresh below
                }
            }
        }
        if (ci == null) {
            ci = JSON.createObjectNode();
            boolean detailed = share && requester != null;
            if (detailed) {
                ci.put("start", requester.start().toString());
                putIfSet(ci, "host", requester.host());
                if (requester.id() > 0) {
                    ci.put("id", requester.id());
                }
            }
            putIfSet(ci, "acc", importer);
            if (detailed) {
                putIfSet(ci, "user", requester.user());
                putIfSet(ci, "name", requester.name());
                putIfSet(ci, "lang", requester.lang());
                putIfSet(ci, "ver", requester.version());
            }
            if (requester != null && requester.rttNanos() > 0) {
                ci.put("rtt", requester.rttNanos());
            }
            if (detailed) {
                putIfSet(ci, "server", requester.server());
                putIfSet(ci, "cluster", requester.cluster());
                ci.put("kind", "Client");
                ci.put("client_type", requester.clientType());
            }
        }
        byte[] rest = io.jetkv.jetstream.stream.HeaderBlock.without(headers, REQUEST_INFO + ":");
        return io.jetkv.jetstream.stream.HeaderBlock.append(rest, REQUEST_INFO, ci.toString());
    }

    private static void putIfSet(com.fasterxml.jackson.databind.node.ObjectNode o, String name, String value) {
        if (value != null && !value.isEmpty()) {
            o.put(name, value);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private static void sweep(Map<String, Pending> pending) {
        long now = System.nanoTime();
        for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
            if (it.next().expires - now < 0) {
                it.remove();
            }
        }
    }

    private static boolean enter() {
        int[] hops = HOPS.get();
        if (hops[0] >= MAX_HOPS) {
            return false;
        }
        hops[0]++;
        return true;
    }

    private static void leave() {
        HOPS.get()[0]--;
    }

    @Override
    public void close() {
        subscriptions.forEach(MessageBus.Subscription::unsubscribe);
        subscriptions.clear();
    }
}
