package io.jetkv.server.monitor;

import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-account figures nats-server keeps on its accounts and the per-connection snapshots cannot give: how many
 * clients each account has open now, and what the account's closed connections sent and received (an account's
 * {@code sent}/{@code received} in {@code STATZ}, {@code CONNS} and {@code /accstatz} are these plus the open
 * connections' counters). Nothing on the message path touches it: a client's event loop reports its CONNECT and
 * its close, the monitoring and {@code sys-requests} threads read.
 */
public final class AccountCounters {
    private static final MessageTotals NONE = new MessageTotals();

    private final ConcurrentHashMap<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, MessageTotals> closed = new ConcurrentHashMap<>();

    /** A client's CONNECT put it in {@code account}; its event loop. */
    public void connected(String account) {
        open.computeIfAbsent(account, a -> new AtomicInteger()).incrementAndGet();
    }

    /** A later CONNECT moved a client (without subscriptions) from one account to another; its event loop. */
    public void moved(String from, String to) {
        if (!from.equals(to)) {
            decrement(from);
            connected(to);
        }
    }

    /** A client that had connected closed; {@code c} is its last snapshot. Its event loop. */
    public void closed(ConnectionInfo c) {
        String account = c.account() == null ? "$G" : c.account();
        decrement(account);
        MessageTotals t = closed.computeIfAbsent(account, a -> new MessageTotals());
        t.addIn(c.inMsgs(), c.inBytes());
        t.addOut(c.outMsgs(), c.outBytes());
        if (c.reason() != null && c.reason().startsWith("Slow Consumer")) {
            t.slowConsumer(); // a slow consumer is closed here, so each one counts once
        }
    }

    private void decrement(String account) {
        AtomicInteger n = open.get(account);
        if (n != null) {
            n.decrementAndGet();
        }
    }

    /** Clients of {@code account} open now. */
    public int open(String account) {
        AtomicInteger n = open.get(account);
        return n == null ? 0 : Math.max(0, n.get());
    }

    /** The accounts with at least one client open now. */
    public Set<String> active() {
        Set<String> out = new TreeSet<>();
        open.forEach((account, n) -> {
            if (n.get() > 0) {
                out.add(account);
            }
        });
        return out;
    }

    /** What {@code account}'s closed connections sent and received. */
    public MessageTotals closedTotals(String account) {
        return closed.getOrDefault(account, NONE);
    }
}
