package io.jetkv.server.testing;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * What cluster tests ask of a cluster through real clients, whatever runs the nodes (one JVM, processes,
 * nats-server): poll a condition to a deadline, wait until a subscriber's interest reached another node, tell a
 * no-responders answer from a timeout. Called from test threads.
 */
public final class ClusterProbes {
    private ClusterProbes() {}

    /** Polls {@code condition} until it holds or {@code seconds} pass (then fails naming {@code what}). */
    public static void await(BooleanSupplier condition, String what, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
            }
            try {
                Thread.sleep(10); // polling to a deadline, not synchronisation
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /**
     * Waits until {@code from}'s server knows every subscription {@code subscriber} made so far: a responder
     * added after them is reachable from there (each server's RS+ for one connection travel in order).
     */
    public static void awaitInterest(Connection subscriber, Connection from, int seconds) throws Exception {
        String probe = "probe." + UUID.randomUUID();
        Dispatcher d = subscriber.createDispatcher(m -> subscriber.publish(m.getReplyTo(), new byte[0]));
        try {
            d.subscribe(probe);
            subscriber.flush(Duration.ofSeconds(2));
            await(() -> reply(from, probe) != null, "interest on " + probe, seconds);
        } finally {
            subscriber.closeDispatcher(d);
        }
    }

    /** The reply to an empty request, or null on no responders (503) or a timeout of 2 s. */
    public static Message reply(Connection c, String subject) {
        try {
            return c.request(subject, new byte[0]).get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    /** True when a request is answered at once with no responders (503), not left to time out. */
    public static boolean noResponders(Connection c, String subject) {
        try {
            c.request(subject, new byte[0]).get(2, TimeUnit.SECONDS);
            return false;
        } catch (TimeoutException e) {
            return false;
        } catch (Exception e) {
            return true;
        }
    }
}
