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

    private final SubjectIndex index;

    Router(SubjectIndex index) {
        this.index = index;
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
        return deliverAll(match, new OutMsg(subject, from.subjectBytes(subject), reply, data, headerSize), from,
                touched);
    }

    /**
     * Delivers {@code m} to every matching subscription.
     *
     * @param from    the publishing client (for echo suppression), or null for the server itself
     * @param touched collects the outboxes written to, for the caller to flush
     * @return how many subscriptions received the message (internal ones included)
     */
    int route(OutMsg m, ClientConnection from, TouchedOutboxes touched) {
        return route(m, m.subject, from, touched);
    }

    /** As {@link #route(OutMsg, ClientConnection, TouchedOutboxes)}, matching {@code matchSubject} instead. */
    private int route(OutMsg m, String matchSubject, ClientConnection from, TouchedOutboxes touched) {
        SubjectIndex.Match match = index.match(matchSubject);
        if (match.isEmpty()) {
            return 0;
        }
        return deliverAll(match, m, from, touched);
    }

    private int deliverAll(SubjectIndex.Match match, OutMsg m, ClientConnection from, TouchedOutboxes touched) {
        int delivered = 0;
        for (Sub sub : match.plain()) {
            if (deliver(sub, m, from, touched)) {
                delivered++;
            }
        }
        for (List<Sub> group : match.queues()) {
            int n = group.size();
            int start = n == 1 ? 0 : ThreadLocalRandom.current().nextInt(n);
            for (int i = 0; i < n; i++) {
                Sub sub = group.get((start + i) % n);
                if (deliver(sub, m, from, touched)) {
                    delivered++;
                    break;
                }
            }
        }
        return delivered;
    }

    private boolean deliver(Sub sub, OutMsg m, ClientConnection from, TouchedOutboxes touched) {
        if (sub.closed) {
            return false;
        }
        if (sub.internal()) {
            sub.handler.onMessage(m.subject, m.reply, m.headersArray(), m.payloadArray());
            return true;
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
        Sub sub = new Sub(subject, handler);
        index.insert(sub);
        return () -> {
            sub.closed = true;
            index.remove(sub);
        };
    }

    @Override
    public void publish(String subject, String reply, byte[] headers, byte[] payload) {
        int headerSize = headers == null ? 0 : headers.length;
        ByteBuf data = headerSize == 0
                ? Unpooled.wrappedBuffer(payload)
                : Unpooled.wrappedBuffer(headers, payload);
        TouchedOutboxes touched = new TouchedOutboxes();
        route(new OutMsg(subject, reply, data, headerSize), null, touched);
        touched.flushFrom(null);
    }

    @Override
    public void deliver(String deliverTo, String subject, String reply, byte[] headers, byte[] payload) {
        int headerSize = headers == null ? 0 : headers.length;
        ByteBuf data = headerSize == 0
                ? Unpooled.wrappedBuffer(payload)
                : Unpooled.wrappedBuffer(headers, payload);
        TouchedOutboxes touched = new TouchedOutboxes();
        route(new OutMsg(subject, reply, data, headerSize), deliverTo, null, touched);
        touched.flushFrom(null);
    }

    @Override
    public boolean hasInterest(String subject) {
        return index.hasInterest(subject);
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
