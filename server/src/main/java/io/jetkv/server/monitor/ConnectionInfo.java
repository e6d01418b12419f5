package io.jetkv.server.monitor;

import java.time.Instant;
import java.util.List;

/**
 * One client connection as {@code /connz} reports it: a copy taken on the connection's own event loop, so
 * the monitoring thread reads only this immutable value.
 *
 * @param lastActivity when the client last sent something
 * @param rttNanos     the last measured PING round trip, 0 until measured
 * @param pendingBytes bytes queued for the client and not yet written
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
        String account,
        List<SubInfo> subscriptions) {

    /** A subscription: {@code max} is the auto-unsubscribe limit, 0 when none. */
    public record SubInfo(String subject, String queue, String sid, long msgs, long max) {}
}
