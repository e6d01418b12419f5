package io.jetkv.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FlagsTest {

    @TempDir
    Path dir;

    private static ServerConfig run(String... args) throws ConfigException {
        Launch launch = Flags.parse(name -> null, args);
        assertEquals(Launch.Action.RUN, launch.action());
        return launch.config();
    }

    private static String error(String... args) {
        return assertThrows(ConfigException.class, () -> Flags.parse(name -> null, args)).getMessage();
    }

    private String conf(String text) throws IOException {
        Path file = dir.resolve("jetkv.conf");
        Files.writeString(file, text);
        return file.toString();
    }

    @Test
    void noFlagsGiveDefaults() throws Exception {
        Launch launch = Flags.parse();
        assertEquals(Launch.Action.RUN, launch.action());
        assertEquals(ServerConfig.defaults(), launch.config());
        assertEquals("", launch.text());
        assertTrue(launch.warnings().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-v", "--version", "-version", "--v"})
    void versionInNatsServerShape(String flag) throws Exception {
        Launch launch = Flags.parse(flag);
        assertEquals(Launch.Action.VERSION, launch.action());
        assertEquals("nats-server: v" + Version.NATS_VERSION + "\n", launch.text());
        assertEquals("nats-server: v2.14.5", Version.VERSION_LINE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-h", "--help", "-help"})
    void helpInNatsServerStyle(String flag) throws Exception {
        Launch launch = Flags.parse(flag);
        assertEquals(Launch.Action.HELP, launch.action());
        String text = launch.text();
        assertTrue(text.startsWith("Usage: jetkv [options]\n"), text);
        for (String section : List.of("Server Options:", "JetStream Options:", "Logging Options:",
                "Authorization Options:", "Common Options:")) {
            assertTrue(text.contains("\n" + section + "\n"), section);
        }
        for (String flagName : List.of("-a, --addr, --net", "-p, --port", "--server_name", "-js, --jetstream",
                "-sd, --store_dir", "-c, --config", "--user", "--pass", "--auth", "-D, --debug", "-V, --trace",
                "-DV", "-l, --log", "-m, --http_port", "--max_payload", "-h, --help", "-v, --version")) {
            assertTrue(text.contains(flagName), flagName);
        }
    }

    @Test
    void versionAndHelpIgnoreABrokenConfigFile() throws Exception {
        assertEquals(Launch.Action.VERSION, Flags.parse("-c", "/no/such/file.conf", "-v").action());
        assertEquals(Launch.Action.HELP, Flags.parse("-c", "/no/such/file.conf", "--help").action());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-a", "--addr", "--net", "-addr", "-net"})
    void hostFlags(String flag) throws Exception {
        assertEquals("127.0.0.1", run(flag, "127.0.0.1").host());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-p 4333", "--port 4333", "--port=4333", "-p=4333", "-port 4333", "-port=4333"})
    void portForms(String args) throws Exception {
        assertEquals(4333, run(args.split(" ")).port());
    }

    @Test
    void portMinusOneMeansAnyFreePort() throws Exception {
        assertEquals(0, run("-p", "-1").port());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-n", "--name", "--server_name", "-server_name"})
    void nameFlags(String flag) throws Exception {
        assertEquals("n1", run(flag, "n1").serverName());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-js", "--jetstream", "--js", "-jetstream"})
    void jetstreamWithoutStoreDirUsesTheDefault(String flag) throws Exception {
        JetStreamConfig js = run(flag).jetstream();
        assertTrue(js.enabled());
        assertEquals(JetStreamConfig.defaultStoreDir(), js.storeDir());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-sd", "--store_dir", "-store_dir", "--sd"})
    void storeDirFlags(String flag) throws Exception {
        JetStreamConfig js = run("-js", flag, "/data/js").jetstream();
        assertTrue(js.enabled());
        assertEquals(Path.of("/data/js"), js.storeDir());
    }

    @Test
    void storeDirAloneDoesNotEnableJetStream() throws Exception {
        JetStreamConfig js = run("-sd", "/data/js").jetstream();
        assertFalse(js.enabled());
        assertEquals(Path.of("/data/js"), js.storeDir());
    }

    @Test
    void booleanFlagsTakeAnExplicitValue() throws Exception {
        assertFalse(run("-js=false").jetstream().enabled());
        assertTrue(run("--jetstream=true").jetstream().enabled());
        assertFalse(run("-D=false").log().debug());
    }

    @Test
    void booleanFlagsTakeAFollowingTrueOrFalse() throws Exception {
        assertFalse(run("-js", "false", "-p", "1").jetstream().enabled());
        assertTrue(run("-js", "TRUE").jetstream().enabled());
        assertEquals("invalid boolean value \"yes\" for flag -js", error("-js=yes"));
        assertEquals("unexpected argument: yes (see jetkv --help)", error("-js", "yes"));
    }

    @Test
    void argumentsAfterDoubleDashAreStray() throws Exception {
        assertEquals("unexpected argument: foo (see jetkv --help)", error("-js", "--", "foo"));
        assertTrue(run("-js", "--").jetstream().enabled());
    }

    @Test
    void loggingFlags() throws Exception {
        assertEquals(new LogConfig(true, false, null), run("-D").log());
        assertEquals(new LogConfig(true, false, null), run("--debug").log());
        assertEquals(new LogConfig(false, true, null), run("-V").log());
        assertEquals(new LogConfig(false, true, null), run("--trace").log());
        assertEquals(new LogConfig(true, true, null), run("-DV").log());
        assertEquals(new LogConfig(false, false, Path.of("/tmp/j.log")), run("-l", "/tmp/j.log").log());
        assertEquals(new LogConfig(false, false, Path.of("/tmp/j.log")), run("--log=/tmp/j.log").log());
    }

    @Test
    void httpPortIsStored() throws Exception {
        assertEquals(8222, run("-m", "8222").httpPort());
        assertEquals(8223, run("--http_port", "8223").httpPort());
        // -1 asks for a random monitoring port (0 would mean "off")
        assertEquals(-1, run("-m", "-1").httpPort());
    }

    @Test
    void maxPayloadTakesASize() throws Exception {
        assertEquals(2 * 1024 * 1024, run("--max_payload", "2MB").maxPayload());
        assertEquals(1000, run("--max_payload=1000").maxPayload());
        assertTrue(error("--max_payload", "huge").contains("--max_payload"));
        assertTrue(error("--max_payload", "0").contains("out of range"));
    }

    @Test
    void userAndPassMakeOneUser() throws Exception {
        AuthConfig auth = run("--user", "derek", "--pass", "s3cr3t").auth();
        assertEquals(List.of(new User("derek", "s3cr3t", null)), auth.users());
        assertNull(auth.token());
        assertTrue(auth.required());
    }

    @Test
    void authMakesAToken() throws Exception {
        AuthConfig auth = run("--auth", "tok").auth();
        assertEquals("tok", auth.token());
        assertTrue(auth.users().isEmpty());
    }

    @Test
    void authErrors() {
        assertEquals("--user and --pass must be given together", error("--user", "derek"));
        assertEquals("can not use --auth together with --user/--pass",
                error("--auth", "t", "--user", "a", "--pass", "b"));
    }

    @Test
    void unknownFlag() {
        assertEquals("flag provided but not defined: -x (see jetkv --help)", error("-x"));
        assertEquals("flag provided but not defined: --bogus (see jetkv --help)", error("-js", "--bogus"));
        assertEquals("flag provided but not defined: --bogus=1 (see jetkv --help)", error("--bogus=1"));
        // nats-server (2.9 to 2.12) has no flag for server_tags either: they come from the config file only
        assertEquals("flag provided but not defined: --server_tags (see jetkv --help)", error("--server_tags", "az1"));
    }

    @Test
    void shortFlagsDoNotCluster() {
        assertTrue(error("-Dx").startsWith("flag provided but not defined: -Dx"));
        assertTrue(error("-p4222").startsWith("flag provided but not defined: -p4222"));
    }

    @Test
    void strayArgument() {
        assertEquals("unexpected argument: foo (see jetkv --help)", error("foo"));
    }

    @Test
    void missingFlagValue() {
        assertEquals("flag needs an argument: -p", error("-p"));
        assertEquals("flag needs an argument: -c", error("--config"));
    }

    @Test
    void badPortValue() {
        assertEquals("invalid value \"abc\" for flag -p: not a port number", error("-p", "abc"));
        assertEquals("invalid value \"70000\" for flag -p: port out of range", error("--port=70000"));
    }

    @Test
    void lastRepeatWins() throws Exception {
        assertEquals(2, run("-p", "1", "-p", "2").port());
    }

    // ---- config file and precedence ----

    @ParameterizedTest
    @ValueSource(strings = {"-c", "--config", "-config"})
    void configFileFlags(String flag) throws Exception {
        assertEquals(4333, run(flag, conf("port: 4333\n")).port());
    }

    @Test
    void flagsOverrideTheFileAndTheFileOverridesDefaults() throws Exception {
        String file = conf("""
                port: 5000
                host: 127.0.0.1
                server_name: from_file
                max_payload: 2MB
                debug: true
                jetstream { store_dir: /file/js, max_file_store: 1GB }
                """);
        ServerConfig c = run("-c", file, "-p", "6000", "-js", "--name", "from_flag");
        assertEquals(6000, c.port());
        assertEquals("127.0.0.1", c.host());
        assertEquals("from_flag", c.serverName());
        assertEquals(2 * 1024 * 1024, c.maxPayload());
        assertTrue(c.log().debug());
        assertTrue(c.jetstream().enabled());
        assertEquals(Path.of("/file/js"), c.jetstream().storeDir());
        assertEquals(1L << 30, c.jetstream().maxFileStore());
        assertEquals(ServerConfig.DEFAULT_PING_INTERVAL, c.pingInterval());

        ServerConfig sd = run("-c", file, "-sd", "/flag/js");
        assertEquals(Path.of("/flag/js"), sd.jetstream().storeDir());
    }

    @Test
    void orderOfFlagsDoesNotMatter() throws Exception {
        String file = conf("port: 5000\n");
        assertEquals(6000, run("-p", "6000", "-c", file).port());
    }

    @Test
    void flagsCanTurnFileSettingsOff() throws Exception {
        String file = conf("jetstream: enabled\ndebug: true\n");
        ServerConfig c = run("-c", file, "-js=false", "--debug=false");
        assertFalse(c.jetstream().enabled());
        assertFalse(c.log().debug());
    }

    @Test
    void flagUserReplacesFileToken() throws Exception {
        String file = conf("authorization { token: filetok, timeout: 3 }\n");
        AuthConfig auth = run("-c", file, "--user", "a", "--pass", "b").auth();
        assertNull(auth.token());
        assertEquals(List.of(new User("a", "b", null)), auth.users());
        assertEquals(java.time.Duration.ofSeconds(3), auth.timeout());
    }

    @Test
    void flagTokenReplacesFileUsers() throws Exception {
        String file = conf("authorization { users = [{user: a, password: b}] }\n");
        AuthConfig auth = run("-c", file, "--auth", "tok").auth();
        assertEquals("tok", auth.token());
        assertTrue(auth.users().isEmpty());
    }

    @Test
    void flagPassAloneChangesTheFileUsersPassword() throws Exception {
        String file = conf("authorization { user: a, password: old }\n");
        assertEquals(List.of(new User("a", "new", null)), run("-c", file, "--pass", "new").auth().users());
    }

    @Test
    void configFileErrorsPassThrough() throws Exception {
        String file = conf("port: 1\nbogus: 2\n");
        assertEquals(file + ":2: unknown field \"bogus\"", error("-c", file));
        assertTrue(error("-c", dir.resolve("missing.conf").toString()).startsWith("error opening config file: "));
    }

    @Test
    void configFileWarningsReachTheLaunch() throws Exception {
        String file = conf("logtime: true\n");
        Launch launch = Flags.parse("-c", file);
        assertEquals(List.of(file + ":1: ignoring unsupported field \"logtime\""), launch.warnings());
    }

    @Test
    void configFileVariablesUseTheGivenEnvironment() throws Exception {
        String file = conf("port: $JETKV_TEST_PORT\n");
        Launch launch = Flags.parse(Map.of("JETKV_TEST_PORT", "4444")::get, "-c", file);
        assertEquals(4444, launch.config().port());
    }

    @Test
    void crossFieldErrorsAreConfigExceptions() {
        assertEquals("invalid value \"2GB\" for flag --max_payload: out of range", error("--max_payload", "2GB"));
        assertEquals("max_payload must be between 1 and max_pending: 104857600", error("--max_payload", "100MB"));
    }

    @Test
    void pidPortsFileAndSignalFlags() throws Exception {
        ServerConfig c = Flags.parse(name -> null, "-P", "/tmp/j.pid", "--ports_file_dir", "/tmp").config();
        assertEquals(Path.of("/tmp/j.pid"), c.ops().pidFile());
        assertEquals(Path.of("/tmp"), c.ops().portsFileDir());
        Launch signal = Flags.parse(name -> null, "--signal", "ldm=/var/run/nats/nats.pid");
        assertEquals(Launch.Action.SIGNAL, signal.action());
        assertEquals("ldm=/var/run/nats/nats.pid", signal.text());
        // the Helm chart's spelling, and -P naming the pid file to signal
        assertEquals("ldm=/run/x.pid", Flags.parse(name -> null, "-sl=ldm=/run/x.pid").text());
        assertEquals("reload=/run/y.pid", Flags.parse(name -> null, "-sl", "reload", "-P", "/run/y.pid").text());
        assertEquals("/etc/n.conf", Flags.configFile("-p", "1", "-c", "/etc/n.conf"));
    }
}
