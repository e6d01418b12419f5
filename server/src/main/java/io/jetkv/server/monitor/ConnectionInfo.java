package io.jetkv.server.monitor;

import java.time.Instant;
import java.util.List;

/**
 * One client connection as {@code /connz} reports it: a copy taken on the connection's own event loop, so
 * the monitoring thread reads only this immutable value. A closed connection's last copy is kept in
 * {@link ClosedConnections} with {@code stop} and {@code reason} set.
 *
 * @param lastActivity when the client last sent something
 * @param rttNanos     the last measured PING round trip, 0 until measured
 * @param pendingBytes bytes queued for the client and not yet written
 * @param account      the account the client is in ({@code $G} without accounts)
 * @param stop         when it closed; null while open
 * @param reason       why it closed, in nats-server's words ({@code Client Closed}, {@code Slow Consumer (Pending
 *                     Bytes)}, ...); null while open
 * @param type         nats-server's client type: {@code nats}, or {@code websocket} for the WebSocket listener's
 */
public record ConnectionInfo(
        long cid,
        String ip,
        int port,
        Instant start,
        Instant lastActivity,
        long rttNanos,
        long pendingBytes,
        long inMsgs,
        long outMsgs,
        long inBytes,
        long outBytes,
        String name,
        String lang,
        String version,
        String user,
        List<SubInfo> subscriptions,
        String account,
        Instant stop,
        String reason,
        String type) {

    public boolean closed() {
        return stop != null;
    }

    /** A subscription: {@code max} is the auto-unsubscribe limit, 0 when none. */
    public record SubInfo(String subject, String queue, String sid, long msgs, long max) {}
}
