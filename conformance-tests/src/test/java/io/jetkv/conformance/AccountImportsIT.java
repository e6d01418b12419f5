package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.Subscription;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exports and imports between accounts (nats.docs "Accounts": exports and imports): a stream import republishes the
 * exporter's messages under a prefix, a service import carries requests to the exporter with a reply of its own
 * and brings the response back, and the cross-account JetStream pattern (the exporter's {@code $JS.API} imported
 * under a prefix, its stream subjects and {@code $JS.ACK} as services) lets an account without JetStream use
 * another's stream with jnats. The same config against JetKV and nats-server 2.9.10.
 */
class AccountImportsIT {
    private static final String CONFIG = """
            jetstream { store_dir: "%s" }
            accounts {
              A: { users: [ {user: a, password: a} ], jetstream: enabled
                   exports: [ {service: "svc.>"}, {stream: "feed.>"}, {stream: "private.>", accounts: [C]},
                              {service: "$JS.API.>", response_type: stream}, {service: "$JS.ACK.>"},
                              {service: "orders.>"} ] }
              B: { users: [ {user: b, password: b} ]
                   imports: [ {service: {account: A, subject: "svc.>"}, to: "a.svc.>"},
                              {stream: {account: A, subject: "feed.>"}, prefix: froma},
                              {service: {account: A, subject: "$JS.API.>"}, to: "JS.A.API.>"},
                              {service: {account: A, subject: "$JS.ACK.>"}},
                              {service: {account: A, subject: "orders.>"}} ] }
              C: { users: [ {user: c, password: c} ] }
            }
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

    private String start(String target) throws Exception {
        Path conf = dir.resolve(target + ".conf");
        Files.writeString(conf, CONFIG.formatted(dir.resolve(target + "-store")), StandardCharsets.UTF_8);
        if (target.equals("jetkv")) {
            jetkv = NatsServer.start(ConfigFileParser.load(conf).toBuilder().host("127.0.0.1").port(0).build());
            return jetkv.clientUrl();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        reference = ReferenceServer.start("-c", conf.toString());
        return "nats://127.0.0.1:" + reference.port();
    }

    private static Connection connect(String url, String user) throws Exception {
        return Nats.connect(Options.builder().server(url).userInfo(user, user).noReconnect()
                .connectionTimeout(Clients.CONNECT_TIMEOUT).build());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void streamImportRepublishesUnderItsPrefix(String target) throws Exception {
        String url = start(target);
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            Subscription prefixed = b.subscribe("froma.>");
            Subscription plain = b.subscribe("feed.>");
            b.flush(Duration.ofSeconds(5));
            a.publish("feed.t", bytes("hello"));
            a.publish("other.t", bytes("not exported"));
            a.flush(Duration.ofSeconds(5));
            Message m = prefixed.nextMessage(Duration.ofSeconds(5));
            assertNotNull(m);
            assertEquals("froma.feed.t", m.getSubject());
            assertEquals("hello", new String(m.getData(), StandardCharsets.UTF_8));
            // B's own feed.> saw nothing of A's, and the export is all B gets
            b.publish("feed.own", bytes("b"));
            assertEquals("feed.own", plain.nextMessage(Duration.ofSeconds(5)).getSubject());
            assertNull(prefixed.nextMessage(Duration.ofMillis(300)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void serviceImportCarriesTheRequestAndItsReply(String target) throws Exception {
        String url = start(target);
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            AtomicReference<Message> seen = new AtomicReference<>();
            var d = a.createDispatcher(m -> {
                seen.set(m);
                a.publish(m.getReplyTo(), bytes("echo " + m.getSubject() + " " + new String(m.getData(),
                        StandardCharsets.UTF_8)));
            });
            d.subscribe("svc.>");
            a.flush(Duration.ofSeconds(5));
            Message reply = b.request("a.svc.echo", bytes("hi"), Duration.ofSeconds(5));
            assertNotNull(reply);
            assertEquals("echo svc.echo hi", new String(reply.getData(), StandardCharsets.UTF_8));
            // the exporter sees its own subject and a reply of the server's, never B's inbox
            assertEquals("svc.echo", seen.get().getSubject());
            assertTrue(seen.get().getReplyTo().startsWith("_R_."), seen.get().getReplyTo());
            // a second request gets its own reply; B asking for the exporter's subject directly reaches nobody
            assertEquals("echo svc.x.y two", new String(b.request("a.svc.x.y", bytes("two"), Duration.ofSeconds(5))
                    .getData(), StandardCharsets.UTF_8));
            assertTrue(b.request("svc.echo", new byte[0]).handle((m, e) -> e != null).get(), "no responders");
        }
    }

    /**
     * B has no JetStream of its own: it reaches A's stream through A's {@code $JS.API} (imported as
     * {@code JS.A.API}), publishes through the imported stream subjects (the pub ack travels back), pulls messages
     * (delivered to the service reply, so the export's response type is {@code stream}) and acknowledges them
     * through the imported {@code $JS.ACK}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void jetStreamThroughImports(String target) throws Exception {
        String url = start(target);
        try (Connection a = connect(url, "a"); Connection b = connect(url, "b")) {
            a.jetStreamManagement().addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>")
                    .storageType(StorageType.File).build());
            JetStreamOptions viaA = JetStreamOptions.builder().prefix("JS.A.API").build();
            JetStreamManagement jsm = b.jetStreamManagement(viaA);
            assertEquals(List.of("ORDERS"), jsm.getStreamNames());
            JetStream js = b.jetStream(viaA);
            PublishAck ack = js.publish("orders.1", bytes("first"));
            assertEquals("ORDERS", ack.getStream());
            assertEquals(1, ack.getSeqno());
            js.publish("orders.2", bytes("second"));
            jsm.addOrUpdateConsumer("ORDERS", ConsumerConfiguration.builder().durable("C1").build());
            JetStreamSubscription sub = js.subscribe(null, PullSubscribeOptions.bind("ORDERS", "C1"));
            List<Message> got = sub.fetch(2, Duration.ofSeconds(5));
            assertEquals(2, got.size());
            assertEquals("orders.1", got.get(0).getSubject());
            assertEquals("second", new String(got.get(1).getData(), StandardCharsets.UTF_8));
            for (Message m : got) {
                m.ackSync(Duration.ofSeconds(5));
            }
            // the acks reached A's consumer
            assertEquals(2, a.jetStreamManagement().getConsumerInfo("ORDERS", "C1").getAckFloor().getStreamSequence());
            assertEquals(0, a.jetStreamManagement().getConsumerInfo("ORDERS", "C1").getNumPending());
        }
    }
}
