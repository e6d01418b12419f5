package io.jetkv.server;

import io.jetkv.jetstream.MessageBus;
import java.util.List;

/**
 * Carries the system account's {@code $SYS.REQ.SERVER} requests across the cluster. Routes carry the global
 * account only, so the system account's requests are republished into the global account's subject space, where
 * every server's {@link io.jetkv.server.monitor.SysRequests} holds internal subscriptions whose interest crosses
 * the routes (nats-server routes the system account itself). The reply subject is rewritten to
 * {@code $SYS._BRIDGE.<origin server id>.<reply>}: the answering server publishes its reply there in the global
 * account, it comes back over the route to the origin, whose internal subscription on its own prefix hands it to
 * the requester in the system account.
 *
 * <p>Threading: both handlers run on the publisher's (client or route) event loop and only route.
 */
final class SysBridge {
    /** Replies to bridged requests; global-account clients may not publish here (see {@link #isBridged}). */
    static final String PREFIX = "$SYS._BRIDGE.";

    private SysBridge() {}

    /** Whether a client's publish to {@code subject} would reach the bridge (only the server publishes there). */
    static boolean isBridged(String subject) {
        return subject.startsWith(PREFIX);
    }

    /** Subscribes the bridge in both subject spaces; the subscriptions live as long as the routers. */
    static List<MessageBus.Subscription> install(String serverId, Router system, Router global) {
        String own = PREFIX + serverId + ".";
        io.jetkv.jetstream.InboundHandler requests = (subject, reply, headers, payload) -> {
            if (reply == null) {
                return false;
            }
            // counts as delivered when a server here or across a route holds interest
            return global.send(subject, subject, own + reply, headers, payload) > 0;
        };
        io.jetkv.jetstream.InboundHandler replies = (subject, reply, headers, payload) -> {
            if (!subject.startsWith(own) || subject.length() == own.length()) {
                return false;
            }
            system.publish(subject.substring(own.length()), reply, headers, payload);
            return true;
        };
        // "PING.<EP>" also matches "*.*": the broadcast subjects are the plain PING and any two-token request
        return List.of(system.subscribe("$SYS.REQ.SERVER.PING", requests),
                system.subscribe("$SYS.REQ.SERVER.*.*", requests), global.subscribe(own + ">", replies));
    }
}
