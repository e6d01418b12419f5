package io.jetkv.jetstream.cluster;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Raft peer ids from server names, as nats-server derives them ({@code getHash} in {@code events.go}): the
 * first 8 bytes of SHA-256(server_name), each mapped to {@code [0-9A-Za-z]} by {@code b % 62}. A node keeps its
 * id across restarts because it keeps its name, and {@code STREAM.INFO} shows the same {@code peer} values
 * nats-server would. Stateless; any thread.
 */
public final class PeerIds {
    private static final char[] DIGITS =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private PeerIds() {}

    public static String of(String serverName) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(serverName.getBytes(StandardCharsets.UTF_8));
            char[] out = new char[8];
            for (int i = 0; i < out.length; i++) {
                out[i] = DIGITS[(h[i] & 0xff) % DIGITS.length];
            }
            return new String(out);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
