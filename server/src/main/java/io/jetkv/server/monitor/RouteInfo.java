package io.jetkv.server.monitor;

/**
 * One registered route as {@code /routez} lists it: a copy taken under the cluster's registry lock, so the HTTP
 * thread holds no reference to the route's connection.
 *
 * @param rid          the route's id on this server
 * @param remoteId     the peer's server id
 * @param remoteName   the peer's server name
 * @param didSolicit   this server dialled the route
 * @param isConfigured the route is in this server's configuration (not learnt by gossip)
 * @param ip           the peer's address
 * @param port         the peer's route port
 * @param subscriptions the peer's interest held for it (RS+ entries)
 */
public record RouteInfo(long rid, String remoteId, String remoteName, boolean didSolicit, boolean isConfigured,
        String ip, int port, int subscriptions) {}
