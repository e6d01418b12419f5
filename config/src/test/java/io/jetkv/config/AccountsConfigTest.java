package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code accounts { }} and {@code no_auth_user}: users, JetStream limits, exports and imports. */
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
        assertTrue(error("accounts { A: { mappings: { a: b } } }").contains("\"mappings\" is not supported yet"));
        assertTrue(error("accounts { A: { colour: red } }").contains("unknown field \"colour\""));
        assertTrue(error("accounts { $G: {} }").contains("reserved"));
        assertEquals("test.conf:1: unknown field \"max_stream\"",
                error("accounts { A: { jetstream: { max_stream: 1 } } }"));
        assertEquals("test.conf:1: invalid value for \"jetstream\": expected enabled, disabled or a block of limits, "
                + "got \"maybe\"", error("accounts { A: { jetstream: maybe } }"));
        assertEquals("test.conf:1: unknown field \"colour\"", error("accounts { A: { exports: [ {stream: a, colour: x} ] } }"));
        assertEquals("test.conf:1: an export needs either \"stream\" or \"service\"",
                error("accounts { A: { exports: [ {accounts: [B]} ] } }"));
        assertEquals("test.conf:1: unknown response type: \"lots\"",
                error("accounts { A: { exports: [ {service: a, response_type: lots} ] } }"));
        assertEquals("test.conf:2: stream import from unknown account \"Z\"",
                error("accounts {\n B: { imports: [ {stream: {account: Z, subject: a}} ] } }"));
        // nats-server's words for an import its exporter does not allow
        assertEquals("test.conf:3: Error adding service import \"svc.x\": service import not authorized", error("""
                accounts { A: { exports: [ {service: "svc.>", accounts: [C]} ] }
                  C: {}
                  B: { imports: [ {service: {account: A, subject: "svc.x"}} ] } }
                """));
        assertEquals("test.conf:2: Error adding stream import \"svc.x\": stream import not authorized", error("""
                accounts { A: { exports: [ {service: "svc.>"} ] }
                  B: { imports: [ {stream: {account: A, subject: "svc.x"}} ] } }
                """));
        assertTrue(error("accounts { A: { exports: [ {stream: \"a.*\"} ] }, B: { imports: [ {stream: "
                + "{account: A, subject: \"a.*\"}, to: \"b.>\"} ] } }").contains("do not have the same wildcards"));
    }

    @Test
    void jetstreamExportsAndImports() throws Exception {
        List<AccountConfig> accounts = load("""
                accounts {
                  A: { jetstream: { max_mem: 1MB, max_file: 10MB, max_streams: 1, max_consumers: 2 }
                       exports: [ {service: "svc.>", response_type: stream}, {stream: "feed.>", accounts: [B]} ] }
                  B: { jetstream: enabled
                       imports: [ {service: {account: A, subject: "svc.>"}, to: "a.svc.>"},
                                  {stream: {account: A, subject: "feed.>"}, prefix: froma} ] }
                  C: { jetstream: disabled }
                  D: { jetstream: { max_memory: 0, store: 1GB, max_bytes_required: true } }
                }
                """).auth().accounts();
        AccountConfig a = accounts.get(0);
        assertEquals(new AccountConfig.JetStreamLimits(1 << 20, 10 << 20, 1, 2, -1, -1, -1, false), a.jetstream());
        assertEquals(List.of(new AccountConfig.Export(true, "svc.>", List.of(), "stream"),
                new AccountConfig.Export(false, "feed.>", List.of("B"), "singleton")), a.exports());
        AccountConfig b = accounts.get(1);
        assertEquals(AccountConfig.JetStreamLimits.UNLIMITED, b.jetstream());
        assertEquals("a.svc.>", b.imports().get(0).localSubject());
        assertEquals("svc.>", b.imports().get(0).subject());
        assertTrue(b.imports().get(0).service());
        assertEquals("froma.feed.>", b.imports().get(1).localSubject());
        assertNull(accounts.get(2).jetstream());
        assertEquals(new AccountConfig.JetStreamLimits(0, 1L << 30, -1, -1, -1, -1, -1, true),
                accounts.get(3).jetstream());
    }

    @Test
    void subjectMapping() {
        assertEquals("svc.echo", SubjectMap.map("a.svc.>", "svc.>", "a.svc.echo"));
        assertEquals("froma.feed.t.u", SubjectMap.map("feed.>", "froma.feed.>", "feed.t.u"));
        assertEquals("x.2.y.1", SubjectMap.map("a.*.*", "x.*.y.*", "a.2.1"));
        assertEquals("fixed", SubjectMap.map("a.*", "fixed", "a.b"));
        assertTrue(SubjectMap.isSubset("svc.x", "svc.>"));
        assertTrue(SubjectMap.isSubset("svc.*", "svc.>"));
        assertTrue(SubjectMap.isSubset("a.b", "a.*"));
        assertTrue(!SubjectMap.isSubset("svc", "svc.>"));
        assertTrue(!SubjectMap.isSubset("a.>", "a.*"));
        assertTrue(!SubjectMap.isSubset("b.c", "a.*"));
    }
}
