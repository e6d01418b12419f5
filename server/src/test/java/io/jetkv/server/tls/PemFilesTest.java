package io.jetkv.server.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jetkv.server.testing.TestPki;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemFilesTest {
    @TempDir
    Path dir;

    /** OpenSSL's "traditional" encodings, as BouncyCastle writes a bare private key. */
    private Path traditional(PrivateKey key) throws Exception {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(key);
        }
        Path f = Files.createTempFile(dir, "key", ".pem");
        Files.writeString(f, w.toString());
        return f;
    }

    @Test
    void readsPkcs1RsaKeys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair kp = g.generateKeyPair();
        Path f = traditional(kp.getPrivate());
        assertEquals("-----BEGIN RSA PRIVATE KEY-----", Files.readAllLines(f).get(0));
        assertArrayEquals(kp.getPrivate().getEncoded(), PemFiles.privateKey(f).getEncoded());
    }

    @Test
    void readsSec1EcKeys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair kp = g.generateKeyPair();
        // as `openssl ecparam -genkey` writes it: the curve in the key's [0] parameters
        java.security.interfaces.ECPrivateKey ec = (java.security.interfaces.ECPrivateKey) kp.getPrivate();
        byte[] sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(384, ec.getS(), null,
                org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp384r1).getEncoded();
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1));
        }
        Path f = dir.resolve("sec1.pem");
        Files.writeString(f, w.toString());
        PrivateKey read = PemFiles.privateKey(f);
        assertEquals("EC", read.getAlgorithm());
        assertEquals(((java.security.interfaces.ECPrivateKey) kp.getPrivate()).getS(),
                ((java.security.interfaces.ECPrivateKey) read).getS());
    }

    @Test
    void readsPkcs8KeysAndCertificateChains() throws Exception {
        TestPki pki = new TestPki(dir, "pem");
        TestPki.Issued server = pki.server("server");
        assertArrayEquals(server.keys().getPrivate().getEncoded(), PemFiles.privateKey(server.keyFile()).getEncoded());
        assertEquals(server.cert(), PemFiles.certificates(server.certFile())[0]);
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(new JcaPKCS8Generator(server.keys().getPrivate(), null));
        }
        assertEquals(Files.readString(server.keyFile()), w.toString());
    }

    @Test
    void aFileWithoutKeyIsRefused() throws Exception {
        TestPki pki = new TestPki(dir, "nokey");
        assertThrows(GeneralSecurityException.class, () -> PemFiles.privateKey(pki.caFile()));
    }
}
