package io.jetkv.server;

import io.jetkv.jetstream.MessageBus;

/**
 * Carries the answers to the requests every account imports from the system account ({@code $SYS.REQ.SERVER.PING.CONNZ}
 * and the {@code $SYS.REQ.ACCOUNT.PING} ones, see {@link NatsServer#sysImport}) back to the requester's account. Such
 * a request is published in the system account as {@code $SYS.REQ.ACCOUNT.<account>.<EP>} with the reply
 * {@code $SYS._IMPORT.<origin server id>.<account>.<reply>}; the system account's interest crosses the routes in that
 * account, so every server answers there, and the origin's subscription on its own prefix hands each answer to
 * {@code <reply>} in {@code <account>}. Clients may not publish under the prefix ({@link #isBridged}).
 *
 * <p>Threading: the handler runs on the publisher's (client or route) event loop and only routes.
 */
final class SysBridge {
    /** Replies to imported requests, going back to the requester's account. */
    static final String IMPORT_PREFIX = "$SYS._IMPORT.";

    private SysBridge() {}

    /** Whether a client's publish to {@code subject} would reach the bridge (only the server publishes there). */
    static boolean isBridged(String subject) {
        return subject.startsWith(IMPORT_PREFIX);
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

    /** Subscribes this server's import prefix in the system account; it lives as long as the router. */
    static MessageBus.Subscription install(String serverId, Router system,
            java.util.function.Function<String, Router> accounts) {
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
        return system.subscribe(ownImports + ">", importReplies);
    }
}
