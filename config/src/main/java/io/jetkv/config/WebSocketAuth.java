package io.jetkv.config;

import java.time.Duration;
import java.util.List;

/**
 * The authentication settings of the {@code websocket { }} block, as nats-server takes them: {@code no_auth_user} and
 * {@code authorization { user, password, token, timeout }}. A user, token or {@code no_auth_user} here overrides the
 * top-level ones for WebSocket clients (nats-server's "auth override"); the users and nkeys of the top-level
 * {@code authorization} and {@code accounts} stay the only ones. Immutable; read by the server when it builds the
 * WebSocket listener's authenticator.
 *
 * @param user       the one user WebSocket clients must name, or null
 * @param password   its password ({@code ""} when the block names the user alone), or null
 * @param token      the token WebSocket clients must send, or null; wins over {@code user} when both are set
 * @param timeout    how long a WebSocket client may take to authenticate, or null for the top-level timeout
 * @param noAuthUser the user a WebSocket client without credentials is taken for, or null
 */
public record WebSocketAuth(String user, String password, String token, Duration timeout, String noAuthUser) {

    public static final WebSocketAuth NONE = new WebSocketAuth(null, null, null, null, null);

    /** Whether WebSocket clients authenticate by these settings rather than the top-level ones. */
    public boolean overrides() {
        return user != null || token != null || noAuthUser != null;
    }

    /**
     * What WebSocket clients are checked against, given the top-level authorization: the block's token or user
     * when it has one (and then nothing else, as in nats-server), else the top-level users with the block's
     * {@code no_auth_user} when set; the block's timeout in every case.
     */
    public AuthConfig effective(AuthConfig top) {
        Duration t = timeout != null ? timeout : top.timeout();
        if (token != null || user != null) {
            List<User> users = token != null ? List.of() : List.of(new User(user, password, null));
            return new AuthConfig(token, users, Permissions.ALL, t);
        }
        String noAuth = noAuthUser != null ? noAuthUser : top.noAuthUser();
        return new AuthConfig(top.token(), top.users(), top.defaultPermissions(), t, top.nkeys(), top.accounts(),
                noAuth);
    }
}
