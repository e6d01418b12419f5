package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileParserTest {

    private static final Function<String, String> NO_ENV = name -> null;

    @TempDir
    Path dir;

    private static Map<String, ConfValue> tree(String text) throws ConfigException {
        return ConfigFileParser.parseTree(text, "test.conf", Path.of(""), NO_ENV);
    }

    private static ServerConfig load(String text) throws ConfigException {
        return ConfigFileParser.loadString(text, "test.conf", NO_ENV);
    }

    private static ServerConfig load(String text, Map<String, String> env) throws ConfigException {
        return ConfigFileParser.loadString(text, "test.conf", env::get);
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> load(text)).getMessage();
    }

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file;
    }

    // ---- syntax ----

    @Test
    void colonEqualsAndSpaceAllAssign() throws Exception {
        Map<String, ConfValue> t = tree("a: 1\nb = 2\nc 3\nd:4\ne=5\n");
        assertEquals(List.of("a", "b", "c", "d", "e"), List.copyOf(t.keySet()));
        for (String k : t.keySet()) {
            assertEquals(ConfValue.Type.INTEGER, t.get(k).type(), k);
        }
        assertEquals(5L, t.get("e").value());
    }

    @Test
    void semicolonsAndCommasEndEntries() throws Exception {
        Map<String, ConfValue> t = tree("a: 1; b: 2, c: 3;\n");
        assertEquals(3L, t.get("c").value());
    }

    @Test
    void scalarTypes() throws Exception {
        Map<String, ConfValue> t = tree("""
                i: 42
                neg: -1
                f: 3.25
                s1: "double"
                s2: 'single'
                s3: bare_string
                ip: 127.0.0.1
                mixed: 3secret
                """);
        assertEquals(42L, t.get("i").value());
        assertEquals(-1L, t.get("neg").value());
        assertEquals(3.25, t.get("f").value());
        assertEquals(ConfValue.Type.FLOAT, t.get("f").type());
        assertEquals("double", t.get("s1").value());
        assertEquals("single", t.get("s2").value());
        assertEquals("bare_string", t.get("s3").value());
        assertEquals("127.0.0.1", t.get("ip").value());
        assertEquals("3secret", t.get("mixed").value());
        assertEquals(ConfValue.Type.STRING, t.get("mixed").type());
    }

    @Test
    void booleanWordsInAnyCase() throws Exception {
        Map<String, ConfValue> t = tree("a: true\nb: yes\nc: on\nd: false\ne: no\nf: off\ng: TRUE\nh: Off\n");
        for (String k : List.of("a", "b", "c", "g")) {
            assertEquals(Boolean.TRUE, t.get(k).value(), k);
        }
        for (String k : List.of("d", "e", "f", "h")) {
            assertEquals(Boolean.FALSE, t.get(k).value(), k);
        }
    }

    @Test
    void quotedStringsKeepWhatBareStringsWouldChange() throws Exception {
        Map<String, ConfValue> t = tree("""
                n: "4222"
                b: 'true'
                esc: "tab\\there \\"q\\" \\u0041 back\\\\slash"
                raw: 'no \\t escape'
                hash: "a # not a comment"
                """);
        assertEquals(ConfValue.Type.STRING, t.get("n").type());
        assertEquals(ConfValue.Type.STRING, t.get("b").type());
        assertEquals("tab\there \"q\" A back\\slash", t.get("esc").value());
        assertEquals("no \\t escape", t.get("raw").value());
        assertEquals("a # not a comment", t.get("hash").value());
    }

    @Test
    void quotedKeys() throws Exception {
        Map<String, ConfValue> t = tree("\"port\": 1\n'host' = x\n");
        assertEquals(1L, t.get("port").value());
        assertEquals("x", t.get("host").value());
    }

    @Test
    void sizeSuffixes() throws Exception {
        Map<String, ConfValue> t = tree("""
                a: 1KB
                b: 1kb
                c: 1K
                d: 2MB
                e: 2m
                f: 1GB
                g: 1G
                h: 1MiB
                i: 3k
                """);
        assertEquals(1024L, t.get("a").value());
        assertEquals(1024L, t.get("b").value());
        assertEquals(1000L, t.get("c").value());
        assertEquals(2L * 1024 * 1024, t.get("d").value());
        assertEquals(2_000_000L, t.get("e").value());
        assertEquals(1024L * 1024 * 1024, t.get("f").value());
        assertEquals(1_000_000_000L, t.get("g").value());
        assertEquals(1024L * 1024, t.get("h").value());
        assertEquals(3000L, t.get("i").value());
        assertEquals("2MB", t.get("d").raw());
    }

    @Test
    void commentsEverywhere() throws Exception {
        Map<String, ConfValue> t = tree("""
                # hash comment
                // slash comment
                port: 4222 # trailing
                host: x // trailing too
                list: [
                  a, # in an array
                  // on its own line
                  b
                ]
                block {
                  # in a block
                  k: v
                }
                url: nats://host:4222
                """);
        assertEquals(4222L, t.get("port").value());
        assertEquals("x", t.get("host").value());
        assertEquals(2, t.get("list").asList().size());
        assertEquals("v", t.get("block").asMap().get("k").value());
        assertEquals("nats://host:4222", t.get("url").value());
    }

    @Test
    void arraysSplitByCommasOrNewLines() throws Exception {
        Map<String, ConfValue> t = tree("""
                inline: [1, 2, 3]
                lines: [
                  "a"
                  "b"
                  "c",
                ]
                empty: []
                nested: [[1, 2], {k: v}]
                """);
        assertEquals(3, t.get("inline").asList().size());
        List<ConfValue> lines = t.get("lines").asList();
        assertEquals(List.of("a", "b", "c"), lines.stream().map(ConfValue::value).toList());
        assertTrue(t.get("empty").asList().isEmpty());
        List<ConfValue> nested = t.get("nested").asList();
        assertEquals(ConfValue.Type.LIST, nested.get(0).type());
        assertEquals("v", nested.get(1).asMap().get("k").value());
    }

    @Test
    void blocksWithAndWithoutSeparator() throws Exception {
        Map<String, ConfValue> t = tree("""
                a { x: 1 }
                b: { x: 2, y: 3 }
                c = {
                  d {
                    e: deep
                  }
                }
                """);
        assertEquals(1L, t.get("a").asMap().get("x").value());
        assertEquals(3L, t.get("b").asMap().get("y").value());
        assertEquals("deep", t.get("c").asMap().get("d").asMap().get("e").value());
    }

    @Test
    void wholeFileInBraces() throws Exception {
        Map<String, ConfValue> t = tree("{\n  \"port\": 4333,\n  \"debug\": true\n}\n");
        assertEquals(4333L, t.get("port").value());
        assertEquals(Boolean.TRUE, t.get("debug").value());
    }

    @Test
    void valuesRememberFileAndLine() throws Exception {
        Map<String, ConfValue> t = tree("\n\na: 1\nblock {\n\n  b: 2\n}\n");
        assertEquals(3, t.get("a").line());
        assertEquals(4, t.get("block").line());
        assertEquals(6, t.get("block").asMap().get("b").line());
        assertEquals("test.conf:6", t.get("block").asMap().get("b").where());
    }

    @Test
    void laterKeyWins() throws Exception {
        assertEquals(2L, tree("a: 1\na: 2\n").get("a").value());
    }

    @Test
    void crlfLineEndings() throws Exception {
        ServerConfig c = load("port: 4333\r\nhost: 127.0.0.1\r\nauthorization {\r\n  token: t\r\n}\r\n");
        assertEquals(4333, c.port());
        assertEquals("127.0.0.1", c.host());
        assertEquals("t", c.auth().token());
    }

    // ---- variables ----

    @Test
    void variablesDefinedEarlier() throws Exception {
        ServerConfig c = load("""
                PORT = 4333
                SECRET: "s3cr3t"
                port: $PORT
                authorization { token: $SECRET }
                """);
        assertEquals(4333, c.port());
        assertEquals("s3cr3t", c.auth().token());
    }

    @Test
    void variablesAreBlockScoped() throws Exception {
        ServerConfig c = load("""
                authorization {
                  SECRET = inner
                  users = [ {user: a, password: $SECRET} ]
                }
                """);
        assertEquals("inner", c.auth().users().get(0).password());
        String msg = error("""
                authorization {
                  SECRET = inner
                  users = [ {user: a, password: $SECRET} ]
                }
                server_name: $SECRET
                """);
        assertEquals("test.conf:5: variable reference for \"SECRET\" can not be found", msg);
    }

    @Test
    void variablesFromTheEnvironment() throws Exception {
        ServerConfig c = load("port: $NATS_PORT\nserver_name: $NAME\nmax_payload: $MP\n",
                Map.of("NATS_PORT", "4333", "NAME", "from env", "MP", "2MB"));
        assertEquals(4333, c.port());
        assertEquals("from env", c.serverName());
        assertEquals(2 * 1024 * 1024, c.maxPayload());
    }

    @Test
    void fileVariablesShadowTheEnvironment() throws Exception {
        ServerConfig c = load("P = 1000\nport: $P\n", Map.of("P", "2000"));
        assertEquals(1000, c.port());
    }

    @Test
    void undefinedVariableNamesLine() {
        assertEquals("test.conf:3: variable reference for \"NOPE\" can not be found",
                error("port: 1\n\nhost: $NOPE\n"));
    }

    @Test
    void quotedDollarIsLiteral() throws Exception {
        assertEquals("$NOPE", load("server_name: \"$NOPE\"\n").serverName());
    }

    @Test
    void bareBcryptHashIsNotAVariable() throws Exception {
        String hash = "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG";
        ServerConfig c = load("authorization { user: a, password: " + hash + " }\n");
        assertEquals(hash, c.auth().users().get(0).password());
    }

    @Test
    void unusedUnknownKeyIsAnErrorButAUsedVariableIsNot() throws Exception {
        assertEquals(4333, load("P = 4333\nport: $P\n").port());
        assertEquals("test.conf:1: unknown field \"P\"", error("P = 4333\nport: 4222\n"));
    }

    // ---- includes ----

    @Test
    void includeRelativeToTheIncludingFile() throws Exception {
        write("conf/auth/users.conf", "users = [ {user: alice, password: pw} ]\n");
        write("conf/limits.conf", "max_payload: 2MB\n");
        Path main = write("conf/main.conf", """
                port: 4333
                include limits.conf
                authorization {
                  include 'auth/users.conf'
                }
                """);
        ServerConfig c = ConfigFileParser.load(main, NO_ENV);
        assertEquals(4333, c.port());
        assertEquals(2 * 1024 * 1024, c.maxPayload());
        assertEquals("alice", c.auth().users().get(0).name());
    }

    @Test
    void includedValuesPointAtTheirOwnFile() throws Exception {
        Path inc = write("inc.conf", "\nbogus: 1\n");
        Path main = write("main.conf", "include \"inc.conf\"\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFileParser.load(main, NO_ENV));
        assertEquals(inc + ":2: unknown field \"bogus\"", e.getMessage());
    }

    @Test
    void missingIncludeNamesTheIncludingLine() throws Exception {
        Path main = write("main.conf", "port: 1\ninclude 'gone.conf'\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFileParser.load(main, NO_ENV));
        assertTrue(e.getMessage().startsWith(main + ":2: error opening include file "), e.getMessage());
        assertTrue(e.getMessage().contains("gone.conf"), e.getMessage());
    }

    @Test
    void includeCycleIsAnError() throws Exception {
        write("a.conf", "include b.conf\n");
        write("b.conf", "include a.conf\n");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigFileParser.load(dir.resolve("a.conf"), NO_ENV));
        assertTrue(e.getMessage().contains("include cycle"), e.getMessage());
    }

    @Test
    void missingConfigFile() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigFileParser.load(dir.resolve("none.conf"), NO_ENV));
        assertTrue(e.getMessage().startsWith("error opening config file: "), e.getMessage());
    }

    // ---- mapping onto ServerConfig ----

    @Test
    void emptyFileGivesDefaults() throws Exception {
        assertEquals(ServerConfig.defaults(), load("# nothing\n"));
    }

    @Test
    void serverTagsAreALowerCasedListOrOneString() throws Exception {
        assertEquals(java.util.List.of("az1", "ssd"), load("server_tags: [\"AZ1\", \" ssd \", az1]\n").serverTags());
        assertEquals(java.util.List.of("edge"), load("server_tags: Edge\n").serverTags());
        assertEquals(java.util.List.of(), load("port: 4222\n").serverTags());
    }

    @Test
    void topLevelSettings() throws Exception {
        ServerConfig c = load("""
                port: 4333
                host: 127.0.0.1
                server_name: "n1"
                max_payload: 2MB
                max_connections: 100
                max_control_line: 8KB
                max_pending: 128MB
                ping_interval: "30s"
                ping_max: 5
                write_deadline: 500ms
                debug: true
                trace: on
                log_file: "/var/log/jetkv.log"
                http_port: 8222
                """);
        assertEquals(4333, c.port());
        assertEquals("127.0.0.1", c.host());
        assertEquals("n1", c.serverName());
        assertEquals(2 * 1024 * 1024, c.maxPayload());
        assertEquals(100, c.maxConnections());
        assertEquals(8 * 1024, c.maxControlLine());
        assertEquals(128L * 1024 * 1024, c.maxPending());
        assertEquals(Duration.ofSeconds(30), c.pingInterval());
        assertEquals(5, c.pingMax());
        assertEquals(Duration.ofMillis(500), c.writeDeadline());
        assertEquals(new LogConfig(true, true, Path.of("/var/log/jetkv.log")), c.log());
        assertEquals(8222, c.httpPort());
    }

    @Test
    void keysAreCaseInsensitive() throws Exception {
        assertEquals(4333, load("PORT: 4333\n").port());
    }

    @Test
    void listenSetsHostAndPort() throws Exception {
        ServerConfig c = load("listen: 127.0.0.1:4333\n");
        assertEquals("127.0.0.1", c.host());
        assertEquals(4333, c.port());
        ServerConfig v6 = load("listen: \"[::1]:4334\"\n");
        assertEquals("::1", v6.host());
        assertEquals(4334, v6.port());
        ServerConfig portOnly = load("listen: 4335\n");
        assertEquals(ServerConfig.DEFAULT_HOST, portOnly.host());
        assertEquals(4335, portOnly.port());
        assertEquals(4336, load("listen: :4336\n").port());
    }

    @Test
    void httpAcceptsPortOrHostPort() throws Exception {
        assertEquals(8222, load("http: 8222\n").httpPort());
        assertEquals(8223, load("http: \"0.0.0.0:8223\"\n").httpPort());
        assertEquals(8224, load("monitor_port: 8224\n").httpPort());
    }

    @Test
    void httpHostAndBasePath() throws Exception {
        ServerConfig c = load("http: \"127.0.0.2:8225\"\nhttp_base_path: \"mon/\"\n");
        assertEquals("127.0.0.2", c.httpHost());
        assertEquals(8225, c.httpPort());
        assertEquals("/mon", c.httpBasePath());
        assertEquals(null, load("http_port: 8222\n").httpHost());
        assertEquals("", load("http_base_path: \"/\"\n").httpBasePath());
    }

    @Test
    void httpPortMinusOneIsRandomAndZeroIsOff() throws Exception {
        assertEquals(-1, load("http_port: -1\n").httpPort());
        assertEquals(-1, load("http: \"127.0.0.1:-1\"\n").httpPort());
        assertEquals(0, load("http_port: 0\n").httpPort());
        assertEquals(0, load("port: 4222\n").httpPort());
    }

    @Test
    void portMinusOneMeansAnyFreePort() throws Exception {
        assertEquals(0, load("port: -1\n").port());
    }

    @Test
    void durationsInEveryForm() throws Exception {
        assertEquals(Duration.ofMinutes(2), load("ping_interval: \"2m\"\n").pingInterval());
        // bare 2m lexes as the size 2,000,000; a duration field reads it back as two minutes
        assertEquals(Duration.ofMinutes(2), load("ping_interval: 2m\n").pingInterval());
        assertEquals(Duration.ofSeconds(10), load("ping_interval: 10s\n").pingInterval());
        assertEquals(Duration.ofMinutes(90), load("ping_interval: 1h30m\n").pingInterval());
        assertEquals(Duration.ofMillis(500), load("write_deadline: 500ms\n").writeDeadline());
        assertEquals(Duration.ofSeconds(30), load("write_deadline: 30\n").writeDeadline());
        assertEquals(Duration.ofMillis(1500), load("write_deadline: 1.5\n").writeDeadline());
        assertEquals(Duration.ofMillis(1500), load("write_deadline: \"1.5s\"\n").writeDeadline());
    }

    @Test
    void badDurationNamesKeyAndLine() {
        assertEquals("test.conf:2: invalid value for \"ping_interval\": expected a duration such as 10s, 2m or"
                + " 1h30m, or a number of seconds, got \"soon\"", error("port: 1\nping_interval: soon\n"));
        assertTrue(error("ping_interval: 0\n").contains("a positive duration"));
    }

    @Test
    void quotedSizes() throws Exception {
        assertEquals(64 * 1024, load("max_payload: \"64KB\"\n").maxPayload());
    }

    @Test
    void authorizationToken() throws Exception {
        AuthConfig a = load("authorization { token: \"s3cr3t\", timeout: 5 }\n").auth();
        assertEquals("s3cr3t", a.token());
        assertTrue(a.users().isEmpty());
        assertEquals(Duration.ofSeconds(5), a.timeout());
        assertTrue(a.required());
    }

    @Test
    void authorizationSingleUser() throws Exception {
        AuthConfig a = load("authorization {\n  user: derek\n  password: T0pS3cr3t\n  timeout: 0.5\n}\n").auth();
        assertEquals(List.of(new User("derek", "T0pS3cr3t", null)), a.users());
        assertNull(a.token());
        assertEquals(Duration.ofMillis(500), a.timeout());
    }

    @Test
    void authorizationUsersWithPermissions() throws Exception {
        AuthConfig a = load("""
                authorization {
                  default_permissions = { publish = "SANDBOX.*", subscribe = ["PUBLIC.>", "_INBOX.>"] }
                  ADMIN = { publish = ">", subscribe = ">" }
                  users = [
                    {user: admin, password: a1, permissions: $ADMIN}
                    {user: client, password: c1, permissions: {
                        publish: { allow: ["req.>", "orders.*"], deny: "orders.secret" }
                        subscribe: { deny: ["admin.>"] }
                    }}
                    {user: other, password: o1}
                  ]
                }
                """).auth();
        assertEquals(new Permissions(new SubjectPermission(List.of("SANDBOX.*"), List.of()),
                new SubjectPermission(List.of("PUBLIC.>", "_INBOX.>"), List.of())), a.defaultPermissions());
        assertEquals(3, a.users().size());
        User admin = a.users().get(0);
        assertEquals(List.of(">"), admin.permissions().publish().allow());
        User client = a.users().get(1);
        assertEquals(List.of("req.>", "orders.*"), client.permissions().publish().allow());
        assertEquals(List.of("orders.secret"), client.permissions().publish().deny());
        assertEquals(List.of(), client.permissions().subscribe().allow());
        assertEquals(List.of("admin.>"), client.permissions().subscribe().deny());
        assertNull(a.users().get(2).permissions());
    }

    @Test
    void permissionsMissingADirectionAllowEverything() throws Exception {
        AuthConfig a = load("authorization { users = [ {user: u, password: p, permissions: {pub: foo}} ] }\n").auth();
        Permissions p = a.users().get(0).permissions();
        assertEquals(List.of("foo"), p.publish().allow());
        assertEquals(SubjectPermission.ALL, p.subscribe());
    }

    @Test
    void authorizationErrors() {
        assertTrue(error("authorization { user: a }\n").contains("user and password must be set together"));
        assertTrue(error("authorization {\n token: t\n users = [{user: a, password: b}]\n}\n")
                .startsWith("test.conf:1: "));
        assertTrue(error("authorization {\n token: t\n users = [{user: a, password: b}]\n}\n")
                .contains("can not have a token and users"));
        assertTrue(error("authorization { user: a, password: b, users = [{user: c, password: d}] }\n")
                .contains("can not have a single user/pass and a users array"));
        assertTrue(error("authorization { users = [{user: a, password: b}, {user: a, password: c}] }\n")
                .contains("duplicate user \"a\""));
        assertEquals("test.conf:3: Nkey users do not take usernames or passwords",
                error("authorization {\n  users = [\n    {user: a, password: b, nkey: x}\n  ]\n}\n"));
        assertEquals("test.conf:2: unknown field \"allow_all\"",
                error("authorization { users = [{user: a, password: b, permissions: {\n allow_all: true }}] }\n"));
        assertTrue(error("authorization: yes\n").contains("expected a block"));
    }

    @Test
    void jetstreamForms() throws Exception {
        assertTrue(load("jetstream: enabled\n").jetstream().enabled());
        assertTrue(load("jetstream: true\n").jetstream().enabled());
        assertTrue(load("jetstream {}\n").jetstream().enabled());
        assertFalse(load("jetstream: disabled\n").jetstream().enabled());
        assertFalse(load("jetstream: false\n").jetstream().enabled());
        assertFalse(load("jetstream { enabled: false }\n").jetstream().enabled());
        assertFalse(load("port: 1\n").jetstream().enabled());
    }

    @Test
    void jetstreamBlock() throws Exception {
        JetStreamConfig js = load("""
                jetstream {
                  store_dir: "/data/js"
                  max_memory_store: 1GB
                  max_file_store: 10G
                  sync_always: true
                }
                """).jetstream();
        assertEquals(new JetStreamConfig(true, Path.of("/data/js"), 1L << 30, 10_000_000_000L, true), js);
        assertTrue(load("jetstream { sync_interval: always }\n").jetstream().syncAlways());
        // strict request decoding is nats-server 2.12's default; strict: false turns it off
        assertTrue(js.strict());
        assertFalse(load("jetstream { strict: false }\n").jetstream().strict());
        assertTrue(load("jetstream { strict: true }\n").jetstream().strict());
        assertEquals(JetStreamConfig.defaultStoreDir(), load("jetstream: enabled\n").jetstream().storeDir());
    }

    @Test
    void jetstreamErrors() {
        assertEquals("test.conf:3: unknown field \"max_streams\"",
                error("jetstream {\n  store_dir: x\n  max_streams: 3\n}\n"));
        assertTrue(error("jetstream: maybe\n").startsWith("test.conf:1: invalid value for \"jetstream\""));
        assertTrue(error("jetstream { max_file_store: lots }\n").contains("\"max_file_store\""));
    }

    @Test
    void unknownFieldNamesFileLineAndKey() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i < 12; i++) {
            text.append("# line ").append(i).append('\n');
        }
        text.append("foo: bar\n");
        Path file = write("myconf.conf", text.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFileParser.load(file, NO_ENV));
        assertEquals(file + ":12: unknown field \"foo\"", e.getMessage());
    }

    @Test
    void unknownNestedField() {
        assertEquals("test.conf:3: unknown field \"tokn\"", error("port: 1\nauthorization {\n  tokn: x\n}\n"));
    }

    @Test
    void malformedValuesNameKeyAndLine() {
        assertEquals("test.conf:2: invalid value for \"port\": expected an integer, got \"abc\"",
                error("host: x\nport: abc\n"));
        assertEquals("test.conf:1: invalid value for \"port\": 70000 is out of range -1..65535",
                error("port: 70000\n"));
        assertEquals("test.conf:1: invalid value for \"debug\": expected a boolean, got 1", error("debug: 1\n"));
        assertEquals("test.conf:1: invalid value for \"max_payload\": expected a size such as 1048576, 64KB or 1MB,"
                + " got \"big\"", error("max_payload: big\n"));
        assertTrue(error("listen: localhost\n").contains("expected host:port"));
        assertTrue(error("server_name: [a]\n").contains("expected a string, got a list"));
    }

    @Test
    void crossFieldCheckNamesTheFile() {
        String msg = error("max_pending: 1KB\nmax_payload: 2KB\n");
        assertTrue(msg.startsWith("test.conf: max_payload"), msg);
    }

    @Test
    void syntaxErrorsNameLine() {
        assertEquals("test.conf:2: unterminated string", error("port: 1\nhost: \"abc\n"));
        assertEquals("test.conf:3: unexpected end of file: missing '}'", error("a {\n  b: 1\n"));
        assertEquals("test.conf:1: unexpected end of file: missing ']'", error("a: [1, 2"));
        assertEquals("test.conf:1: missing value for \"port\"", error("port:\n"));
        assertEquals("test.conf:1: expected a new line after the value of \"port\"", error("port: 1 2\n"));
        assertEquals("test.conf:2: unexpected '}'", error("port: 1\n}\n"));
        assertEquals("test.conf:1: invalid escape \\q in string", error("host: \"a\\q\"\n"));
        assertEquals("test.conf:1: expected ',' or ']' in array", error("a: [1 2]\n"));
    }

    @Test
    void ignoredNatsFieldsBecomeWarnings() throws Exception {
        ServerConfig.Builder b = ServerConfig.builder();
        List<String> warnings = ConfigFileParser.applyTo(b, tree("port: 1\nlogtime: false\nsyslog: true\n"));
        assertEquals(List.of("test.conf:2: ignoring unsupported field \"logtime\"",
                "test.conf:3: ignoring unsupported field \"syslog\""), warnings);
        assertEquals(1, b.build().port());
    }

    @Test
    void systemAccountAndItsUsers() throws Exception {
        ServerConfig c = load("system_account: SYS\naccounts { SYS: { users: [ {user: sys, password: s} ] } }\n"
                + "authorization { users: [ {user: app, password: a} ] }\n");
        assertEquals("SYS", c.ops().systemAccount());
        assertEquals("sys", c.auth().accounts().get(0).users().get(0).name());
        // JetKV's key from before accounts is refused with the way to write it now
        assertEquals("test.conf:1: a user's \"account\" is not supported: put the user in the account's users, "
                + "accounts { SYS: { users: [...] } }",
                error("authorization { users: [ {user: sys, password: s, account: SYS} ] }\n"));
        assertEquals("$SYS", load("port: 1\n").ops().systemAccount());
        assertEquals(null, load("no_system_account: true\n").ops().systemAccount());
    }

    @Test
    void processFilesAndLameDuckSettings() throws Exception {
        ServerConfig c = load("pid_file: /run/nats.pid\nports_file_dir: /run\nlame_duck_duration: 45s\n"
                + "lame_duck_grace_period: 5s\n");
        assertEquals(Path.of("/run/nats.pid"), c.ops().pidFile());
        assertEquals(Path.of("/run"), c.ops().portsFileDir());
        assertEquals(java.time.Duration.ofSeconds(45), c.ops().lameDuckDuration());
        assertEquals(java.time.Duration.ofSeconds(5), c.ops().lameDuckGracePeriod());
        assertEquals(OpsConfig.DEFAULT, load("port: 1\n").ops());
        // nats-server's floor for the duration, and its word for it
        assertEquals("test.conf:1: invalid lame_duck_duration of 10s, minimum is 30 seconds",
                error("lame_duck_duration: 10s\n"));
        assertEquals("test.conf:1: invalid lame_duck_grace_period, needs to be positive",
                error("lame_duck_grace_period: \"-1s\"\n"));
    }

    @Test
    void typicalNatsServerFile() throws Exception {
        Path file = write("nats.conf", """
                # The server's name for JetStream
                server_name = $HOSTNAME

                # Client port of 4222 on all interfaces
                host = 0.0.0.0
                port = 4222

                # HTTP monitoring port
                monitor_port = 8222
                max_payload = 8MB

                jetstream {
                  store_dir = /data/jetstream
                  max_file_store = $JETSTREAM_MAX_FILE_STORE
                }

                authorization {
                  token: $NATS_TOKEN
                }
                """);
        ServerConfig c = ConfigFileParser.load(file,
                Map.of("HOSTNAME", "box1", "JETSTREAM_MAX_FILE_STORE", "10GB", "NATS_TOKEN", "tok")::get);
        assertEquals("box1", c.serverName());
        assertEquals(8 * 1024 * 1024, c.maxPayload());
        assertEquals(10L << 30, c.jetstream().maxFileStore());
        assertEquals(Path.of("/data/jetstream"), c.jetstream().storeDir());
        assertEquals("tok", c.auth().token());
    }

    // ---- websocket ----

    @Test
    void websocketBlock() throws Exception {
        ServerConfig c = load("""
                websocket {
                  listen: "127.0.0.1:8080"
                  no_tls: true
                  compression: true
                  same_origin: true
                  allowed_origins: ["http://good.example.com", "https://other.example.com:8443"]
                  handshake_timeout: "5s"
                }
                """);
        WebSocketConfig ws = c.websocket();
        assertTrue(ws.enabled());
        assertEquals("127.0.0.1", ws.host());
        assertEquals(8080, ws.port());
        assertTrue(ws.noTls() && ws.compression() && ws.sameOrigin());
        assertEquals(List.of("http://good.example.com", "https://other.example.com:8443"), ws.allowedOrigins());
        assertEquals(Duration.ofSeconds(5), ws.handshakeTimeout());
        assertFalse(load("port: 4222").websocket().enabled());
        assertEquals(0, load("websocket { port: -1, no_tls: true }").websocket().port());
    }

    @Test
    void websocketErrorsNameTheKey() {
        // nats-server's words when neither tls {} nor no_tls is given
        assertTrue(error("websocket { port: 8080 }").endsWith("websocket requires TLS configuration"));
        assertTrue(error("websocket { no_tls: true }").contains("websocket needs a listen address or port"));
        assertTrue(error("websocket { port: 8080, no_tls: true, jwt_cookie: x }").contains("unknown field \"jwt_cookie\""));
        assertTrue(error("websocket { port: 8080, no_tls: true, allowed_origins: [\"nope\"] }")
                .contains("allowed_origins"));
        // the tls block is checked as the client port's
        assertTrue(error("websocket { port: 8080, tls { cert_file: a } }").contains("missing 'key_file' in TLS configuration"));
        assertTrue(error("websocket { port: 8080, tls { cert_file: a, key_file: b, nope: 1 } }")
                .contains("unknown field \"nope\""));
    }

    @Test
    void websocketTlsBlock() throws Exception {
        WebSocketConfig ws = load("""
                websocket {
                  port: -1
                  tls { cert_file: "/c.pem", key_file: "/k.pem", ca_file: "/ca.pem", verify: true, timeout: 3 }
                }
                """).websocket();
        assertTrue(ws.secure());
        assertFalse(ws.noTls());
        assertEquals(Path.of("/c.pem"), ws.tls().certFile());
        assertEquals(Path.of("/ca.pem"), ws.tls().caFile());
        assertTrue(ws.tls().verify());
        assertEquals(Duration.ofSeconds(3), ws.tls().timeout());
        // the client port stays plaintext: the listener's TLS is its own
        assertFalse(load("websocket { port: -1, tls { cert_file: a, key_file: b } }").tls().enabled());
        // with both, TLS wins (nats-server uses a tls block whatever no_tls says)
        assertTrue(load("websocket { port: -1, no_tls: true, tls { cert_file: a, key_file: b } }").websocket().secure());
    }
}
