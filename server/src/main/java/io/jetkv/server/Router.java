package io.jetkv.server;

import io.jetkv.jetstream.InboundHandler;
import io.jetkv.jetstream.MessageBus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * Routes published messages to subscriptions: every matching plain subscription gets a copy, each matching
 * queue group one member chosen at random. Also the server's side of {@link MessageBus}, through which
 * JetStream subscribes and publishes.
 *
 * <p>Threading: {@link #route} runs on the publisher's event loop (client publishes) or on a JetStream
 * thread (internal publishes). It never blocks: client deliveries append to the subscriber's
 * {@link Outbox}; internal deliveries call the handler, which hands off.
 */
final class Router implements MessageBus {
    private static final AtomicLongFieldUpdater<Sub> DELIVERED =
            AtomicLongFieldUpdater.newUpdater(Sub.class, "delivered");

    /**
     * Bytes a {@link #batch} lets pile up before it hands them on anyway (bounded latency and memory): above a
     * consumer's whole 512-message run of small messages, since every flush may cost a wake-up.
     */
    private static final int BATCH_FLUSH_BYTES = 1 << 20;

    private final SubjectIndex index;
    /** The account whose subject space this is ({@code $G} for the global one); routes carry it in RMSG. */
    private final String account;
    private final byte[] accountBytes;
    /** Per thread: the open {@link #batch}, null outside one. */
    private final ThreadLocal<Batch> batches = new ThreadLocal<>();

    /** Outboxes written inside a {@link #batch} and the bytes routed since they were last flushed. */
    private static final class Batch {
        final TouchedOutboxes touched = new TouchedOutboxes();
        long bytes;
    }

    Router(SubjectIndex index) {
        this(io.jetkv.config.AccountConfig.GLOBAL, index);
    }

    Router(String account, SubjectIndex index) {
        this.account = account;
        this.accountBytes = account.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.index = index;
    }

    String account() {
        return account;
    }

    SubjectIndex index() {
        return index;
    }

    /**
     * Delivers a client's publish to every matching subscription; builds the {@link OutMsg} only when
     * something matches. {@code data} need not outlive the call (deliveries copy it).
     */
    int route(String subject, String reply, ByteBuf data, int headerSize, ClientConnection from,
            TouchedOutboxes touched) {
        SubjectIndex.Match match = index.match(subject);
        if (match.isEmpty()) {
            return 0;
        }
        OutMsg m = new OutMsg(subject, from.subjectBytes(subject), reply, data, headerSize);
        return deliverAll(match, m, m, from, touched);
    }

    /**
     * Delivers {@code m} to every matching subscription.
     *
     * @param from    the publishing client (for echo suppression), or null for the server itself
     * @param touched collects the outboxes written to, for the caller to flush
     * @return how many subscriptions received the message (internal ones included)
     */
    int route(OutMsg m, ClientConnection from, TouchedOutboxes touched) {
        return route(m, m.subject, from, touched, true);
    }

    /**
     * As {@link #route(OutMsg, ClientConnection, TouchedOutboxes)}, matching {@code matchSubject} instead;
     * without {@code toRoutes} only this server's subscriptions get it.
     */
    private int route(OutMsg m, String matchSubject, ClientConnection from, TouchedOutboxes touched,
            boolean toRoutes) {
        SubjectIndex.Match match = index.match(matchSubject);
        if (match.isEmpty()) {
            return 0;
        }
        if (matchSubject.equals(m.subject)) {
            return deliverAll(match, m, toRoutes ? m : null, from, touched);
        }
        m.deliverTo = matchSubject;
        // a consumer's delivery matches its deliver subject but shows the stream subject: across a route it
        // travels as nats-server sends it, the stream subject with reply "<reply>@<deliver subject>", and the
        // receiving server matches the part after '@' (routeFromRoute). Without a reply it stays local.
        OutMsg routed = m.reply == null || !toRoutes ? null
                : new OutMsg(m.subject, m.reply + "@" + matchSubject, m.data, m.headerSize);
        return deliverAll(match, m, routed, from, touched);
    }

    /**
     * Local subscriptions get the message here; remote interest (routes) gets at most one copy per route, with
     * the names of the queue groups whose pick fell on that route. Queue groups prefer a local member, as
     * nats-server does; only when none is left is a remote one picked, weighted by its member count.
     */
    private int deliverAll(SubjectIndex.Match match, OutMsg m, OutMsg routed, ClientConnection from,
            TouchedOutboxes touched) {
        boolean toRoutes = routed != null;
        int delivered = 0;
        // the usual case, plain interest behind one route, needs no RouteSends
        RouteConnection single = null;
        RouteSends sends = null;
        // indexed loops: an iterator per publish shows in profiles of the one-subscriber case
        List<Sub> plain = match.plain();
        for (int p = 0, np = plain.size(); p < np; p++) {
            Sub sub = plain.get(p);
            if (sub.route != null) {
                if (!toRoutes || sub.route == single) {
                    continue;
                }
                if (sends == null && single == null) {
                    single = sub.route;
                } else {
                    if (sends == null) {
                        sends = RouteSends.add(null, single, null);
                        single = null;
                    }
                    sends = RouteSends.add(sends, sub.route, null);
                }
            } else if (deliver(sub, m, from, touched)) {
                delivered++;
            }
        }
        List<List<Sub>> queues = match.queues();
        for (int q = 0, nq = queues.size(); q < nq; q++) {
            List<Sub> group = queues.get(q);
            int n = group.size();
            int start = n == 1 ? 0 : ThreadLocalRandom.current().nextInt(n);
            boolean done = false;
            int remoteWeight = 0;
            for (int i = 0; i < n; i++) {
                Sub sub = group.get((start + i) % n);
                if (sub.route != null) {
                    remoteWeight += Math.max(1, sub.weight);
                } else if (deliver(sub, m, from, touched)) {
                    delivered++;
                    done = true;
                    break;
                }
            }
            if (!done && remoteWeight > 0 && toRoutes) {
                Sub pick = pickRemote(group, ThreadLocalRandom.current().nextInt(remoteWeight));
                if (pick != null) {
                    if (sends == null && single != null) {
                        sends = RouteSends.add(null, single, null);
                        single = null;
                    }
                    sends = RouteSends.add(sends, pick.route, pick.queue);
                }
            }
        }
        if (single != null) {
            Outbox out = single.outbox();
            if (out != null && out.appendRouted(routed, accountBytes, List.of())) {
                touched.add(out);
                delivered++;
            }
        } else if (sends != null) {
            delivered += sends.send(routed, accountBytes, touched);
        }
        return delivered;
    }

    /** The remote member at {@code ticket} when each counts {@code weight} times. */
    private static Sub pickRemote(List<Sub> group, int ticket) {
        for (Sub sub : group) {
            if (sub.route != null) {
                ticket -= Math.max(1, sub.weight);
                if (ticket < 0) {
                    return sub;
                }
            }
        }
        return null;
    }

    /**
     * Delivers an {@code RMSG}/{@code HMSG} from a route to local subscriptions only (one hop): every plain
     * subscription, and one member of each queue group the sending server named. Runs on the route's loop.
     */
    int routeFromRoute(String subject, byte[] subjectBytes, String reply, List<String> queues, ByteBuf data,
            int headerSize, TouchedOutboxes touched) {
        String matchSubject = subject;
        int at = reply == null ? -1 : reply.lastIndexOf('@');
        if (at > 0 && at < reply.length() - 1) {
            // a JetStream delivery (see route): matched by its deliver subject, shown with the stream subject
            matchSubject = reply.substring(at + 1);
            reply = reply.substring(0, at);
        }
        SubjectIndex.Match match = index.match(matchSubject);
        if (match.isEmpty()) {
            return 0;
        }
        OutMsg m = new OutMsg(subject, subjectBytes, reply, data, headerSize);
        int delivered = 0;
        for (Sub sub : match.plain()) {
            if (sub.route == null && !sub.localOnly && deliver(sub, m, null, touched)) {
                delivered++;
            }
        }
        if (queues.isEmpty()) {
            return delivered;
        }
        for (List<Sub> group : match.queues()) {
            if (!queues.contains(group.get(0).queue)) {
                continue;
            }
            int n = group.size();
            int start = n == 1 ? 0 : ThreadLocalRandom.current().nextInt(n);
            for (int i = 0; i < n; i++) {
                Sub sub = group.get((start + i) % n);
                if (sub.route == null && !sub.localOnly && deliver(sub, m, null, touched)) {
                    delivered++;
                    break;
                }
            }
        }
        return delivered;
    }

    /** The routes one message goes to, each with the queue groups picked behind it; small, so lists. */
    private static final class RouteSends {
        final ArrayList<RouteConnection> routes = new ArrayList<>(4);
        final ArrayList<List<String>> queues = new ArrayList<>(4);

        static RouteSends add(RouteSends s, RouteConnection route, String queue) {
            if (s == null) {
                s = new RouteSends();
            }
            int i = s.routes.indexOf(route);
            if (i < 0) {
                s.routes.add(route);
                s.queues.add(queue == null ? List.of() : new ArrayList<>(List.of(queue)));
                return s;
            }
            if (queue != null) {
                List<String> q = s.queues.get(i);
                if (q.isEmpty()) {
                    q = new ArrayList<>(2);
                    s.queues.set(i, q);
                }
                if (!q.contains(queue)) {
                    q.add(queue);
                }
            }
            return s;
        }

        int send(OutMsg m, byte[] account, TouchedOutboxes touched) {
            int sent = 0;
            for (int i = 0; i < routes.size(); i++) {
                Outbox out = routes.get(i).outbox();
                if (out != null && out.appendRouted(m, account, queues.get(i))) {
                    touched.add(out);
                    sent++;
                }
            }
            return sent;
        }
    }

    private boolean deliver(Sub sub, OutMsg m, ClientConnection from, TouchedOutboxes touched) {
        if (sub.closed) {
            return false;
        }
        if (sub.internal()) {
            if (sub.handler instanceof Tap tap) {
                return tap.onDelivery(m.deliverTo != null ? m.deliverTo : m.subject, m.subject, m.reply,
                        m.headersArray(), m.payloadArray());
            }
            return sub.handler.onMessage(m.subject, m.reply, m.headersArray(), m.payloadArray());
        }
        ClientConnection client = sub.client;
        if (client == from && !from.echo()) {
            return false;
        }
        long max = sub.max;
        if (max > 0) {
            long n = DELIVERED.incrementAndGet(sub);
            if (n > max) {
                return false;
            }
            if (n == max) {
                client.autoUnsubscribe(sub);
            }
        } else {
            DELIVERED.incrementAndGet(sub);
        }
        if (!client.outbox().appendMsg(m, sub.sidBytes, client.headers())) {
            return false;
        }
        touched.add(client.outbox());
        return true;
    }

    @Override
    public MessageBus.Subscription subscribe(String subject, InboundHandler handler) {
        return subscribe(subject, handler, false);
    }

    /** An internal subscription for this server's publishers only (see {@link Sub#localOnly}). */
    @Override
    public MessageBus.Subscription subscribeLocal(String subject, InboundHandler handler) {
        return subscribe(subject, handler, true);
    }

    private MessageBus.Subscription subscribe(String subject, InboundHandler handler, boolean localOnly) {
        Sub sub = new Sub(subject, handler, localOnly);
        index.insert(sub);
        return () -> {
            sub.closed = true;
            index.remove(sub);
        };
    }

    @Override
    public void publish(String subject, String reply, byte[] headers, byte[] payload) {
        send(subject, subject, reply, headers, payload);
    }

    @Override
    public void deliver(String deliverTo, String subject, String reply, byte[] headers, byte[] payload) {
        send(deliverTo, subject, reply, headers, payload);
    }

    /**
     * An internal subscription that also learns what a message was routed by: an account import forwards a
     * JetStream delivery (routed by its deliver or reply subject, showing the stream subject) as such.
     */
    interface Tap extends InboundHandler {
        /**
         * @param deliverTo the subject the subscription matched ({@code subject} for a plain publish)
         * @param subject   the subject the message shows
         */
        boolean onDelivery(String deliverTo, String subject, String reply, byte[] headers, byte[] payload);

        @Override
        default boolean onMessage(String subject, String reply, byte[] headers, byte[] payload) {
            return onDelivery(subject, subject, reply, headers, payload);
        }
    }

    /**
     * As {@link #deliver} ({@link #publish} when {@code deliverTo} is {@code subject}), returning how many
     * subscriptions took the message: a service import's requester gets no-responders when none did.
     */
    int send(String matchSubject, String subject, String reply, byte[] headers, byte[] payload) {
        return send(matchSubject, subject, reply, headers, payload, true);
    }

    /**
     * As {@link #send(String, String, String, byte[], byte[])}, to this server's subscriptions only: a stream
     * import hands its exporter's messages to its importer's subscribers here, as nats-server's shadow
     * subscriptions do, since every server that received the message does the same for its own.
     */
    int sendLocal(String matchSubject, String subject, String reply, byte[] headers, byte[] payload) {
        return send(matchSubject, subject, reply, headers, payload, false);
    }

    private int send(String matchSubject, String subject, String reply, byte[] headers, byte[] payload,
            boolean toRoutes) {
        int headerSize = headers == null ? 0 : headers.length;
        ByteBuf data = headerSize == 0
                ? Unpooled.wrappedBuffer(payload)
                : Unpooled.wrappedBuffer(headers, payload);
        OutMsg m = new OutMsg(subject, reply, data, headerSize);
        Batch b = batches.get();
        if (b == null) {
            TouchedOutboxes touched = new TouchedOutboxes();
            int n = route(m, matchSubject, null, touched, toRoutes);
            touched.flushFrom(null);
            return n;
        }
        int n = route(m, matchSubject, null, b.touched, toRoutes);
        // roughly what goes on the wire: MSG line, subjects, sizes and CRLFs around the data
        b.bytes += data.readableBytes() + matchSubject.length() + (reply == null ? 0 : reply.length()) + 32;
        if (b.bytes >= BATCH_FLUSH_BYTES) {
            b.bytes = 0;
            b.touched.flushFrom(null);
        }
        return n;
    }

    /**
     * Each flush from a thread that is not the client's event loop wakes that loop (an eventfd write), and a
     * writer delivering a run of messages woke it every few messages; in a batch each touched client is woken
     * once, at the end or every {@link #BATCH_FLUSH_BYTES}.
     */
    @Override
    public void batch(Runnable work) {
        if (batches.get() != null) {
            work.run(); // nested: the outer batch flushes
            return;
        }
        Batch b = new Batch();
        batches.set(b);
        try {
            work.run();
        } finally {
            batches.remove();
            b.touched.flushFrom(null);
        }
    }

    @Override
    public boolean hasInterest(String subject) {
        // JetStream asks about push consumers' deliver subjects; subscribers behind a route count, since
        // deliveries cross routes (route)
        return !index.match(subject).isEmpty();
    }

    @Override
    public String interestServer(String subject) {
        SubjectIndex.Match m = index.match(subject);
        String remote = null;
        for (Sub sub : m.plain()) {
            if (sub.route == null) {
                return "";
            }
            if (remote == null) {
                remote = sub.route.remoteName;
            }
        }
        for (List<Sub> group : m.queues()) {
            for (Sub sub : group) {
                if (sub.route == null) {
                    return "";
                }
                if (remote == null) {
                    remote = sub.route.remoteName;
                }
            }
        }
        return remote;
    }

    /** The outboxes a batch of deliveries wrote to; flushed once at the end of the batch. */
    static final class TouchedOutboxes {
        private final ArrayList<Outbox> list = new ArrayList<>();

        void add(Outbox o) {
            // small sets: a linear scan beats hashing
            for (int i = list.size() - 1; i >= 0; i--) {
                if (list.get(i) == o) {
                    return;
                }
            }
            list.add(o);
        }

        /** Flushes each outbox (directly when it lives on {@code current}, else on its own loop) and clears. */
        void flushFrom(EventLoop current) {
            for (int i = 0; i < list.size(); i++) {
                list.get(i).flushFrom(current);
            }
            list.clear();
        }
    }
}
