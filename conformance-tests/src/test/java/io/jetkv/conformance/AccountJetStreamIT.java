package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.AccountLimits;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * JetStream in accounts (nats.docs "Accounts", "JetStream resource limits"): each account with a {@code jetstream}
 * key has its own streams, consumers, KV buckets, {@code $JS.API.INFO} and limits; accounts without one (the system
 * account, {@code $G} once accounts are configured) get "JetStream not enabled for account". Through jnats, against
 * JetKV and nats-server 2.9.10 with the same configuration (each with its own store directory).
 */
class AccountJetStreamIT {
    private static final String CONFIG = """
            jetstream { store_dir: "%s", max_mem: 64MB, max_file: 256MB }
            http_port: -1
            accounts {
              A: { users: [ {user: a, password: a} ]
                   jetstream: { max_mem: 1MB, max_file: 10MB, max_streams: 1, max_consumers: 2 } }
              B: { users: [ {user: b, password: b} ], jetstream: enabled }
              C: { users: [ {user: c, password: c} ] }
              D: { users: [ {user: d, password: d} ], jetstream: { max_mem: 4KB, max_file: 4KB } }
              SYS: { users: [ {user: sys, password: sys} ] }
            }
            system_account: SYS
            authorization { users: [ {user: g, password: g} ] }
            """;

    @TempDir
    Path dir;
    private NatsServer jetkv;
    private ReferenceServer reference;

