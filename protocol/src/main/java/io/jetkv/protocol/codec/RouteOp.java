package io.jetkv.protocol.codec;

/**
 * An operation received from another server on a route, as produced by {@link RouteOpDecoder}. Messages
 * ({@code RMSG}/{@code HMSG}) do not appear here: they go to {@link RouteOpHandler#msg} with a view of the
 * payload, like client publishes.
 */
public sealed interface RouteOp {

    /** {@code INFO <json>}: the peer's INFO, or gossip about another server when its id is not the peer's. */
    record Info(String json) implements RouteOp {}

    /** {@code CONNECT <json>}: the dialling server's options and credentials. */
    record Connect(String json) implements RouteOp {}

    /**
     * {@code RS+ <account> <subject> [<queue> <weight>]}: the peer has local interest. For a queue group,
     * {@code weight} is how many members it has there (re-announced on every change); 0 for plain interest.
     */
    record Sub(String account, String subject, String queue, int weight) implements RouteOp {}

    /** {@code RS- <account> <subject> [<queue>]}: the peer's last local subscriber left. */
    record Unsub(String account, String subject, String queue) implements RouteOp {}

    /** {@code -ERR '<text>'} from the peer (it closes the route after sending one). */
    record Err(String text) implements RouteOp {}

    /** Malformed input: the decoder stops; the route decides what to do. */
    record Violation(ProtocolError error) implements RouteOp {}

    /** {@code PING}. */
    enum Ping implements RouteOp {
        INSTANCE
    }

    /** {@code PONG}. */
    enum Pong implements RouteOp {
        INSTANCE
    }

    /** {@code +OK} (never sent by a 2.9 server with verbose off; accepted and ignored). */
    enum Ok implements RouteOp {
        INSTANCE
    }
}
