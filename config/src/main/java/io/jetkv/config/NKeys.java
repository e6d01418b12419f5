package io.jetkv.config;

import java.util.Arrays;

/**
 * The NKEY text format of public keys (nats-io/nkeys): base32 (RFC 4648, no padding) of a prefix byte, the
 * 32-byte Ed25519 public key and a CRC-16/XMODEM of both, little-endian. A format, not cryptography: the
 * server verifies signatures with the JDK's Ed25519. Pure; any thread.
 */
public final class NKeys {
    /** The prefix byte of a user's public key: {@code U...}. */
    public static final int PREFIX_USER = 20 << 3;
    /** The prefix byte of an account's public key: {@code A...}. */
    public static final int PREFIX_ACCOUNT = 0;

    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    private NKeys() {}

    /** True when {@code key} is a well-formed public key with prefix {@code prefix}. */
    public static boolean isValidPublicKey(String key, int prefix) {
        return publicKey(key, prefix) != null;
    }

    /** The 32 raw Ed25519 bytes of {@code key}, or null when it is not a public key with prefix {@code prefix}. */
    public static byte[] publicKey(String key, int prefix) {
        if (key == null || key.length() != 56) {
            return null;
        }
        byte[] raw = base32(key);
        if (raw == null || raw.length != 35 || (raw[0] & 0xff) != prefix) {
            return null;
        }
        int crc = (raw[33] & 0xff) | (raw[34] & 0xff) << 8;
        if (crc != crc16(raw, 33)) {
            return null;
        }
        return Arrays.copyOfRange(raw, 1, 33);
    }

    private static byte[] base32(String s) {
        byte[] out = new byte[s.length() * 5 / 8];
        int buffer = 0;
        int bits = 0;
        int at = 0;
        for (int i = 0; i < s.length(); i++) {
            int v = ALPHABET.indexOf(s.charAt(i));
            if (v < 0) {
                return null;
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                out[at++] = (byte) (buffer >> bits);
            }
        }
        return at == out.length ? out : null;
    }

    /** CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection. */
    static int crc16(byte[] data, int length) {
        int crc = 0;
        for (int i = 0; i < length; i++) {
            crc ^= (data[i] & 0xff) << 8;
            for (int b = 0; b < 8; b++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            crc &= 0xffff;
        }
        return crc;
    }
}