    @AfterEach
    void stop() throws Exception {
        if (jetkv != null) {
            jetkv.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    private Path config(String name) throws Exception {
        Path conf = dir.resolve(name + ".conf");
        Files.writeString(conf, CONFIG.formatted(dir.resolve(name + "-store")), StandardCharsets.UTF_8);
        return conf;
    }

    private String start(String target) throws Exception {
        if (target.equals("jetkv")) {
            jetkv = NatsServer.start(ConfigFileParser.load(config("jetkv")).toBuilder()
                    .host("127.0.0.1").port(0).build());
            return jetkv.clientUrl();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        reference = ReferenceServer.start("-c", config("reference").toString());
        return "nats://127.0.0.1:" + reference.port();
    }

    private static Connection connect(String url, String user) throws Exception {
        return Nats.connect(Options.builder().server(url).userInfo(user, user).noReconnect()
                .connectionTimeout(Clients.CONNECT_TIMEOUT).build());
    }

    private static int errorCode(Executable e) {
        return assertThrows(JetStreamApiException.class, e::run).getApiErrorCode();
    }

    @FunctionalInterface
    private interface Executable {
        void run() throws Exception;
    }

    private static StreamConfiguration stream(String name, String subject) {
        return StreamConfiguration.builder().name(name).subjects(subject).storageType(StorageType.File).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void eachAccountHasItsOwnStreamsAndBuckets(String target) throws Exception {
        String url = start(target);
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            JetStreamManagement jsmA = a.jetStreamManagement();
            JetStreamManagement jsmB = b.jetStreamManagement();
            // the same name in two accounts, with the same subjects
            jsmA.addStream(stream("S1", "s1.>"));
            jsmB.addStream(StreamConfiguration.builder(stream("S1", "s1.>")).description("B's").build());
            a.jetStream().publish("s1.x", "from a".getBytes(StandardCharsets.UTF_8));
            b.jetStream().publish("s1.y", "from b".getBytes(StandardCharsets.UTF_8));
            b.jetStream().publish("s1.z", "from b".getBytes(StandardCharsets.UTF_8));
            assertEquals(1, jsmA.getStreamInfo("S1").getStreamState().getMsgCount());
            assertEquals(2, jsmB.getStreamInfo("S1").getStreamState().getMsgCount());
            assertEquals("B's", jsmB.getStreamInfo("S1").getConfiguration().getDescription());

            // a bucket in B is invisible from A
            b.keyValueManagement().create(KeyValueConfiguration.builder().name("cfg").build());
            KeyValue kvB = b.keyValue("cfg");
            kvB.put("k1", "v1");
            assertEquals("v1", kvB.get("k1").getValueAsString());
            assertEquals(10059, errorCode(() -> jsmA.getStreamInfo("KV_cfg")));
            assertEquals(List.of("S1"), jsmA.getStreamNames());
            assertTrue(jsmB.getStreamNames().containsAll(List.of("S1", "KV_cfg")));
            assertFalse(a.keyValueManagement().getBucketNames().contains("cfg"));
            // A publishing on B's KV subject reaches no stream: no responders
            assertThrows(Exception.class, () -> a.jetStream().publish("$KV.cfg.k1", new byte[0]));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void accountInfoShowsEachAccountsLimitsAndUsage(String target) throws Exception {
        String url = start(target);
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            a.jetStreamManagement().addStream(stream("S1", "s1.>"));
            a.jetStream().publish("s1.x", "12345".getBytes(StandardCharsets.UTF_8));
            var infoA = a.jetStreamManagement().getAccountStatistics();
            AccountLimits la = infoA.getLimits();
            assertEquals(1048576, la.getMaxMemory());
            assertEquals(10485760, la.getMaxStorage());
            assertEquals(1, la.getMaxStreams());
            assertEquals(2, la.getMaxConsumers());
            assertEquals(1, infoA.getStreams());
            assertTrue(infoA.getStorage() > 0);
            var infoB = b.jetStreamManagement().getAccountStatistics();
            assertEquals(-1, infoB.getLimits().getMaxMemory());
            assertEquals(-1, infoB.getLimits().getMaxStorage());
            assertEquals(-1, infoB.getLimits().getMaxStreams());
            assertEquals(0, infoB.getStreams());
            assertEquals(0, infoB.getStorage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void limitsAreEnforcedWithTheReferenceErrors(String target) throws Exception {
        String url = start(target);
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            JetStreamManagement jsm = a.jetStreamManagement();
            jsm.addStream(stream("S1", "s1.>"));
            assertEquals(10027, errorCode(() -> jsm.addStream(stream("S2", "s2.>"))));
            // a changed re-create at the limit is refused the same way
            assertEquals(10027, errorCode(() -> jsm.addStream(stream("S1", "s1.other.>"))));
            jsm.addOrUpdateConsumer("S1", ConsumerConfiguration.builder().durable("d1").build());
            jsm.addOrUpdateConsumer("S1", ConsumerConfiguration.builder().durable("d2").build());
            assertEquals(10026, errorCode(() -> jsm.addOrUpdateConsumer("S1",
                    ConsumerConfiguration.builder().durable("d3").build())));
            // updating an existing consumer is not a new one
            jsm.addOrUpdateConsumer("S1", ConsumerConfiguration.builder().durable("d2").description("x").build());
            assertEquals(10047, errorCode(() -> jsm.updateStream(StreamConfiguration.builder(stream("S1", "s1.>"))
                    .maxBytes(20L << 20).build())));
            // B has no limits of its own, but the server's max_mem is 64 MB
            assertEquals(10028, errorCode(() -> b.jetStreamManagement().addStream(StreamConfiguration.builder()
                    .name("M").subjects("m").storageType(StorageType.Memory).maxBytes(128L << 20).build())));
        }
    }

    /** A publish past the account's own max_mem is refused in the pub ack with 10002. */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void publishesPastTheAccountsBytesAreRefused(String target) throws Exception {
        String url = start(target);
        try (Connection d = connect(url, "d")) {
            d.jetStreamManagement().addStream(StreamConfiguration.builder().name("M").subjects("m")
                    .storageType(StorageType.Memory).build());
            byte[] body = new byte[2000];
            d.jetStream().publish("m", body);
            d.jetStream().publish("m", body);
            assertEquals(10002, errorCode(() -> d.jetStream().publish("m", body)));
            assertEquals(2, d.jetStreamManagement().getStreamInfo("M").getStreamState().getMsgCount());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"c", "g", "sys"})
    void accountsWithoutJetStreamAreTold(String user) throws Exception {
        for (String target : List.of("jetkv", "nats-server")) {
            if (target.equals("nats-server") && !ReferenceServer.available()) {
                continue;
            }
            String url = start(target);
            try (Connection c = connect(url, user)) {
                Message m = c.request("$JS.API.INFO", new byte[0], Duration.ofSeconds(10));
                assertNotNull(m, target);
                String body = new String(m.getData(), StandardCharsets.UTF_8);
                assertTrue(body.contains("\"err_code\":10039") && body.contains("JetStream not enabled for account"),
                        target + ": " + body);
                if (user.equals("sys")) {
                    // the system account answers INFO only; other requests get silence (a timeout shows it)
                    assertEquals(null, c.request("$JS.API.STREAM.NAMES", new byte[0], Duration.ofMillis(500)), target);
                } else {
                    assertEquals(10039, errorCode(() -> c.jetStreamManagement().getStreamNames()), target);
                }
            }
            stop();
            jetkv = null;
            reference = null;
        }
    }

    private int monitorPort() {
        return jetkv != null ? jetkv.monitorPort() : reference.monitorPort();
    }

    private com.fasterxml.jackson.databind.JsonNode monitor(String path) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var resp = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + monitorPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(resp.body());
    }

    /** The monitoring port names the accounts: /accountz, /jsz per account with JetStream, /connz's account. */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void monitoringShowsTheAccounts(String target) throws Exception {
        String url = start(target);
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            a.jetStreamManagement().addStream(stream("S1", "s1.>"));
            b.jetStreamManagement().addStream(stream("S1", "s1.>"));
            b.jetStreamManagement().addStream(stream("S2", "s2.>"));
            b.jetStream().publish("s2.x", new byte[10]);
            var accountz = monitor("/accountz");
            assertEquals("SYS", accountz.path("system_account").asText());
            java.util.Set<String> names = new java.util.TreeSet<>();
            accountz.path("accounts").forEach(n -> names.add(n.asText()));
            assertEquals(java.util.Set.of("$G", "A", "B", "C", "D", "SYS"), names, target);
            var jsz = monitor("/jsz?accounts=true&streams=true");
            assertEquals(3, jsz.path("streams").asInt(), target);
            assertEquals(1, jsz.path("messages").asInt(), target);
            java.util.Map<String, Integer> streamsOf = new java.util.TreeMap<>();
            jsz.path("account_details").forEach(d -> streamsOf.put(d.path("name").asText(),
                    d.path("stream_detail").size()));
            assertEquals(java.util.Map.of("A", 1, "B", 2, "D", 0), streamsOf, target);
            var connz = monitor("/connz?auth=1");
            java.util.Map<String, String> accountOf = new java.util.TreeMap<>();
            connz.path("connections").forEach(c -> accountOf.put(c.path("authorized_user").asText(),
                    c.path("account").asText()));
            assertEquals(java.util.Map.of("a", "A", "b", "B"), accountOf, target);
        }
    }

    /** Each account's streams, consumers and messages come back to that account after a restart. */
    @Test
    void aRestartBringsEachAccountsStreamsBack() throws Exception {
        String url = start("jetkv");
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            a.jetStreamManagement().addStream(stream("S1", "s1.>"));
            a.jetStreamManagement().addOrUpdateConsumer("S1", ConsumerConfiguration.builder().durable("da").build());
            b.jetStreamManagement().addStream(stream("S1", "s1.>"));
            b.jetStreamManagement().addStream(stream("S2", "s2.>"));
            a.jetStream().publish("s1.a", new byte[0]);
            for (int i = 0; i < 3; i++) {
                b.jetStream().publish("s1.b", new byte[0]);
            }
        }
        jetkv.close();
        url = start("jetkv");
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b"); Connection g = connect(url, "g")) {
            assertEquals(List.of("S1"), a.jetStreamManagement().getStreamNames());
            assertEquals(1, a.jetStreamManagement().getStreamInfo("S1").getStreamState().getMsgCount());
            assertEquals(List.of("da"), a.jetStreamManagement().getConsumerNames("S1"));
            assertEquals(List.of("S1", "S2"), b.jetStreamManagement().getStreamNames().stream().sorted().toList());
            assertEquals(3, b.jetStreamManagement().getStreamInfo("S1").getStreamState().getMsgCount());
            assertEquals(List.of(), b.jetStreamManagement().getConsumerNames("S1"));
            // the limits still hold for what came back
            assertEquals(10027, errorCode(() -> a.jetStreamManagement().addStream(stream("S3", "s3.>"))));
            assertEquals(10039, errorCode(() -> g.jetStreamManagement().getStreamNames()));
        }
    }
}
