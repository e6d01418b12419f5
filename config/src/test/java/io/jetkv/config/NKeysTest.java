package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The NKEY public key format and nkey users in the config file. */
class NKeysTest {
    // the example from nats-server's documentation and operations.md
    private static final String USER = "UCA4BFIKB3S46GMN2VRJ34QBSHDGYQXKYENGIPLJOHLX55SJVLBQ3NET";

    private static ServerConfig load(String text) throws ConfigException {
        return ConfigFileParser.loadString(text, "test.conf", name -> null);
    }

    @Test
    void decodesAUserKey() {
        byte[] raw = NKeys.publicKey(USER, NKeys.PREFIX_USER);
        assertEquals(32, raw.length);
        assertTrue(NKeys.isValidPublicKey(USER, NKeys.PREFIX_USER));
    }

    @Test
    void refusesWrongPrefixChecksumLengthOrAlphabet() {
        assertFalse(NKeys.isValidPublicKey(USER, NKeys.PREFIX_ACCOUNT));
        // one character changed: the CRC no longer matches
        String flipped = USER.substring(0, 10) + (USER.charAt(10) == 'A' ? 'B' : 'A') + USER.substring(11);
        assertNull(NKeys.publicKey(flipped, NKeys.PREFIX_USER));
        assertNull(NKeys.publicKey(USER.substring(1), NKeys.PREFIX_USER));
        assertNull(NKeys.publicKey(USER.toLowerCase(), NKeys.PREFIX_USER));
        assertNull(NKeys.publicKey(null, NKeys.PREFIX_USER));
    }

    @Test
    void crc16IsXmodem() {
        // the standard check value of CRC-16/XMODEM
        assertEquals(0x31c3, NKeys.crc16("123456789".getBytes(), 9));
    }

    @Test
    void nkeyUsersBesidePasswordUsers() throws Exception {
        AuthConfig a = load("authorization { users: [ {nkey: " + USER + ", permissions: {publish: \"a.>\"}}, "
                + "{user: bob, password: pw} ] }").auth();
        assertEquals(1, a.users().size());
        assertEquals(List.of(USER), a.nkeys().stream().map(NkeyUser::publicKey).toList());
        assertEquals(List.of("a.>"), a.nkeys().get(0).permissions().publish().allow());
        assertTrue(a.required());
        assertTrue(load("authorization { users: [ {nkey: " + USER + "} ] }").auth().required());
    }

    @Test
    void nkeyErrorsAreTheReferences() {
        assertTrue(assertThrows(ConfigException.class, () -> load("authorization { users: [ {nkey: UBAD} ] }"))
                .getMessage().endsWith("Not a valid public nkey for a user"));
        assertTrue(assertThrows(ConfigException.class,
                () -> load("authorization { users: [ {nkey: " + USER + "}, {nkey: " + USER + "} ] }"))
                .getMessage().endsWith("Duplicate nkey \"" + USER + "\" detected"));
        assertTrue(assertThrows(ConfigException.class,
                () -> load("authorization { users: [ {nkey: " + USER + ", password: x} ] }"))
                .getMessage().endsWith("Nkey users do not take usernames or passwords"));
    }
}
