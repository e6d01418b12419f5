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
 * <p>The requests every account imports from the system account ({@code $SYS.REQ.SERVER.PING.CONNZ} and the
 * {@code $SYS.REQ.ACCOUNT.PING} ones, see {@link NatsServer#sysImport}) travel the same way, published as the
 * system account's {@code $SYS.REQ.ACCOUNT.<account>.<EP>} with the reply
 * {@code $SYS._IMPORT.<origin server id>.<account>.<reply>}, which the origin hands to the requester in its account.
 *
 * <p>Threading: the handlers run on the publisher's (client or route) event loop and only route.
 */
final class SysBridge {
    /** Replies to bridged requests; global-account clients may not publish here (see {@link #isBridged}). */
    static final String PREFIX = "$SYS._BRIDGE.";
    /** Replies to imported requests, going back to the requester's account. */
    static final String IMPORT_PREFIX = "$SYS._IMPORT.";

    private SysBridge() {}

    /** Whether a client's publish to {@code subject} would reach the bridge (only the server publishes there). */
    static boolean isBridged(String subject) {
        return subject.startsWith(PREFIX) || subject.startsWith(IMPORT_PREFIX);
    }

    /** Whether {@code name} can stand as one subject token (an account name in a subject). */
    static boolean isToken(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.' || c == '*' || c == '>' || c <= ' ') {
                return false;
            }
        }
        return true;
    }

    /** The reply an imported request carries so that its answers reach {@code reply} in {@code account}. */
    static String importReply(String serverId, String account, String reply) {
        return IMPORT_PREFIX + serverId + "." + account + "." + reply;
    }

    /** Subscribes the bridge in both subject spaces; the subscriptions live as long as the routers. */
    static List<MessageBus.Subscription> install(String serverId, Router system, Router global,
            java.util.function.Function<String, Router> accounts) {
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
        String ownImports = IMPORT_PREFIX + serverId + ".";
        io.jetkv.jetstream.InboundHandler importReplies = (subject, reply, headers, payload) -> {
            if (!subject.startsWith(ownImports)) {
                return false;
            }
            int dot = subject.indexOf('.', ownImports.length());
            if (dot < 0 || dot == subject.length() - 1) {
                return false;
            }
            String account = subject.substring(ownImports.length(), dot);
            accounts.apply(account).publish(subject.substring(dot + 1), reply, headers, payload);
            return true;
        };
        // "PING.<EP>" also matches "*.*": the broadcast subjects are the plain PING and any two-token request
        return List.of(system.subscribe("$SYS.REQ.SERVER.PING", requests),
                system.subscribe("$SYS.REQ.SERVER.*.*", requests), system.subscribe("$SYS.REQ.ACCOUNT.*.*", requests),
                global.subscribe(own + ">", replies), global.subscribe(ownImports + ">", importReplies));
    }
}
