package io.jetkv.server;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * NKEY signatures: Ed25519 with the JDK's implementation, and the nonces clients sign. Pure; any thread.
 */
final class Ed25519 {
    // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410) up to the 32 key bytes
    private static final byte[] SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    // nats-server's nonceRawLen: 11 random bytes, 15 characters of unpadded base64url
    private static final int NONCE_BYTES = 11;

    private Ed25519() {}

    /** Loaded on first use: SecureRandom's first use loads the security providers. */
    private static final class Random {
        static final SecureRandom INSTANCE = new SecureRandom();
    }

    /** A fresh nonce, as nats-server makes one for each connection's INFO. */
    static String nonce() {
        byte[] b = new byte[NONCE_BYTES];
        Random.INSTANCE.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /**
     * True when {@code sig} (unpadded base64url, else standard base64, as nats-server decodes it) is
     * {@code key}'s Ed25519 signature of {@code message}.
     */
    static boolean verify(byte[] key, byte[] message, String sig) {
        if (key == null || sig == null) {
            return false;
        }
        byte[] signature = decode(sig);
        if (signature == null || signature.length != 64) {
            return false;
        }
        try {
            byte[] spki = new byte[SPKI_PREFIX.length + key.length];
            System.arraycopy(SPKI_PREFIX, 0, spki, 0, SPKI_PREFIX.length);
            System.arraycopy(key, 0, spki, SPKI_PREFIX.length, key.length);
            PublicKey pub = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
            Signature v = Signature.getInstance("Ed25519");
            v.initVerify(pub);
            v.update(message);
            return v.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static byte[] decode(String sig) {
        if (sig.indexOf('=') < 0) {
            try {
                return Base64.getUrlDecoder().decode(sig);
            } catch (IllegalArgumentException e) {
                // not base64url: standard base64 below
            }
        }
        try {
            return Base64.getDecoder().decode(sig);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
