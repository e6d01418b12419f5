package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code accounts { }} and {@code no_auth_user}: users and subject spaces so far. */
class AccountsConfigTest {
    private static ServerConfig load(String text) throws ConfigException {
        return ConfigFileParser.loadString(text, "test.conf", name -> null);
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> load(text)).getMessage();
    }

    @Test
    void accountsWithUsers() throws Exception {
        AuthConfig a = load("""
                accounts {
                  A: { users: [ {user: a, password: a} ] }
                  B: { users: [ {user: b} ] }
                  EMPTY: {}
                }
                no_auth_user: b
                """).auth();
        assertEquals(List.of("A", "B", "EMPTY"), a.accounts().stream().map(AccountConfig::name).toList());
        assertEquals("a", a.accounts().get(0).users().get(0).name());
        assertEquals("b", a.noAuthUser());
        assertTrue(a.required());
        assertTrue(a.users().isEmpty());
        assertNull(load("port: 1").auth().noAuthUser());
    }

    @Test
    void errors() {
        assertTrue(error("accounts { A: { users: [ {user: x, password: y} ] }, B: { users: [ {user: x} ] } }")
                .contains("Duplicate user \"x\" detected"));
        assertTrue(error("accounts { A: { users: [ {user: x} ] } }\nno_auth_user: nobody")
                .contains("no_auth_user: \"nobody\" not present"));
        assertTrue(error("accounts { A: { jetstream: enabled } }").contains("\"jetstream\" is not supported yet"));
        assertTrue(error("accounts { A: { exports: [ {stream: foo} ] } }").contains("\"exports\" is not supported yet"));
        assertTrue(error("accounts { A: { colour: red } }").contains("unknown field \"colour\""));
        assertTrue(error("accounts { $G: {} }").contains("reserved"));
    }
}
